package artifact

import (
	"context"
	_ "crypto/sha256" // register the digest algorithms go-digest uses
	_ "crypto/sha512"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// chunkSize is the copy buffer size: large enough for throughput, small
// enough that memory does not depend on file size.
const chunkSize = 1 << 20

var bufPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// ctxReader fails reads once ctx is done, so long copies stop between
// chunks.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// progress reports bytes done out of a total to an optional callback,
// serialising calls so the callback need not be safe for concurrent use.
type progress struct {
	mu    sync.Mutex
	fn    func(done, total int64)
	done  int64
	total int64
}

func (p *progress) add(n int64) {
	if p == nil || p.fn == nil || n == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	p.fn(p.done, p.total)
}

// progressReader reports every read to a progress.
type progressReader struct {
	r io.Reader
	p *progress
}

func (r progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.add(int64(n))
	return n, err
}

// verifier counts and hashes the bytes read through it and compares them
// with a descriptor once the reader is exhausted.
type verifier struct {
	r       io.Reader // limited to want.Size+1 bytes
	digestr digest.Digester
	want    ocispec.Descriptor
	n       int64
	subject string
}

// newVerifier wraps r to check it against want. want.Digest must be valid
// (see validDescriptor).
func newVerifier(r io.Reader, want ocispec.Descriptor, subject string) *verifier {
	limit := want.Size
	if limit < math.MaxInt64 {
		limit++ // read one byte more than announced, to detect it
	}
	return &verifier{
		r:       io.LimitReader(r, limit),
		digestr: want.Digest.Algorithm().Digester(),
		want:    want,
		subject: subject,
	}
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	if n > 0 {
		v.digestr.Hash().Write(p[:n])
		v.n += int64(n)
		if v.n > v.want.Size {
			return n, v.mismatch()
		}
	}
	if errors.Is(err, io.EOF) {
		if verr := v.check(); verr != nil {
			return n, verr
		}
	}
	return n, err
}

// check compares what was read so far with the descriptor.
func (v *verifier) check() error {
	if v.n != v.want.Size || v.digestr.Digest() != v.want.Digest {
		return v.mismatch()
	}
	return nil
}

func (v *verifier) mismatch() error {
	return &VerifyError{
		Subject:    v.subject,
		WantDigest: v.want.Digest,
		GotDigest:  v.digestr.Digest(),
		WantSize:   v.want.Size,
		GotSize:    v.n,
	}
}

// finish drains the rest of the stream (a reader that stopped early, such
// as a tar reader at its end marker, leaves padding) and checks it.
func (v *verifier) finish(buf []byte) error {
	for {
		_, err := v.Read(buf)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// hashReader streams r and returns its sha256 digest and size.
func hashReader(ctx context.Context, r io.Reader) (digest.Digest, int64, error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	d := digest.Canonical.Digester()
	n, err := io.CopyBuffer(d.Hash(), ctxReader{ctx, r}, *bp)
	if err != nil {
		return "", n, err
	}
	return d.Digest(), n, nil
}

// validDescriptor checks the parts of an untrusted descriptor that are
// used to fetch and verify content.
func validDescriptor(d ocispec.Descriptor, what string) error {
	if err := d.Digest.Validate(); err != nil {
		return fmt.Errorf("%w: %s digest %q: %v", ErrInvalidManifest, what, d.Digest, err)
	}
	if d.Size < 0 {
		return fmt.Errorf("%w: %s size %d is negative", ErrInvalidManifest, what, d.Size)
	}
	return nil
}

// readBlob fetches a small blob (a manifest or config) and verifies it.
func readBlob(ctx context.Context, f interface {
	Fetch(context.Context, ocispec.Descriptor) (io.ReadCloser, error)
}, d ocispec.Descriptor, limit int64, what string) ([]byte, error) {
	if err := validDescriptor(d, what); err != nil {
		return nil, err
	}
	if d.Size > limit {
		return nil, &LimitError{What: fmt.Sprintf("%s size %d", what, d.Size), Limit: limit}
	}
	rc, err := f.Fetch(ctx, d)
	if err != nil {
		return nil, fmt.Errorf("fetch %s %s: %w", what, d.Digest, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(newVerifier(ctxReader{ctx, rc}, d, what+" "+d.Digest.String()))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	return b, nil
}
