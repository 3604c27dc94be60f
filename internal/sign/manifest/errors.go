package manifest

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinels for conditions callers branch on. Errors about one path are
// *PathError values wrapping one of these.
var (
	// ErrSymlink: a symlink was found and symlinks are not allowed.
	ErrSymlink = errors.New("symlink not allowed")
	// ErrSymlinkEscapes: an allowed symlink points outside the model root
	// and escaping symlinks are not allowed.
	ErrSymlinkEscapes = errors.New("symlink points outside the model root")
	// ErrSymlinkDir: a symlink points to a directory (never followed).
	ErrSymlinkDir = errors.New("symlink points to a directory")
	// ErrSpecialFile: neither a regular file nor a directory (FIFO,
	// socket, device, broken symlink).
	ErrSpecialFile = errors.New("not a regular file or directory")
	// ErrChanged: the file changed while it was being hashed.
	ErrChanged = errors.New("file changed while being hashed")
	// ErrBadName: a file name the manifest format cannot represent.
	ErrBadName = errors.New("file name cannot be represented in a manifest")
	// ErrUnknownHash: a hash algorithm name this package does not know.
	ErrUnknownHash = errors.New("unknown hash algorithm")
	// ErrMalformed: a statement that is not a valid v1.0 OMS statement.
	ErrMalformed = errors.New("malformed model signing statement")
	// ErrRootDigest: the statement's subject digest is not the root digest
	// of its resources.
	ErrRootDigest = errors.New("subject digest does not match the resources")
	// ErrMismatch: the model differs from the manifest; see *MismatchError.
	ErrMismatch = errors.New("model does not match the manifest")
)

// PathError reports a problem with one path of the model.
type PathError struct {
	Path string // as given by the caller joined with the relative path
	Err  error  // one of the sentinels above, possibly wrapping an OS error
}

func (e *PathError) Error() string { return e.Path + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *PathError) Unwrap() error { return e.Err }

// MismatchError names every difference between a model and a manifest,
// each list holding resource names in manifest order.
type MismatchError struct {
	Extra   []string // in the model, not in the manifest
	Missing []string // in the manifest, not in the model
	Changed []string // in both, with a different digest or algorithm
}

func (e *MismatchError) Error() string {
	var b strings.Builder
	b.WriteString(ErrMismatch.Error())
	list := func(what string, names []string) {
		if len(names) > 0 {
			fmt.Fprintf(&b, "; %s: %s", what, strings.Join(names, ", "))
		}
	}
	list("extra files", e.Extra)
	list("missing files", e.Missing)
	list("changed files", e.Changed)
	return b.String()
}

// Is makes errors.Is(err, ErrMismatch) true.
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }
