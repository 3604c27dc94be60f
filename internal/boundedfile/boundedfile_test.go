package boundedfile_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/boundedfile"
)

func TestRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := boundedfile.Read(p, 5); err != nil || string(b) != "12345" {
		t.Errorf("Read at the limit = %q, %v", b, err)
	}
	if _, err := boundedfile.Read(p, 4); !errors.Is(err, boundedfile.ErrTooLarge) || !strings.Contains(err.Error(), p+" is larger than 4 bytes") {
		t.Errorf("Read over the limit: %v", err)
	}
	if _, err := boundedfile.Read(filepath.Join(dir, "missing"), 4); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read of a missing file: %v", err)
	}
}

// endless yields zeros forever: ReadFrom must stop one byte past the limit.
type endless struct{ n int }

func (e *endless) Read(p []byte) (int, error) {
	clear(p)
	e.n += len(p)
	return len(p), nil
}

func TestReadFromStopsEarly(t *testing.T) {
	t.Parallel()
	e := &endless{}
	if _, err := boundedfile.ReadFrom(e, "stdin", 1000); !errors.Is(err, boundedfile.ErrTooLarge) {
		t.Fatalf("ReadFrom of an endless stream: %v", err)
	}
	if e.n > 1<<20 {
		t.Errorf("read %d bytes of an endless stream for a limit of 1000", e.n)
	}
	if b, err := boundedfile.ReadFrom(bytes.NewReader(nil), "empty", 0); err != nil || len(b) != 0 {
		t.Errorf("ReadFrom of nothing = %q, %v", b, err)
	}
}
