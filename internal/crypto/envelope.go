package crypto

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	gcmhkdfpb "github.com/tink-crypto/tink-go/v2/proto/aes_gcm_hkdf_streaming_go_proto"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"gocloud.dev/gcerrors"
	"gocloud.dev/secrets"
	"google.golang.org/protobuf/proto"
)

var (
	// ErrDecrypt reports that a blob or wrapped key could not be decrypted:
	// the ciphertext was modified, truncated or extended, the KEK is not the
	// one that wrapped the data key, or the associated data differs. The
	// cause is deliberately not distinguished further.
	ErrDecrypt = errors.New("decryption failed")

	// ErrFormat reports a malformed wrapped key or an unknown format version.
	ErrFormat = errors.New("malformed or unsupported encryption envelope")

	// ErrUnavailable reports a KEK URL scheme whose driver is not compiled
	// into this binary.
	ErrUnavailable = errors.New("key-encryption key scheme not available in this build")
)

const (
	// streamingKeyTypeURL is the only data key type format version 1 allows.
	streamingKeyTypeURL = "type.googleapis.com/google.crypto.tink.AesGcmHkdfStreamingKey"
	// aadPrefix separates blob AAD from any other use and binds the version.
	aadPrefix = "palisade/blob/v1\x00"
	// copyBufferSize is the read size used when encrypting.
	copyBufferSize = 256 << 10
)

// dataKeyTemplate is the Tink template of every data key.
var dataKeyTemplate = streamingaead.AES256GCMHKDF1MBKeyTemplate()

// wantParams holds the template's parameters that an unwrapped data key
// must match exactly, and wantKeySize its key size.
var wantParams, wantKeySize = func() (*gcmhkdfpb.AesGcmHkdfStreamingParams, int) {
	var f gcmhkdfpb.AesGcmHkdfStreamingKeyFormat
	if err := proto.Unmarshal(dataKeyTemplate.GetValue(), &f); err != nil {
		panic("crypto: parse Tink AES256_GCM_HKDF_1MB template: " + err.Error())
	}
	return f.GetParams(), int(f.GetKeySize())
}()

// Options configures an Envelope.
type Options struct {
	// KeyID is a non-secret name for the KEK, recorded in every wrapped key
	// as a hint for key rotation (see WrappedKeyID). At most 64 bytes from
	// [A-Za-z0-9._:/@+=-]; empty records no hint.
	KeyID string
}

// Envelope encrypts and decrypts blobs with fresh per-blob data keys wrapped
// by one KEK. It is safe for concurrent use.
type Envelope struct {
	kek   *secrets.Keeper
	keyID string
}

// NewEnvelope returns an Envelope whose data keys are wrapped by kek. The
// caller keeps ownership of kek and closes it after the Envelope's last use.
func NewEnvelope(kek *secrets.Keeper, opts Options) (*Envelope, error) {
	if kek == nil {
		return nil, errors.New("new envelope: nil key-encryption key")
	}
	if !validKeyID(opts.KeyID) {
		return nil, fmt.Errorf("new envelope: key ID must be at most %d bytes from [A-Za-z0-9._:/@+=-]", maxKeyIDLen)
	}
	return &Envelope{kek: kek, keyID: opts.KeyID}, nil
}

// KeyID returns the KEK identity hint this Envelope records.
func (e *Envelope) KeyID() string { return e.keyID }

// BlobAAD returns the associated data that binds a blob's ciphertext to its
// identity: the project it belongs to and the digest of its plaintext
// (for example "sha256:<hex>"). The encoding is unambiguous.
func BlobAAD(project, digest string) []byte {
	b := make([]byte, 0, 2*(len("project")+5)+len(project)+len(digest))
	b = appendField(b, "project", project)
	return appendField(b, "digest", digest)
}

func appendField(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(len(value)))
	return append(b, value...)
}

// streamAAD returns the associated data handed to Tink.
func streamAAD(aad []byte) []byte {
	b := make([]byte, 0, len(aadPrefix)+len(aad))
	b = append(b, aadPrefix...)
	return append(b, aad...)
}

