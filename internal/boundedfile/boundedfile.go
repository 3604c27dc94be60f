// Package boundedfile reads whole files (and streams) that must stay
// small: keys, certificates, signatures, configuration, proofs. A larger
// input is refused with ErrTooLarge after reading at most one byte more
// than the limit, so a huge or endless input costs nothing.
package boundedfile

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrTooLarge is wrapped by the error for an input over its limit.
var ErrTooLarge = errors.New("input too large")

// Read reads the file at path, of at most limit bytes. The error of
// opening it is returned as os.Open gives it (it names the path).
func Read(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadFrom(f, path, limit)
}

// ReadFrom reads r to its end, at most limit bytes; name says what r is
// in errors.
func ReadFrom(r io.Reader, name string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrTooLarge, name, limit)
	}
	return data, nil
}
