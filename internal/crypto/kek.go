package crypto

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"gocloud.dev/secrets"
	"gocloud.dev/secrets/localsecrets"
)

// kekSize is the size of a local key-encryption key in bytes.
const kekSize = 32

// OpenKeeper opens the key-encryption key at url through gocloud.dev/secrets.
// This build supports base64key:// URLs (localsecrets, see LocalKEK); other
// schemes fail with ErrUnavailable until their drivers are compiled in. A
// base64key:// URL without a key is refused, because gocloud.dev would make
// up a random key that is lost when the process exits. Errors never contain
// rawURL, which may hold key material.
func OpenKeeper(ctx context.Context, rawURL string) (*secrets.Keeper, error) {
	u, scheme, err := parseKEKURL(rawURL)
	if err != nil {
		return nil, err
	}
	mux := secrets.DefaultURLMux()
	if !mux.ValidKeeperScheme(scheme) {
		return nil, fmt.Errorf("open key-encryption key: scheme %q: %w", scheme, ErrUnavailable)
	}
	if scheme == localsecrets.Scheme && u.Host == "" {
		return nil, errors.New("open key-encryption key: base64key:// URL holds no key")
	}
	k, err := mux.OpenKeeperURL(ctx, u)
	if err != nil {
		if scheme == localsecrets.Scheme {
			// localsecrets' errors omit the key, but stay on the safe side.
			return nil, errors.New("open key-encryption key: base64key:// URL must hold 32 bytes in URL-safe base64")
		}
		return nil, fmt.Errorf("open key-encryption key (%s): %w", scheme, err)
	}
	return k, nil
}

// parseKEKURL parses a KEK URL without letting it into error messages.
func parseKEKURL(s string) (*url.URL, string, error) {
	u, err := url.Parse(s)
	if err != nil {
		// url.Parse's error quotes the URL.
		return nil, "", errors.New("open key-encryption key: malformed URL")
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme == "" {
		return nil, "", errors.New("open key-encryption key: URL has no scheme")
	}
	return u, scheme, nil
}

// LocalKEK returns the base64key:// URL of the local key-encryption key
// stored in the file at path, creating the file with a random 32-byte key
// and mode 0600 if it does not exist. The directory must exist. An existing
// file must hold exactly 32 bytes and, except on Windows, must not be
// accessible to group or others. Creation is atomic: concurrent callers all
// get the same key. The URL is a secret: never log or print it.
func LocalKEK(path string) (string, error) {
	key, err := readKEK(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = createKEK(path)
	}
	if err != nil {
		return "", err
	}
	defer clear(key)
	return localsecrets.Scheme + "://" + base64.URLEncoding.EncodeToString(key), nil
}

// readKEK reads an existing key file, checking its permissions.
func readKEK(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read key-encryption key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read key-encryption key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read key-encryption key %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("read key-encryption key %s: mode %04o lets group or others access it; run chmod 600 %s", path, perm, path)
	}
	key := make([]byte, kekSize+1)
	n, err := io.ReadFull(f, key)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		clear(key)
		return nil, fmt.Errorf("read key-encryption key: %w", err)
	}
	if n != kekSize {
		clear(key)
		return nil, fmt.Errorf("read key-encryption key %s: file must hold exactly %d bytes", path, kekSize)
	}
	return key[:kekSize], nil
}

// createKEK writes a new random key to a temporary file next to path and
// links it into place, so that path never holds a partial key and a
// concurrent creator's key wins consistently.
func createKEK(path string) ([]byte, error) {
	dir := filepath.Dir(path)
	key := make([]byte, kekSize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("create key-encryption key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".kek-*.tmp") // mode 0600
	if err != nil {
		clear(key)
		return nil, fmt.Errorf("create key-encryption key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := writeSync(tmp, key); err != nil {
		clear(key)
		return nil, fmt.Errorf("create key-encryption key: %w", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		clear(key)
		if errors.Is(err, fs.ErrExist) {
			return readKEK(path)
		}
		return nil, fmt.Errorf("create key-encryption key: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // best effort: make the new name durable
		d.Close()
	}
	return key, nil
}

func writeSync(f *os.File, b []byte) error {
	_, err := f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