// Encrypt reads src to its end, writes its encryption under a fresh data key
// to dst, and returns the data key wrapped by the Envelope's KEK. aad must
// identify the blob (see BlobAAD) and be given again to Decrypt. Nothing
// written to dst is usable unless Encrypt returns a nil error.
func (e *Envelope) Encrypt(ctx context.Context, dst io.Writer, src io.Reader, aad []byte) ([]byte, error) {
	h, err := keyset.NewHandle(dataKeyTemplate)
	if err != nil {
		return nil, fmt.Errorf("encrypt: generate data key: %w", err)
	}
	wrapped, err := e.wrap(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("encrypt: %w", err)
	}
	p, err := streamingaead.New(h)
	if err != nil {
		return nil, fmt.Errorf("encrypt: data key primitive: %w", err)
	}
	dw := &errWriter{w: dst}
	w, err := p.NewEncryptingWriter(dw, streamAAD(aad))
	if err != nil {
		return nil, fmt.Errorf("encrypt: write header: %w", dw.cause(err))
	}
	buf := make([]byte, copyBufferSize)
	if _, err := io.CopyBuffer(onlyWriter{w}, &ctxReader{ctx: ctx, r: src}, buf); err != nil {
		var re *readError
		if errors.As(err, &re) {
			return nil, fmt.Errorf("encrypt: read plaintext: %w", re.err)
		}
		return nil, fmt.Errorf("encrypt: %w", dw.cause(err))
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt: finish: %w", dw.cause(err))
	}
	return wrapped, nil
}

// wrap serializes h and encrypts it with the KEK.
func (e *Envelope) wrap(ctx context.Context, h *keyset.Handle) ([]byte, error) {
	ks, err := proto.Marshal(insecurecleartextkeyset.KeysetMaterial(h))
	if err != nil {
		return nil, fmt.Errorf("serialize data key: %w", err)
	}
	defer clear(ks)
	ct, err := e.kek.Encrypt(ctx, ks)
	if err != nil {
		return nil, fmt.Errorf("wrap data key: %w", err)
	}
	if len(ct) == 0 || len(ct) > maxWrappedKeyset {
		return nil, fmt.Errorf("wrap data key: KEK ciphertext is %d bytes, want 1..%d", len(ct), maxWrappedKeyset)
	}
	return wrappedKey{version: formatVersion1, keyID: e.keyID, keyset: ct}.encode(), nil
}

// unwrap decodes wrapped and decrypts its data key with the KEK.
func (e *Envelope) unwrap(ctx context.Context, wrapped []byte) (*keyset.Handle, error) {
	w, err := decodeWrappedKey(wrapped)
	if err != nil {
		return nil, err
	}
	ks, err := e.kek.Decrypt(ctx, w.keyset)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("unwrap data key: %w", cerr)
		}
		switch gcerrors.Code(err) {
		case gcerrors.Canceled, gcerrors.DeadlineExceeded, gcerrors.ResourceExhausted, gcerrors.Internal:
			// The KEK service failed; the data may be fine.
			return nil, fmt.Errorf("unwrap data key: key-encryption key unavailable: %w", err)
		}
		return nil, fmt.Errorf("unwrap data key: %w", ErrDecrypt)
	}
	defer clear(ks)
	h, err := parseDataKey(ks)
	if err != nil {
		return nil, fmt.Errorf("unwrap data key: %w", err)
	}
	return h, nil
}

// parseDataKey parses a serialized data keyset and checks that it is exactly
// what Encrypt generates.
func parseDataKey(b []byte) (*keyset.Handle, error) {
	var ks tinkpb.Keyset
	if err := proto.Unmarshal(b, &ks); err != nil {
		return nil, ErrDecrypt
	}
	if len(ks.GetKey()) != 1 {
		return nil, ErrDecrypt
	}
	k := ks.GetKey()[0]
	kd := k.GetKeyData()
	if k.GetStatus() != tinkpb.KeyStatusType_ENABLED || k.GetKeyId() != ks.GetPrimaryKeyId() ||
		k.GetOutputPrefixType() != tinkpb.OutputPrefixType_RAW ||
		kd.GetTypeUrl() != streamingKeyTypeURL || kd.GetKeyMaterialType() != tinkpb.KeyData_SYMMETRIC {
		return nil, ErrDecrypt
	}
	var key gcmhkdfpb.AesGcmHkdfStreamingKey
	if err := proto.Unmarshal(kd.GetValue(), &key); err != nil {
		return nil, ErrDecrypt
	}
	defer clear(key.KeyValue)
	if key.GetVersion() != 0 || len(key.GetKeyValue()) != wantKeySize || !proto.Equal(key.GetParams(), wantParams) {
		return nil, ErrDecrypt
	}
	h, err := insecurecleartextkeyset.Read(keyset.NewBinaryReader(bytes.NewReader(b)))
	if err != nil {
		return nil, ErrDecrypt
	}
	return h, nil
}

