//go:build !unix && !windows

package onnx

import "io/fs"

// linkCount returns 0: this platform does not report link counts.
func linkCount(string, fs.FileInfo) uint64 { return 0 }
