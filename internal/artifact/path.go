package artifact

import (
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Path limits. They are fixed rather than configurable: no file system
// Palisade supports accepts longer names.
const (
	// MaxPathLen bounds a path's length in bytes.
	MaxPathLen = 4096
	// MaxNameLen bounds one path element's length in bytes.
	MaxNameLen = 255
)

// ValidatePath checks that p is a relative, slash-separated path that is
// safe to create under a destination directory on any platform Palisade
// runs on. It refuses: the empty path; absolute paths; Windows drive
// letters and backslashes; empty, "." and ".." elements (so no trailing or
// doubled slashes); a ".git" element, since writing into a Git directory
// can make Git run commands; NUL and other control characters; invalid
// UTF-8; paths over [MaxPathLen] bytes and elements over [MaxNameLen].
// The error is a *PathError.
func ValidatePath(p string) error {
	bad := func(reason string) error { return &PathError{Path: p, Reason: reason} }
	switch {
	case p == "":
		return bad("empty path")
	case len(p) > MaxPathLen:
		return bad("longer than 4096 bytes")
	case !utf8.ValidString(p):
		return bad("not valid UTF-8")
	case p[0] == '/':
		return bad("absolute path")
	case strings.ContainsRune(p, '\\'):
		return bad("contains a backslash")
	case len(p) >= 2 && p[1] == ':' && isASCIILetter(p[0]):
		return bad("starts with a drive letter")
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f {
			return bad("contains a NUL or control character")
		}
	}
	for elem := range strings.SplitSeq(p, "/") {
		switch {
		case elem == "":
			return bad("has an empty element (leading, trailing or doubled slash)")
		case elem == "." || elem == "..":
			return bad("has a . or .. element")
		case len(elem) > MaxNameLen:
			return bad("has an element longer than 255 bytes")
		case strings.EqualFold(elem, ".git"):
			return bad("has a .git element")
		}
	}
	return nil
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// fold maps paths that a case-insensitive file system treats as one name
// to the same key.
func fold(p string) string { return strings.ToLower(p) }

// pathSet records the files and directories an artifact creates and
// refuses a path that duplicates another, differs from another only by
// case, or needs a directory where a file is (or the reverse). It is safe
// for concurrent use.
type pathSet struct {
	mu    sync.Mutex
	files map[string]string // fold(path) -> path
	dirs  map[string]string // fold(dir) -> dir, every ancestor of every entry
}

func newPathSet() *pathSet {
	return &pathSet{files: map[string]string{}, dirs: map[string]string{}}
}

// addFile validates p and records it as a regular file.
func (s *pathSet) addFile(p string) error {
	if err := ValidatePath(p); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := fold(p)
	if prev, ok := s.files[k]; ok {
		if prev == p {
			return &PathError{Path: p, Reason: "appears twice"}
		}
		return &PathError{Path: p, Reason: "differs only by case from " + quote(prev)}
	}
	if prev, ok := s.dirs[k]; ok {
		return &PathError{Path: p, Reason: "is also a directory (" + quote(prev) + ")"}
	}
	if err := s.addParentsLocked(p); err != nil {
		return err
	}
	s.files[k] = p
	return nil
}

// addDir validates p and records it as a directory.
func (s *pathSet) addDir(p string) error {
	if err := ValidatePath(p); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.addParentsLocked(p); err != nil {
		return err
	}
	return s.addOneDirLocked(p, p)
}

// addParentsLocked records every proper ancestor of p as a directory.
func (s *pathSet) addParentsLocked(p string) error {
	for i := 0; i < len(p); i++ {
		if p[i] == '/' {
			if err := s.addOneDirLocked(p[:i], p); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *pathSet) addOneDirLocked(d, from string) error {
	k := fold(d)
	if f, ok := s.files[k]; ok {
		return &PathError{Path: from, Reason: "needs directory " + quote(d) + " but " + quote(f) + " is a file"}
	}
	if prev, ok := s.dirs[k]; ok && prev != d {
		return &PathError{Path: from, Reason: "directory " + quote(d) + " differs only by case from " + quote(prev)}
	}
	s.dirs[k] = d
	return nil
}

func quote(s string) string { return strconv.Quote(s) }
