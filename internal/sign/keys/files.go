package keys

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Pair names the two files WritePair writes for --out NAME.
type Pair struct {
	Private string // NAME.key, mode 0600
	Public  string // NAME.pub, mode 0644
}

// PairFiles returns the file names of the pair called name.
func PairFiles(name string) Pair {
	return Pair{Private: name + ".key", Public: name + ".pub"}
}

// WritePair generates a key pair on curve c and writes it as PEM to the
// files of PairFiles(name), the private key encrypted with passphrase
// when it is not empty. Existing files are not overwritten unless
// overwrite is set; either both files are written or neither is left
// behind, and with overwrite the old pair stays until the new one is
// complete.
func WritePair(name string, c Curve, passphrase []byte, rand io.Reader, overwrite bool) (Pair, error) {
	p := PairFiles(name)
	if !overwrite {
		for _, f := range []string{p.Private, p.Public} {
			if _, err := os.Lstat(f); err == nil {
				return Pair{}, fmt.Errorf("%s exists; choose another --out or remove it first", f)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return Pair{}, err
			}
		}
	}
	k, err := Generate(c, rand)
	if err != nil {
		return Pair{}, err
	}
	priv, err := EncodePrivate(k, passphrase)
	if err != nil {
		return Pair{}, err
	}
	pub, err := EncodePublic(&k.PublicKey)
	if err != nil {
		return Pair{}, err
	}
	if overwrite {
		return p, replacePair(p, priv, pub)
	}
	if err := writeFile(p.Private, priv, 0o600); err != nil {
		return Pair{}, err
	}
	if err := writeFile(p.Public, pub, 0o644); err != nil {
		os.Remove(p.Private)
		return Pair{}, err
	}
	return p, nil
}

// replacePair writes both keys to temporary files beside their targets
// and renames them into place only when both are complete, so that a
// failure leaves the old pair as it was.
func replacePair(p Pair, priv, pub []byte) error {
	for _, f := range []string{p.Private, p.Public} {
		if fi, err := os.Lstat(f); err == nil && fi.IsDir() {
			return fmt.Errorf("%s is a directory; choose another --out", f)
		}
	}
	tmpPriv, err := writeTemp(p.Private, priv, 0o600)
	if err != nil {
		return err
	}
	tmpPub, err := writeTemp(p.Public, pub, 0o644)
	if err != nil {
		os.Remove(tmpPriv)
		return err
	}
	if err := os.Rename(tmpPriv, p.Private); err != nil {
		os.Remove(tmpPriv)
		os.Remove(tmpPub)
		return fmt.Errorf("replace %s: %w", p.Private, err)
	}
	if err := os.Rename(tmpPub, p.Public); err != nil {
		os.Remove(tmpPub)
		return fmt.Errorf("replace %s (the new private key is in place; run again to rewrite both): %w", p.Public, err)
	}
	return nil
}

// writeTemp writes data to a new temporary file beside path.
func writeTemp(path string, data []byte, mode os.FileMode) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("create key file: %w", err)
	}
	if err := f.Chmod(mode); err != nil {
		f.Close()
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := finish(f, data); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return f.Name(), nil
}

// writeFile creates path exclusively with mode and removes it again when
// the write fails.
func writeFile(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	if err := finish(f, data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// finish writes data to f, syncs and closes it, and removes the file
// when any of that fails.
func finish(f *os.File, data []byte) error {
	_, err := f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
