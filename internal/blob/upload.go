package blob

import (
	"context"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gcblob "gocloud.dev/blob"
	"gocloud.dev/gcerrors"
)

// Upload is a blob being pushed: chunks are appended with Write and the
// blob becomes visible with Commit. Its methods are safe for concurrent
// use but serialized. After Commit succeeds or fails on a mismatch, or
// after Abort, every method returns ErrUploadUnknown.
type Upload struct {
	s       *Store
	project string
	id      string

	mu   sync.Mutex
	done bool
	size int64
	// staged mirrors size for readers that must not wait for a chunk in
	// flight (StagedBytes).
	staged atomic.Int64
	h      hash.Hash // SHA-256 of the plaintext so far
	parts  []part
}

// part is one encrypted chunk, stored at key.
type part struct {
	key     string
	context string
	wrapped []byte
	size    int64
}

// Begin starts an upload to the project.
func (s *Store) Begin(ctx context.Context, project string) (*Upload, error) {
	if err := checkProject(project); err != nil {
		return nil, fmt.Errorf("begin upload: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("begin upload: %w", err)
	}
	var b [16]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return nil, fmt.Errorf("begin upload: generate ID: %w", err)
	}
	u := &Upload{s: s, project: project, id: hex.EncodeToString(b[:]), h: sha256.New()}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := project + "/" + u.id
	if _, dup := s.uploads[k]; dup {
		return nil, errors.New("begin upload: duplicate upload ID")
	}
	s.uploads[k] = u
	return u, nil
}

// Upload returns the project's upload in progress with this ID, or
// ErrUploadUnknown.
func (s *Store) Upload(project, id string) (*Upload, error) {
	s.mu.Lock()
	u, ok := s.uploads[project+"/"+id]
	s.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("upload %.64q: %w", id, ErrUploadUnknown)
	}
	return u, nil
}

// Put stores r as one blob whose digest (and size, unless negative) must
// be as given, encrypting straight into its final place: the monolithic
// push. It is Begin followed by CommitFrom.
func (s *Store) Put(ctx context.Context, project, digest string, size int64, r io.Reader) (Blob, error) {
	u, err := s.Begin(ctx, project)
	if err != nil {
		return Blob{}, err
	}
	b, err := u.CommitFrom(ctx, r, digest, size)
	if err != nil {
		_ = u.Abort(context.WithoutCancel(ctx))
		return Blob{}, err
	}
	return b, nil
}

// ID returns the upload's identifier: 32 lower-case hex digits.
func (u *Upload) ID() string { return u.id }

// Project returns the project the upload belongs to.
func (u *Upload) Project() string { return u.project }

// Size returns the number of plaintext bytes received so far.
func (u *Upload) Size() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.size
}

// Write appends the chunk read from r, which must start at offset (the
// upload's Size), and returns its length. A chunk is all or nothing: on
// any error (ErrRange, ErrTooLarge, an error reading r or writing storage)
// none of it is kept and the upload can go on.
func (u *Upload) Write(ctx context.Context, offset int64, r io.Reader) (int64, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return 0, fmt.Errorf("write upload: %w", ErrUploadUnknown)
	}
	if offset != u.size {
		return 0, fmt.Errorf("write upload: %w: chunk starts at %d, upload has %d bytes", ErrRange, offset, u.size)
	}
	n, err := u.writePart(ctx, r)
	if err != nil {
		return 0, fmt.Errorf("write upload: %w", err)
	}
	return n, nil
}

// writePart encrypts r into the next part object.
func (u *Upload) writePart(ctx context.Context, r io.Reader) (int64, error) {
	saved, err := u.h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		return 0, fmt.Errorf("save hash state: %w", err)
	}
	idx := len(u.parts)
	p := part{
		key:     "uploads/" + u.project + "/" + u.id + "/" + strconv.Itoa(idx),
		context: u.id + "/" + strconv.Itoa(idx),
	}
	cr := &limitReader{r: r, limit: u.s.maxSize - u.size, h: u.h}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := u.s.bucket.NewWriter(wctx, p.key, writerOptions(false))
	if err != nil {
		return 0, fmt.Errorf("create part: %w", err)
	}
	sl, err := u.s.sealer(ctx, u.project)
	if err == nil {
		p.wrapped, err = sl.Encrypt(ctx, pieces{w}, cr, aad(u.project, p.context))
	}
	if err != nil || cr.n == 0 {
		cancel() // cancelling before Close discards the object
		_ = w.Close()
		if uerr := u.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(saved); uerr != nil {
			panic("blob: restore SHA-256 state: " + uerr.Error())
		}
		return 0, err
	}
	if err := w.Close(); err != nil {
		if uerr := u.h.(encoding.BinaryUnmarshaler).UnmarshalBinary(saved); uerr != nil {
			panic("blob: restore SHA-256 state: " + uerr.Error())
		}
		return 0, fmt.Errorf("store part: %w", err)
	}
	p.size = cr.n
	u.parts = append(u.parts, p)
	u.size += cr.n
	u.staged.Store(u.size)
	return cr.n, nil
}

