package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// maxURILen bounds a reference URI.
const maxURILen = 8192

// Reference names data a dataset artifact describes but does not carry:
// a file in a data lake, pinned by size and digest.
type Reference struct {
	// URI locates the data: file:///data/train.parquet, a local path,
	// s3://bucket/key, https://host/path. It must not carry credentials:
	// it is stored in the artifact config for anyone who can pull it.
	URI       string        `json:"uri"`
	Size      int64         `json:"size"`
	Digest    digest.Digest `json:"digest"`
	MediaType string        `json:"mediaType,omitempty"` // optional, e.g. application/vnd.apache.parquet
}

// validate checks a reference's syntax; it does not contact the URI.
func (r Reference) validate() error {
	if r.URI == "" {
		return fmt.Errorf("%w: a reference has an empty URI", ErrInvalidManifest)
	}
	if len(r.URI) > maxURILen {
		return fmt.Errorf("%w: reference URI is longer than %d bytes", ErrInvalidManifest, maxURILen)
	}
	if strings.ContainsFunc(r.URI, func(c rune) bool { return c < 0x20 || c == 0x7f }) {
		return fmt.Errorf("%w: reference URI %q contains a control character", ErrInvalidManifest, r.URI)
	}
	u, err := url.Parse(r.URI)
	if err != nil {
		return fmt.Errorf("%w: reference URI %q: %v", ErrInvalidManifest, r.URI, err)
	}
	if u.User != nil {
		return fmt.Errorf("%w: reference URI %q carries credentials: remove them and give the opener its credentials instead", ErrInvalidManifest, u.Redacted())
	}
	if r.Size < 0 {
		return fmt.Errorf("%w: reference %s has negative size %d", ErrInvalidManifest, r.URI, r.Size)
	}
	if err := r.Digest.Validate(); err != nil {
		return fmt.Errorf("%w: reference %s digest %q: %v", ErrInvalidManifest, r.URI, r.Digest, err)
	}
	if r.MediaType != "" {
		typ, sub, ok := strings.Cut(r.MediaType, "/")
		if !ok || typ == "" || sub == "" || strings.ContainsFunc(r.MediaType, func(c rune) bool { return c <= ' ' || c == 0x7f }) {
			return fmt.Errorf("%w: reference %s media type %q is not type/subtype", ErrInvalidManifest, r.URI, r.MediaType)
		}
	}
	return nil
}

// validateReferences checks every reference and that no URI repeats.
func validateReferences(refs []Reference) error {
	if len(refs) > DefaultMaxLayers {
		return &LimitError{What: "reference count", Limit: DefaultMaxLayers}
	}
	seen := make(map[string]bool, len(refs))
	for _, r := range refs {
		if err := r.validate(); err != nil {
			return err
		}
		if seen[r.URI] {
			return fmt.Errorf("%w: reference %s is listed twice", ErrInvalidManifest, r.URI)
		}
		seen[r.URI] = true
	}
	return nil
}

// CheckReference reads what ref.URI serves through open, hashing it as
// it streams, and returns a *VerifyError (matching ErrDigestMismatch or
// ErrSizeMismatch) when the data is not what the artifact pinned. It
// reads at most ref.Size+1 bytes.
//
// Only local data has an opener today: [OpenLocal]. An opener for
// http(s) or s3 is a function of the same type that returns the object
// body (an HTTP GET body, an S3 GetObject body) with its credentials
// bound in; CheckReference needs nothing else from it.
func CheckReference(ctx context.Context, ref Reference, open func(uri string) (io.ReadCloser, error)) error {
	if err := ref.validate(); err != nil {
		return fmt.Errorf("check reference: %w", err)
	}
	rc, err := open(ref.URI)
	if err != nil {
		return fmt.Errorf("check reference %s: %w", ref.URI, err)
	}
	defer rc.Close()
	v := newVerifier(ctxReader{ctx, rc}, ocispec.Descriptor{Digest: ref.Digest, Size: ref.Size}, "reference "+ref.URI)
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	if err := v.finish(*bp); err != nil {
		var ve *VerifyError
		if errors.As(err, &ve) {
			return err
		}
		return fmt.Errorf("check reference %s: %w", ref.URI, err)
	}
	return nil
}

// OpenLocal opens a reference URI that names a local regular file: a
// file:// URI (file:///abs/path, or file://localhost/abs/path) or a plain
// path. Other schemes fail with ErrUnsupported.
func OpenLocal(uri string) (io.ReadCloser, error) {
	name := uri
	if u, err := url.Parse(uri); err == nil && len(u.Scheme) > 1 {
		if !strings.EqualFold(u.Scheme, "file") {
			return nil, fmt.Errorf("%w: no opener for scheme %q: only file:// URIs and local paths can be checked here; pass an opener for %s", ErrUnsupported, u.Scheme, u.Scheme)
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("%w: file URI %q names host %q: only local files can be opened", ErrUnsupported, uri, u.Host)
		}
		if u.Path == "" {
			return nil, fmt.Errorf("%w: file URI %q has no absolute path: write file:///path", ErrInvalidManifest, uri)
		}
		name = u.Path
	}
	// Stat first: opening a FIFO would block.
	if fi, err := os.Stat(name); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("open %s: %w: not a regular file", name, ErrUnsupportedFile)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("open %s: %w: not a regular file", name, ErrUnsupportedFile)
	}
	return f, nil
}
