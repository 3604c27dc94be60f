package blob

import (
	"context"
	"fmt"
	"hash"
	"io"

	"github.com/palisade-sec/palisade/internal/crypto"
)

// Open returns a reader of the plaintext of the project's blob with this
// digest, decrypting while streaming with the wrapped key and AAD context
// that Commit returned. It fails at once with ErrNotFound, or with the
// Sealer's error for a malformed or foreign wrapped key. Read fails with an
// error wrapping crypto.ErrDecrypt when the stored ciphertext was modified,
// and at the end with one wrapping both ErrDigestMismatch and
// crypto.ErrDecrypt when the plaintext is authentic but not the blob's (a
// ciphertext swapped in with its key): read to io.EOF before trusting it.
func (s *Store) Open(ctx context.Context, project, digest string, wrappedKey []byte, aadContext string) (io.ReadCloser, error) {
	key, d, err := s.blobKey(project, digest)
	if err != nil {
		return nil, fmt.Errorf("open blob: %w", err)
	}
	or, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", d, notFound(err))
	}
	sl, err := s.sealer(ctx, project)
	if err != nil {
		_ = or.Close()
		return nil, fmt.Errorf("open blob: %w", err)
	}
	pr, err := sl.Decrypt(ctx, or, wrappedKey, aad(project, aadContext))
	if err != nil {
		_ = or.Close()
		return nil, fmt.Errorf("open blob %s: %w", d, err)
	}
	return &verifyReader{r: pr, c: or, h: d.newHash(), d: d}, nil
}

// verifyReader hashes the plaintext and, at its end, reports a digest
// mismatch instead of io.EOF. Errors are sticky.
type verifyReader struct {
	r   io.Reader
	c   io.Closer
	h   hash.Hash
	d   parsedDigest
	err error
}

func (v *verifyReader) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.r.Read(p)
	v.h.Write(p[:n])
	switch {
	case err == io.EOF:
		if !v.d.matches(v.h) {
			v.err = fmt.Errorf("read blob %s: %w (%w)", v.d, ErrDigestMismatch, crypto.ErrDecrypt)
			return n, v.err
		}
		v.err = io.EOF
	case err != nil:
		v.err = fmt.Errorf("read blob %s: %w", v.d, err)
	}
	return n, v.err
}

func (v *verifyReader) Close() error { return v.c.Close() }
