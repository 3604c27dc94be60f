package blob

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"strings"
	"sync"

	gcblob "gocloud.dev/blob"
	_ "gocloud.dev/blob/fileblob" // file:// buckets, the default
	_ "gocloud.dev/blob/memblob"  // mem:// buckets, for tests
	"gocloud.dev/gcerrors"
)

// Sentinel errors. Methods wrap them with what they were doing; callers
// test them with errors.Is.
var (
	// ErrNotFound means the project has no blob with this digest.
	ErrNotFound = errors.New("blob not found")
	// ErrDigestMismatch means the data's digest is not the one expected.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrSizeMismatch means the data's size is not the one expected.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrTooLarge means a blob would exceed the store's maximum size.
	ErrTooLarge = errors.New("blob too large")
	// ErrUploadUnknown means the upload does not exist (never begun,
	// already committed or aborted, or lost in a restart).
	ErrUploadUnknown = errors.New("upload unknown")
	// ErrRange means a chunk does not start where the upload ends.
	ErrRange = errors.New("chunk out of order")
	// ErrInvalidDigest means a digest string is malformed or of an
	// unsupported algorithm.
	ErrInvalidDigest = errors.New("invalid digest")
	// ErrInvalid means another argument (a project name) is malformed.
	ErrInvalid = errors.New("invalid argument")
)

// DefaultMaxSize is the largest blob accepted when Options.MaxSize is 0.
const DefaultMaxSize = 64 << 30

// Sealer encrypts and decrypts one blob under a fresh data key; it is
// satisfied by *crypto.Envelope (see its documentation for the error
// contract: decryption failures wrap crypto.ErrDecrypt).
type Sealer interface {
	Encrypt(ctx context.Context, dst io.Writer, src io.Reader, aad []byte) ([]byte, error)
	Decrypt(ctx context.Context, src io.Reader, wrappedKey, aad []byte) (io.Reader, error)
}

// Options configures a Store.
type Options struct {
	// Sealer encrypts every object written and decrypts every object read.
	// Either it or SealerFor is required.
	Sealer Sealer
	// SealerFor returns the sealer of a project's objects (each project
	// has its own key-encryption key); it takes precedence over Sealer.
	SealerFor func(ctx context.Context, project string) (Sealer, error)
	// MaxSize is the largest blob accepted, in plaintext bytes; 0 means
	// DefaultMaxSize.
	MaxSize int64
	// Rand is the source of upload IDs; nil means crypto/rand.
	Rand io.Reader
	// Logger receives debug and warning lines; nil discards them.
	Logger *slog.Logger
}

// Blob describes a committed blob: what the metadata store keeps.
type Blob struct {
	Project string
	Digest  string // "sha256:<hex>" (or "sha512:<hex>") of the plaintext
	Size    int64  // plaintext size in bytes
	// WrappedKey is the data key of the stored ciphertext, wrapped by the
	// key-encryption key; AADContext is the context its associated data
	// was bound to. Both must be given back to Store.Open.
	WrappedKey []byte
	AADContext string
	// Existing reports that the project already had this blob: the upload
	// was discarded, and WrappedKey and AADContext are empty (use the
	// metadata store's record).
	Existing bool
}

// Info is what Stat reports about a stored blob.
type Info struct {
	Digest     string
	Size       int64 // plaintext size in bytes
	StoredSize int64 // ciphertext size in bytes
}

// Store is a content-addressed, encrypted blob store. It is safe for
// concurrent use.
type Store struct {
	bucket  *gcblob.Bucket
	owned   bool
	sealer  func(ctx context.Context, project string) (Sealer, error)
	maxSize int64
	rand    io.Reader
	log     *slog.Logger

	mu      sync.Mutex
	uploads map[string]*Upload // by uploadKey(project, id)
}

