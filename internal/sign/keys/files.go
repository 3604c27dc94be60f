package keys

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
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
// behind.
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
	if err := writeFile(p.Private, priv, 0o600, overwrite); err != nil {
		return Pair{}, err
	}
	if err := writeFile(p.Public, pub, 0o644, overwrite); err != nil {
		os.Remove(p.Private)
		return Pair{}, err
	}
	return p, nil
}

// writeFile creates path with mode (exclusively unless overwrite) and
// removes it again when the write fails.
func writeFile(path string, data []byte, mode os.FileMode, overwrite bool) error {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if overwrite {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("replace %s: %w", path, err)
		}
	}
	f, err := os.OpenFile(path, flags, mode)
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