// Commit verifies that the plaintext received has this digest and, unless
// size is negative, this size, then makes it visible as the project's blob.
// A malformed digest (ErrInvalidDigest) leaves the upload open; a mismatch
// (ErrDigestMismatch, ErrSizeMismatch) aborts it, leaving nothing visible.
// If the project already has the blob, the upload is discarded and the
// result has Existing set. Other errors (storage) leave the upload open so
// that Commit can be retried.
func (u *Upload) Commit(ctx context.Context, digest string, size int64) (Blob, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return Blob{}, fmt.Errorf("commit upload: %w", ErrUploadUnknown)
	}
	b, err := u.commit(ctx, digest, size)
	if err != nil {
		return Blob{}, fmt.Errorf("commit upload: %w", err)
	}
	return b, nil
}

// CommitFrom appends the final chunk read from r and commits, as Write and
// Commit would. When the upload has no data yet it encrypts r straight
// into the blob's final place, verifying digest and size before the object
// appears, so a monolithic push is written once.
func (u *Upload) CommitFrom(ctx context.Context, r io.Reader, digest string, size int64) (Blob, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return Blob{}, fmt.Errorf("commit upload: %w", ErrUploadUnknown)
	}
	var (
		b   Blob
		err error
	)
	if len(u.parts) == 0 {
		b, err = u.commitDirect(ctx, r, digest, size)
	} else if _, err = u.writePart(ctx, r); err == nil {
		b, err = u.commit(ctx, digest, size)
	}
	if err != nil {
		return Blob{}, fmt.Errorf("commit upload: %w", err)
	}
	return b, nil
}

// Abort discards the upload and its parts. It is idempotent only in that a
// second call returns ErrUploadUnknown.
func (u *Upload) Abort(ctx context.Context) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.done {
		return fmt.Errorf("abort upload: %w", ErrUploadUnknown)
	}
	if err := u.finish(ctx); err != nil {
		return fmt.Errorf("abort upload: %w", err)
	}
	return nil
}

// finish forgets the upload and deletes its parts; parts it fails to
// delete are left for PurgeUploads.
func (u *Upload) finish(ctx context.Context) error {
	u.done = true
	u.s.mu.Lock()
	delete(u.s.uploads, u.project+"/"+u.id)
	u.s.mu.Unlock()
	var errs []error
	for _, p := range u.parts {
		if err := u.s.bucket.Delete(ctx, p.key); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			errs = append(errs, fmt.Errorf("delete part: %w", err))
		}
	}
	u.parts = nil
	if err := errors.Join(errs...); err != nil {
		u.s.log.WarnContext(ctx, "upload parts left behind", slog.String("upload_id", u.id), slog.String("error", err.Error()))
		return err
	}
	return nil
}

// fail aborts the upload after a mismatch and returns err.
func (u *Upload) fail(ctx context.Context, err error) error {
	_ = u.finish(context.WithoutCancel(ctx)) // logged by finish
	return err
}

// existing discards the upload because the project has the blob already.
func (u *Upload) existing(ctx context.Context, d parsedDigest, size int64) (Blob, error) {
	_ = u.finish(context.WithoutCancel(ctx)) // logged by finish
	return Blob{Project: u.project, Digest: d.String(), Size: size, Existing: true}, nil
}

func (u *Upload) commit(ctx context.Context, digest string, size int64) (Blob, error) {
	key, d, err := u.s.blobKey(u.project, digest)
	if err != nil {
		return Blob{}, err
	}
	if size >= 0 && size != u.size {
		return Blob{}, u.fail(ctx, fmt.Errorf("%w: received %d bytes, expected %d", ErrSizeMismatch, u.size, size))
	}
	if d.algo == "sha256" {
		if !d.matches(u.h) {
			return Blob{}, u.fail(ctx, fmt.Errorf("%w: expected %s", ErrDigestMismatch, d))
		}
	} else {
		h := d.newHash()
		if err := u.readParts(ctx, h); err != nil {
			return Blob{}, err
		}
		if !d.matches(h) {
			return Blob{}, u.fail(ctx, fmt.Errorf("%w: expected %s", ErrDigestMismatch, d))
		}
	}
	ok, err := u.s.bucket.Exists(ctx, key)
	if err != nil {
		return Blob{}, fmt.Errorf("check for existing blob: %w", err)
	}
	if ok {
		return u.existing(ctx, d, u.size)
	}
	b := Blob{Project: u.project, Digest: d.String(), Size: u.size}
	if len(u.parts) == 1 {
		// The one part is the blob's ciphertext: copy it unchanged.
		p := u.parts[0]
		b.WrappedKey, b.AADContext = p.wrapped, p.context
		err = u.copyPart(ctx, key, p.key)
	} else {
		b.AADContext = u.id + "/final"
		b.WrappedKey, err = u.reencrypt(ctx, key, d, b.AADContext)
	}
	if err != nil {
		if !errors.Is(err, ErrDigestMismatch) && u.lostRace(ctx, key, err) {
			return u.existing(ctx, d, u.size) // committed concurrently
		}
		return Blob{}, err
	}
	_ = u.finish(context.WithoutCancel(ctx)) // logged by finish
	return b, nil
}

