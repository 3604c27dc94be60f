//go:build unix

package scan

import (
	"io/fs"
	"syscall"
)

// fileKey identifies a file across the names that reach it.
type fileKey struct {
	dev, ino uint64
	path     string // used when the platform gives no inode
}

// keyOf returns the identity of the file at path.
func keyOf(path string, info fs.FileInfo) fileKey {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return fileKey{dev: uint64(st.Dev), ino: uint64(st.Ino)}
	}
	return fileKey{path: path}
}