// New returns a Store over bucket. The caller keeps ownership of bucket
// and closes it after the Store's Close.
func New(bucket *gcblob.Bucket, opts Options) (*Store, error) {
	if bucket == nil {
		return nil, errors.New("new blob store: nil bucket")
	}
	sealer := opts.SealerFor
	if sealer == nil {
		if opts.Sealer == nil {
			return nil, errors.New("new blob store: nil sealer")
		}
		one := opts.Sealer
		sealer = func(context.Context, string) (Sealer, error) { return one, nil }
	}
	if opts.MaxSize < 0 {
		return nil, fmt.Errorf("new blob store: negative maximum size %d", opts.MaxSize)
	}
	s := &Store{
		bucket:  bucket,
		sealer:  sealer,
		maxSize: opts.MaxSize,
		rand:    opts.Rand,
		log:     opts.Logger,
		uploads: make(map[string]*Upload),
	}
	if s.maxSize == 0 {
		s.maxSize = DefaultMaxSize
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// OpenURL opens the bucket at url (file:///abs/dir, mem://, or s3://
// when package blob/s3 is linked; see gocloud.dev/blob's drivers for query
// parameters) and returns a Store that owns it: Close closes the bucket.
// Errors never repeat the URL's query, where a credential put there by
// mistake would be.
func OpenURL(ctx context.Context, url string, opts Options) (*Store, error) {
	b, err := gcblob.OpenBucket(ctx, url)
	if err != nil {
		// gocloud's errors quote the whole URL.
		return nil, errors.New("open blob bucket " + hideQuery(url) + ": " + strings.ReplaceAll(err.Error(), url, hideQuery(url)))
	}
	s, err := New(b, opts)
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// hideQuery returns url without the values of its query.
func hideQuery(url string) string {
	base, query, ok := strings.Cut(url, "?")
	if !ok {
		return url
	}
	var keys []string
	for _, kv := range strings.Split(query, "&") {
		k, _, _ := strings.Cut(kv, "=")
		keys = append(keys, k+"=...")
	}
	return base + "?" + strings.Join(keys, "&")
}

// Bucket returns the underlying bucket, for maintenance tools (fsck, gc)
// and tests. Writing to it bypasses every invariant of the Store.
func (s *Store) Bucket() *gcblob.Bucket { return s.bucket }

// Close aborts every upload in progress (removing its parts) and, when the
// Store was opened by OpenURL, closes the bucket.
func (s *Store) Close(ctx context.Context) error {
	s.mu.Lock()
	ups := make([]*Upload, 0, len(s.uploads))
	for _, u := range s.uploads {
		ups = append(ups, u)
	}
	s.mu.Unlock()
	var errs []error
	for _, u := range ups {
		if err := u.Abort(ctx); err != nil && !errors.Is(err, ErrUploadUnknown) {
			errs = append(errs, err)
		}
	}
	if s.owned {
		if err := s.bucket.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close blob bucket: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Exists reports whether the project has a blob with this digest.
func (s *Store) Exists(ctx context.Context, project, digest string) (bool, error) {
	key, _, err := s.blobKey(project, digest)
	if err != nil {
		return false, fmt.Errorf("blob exists: %w", err)
	}
	ok, err := s.bucket.Exists(ctx, key)
	if err != nil {
		return false, fmt.Errorf("blob exists %s: %w", digest, err)
	}
	return ok, nil
}

// Stat returns the blob's sizes, or ErrNotFound.
func (s *Store) Stat(ctx context.Context, project, digest string) (Info, error) {
	key, _, err := s.blobKey(project, digest)
	if err != nil {
		return Info{}, fmt.Errorf("stat blob: %w", err)
	}
	a, err := s.bucket.Attributes(ctx, key)
	if err != nil {
		return Info{}, fmt.Errorf("stat blob %s: %w", digest, notFound(err))
	}
	n, err := PlaintextSize(a.Size)
	if err != nil {
		return Info{}, fmt.Errorf("stat blob %s: %w", digest, err)
	}
	return Info{Digest: digest, Size: n, StoredSize: a.Size}, nil
}

// Delete removes the blob, or returns ErrNotFound. The caller removes its
// metadata record.
func (s *Store) Delete(ctx context.Context, project, digest string) error {
	key, _, err := s.blobKey(project, digest)
	if err != nil {
		return fmt.Errorf("delete blob: %w", err)
	}
	if err := s.bucket.Delete(ctx, key); err != nil {
		return fmt.Errorf("delete blob %s: %w", digest, notFound(err))
	}
	return nil
}

// Key returns the object key of the project's blob with this digest, for
// maintenance tools and tests.
func (s *Store) Key(project, digest string) (string, error) {
	key, _, err := s.blobKey(project, digest)
	return key, err
}

func (s *Store) blobKey(project, digest string) (string, parsedDigest, error) {
	if err := checkProject(project); err != nil {
		return "", parsedDigest{}, err
	}
	d, err := parseDigest(digest)
	if err != nil {
		return "", parsedDigest{}, err
	}
	return "blobs/" + project + "/" + d.algo + "/" + d.hex, d, nil
}

// notFound maps a bucket's not-found error to ErrNotFound.
func notFound(err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return ErrNotFound
	}
	return err
}

// checkProject accepts names that are safe as one path segment of an
// object key: 1..128 bytes of [A-Za-z0-9._-], not starting with a dot.
func checkProject(p string) error {
	if p == "" || len(p) > 128 || p[0] == '.' {
		return fmt.Errorf("%w: project name %q", ErrInvalid, p)
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: project name %q", ErrInvalid, p)
		}
	}
	return nil
}

// parsedDigest is a validated digest string.
type parsedDigest struct {
	algo string // "sha256" or "sha512"
	hex  string // lower-case hex
}

func (d parsedDigest) String() string { return d.algo + ":" + d.hex }

func (d parsedDigest) newHash() hash.Hash {
	if d.algo == "sha512" {
		return sha512.New()
	}
	return sha256.New()
}

// matches reports whether h's sum is d.
func (d parsedDigest) matches(h hash.Hash) bool {
	return hex.EncodeToString(h.Sum(nil)) == d.hex
}

// parseDigest accepts "sha256:<64 hex>" and "sha512:<128 hex>", with
// lower-case hex digits as the OCI image spec requires.
func parseDigest(s string) (parsedDigest, error) {
	algo, h, ok := strings.Cut(s, ":")
	var n int
	switch algo {
	case "sha256":
		n = 2 * sha256.Size
	case "sha512":
		n = 2 * sha512.Size
	}
	if !ok || n == 0 || len(h) != n {
		return parsedDigest{}, fmt.Errorf("%w: %q", ErrInvalidDigest, truncate(s))
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return parsedDigest{}, fmt.Errorf("%w: %q", ErrInvalidDigest, truncate(s))
		}
	}
	return parsedDigest{algo: algo, hex: h}, nil
}

// ValidDigest reports whether s is a digest this package accepts.
func ValidDigest(s string) bool {
	_, err := parseDigest(s)
	return err == nil
}

// truncate bounds untrusted strings quoted in errors.
func truncate(s string) string {
	if len(s) > 140 {
		return s[:140] + "..."
	}
	return s
}

// aad returns the associated data of an object: its project and context,
// length-prefixed like crypto.BlobAAD (whose field names differ, so the two
// encodings never collide).
func aad(project, context string) []byte {
	b := make([]byte, 0, len("project")+len("context")+10+len(project)+len(context))
	b = appendField(b, "project", project)
	return appendField(b, "context", context)
}

func appendField(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(value)))
	return append(b, value...)
}

// Ciphertext geometry of format version 1 (docs/format/blob-encryption.md).
const (
	ctHeader    = 40
	ctTag       = 16
	ctSegment   = 1 << 20
	firstPlain  = ctSegment - ctHeader - ctTag // 1048520
	laterPlain  = ctSegment - ctTag            // 1048560
	minCTLength = ctHeader + ctTag
)

// PlaintextSize returns the plaintext size of a format version 1 blob
// ciphertext of n bytes, or an error wrapping ErrInvalid when no plaintext
// has that ciphertext size.
func PlaintextSize(n int64) (int64, error) {
	bad := fmt.Errorf("%w: %d bytes is not a blob ciphertext size", ErrInvalid, n)
	if n < minCTLength {
		return 0, bad
	}
	if n <= ctSegment {
		return n - minCTLength, nil
	}
	rest := n - ctSegment
	full, last := rest/ctSegment, rest%ctSegment
	switch {
	case last == 0:
		return firstPlain + full*laterPlain, nil
	case last <= ctTag:
		return 0, bad
	default:
		return firstPlain + full*laterPlain + last - ctTag, nil
	}
}