// Decrypt returns a reader of the plaintext of the blob ciphertext read from
// src, whose data key is wrappedKey and whose associated data is aad. A
// malformed wrappedKey fails at once with ErrFormat, a wrong KEK with
// ErrDecrypt. Tampering, truncation or wrong aad make the returned reader's
// Read fail with ErrDecrypt; read it to io.EOF before trusting the blob.
// Errors reading src and ctx's error are returned as such. The reader checks
// ctx between reads.
func (e *Envelope) Decrypt(ctx context.Context, src io.Reader, wrappedKey, aad []byte) (io.Reader, error) {
	h, err := e.unwrap(ctx, wrappedKey)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	p, err := streamingaead.New(h)
	if err != nil {
		return nil, fmt.Errorf("decrypt: data key primitive: %w", ErrDecrypt)
	}
	sr := &srcReader{ctx: ctx, r: src}
	r, err := p.NewDecryptingReader(sr, streamAAD(aad))
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", sr.cause())
	}
	return &plainReader{ctx: ctx, r: r, src: sr}, nil
}

// Rewrap decrypts wrappedKey's data key with from's KEK and wraps it with
// to's KEK and key ID, for key rotation; the blob ciphertext is unchanged
// and decrypts with the result and to. It fails with ErrFormat for a
// malformed wrappedKey and ErrDecrypt when from's KEK cannot unwrap it.
func Rewrap(ctx context.Context, wrappedKey []byte, from, to *Envelope) ([]byte, error) {
	h, err := from.unwrap(ctx, wrappedKey)
	if err != nil {
		return nil, fmt.Errorf("rewrap: %w", err)
	}
	out, err := to.wrap(ctx, h)
	if err != nil {
		return nil, fmt.Errorf("rewrap: %w", err)
	}
	return out, nil
}

// ctxReader returns ctx's error once it is done, and marks src's errors so
// that Encrypt can tell them from dst's.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, &readError{err}
	}
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		return n, &readError{err}
	}
	return n, err
}

// onlyWriter hides any ReadFrom method so io.CopyBuffer uses its buffer.
type onlyWriter struct{ io.Writer }

// errWriter records dst's first error, so that it can be reported instead
// of Tink's wrapping of it.
type errWriter struct {
	w   io.Writer
	err error
}

func (w *errWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

func (w *errWriter) cause(err error) error {
	if w.err != nil {
		return fmt.Errorf("write ciphertext: %w", w.err)
	}
	return err
}

// srcReader reads the ciphertext, recording errors that are not the
// ciphertext's fault (I/O errors, cancellation) so that they are not
// reported as ErrDecrypt.
type srcReader struct {
	ctx context.Context
	r   io.Reader
	err error
}

func (s *srcReader) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if err := s.ctx.Err(); err != nil {
		s.err = err
		return 0, err
	}
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = fmt.Errorf("read ciphertext: %w", err)
	}
	return n, err
}

// cause maps a failure of Tink's reader to the error callers see.
func (s *srcReader) cause() error {
	if s.err != nil {
		return s.err
	}
	return ErrDecrypt
}

// plainReader maps Tink's errors to ErrDecrypt and makes them sticky.
type plainReader struct {
	ctx context.Context
	r   io.Reader
	src *srcReader
	err error
}

func (r *plainReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := r.r.Read(p)
	switch {
	case err == nil:
	case err == io.EOF:
		r.err = io.EOF
	default:
		r.err = fmt.Errorf("decrypt: %w", r.src.cause())
		err = r.err
	}
	return n, err
}