// copyPart copies a part's ciphertext to key unless key exists.
func (u *Upload) copyPart(ctx context.Context, key, partKey string) error {
	r, err := u.s.bucket.NewReader(ctx, partKey, nil)
	if err != nil {
		return fmt.Errorf("read part: %w", err)
	}
	defer r.Close()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := u.s.bucket.NewWriter(wctx, key, writerOptions(true))
	if err != nil {
		return fmt.Errorf("create blob: %w", err)
	}
	if _, err := io.Copy(w, r); err != nil {
		cancel()
		_ = w.Close()
		return fmt.Errorf("copy part: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("store blob: %w", err)
	}
	return nil
}

// partsReader returns a reader of the concatenated plaintext of the
// parts. It opens one part at a time, so memory stays flat whatever their
// number; Close closes the part being read.
func (u *Upload) partsReader(ctx context.Context) *partsReader {
	return &partsReader{ctx: ctx, u: u}
}

type partsReader struct {
	ctx  context.Context
	u    *Upload
	next int
	cur  io.Reader
	obj  io.Closer
}

func (p *partsReader) Read(b []byte) (int, error) {
	for {
		if p.cur == nil {
			if p.next == len(p.u.parts) {
				return 0, io.EOF
			}
			if err := p.open(p.u.parts[p.next]); err != nil {
				return 0, err
			}
			p.next++
		}
		n, err := p.cur.Read(b)
		if err == io.EOF {
			p.Close()
			if n == 0 {
				continue
			}
			err = nil
		}
		return n, err
	}
}

func (p *partsReader) open(pt part) error {
	or, err := p.u.s.bucket.NewReader(p.ctx, pt.key, nil)
	if err != nil {
		return fmt.Errorf("read part: %w", err)
	}
	sl, err := p.u.s.sealer(p.ctx, p.u.project)
	if err != nil {
		_ = or.Close()
		return err
	}
	r, err := sl.Decrypt(p.ctx, or, pt.wrapped, aad(p.u.project, pt.context))
	if err != nil {
		_ = or.Close()
		return fmt.Errorf("read part: %w", err)
	}
	p.cur, p.obj = r, or
	return nil
}

// Close closes the part being read, if any.
func (p *partsReader) Close() {
	if p.obj != nil {
		_ = p.obj.Close()
	}
	p.cur, p.obj = nil, nil
}

// readParts hashes the plaintext of the parts into h.
func (u *Upload) readParts(ctx context.Context, h hash.Hash) error {
	r := u.partsReader(ctx)
	defer r.Close()
	if _, err := io.Copy(h, r); err != nil {
		return fmt.Errorf("read parts: %w", err)
	}
	return nil
}

// reencrypt decrypts the parts and encrypts their concatenation under a
// fresh data key into key, unless key exists. The plaintext is hashed again
// on the way and the object discarded unless it has digest d.
func (u *Upload) reencrypt(ctx context.Context, key string, d parsedDigest, actx string) ([]byte, error) {
	r := u.partsReader(ctx)
	defer r.Close()
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := u.s.bucket.NewWriter(wctx, key, writerOptions(true))
	if err != nil {
		return nil, fmt.Errorf("create blob: %w", err)
	}
	h := d.newHash()
	sl, err := u.s.sealer(ctx, u.project)
	if err != nil {
		cancel()
		_ = w.Close()
		return nil, err
	}
	wrapped, err := sl.Encrypt(ctx, pieces{w}, io.TeeReader(r, h), aad(u.project, actx))
	if err == nil && !d.matches(h) {
		err = fmt.Errorf("re-encrypt parts: %w: parts changed since they were written", ErrDigestMismatch)
	}
	if err != nil {
		cancel()
		_ = w.Close()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("store blob: %w", err)
	}
	return wrapped, nil
}

// commitDirect encrypts r straight into the blob's final place.
func (u *Upload) commitDirect(ctx context.Context, r io.Reader, digest string, size int64) (Blob, error) {
	key, d, err := u.s.blobKey(u.project, digest)
	if err != nil {
		return Blob{}, err
	}
	if size > u.s.maxSize {
		return Blob{}, u.fail(ctx, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, u.s.maxSize))
	}
	h := d.newHash()
	lr := &limitReader{r: r, limit: u.s.maxSize, h: h}
	check := func() error {
		if size >= 0 && lr.n != size {
			return fmt.Errorf("%w: received %d bytes, expected %d", ErrSizeMismatch, lr.n, size)
		}
		if !d.matches(h) {
			return fmt.Errorf("%w: expected %s", ErrDigestMismatch, d)
		}
		return nil
	}
	ok, err := u.s.bucket.Exists(ctx, key)
	if err != nil {
		return Blob{}, fmt.Errorf("check for existing blob: %w", err)
	}
	if ok {
		// Verify what the client sent even though it is not stored.
		if _, err := io.Copy(io.Discard, lr); err != nil {
			return Blob{}, fmt.Errorf("read blob: %w", err)
		}
		if err := check(); err != nil {
			return Blob{}, u.fail(ctx, err)
		}
		return u.existing(ctx, d, lr.n)
	}
	b := Blob{Project: u.project, Digest: d.String(), AADContext: u.id + "/0"}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := u.s.bucket.NewWriter(wctx, key, writerOptions(true))
	if err != nil {
		return Blob{}, fmt.Errorf("create blob: %w", err)
	}
	sl, err := u.s.sealer(ctx, u.project)
	if err == nil {
		b.WrappedKey, err = sl.Encrypt(ctx, pieces{w}, lr, aad(u.project, b.AADContext))
	}
	mismatch := false
	if err == nil {
		if err = check(); err != nil {
			mismatch = true
		}
	}
	if err != nil {
		cancel() // nothing becomes visible
		_ = w.Close()
		if mismatch || errors.Is(err, ErrTooLarge) {
			return Blob{}, u.fail(ctx, err)
		}
		return Blob{}, err
	}
	if err := w.Close(); err != nil {
		if u.lostRace(ctx, key, err) {
			return u.existing(ctx, d, lr.n) // committed concurrently
		}
		return Blob{}, fmt.Errorf("store blob: %w", err)
	}
	b.Size = lr.n
	_ = u.finish(context.WithoutCancel(ctx)) // logged by finish
	return b, nil
}

