package crypto

import (
	"encoding/binary"
	"fmt"
)

// Wrapped-key header constants (docs/format/blob-encryption.md).
const (
	wrappedMagic      = "PLWK"
	formatVersion1    = 1
	maxKeyIDLen       = 64
	maxWrappedKeyset  = 8192
	wrappedFixedBytes = len(wrappedMagic) + 1 + 1 + 4
)

// wrappedKey is a decoded wrapped key.
type wrappedKey struct {
	version byte
	keyID   string
	keyset  []byte // the KEK's ciphertext of the data keyset
}

// validKeyID reports whether id may be recorded as a KEK identity hint.
func validKeyID(id string) bool {
	if len(id) > maxKeyIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		if !keyIDByte(id[i]) {
			return false
		}
	}
	return true
}

func keyIDByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '.', '_', ':', '/', '@', '+', '=', '-':
		return true
	}
	return false
}

// encode returns the wire form of w. It panics if w violates the limits
// that every constructor checks, which would be a bug in this package.
func (w wrappedKey) encode() []byte {
	if w.version != formatVersion1 || !validKeyID(w.keyID) || len(w.keyset) == 0 || len(w.keyset) > maxWrappedKeyset {
		panic("crypto: encoding an invalid wrapped key")
	}
	b := make([]byte, 0, wrappedFixedBytes+len(w.keyID)+len(w.keyset))
	b = append(b, wrappedMagic...)
	b = append(b, w.version, byte(len(w.keyID)))
	b = append(b, w.keyID...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(w.keyset)))
	return append(b, w.keyset...)
}

// decodeWrappedKey parses b. Every failure wraps ErrFormat. The returned
// keyset aliases b.
func decodeWrappedKey(b []byte) (wrappedKey, error) {
	var w wrappedKey
	if len(b) < wrappedFixedBytes {
		return w, fmt.Errorf("wrapped key: %d bytes is too short: %w", len(b), ErrFormat)
	}
	if string(b[:len(wrappedMagic)]) != wrappedMagic {
		return w, fmt.Errorf("wrapped key: bad magic: %w", ErrFormat)
	}
	b = b[len(wrappedMagic):]
	w.version = b[0]
	if w.version != formatVersion1 {
		return w, fmt.Errorf("wrapped key: unsupported format version %d: %w", w.version, ErrFormat)
	}
	n := int(b[1])
	b = b[2:]
	if n > maxKeyIDLen {
		return w, fmt.Errorf("wrapped key: key ID length %d exceeds %d: %w", n, maxKeyIDLen, ErrFormat)
	}
	if len(b) < n+4 {
		return w, fmt.Errorf("wrapped key: truncated header: %w", ErrFormat)
	}
	id := string(b[:n])
	if !validKeyID(id) {
		return w, fmt.Errorf("wrapped key: key ID has a byte outside [A-Za-z0-9._:/@+=-]: %w", ErrFormat)
	}
	w.keyID = id
	b = b[n:]
	m := binary.BigEndian.Uint32(b)
	b = b[4:]
	if m == 0 || m > maxWrappedKeyset {
		return w, fmt.Errorf("wrapped key: keyset length %d outside 1..%d: %w", m, maxWrappedKeyset, ErrFormat)
	}
	if uint64(len(b)) != uint64(m) {
		return w, fmt.Errorf("wrapped key: keyset length %d, have %d bytes: %w", m, len(b), ErrFormat)
	}
	w.keyset = b
	return w, nil
}

// WrappedKeyID returns the KEK identity hint recorded in wrappedKey: the
// Options.KeyID of the Envelope that wrapped it. It fails with ErrFormat if
// wrappedKey is malformed. The hint is not authenticated.
func WrappedKeyID(wrappedKey []byte) (string, error) {
	w, err := decodeWrappedKey(wrappedKey)
	if err != nil {
		return "", err
	}
	return w.keyID, nil
}
