//go:build windows

package onnx

import (
	"io/fs"
	"os"
	"syscall"
)

// linkCount returns how many directory entries name the file at path, or 0
// when it cannot be determined. Windows keeps the count in the file's
// metadata, which needs an open handle.
func linkCount(path string, _ fs.FileInfo) uint64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	var d syscall.ByHandleFileInformation
	if err := syscall.GetFileInformationByHandle(syscall.Handle(f.Fd()), &d); err != nil {
		return 0
	}
	return uint64(d.NumberOfLinks)
}