// lostRace reports whether a failed conditional write of a blob's final
// object lost to a concurrent commit of the same blob: the bucket refused
// it (FailedPrecondition), or it failed otherwise and the object exists
// now. Some S3-compatible servers (versitygw) check If-None-Match before
// reading the request body and close the connection, which the client
// sees as a reset rather than as HTTP 412.
func (u *Upload) lostRace(ctx context.Context, key string, err error) bool {
	if gcerrors.Code(err) == gcerrors.FailedPrecondition {
		return true
	}
	ok, eerr := u.s.bucket.Exists(context.WithoutCancel(ctx), key)
	return eerr == nil && ok
}

// writerOptions returns the options of every object write; final objects
// are written only if absent, so that a committed ciphertext (whose
// wrapped key the metadata store holds) is never replaced.
func writerOptions(final bool) *gcblob.WriterOptions {
	return &gcblob.WriterOptions{
		ContentType:                 "application/octet-stream",
		DisableContentTypeDetection: true,
		IfNotExist:                  final,
	}
}

// limitReader counts and hashes what it reads and fails with ErrTooLarge
// once more than limit bytes have been read.
type limitReader struct {
	r     io.Reader
	limit int64
	n     int64
	h     hash.Hash
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n > l.limit {
		return 0, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, l.limit)
	}
	if rem := l.limit - l.n + 1; rem > 0 && int64(len(p)) > rem {
		p = p[:rem]
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.limit {
		return 0, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, l.limit)
	}
	l.h.Write(p[:n])
	return n, err
}

// PurgeUploads deletes the parts of uploads this Store does not know (left
// by a crash or a restart) and returns how many objects it deleted.
func (s *Store) PurgeUploads(ctx context.Context) (int, error) {
	return s.purgeParts(ctx, func(time.Time) bool { return true })
}

// partLive reports whether key ("uploads/<project>/<id>/<n>") belongs to
// an upload in progress.
func (s *Store) partLive(key string) bool {
	f := strings.SplitN(strings.TrimPrefix(key, "uploads/"), "/", 3)
	if len(f) != 3 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.uploads[f[0]+"/"+f[1]]
	return ok
}

// pieceSize bounds each write to storage.
const pieceSize = 256 << 10

// pieces passes writes on in pieces of at most pieceSize bytes: the
// sealer writes whole 1 MiB segments, which cost this kind of machine up
// to twice the kernel time of smaller writes (bench/registry-throughput.sh).
type pieces struct{ w io.Writer }

func (p pieces) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		k := min(len(b), pieceSize)
		m, err := p.w.Write(b[:k])
		n += m
		if err != nil {
			return n, err
		}
		b = b[k:]
	}
	return n, nil
}
