//go:build unix

package artifact

import (
	"errors"
	"path/filepath"
	"syscall"
	"testing"
)

func TestPackRefusesNamedPipe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]testFile{"x": {}})
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, err := Pack(t.Context(), dir, Options{}); !errors.Is(err, ErrUnsupportedFile) {
		t.Errorf("Pack of a directory with a named pipe = %v, want ErrUnsupportedFile", err)
	}
}
