//go:build unix

package onnx

import (
	"io/fs"
	"syscall"
)

// linkCount returns how many directory entries name the file fi describes,
// or 0 when the platform does not say.
func linkCount(_ string, fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 0
}
