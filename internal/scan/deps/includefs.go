package deps

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Limits on requirements files reached through -r / -c includes.
const (
	maxIncludes     = 32      // included files opened per top-level file
	maxIncludeBytes = 4 << 20 // size of one included file
)

// errIncludeRefused is returned for an include that is not followed.
var errIncludeRefused = errors.New("include not followed")

// includeFS is the file system osv-scalibr's requirements extractor reads
// -r / -c includes through. It serves only regular files under root, of
// bounded size and number, and records every include it refused so the
// scanner can say so. A nil-root includeFS (an object inside an archive)
// refuses everything.
type includeFS struct {
	root string // absolute directory includes must stay in; "" refuses all

	mu      sync.Mutex
	opened  int
	refused []refusal
}

// refusal is an include that was not followed, and why.
type refusal struct {
	Path   string
	Reason string
}

func (f *includeFS) refuse(name, reason string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refused = append(f.refused, refusal{Path: name, Reason: reason})
	return &fs.PathError{Op: "open", Path: name, Err: errIncludeRefused}
}

// Open opens an included requirements file. name is the path the
// extractor joined from the including file's path and the -r argument.
func (f *includeFS) Open(name string) (fs.File, error) {
	if f.root == "" {
		return nil, f.refuse(name, "includes inside archives are not followed")
	}
	p := filepath.Clean(filepath.FromSlash(name))
	if !filepath.IsAbs(p) {
		p = filepath.Join(f.root, p)
	}
	if !within(f.root, p) {
		return nil, f.refuse(name, "outside the project directory")
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return nil, f.refuse(name, "not found")
	}
	if !within(f.root, real) {
		return nil, f.refuse(name, "a link to outside the project directory")
	}
	f.mu.Lock()
	f.opened++
	n := f.opened
	f.mu.Unlock()
	if n > maxIncludes {
		return nil, f.refuse(name, fmt.Sprintf("more than %d included files", maxIncludes))
	}
	file, err := os.Open(real)
	if err != nil {
		return nil, f.refuse(name, "cannot be opened")
	}
	info, err := file.Stat()
	if err != nil || !info.Mode().IsRegular() {
		_ = file.Close()
		return nil, f.refuse(name, "not a regular file")
	}
	if info.Size() > maxIncludeBytes {
		_ = file.Close()
		return nil, f.refuse(name, fmt.Sprintf("larger than %d bytes", maxIncludeBytes))
	}
	return &limitedFile{File: file, r: io.LimitReader(file, maxIncludeBytes)}, nil
}

// ReadDir is not offered: the extractor only opens files.
func (f *includeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrPermission}
}

// Stat is not offered: the extractor only opens files.
func (f *includeFS) Stat(name string) (fs.FileInfo, error) {
	return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrPermission}
}

// Refused returns the includes that were not followed.
func (f *includeFS) Refused() []refusal {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]refusal(nil), f.refused...)
}

// within reports whether p lies in dir.
func within(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// limitedFile reads at most maxIncludeBytes whatever the file grows to.
type limitedFile struct {
	*os.File
	r io.Reader
}

func (l *limitedFile) Read(p []byte) (int, error) { return l.r.Read(p) }

// ReadAt satisfies osv-scalibr's requirement that opened files be
// io.ReaderAt; reads beyond the limit see end of file.
func (l *limitedFile) ReadAt(p []byte, off int64) (int, error) {
	if off >= maxIncludeBytes {
		return 0, io.EOF
	}
	if rem := maxIncludeBytes - off; int64(len(p)) > rem {
		p = p[:rem]
	}
	return l.File.ReadAt(p, off)
}

// memInfo describes an in-memory object to extractors that ask for a size.
type memInfo struct {
	name string
	size int64
}

func (m memInfo) Name() string       { return m.name }
func (m memInfo) Size() int64        { return m.size }
func (m memInfo) Mode() fs.FileMode  { return 0o444 }
func (m memInfo) ModTime() time.Time { return time.Time{} }
func (m memInfo) IsDir() bool        { return false }
func (m memInfo) Sys() any           { return nil }
