package onnx

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// maxLocation is the longest external-data location read; longer ones are
// reported (no file system accepts them as a relative name).
const maxLocation = 4096

// ortMemAddrTag is ONNX Runtime's in-memory external-data sentinel
// (kTensorProtoMemoryAddressTag): a loader that honours it takes the
// entry's offset for a raw pointer into its own address space and copies
// length bytes from there. Only models built in memory use it; in a model
// file it is an arbitrary-read (or crash) primitive.
const ortMemAddrTag = "*/_ORT_MEM_ADDR_/*"

// locationProblem says why an external-data location can reach outside the
// model directory, or returns "" when it is a plain relative name. Both
// separators are treated as separators: a model written on one system is
// loaded on another.
func locationProblem(loc string, truncated bool) string {
	switch {
	case loc == "":
		return "is empty (the loader opens the model directory itself)"
	case strings.Contains(loc, ortMemAddrTag):
		return "contains ONNX Runtime's in-memory sentinel " + ortMemAddrTag +
			" (loaders that honour it read offset as a raw memory address; only models built in memory may use it, never a model file)"
	case strings.IndexByte(loc, 0) >= 0:
		return "contains a NUL byte (the name is cut short where the loader passes it to the operating system)"
	case truncated:
		return fmt.Sprintf("is longer than %d bytes", maxLocation)
	}
	norm := strings.ReplaceAll(loc, `\`, "/")
	switch {
	case strings.HasPrefix(norm, "//"):
		return "is a UNC or device path (\\\\server\\share, \\\\?\\...)"
	case strings.HasPrefix(norm, "/"):
		return "is an absolute path"
	case len(norm) >= 2 && norm[1] == ':' && isASCIILetter(norm[0]):
		return "names a Windows drive"
	}
	depth, climbs, dots := 0, false, false
	for _, c := range strings.Split(norm, "/") {
		switch {
		case c == "" || c == ".":
		case isDotDot(c):
			dots = true
			depth--
			if depth < 0 {
				climbs = true
			}
		default:
			depth++
		}
	}
	switch {
	case climbs:
		return "climbs out of the model directory with '..'"
	case dots:
		return "contains a '..' component (through a symbolic link in an earlier component it can leave the model directory)"
	}
	return ""
}

// isDotDot reports whether a path component means the parent directory.
// Windows drops trailing dots and spaces from names, so "...", ". ." and
// ".. " count as well.
func isDotDot(c string) bool {
	if c == ".." {
		return true
	}
	if strings.Count(c, ".") < 2 {
		return false
	}
	return strings.Trim(c, ". ") == ""
}

func isASCIILetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }

// diskProblem is what a check of an external-data file on disk found.
type diskProblem struct {
	missing bool   // the file (or a directory on its path) does not exist
	path    string // the path on disk that has the problem
	msg     string // what is wrong with it
}

// checkOnDisk inspects, without following links or opening anything but
// the final regular file (and that only on Windows, to count its links),
// the file an already validated relative location names inside dir. It
// returns nil when the file is a plain regular file with a single link.
func checkOnDisk(dir, loc string) *diskProblem {
	sep := func(r rune) bool { return r == '/' || (runtime.GOOS == "windows" && r == '\\') }
	var comps []string
	for _, c := range strings.FieldsFunc(loc, sep) {
		if c != "." {
			comps = append(comps, c)
		}
	}
	cur := dir
	for i, c := range comps {
		cur = filepath.Join(cur, c)
		fi, err := os.Lstat(cur)
		if errors.Is(err, fs.ErrNotExist) {
			return &diskProblem{missing: true, path: cur, msg: "does not exist"}
		}
		if err != nil {
			return &diskProblem{missing: true, path: cur, msg: fmt.Sprintf("could not be inspected (%v)", err)}
		}
		last := i == len(comps)-1
		if fi.Mode()&fs.ModeSymlink != 0 {
			return &diskProblem{path: cur, msg: describeLink(dir, cur, filepath.Join(dir, filepath.Join(comps...)))}
		}
		if !last {
			if !fi.IsDir() {
				return &diskProblem{missing: true, path: cur, msg: "is not a directory"}
			}
			continue
		}
		if !fi.Mode().IsRegular() {
			return &diskProblem{path: cur, msg: fmt.Sprintf("is not a regular file (%s); reading it can block or read device data", fileKind(fi.Mode()))}
		}
		if n := linkCount(cur, fi); n > 1 {
			return &diskProblem{path: cur, msg: fmt.Sprintf("is a hard link (%d names share its content); it can be another user's file outside the model directory", n)}
		}
	}
	if len(comps) == 0 {
		return &diskProblem{path: dir, msg: "names the model directory itself"}
	}
	return nil
}

// describeLink explains a symbolic link met at link while resolving
// target, including where the target finally resolves.
func describeLink(dir, link, target string) string {
	dest, err := os.Readlink(link)
	msg := "is a symbolic link"
	if err == nil {
		msg = fmt.Sprintf("is a symbolic link to %q", dest)
	}
	resolved, err := filepath.EvalSymlinks(target)
	if err != nil {
		return msg + " (its target does not resolve)"
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		root = dir
	}
	if within(root, resolved) {
		return msg + fmt.Sprintf("; the data resolves to %q, inside the model directory", resolved)
	}
	return msg + fmt.Sprintf("; the data resolves to %q, outside the model directory", resolved)
}

// within reports whether path p lies inside directory root.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return false
	}
	return rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}
