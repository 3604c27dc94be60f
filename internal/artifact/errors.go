package artifact

import (
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
)

// Sentinel errors; test for them with errors.Is.
var (
	// ErrInvalidPath reports a file path that is unsafe or unportable:
	// absolute, with .. or empty elements, NUL or control characters,
	// overlong, duplicated, or colliding with another path.
	ErrInvalidPath = errors.New("invalid artifact path")
	// ErrUnsafeLink reports a symbolic link that leaves the packed
	// directory.
	ErrUnsafeLink = errors.New("symbolic link leaves the directory")
	// ErrUnsupportedFile reports a file that is neither regular nor a
	// directory (a device, a socket, a link in a tar layer).
	ErrUnsupportedFile = errors.New("unsupported file type")
	// ErrEmpty reports a directory with no file to pack.
	ErrEmpty = errors.New("nothing to pack")
	// ErrInvalidManifest reports a manifest or config that is malformed
	// or inconsistent.
	ErrInvalidManifest = errors.New("invalid artifact manifest")
	// ErrUnsupported reports an artifact, media type or URI scheme that
	// this package does not handle.
	ErrUnsupported = errors.New("unsupported artifact")
	// ErrDigestMismatch reports content whose digest differs from the
	// one it was announced with.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrSizeMismatch reports content whose size differs from the one it
	// was announced with.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrNotEmpty reports a pull destination that already holds files.
	ErrNotEmpty = errors.New("destination directory is not empty")
	// ErrLimit reports input over one of the limits; the error is a
	// *LimitError.
	ErrLimit = errors.New("limit exceeded")
)

// PathError reports a path refused by [ValidatePath] or by a collision
// check. It matches [ErrInvalidPath].
type PathError struct {
	Path   string // the offending path, as given
	Reason string // why it is refused
}

func (e *PathError) Error() string {
	return fmt.Sprintf("%v %q: %s", ErrInvalidPath, e.Path, e.Reason)
}

// Unwrap returns ErrInvalidPath.
func (e *PathError) Unwrap() error { return ErrInvalidPath }

// VerifyError reports content that does not match its descriptor. It
// matches [ErrDigestMismatch] or [ErrSizeMismatch].
type VerifyError struct {
	Subject    string // what was checked: "file weights/a.bin", "reference s3://..."
	WantDigest digest.Digest
	GotDigest  digest.Digest // digest of the bytes read (at most WantSize+1)
	WantSize   int64
	GotSize    int64 // bytes read; WantSize+1 means "more than announced"
}

func (e *VerifyError) Error() string {
	if e.GotSize != e.WantSize {
		got := fmt.Sprintf("%d bytes", e.GotSize)
		if e.GotSize > e.WantSize {
			got = fmt.Sprintf("more than %d bytes", e.WantSize)
		}
		return fmt.Sprintf("%s: %v: expected %d bytes (%s), got %s (%s so far); the content was altered or truncated: do not use it, and push or pull it again from a trusted source",
			e.Subject, ErrSizeMismatch, e.WantSize, e.WantDigest, got, e.GotDigest)
	}
	return fmt.Sprintf("%s: %v: expected %s, got %s; the content was altered: do not use it, and push or pull it again from a trusted source",
		e.Subject, ErrDigestMismatch, e.WantDigest, e.GotDigest)
}

// Unwrap returns ErrSizeMismatch or ErrDigestMismatch.
func (e *VerifyError) Unwrap() error {
	if e.GotSize != e.WantSize {
		return ErrSizeMismatch
	}
	return ErrDigestMismatch
}

// LimitError reports input over a limit. It matches [ErrLimit].
type LimitError struct {
	What  string // "manifest size", "layer count", ...
	Limit int64
	Fix   string // how to proceed, when the limit is configurable
}

func (e *LimitError) Error() string {
	s := fmt.Sprintf("%s exceeds the limit of %d", e.What, e.Limit)
	if e.Fix != "" {
		s += "; " + e.Fix
	}
	return s
}

// Unwrap returns ErrLimit.
func (e *LimitError) Unwrap() error { return ErrLimit }
