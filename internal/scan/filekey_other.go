//go:build !unix

package scan

import (
	"io/fs"
	"path/filepath"
)

// fileKey identifies a file across the names that reach it; without inode
// numbers, the cleaned absolute path stands in.
type fileKey struct {
	path string
}

// keyOf returns the identity of the file at path.
func keyOf(path string, _ fs.FileInfo) fileKey {
	if abs, err := filepath.Abs(path); err == nil {
		return fileKey{path: abs}
	}
	return fileKey{path: path}
}
