package crypto_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gocloud.dev/secrets"
	"gocloud.dev/secrets/localsecrets"
	"golang.org/x/sync/errgroup"

	"github.com/palisade-sec/palisade/internal/crypto"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// Segment geometry of AES256_GCM_HKDF_1MB (docs/format/blob-encryption.md).
const (
	headerSize   = 40
	tagSize      = 16
	firstSegment = 1<<20 - tagSize - headerSize // plaintext bytes in segment 0
	segment      = 1<<20 - tagSize              // plaintext bytes in later segments
)

func newKeeper(t testing.TB) *secrets.Keeper {
	t.Helper()
	key, err := localsecrets.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	k := localsecrets.NewKeeper(key)
	t.Cleanup(func() { _ = k.Close() })
	return k
}

func newEnvelope(t testing.TB, id string) *crypto.Envelope {
	t.Helper()
	e, err := crypto.NewEnvelope(newKeeper(t), crypto.Options{KeyID: id})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// plaintext returns n deterministic pseudo-random bytes.
func plaintext(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	_, _ = r.Read(b)
	return b
}

func encrypt(t testing.TB, e *crypto.Envelope, pt, aad []byte) (ct, wrapped []byte) {
	t.Helper()
	var buf bytes.Buffer
	wrapped, err := e.Encrypt(t.Context(), &buf, bytes.NewReader(pt), aad)
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	return buf.Bytes(), wrapped
}

func decrypt(ctx context.Context, e *crypto.Envelope, ct, wrapped, aad []byte) ([]byte, error) {
	r, err := e.Decrypt(ctx, bytes.NewReader(ct), wrapped, aad)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// ciphertextSize is the documented ciphertext size for n plaintext bytes.
func ciphertextSize(n int) int {
	segs := 1
	if n > firstSegment {
		segs += (n - firstSegment + segment - 1) / segment
	}
	return headerSize + n + tagSize*segs
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnvelope(t, "local-1")
	aad := crypto.BlobAAD("demo", "sha256:00")
	for _, n := range []int{0, 1, firstSegment, firstSegment + 1, firstSegment + segment, 10<<20 + 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			pt := plaintext(n, uint64(n))
			ct, wrapped := encrypt(t, e, pt, aad)
			if got, want := len(ct), ciphertextSize(n); got != want {
				t.Errorf("ciphertext size = %d, want %d", got, want)
			}
			if id, err := crypto.WrappedKeyID(wrapped); err != nil || id != "local-1" {
				t.Errorf("WrappedKeyID = %q, %v, want local-1", id, err)
			}
			got, err := decrypt(t.Context(), e, ct, wrapped, aad)
			if err != nil {
				t.Fatalf("decrypt: %v", err)
			}
			if !bytes.Equal(got, pt) {
				t.Errorf("decrypted %d bytes differ from the %d plaintext bytes", len(got), len(pt))
			}
		})
	}
}

func TestFreshDataKeys(t *testing.T) {
	t.Parallel()
	e := newEnvelope(t, "")
	pt := []byte("same plaintext")
	ct1, w1 := encrypt(t, e, pt, nil)
	ct2, w2 := encrypt(t, e, pt, nil)
	if bytes.Equal(ct1, ct2) || bytes.Equal(w1, w2) {
		t.Error("two encryptions of the same plaintext are equal")
	}
	// Another blob's data key does not open this blob.
	if _, err := decrypt(t.Context(), e, ct1, w2, nil); !errors.Is(err, crypto.ErrDecrypt) {
		t.Errorf("decrypt with another blob's key: error = %v, want ErrDecrypt", err)
	}
}

func TestTamper(t *testing.T) {
	t.Parallel()
	e := newEnvelope(t, "k")
	aad := crypto.BlobAAD("demo", "sha256:11")
	pt := plaintext(firstSegment+1000, 7)
	ct, wrapped := encrypt(t, e, pt, aad)
	flip := func(i int) []byte {
		b := bytes.Clone(ct)
		b[i] ^= 0x01
		return b
	}
	other, _ := encrypt(t, e, plaintext(2000, 8), aad)
	tests := []struct {
		name string
		ct   []byte
	}{
		{"flip header length", flip(0)},
		{"flip salt", flip(5)},
		{"flip nonce prefix", flip(headerSize - 1)},
		{"flip first segment", flip(headerSize + 10)},
		{"flip first tag", flip(1<<20 - 1)},
		{"flip last segment", flip(1<<20 + 3)},
		{"flip last byte", flip(len(ct) - 1)},
		{"truncate one byte", ct[:len(ct)-1]},
		{"truncate last segment", ct[:1<<20]},
		{"truncate to header", ct[:headerSize]},
		{"truncate inside header", ct[:10]},
		{"empty", nil},
		{"append one byte", append(bytes.Clone(ct), 0)},
		{"append a segment", append(bytes.Clone(ct), other[headerSize:]...)},
		{"other blob", other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := e.Decrypt(t.Context(), bytes.NewReader(tt.ct), wrapped, aad)
			if err != nil {
				t.Fatalf("Decrypt: %v (the key is intact; errors come from Read)", err)
			}
			_, err = io.ReadAll(r)
			if !errors.Is(err, crypto.ErrDecrypt) {
				t.Fatalf("read error = %v, want ErrDecrypt", err)
			}
			// Errors are sticky.
			if _, err2 := r.Read(make([]byte, 10)); !errors.Is(err2, crypto.ErrDecrypt) {
				t.Errorf("second read error = %v, want ErrDecrypt", err2)
			}
		})
	}
}

func TestDecryptWrongKeyOrAAD(t *testing.T) {
	t.Parallel()
	e := newEnvelope(t, "a")
	aad := crypto.BlobAAD("demo", "sha256:22")
	pt := plaintext(3000, 9)
	ct, wrapped := encrypt(t, e, pt, aad)
	flippedKey := bytes.Clone(wrapped)
	flippedKey[len(flippedKey)-1] ^= 1
	tests := []struct {
		name    string
		env     *crypto.Envelope
		wrapped []byte
		aad     []byte
		want    error
	}{
		{"wrong KEK", newEnvelope(t, "a"), wrapped, aad, crypto.ErrDecrypt},
		{"wrong digest", e, wrapped, crypto.BlobAAD("demo", "sha256:23"), crypto.ErrDecrypt},
		{"wrong project", e, wrapped, crypto.BlobAAD("other", "sha256:22"), crypto.ErrDecrypt},
		{"nil AAD", e, wrapped, nil, crypto.ErrDecrypt},
		{"wrapped key tampered", e, flippedKey, aad, crypto.ErrDecrypt},
		{"wrapped key truncated", e, wrapped[:len(wrapped)-1], aad, crypto.ErrFormat},
		{"wrapped key empty", e, nil, aad, crypto.ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := decrypt(t.Context(), tt.env, ct, tt.wrapped, tt.aad)
			if !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRewrap(t *testing.T) {
	t.Parallel()
	oldKEK := newKeeper(t)
	oldEnv, err := crypto.NewEnvelope(oldKEK, crypto.Options{KeyID: "local-2025"})
	if err != nil {
		t.Fatal(err)
	}
	newEnv := newEnvelope(t, "local-2026")
	aad := crypto.BlobAAD("demo", "sha256:33")
	pt := plaintext(firstSegment+5, 10)
	ct, wrapped := encrypt(t, oldEnv, pt, aad)

	rewrapped, err := crypto.Rewrap(t.Context(), wrapped, oldEnv, newEnv)
	if err != nil {
		t.Fatalf("Rewrap: %v", err)
	}
	if id, _ := crypto.WrappedKeyID(rewrapped); id != "local-2026" {
		t.Errorf("rewrapped key ID = %q, want local-2026", id)
	}
	if err := oldKEK.Close(); err != nil { // the old KEK is destroyed
		t.Fatal(err)
	}
	got, err := decrypt(t.Context(), newEnv, ct, rewrapped, aad)
	if err != nil {
		t.Fatalf("decrypt with the new KEK: %v", err)
	}
	if !bytes.Equal(got, pt) {
		t.Error("plaintext differs after rewrap")
	}
	// The new KEK does not open keys still wrapped by the old one, and
	// rewrapping with the wrong source KEK fails without producing a key.
	if _, err := decrypt(t.Context(), newEnv, ct, wrapped, aad); !errors.Is(err, crypto.ErrDecrypt) {
		t.Errorf("decrypt old wrapped key with new KEK: error = %v, want ErrDecrypt", err)
	}
	if _, err := crypto.Rewrap(t.Context(), wrapped, newEnv, newEnv); !errors.Is(err, crypto.ErrDecrypt) {
		t.Errorf("Rewrap from the wrong KEK: error = %v, want ErrDecrypt", err)
	}
	if _, err := crypto.Rewrap(t.Context(), []byte("junk"), newEnv, newEnv); !errors.Is(err, crypto.ErrFormat) {
		t.Errorf("Rewrap of junk: error = %v, want ErrFormat", err)
	}
}

func TestNewEnvelopeOptions(t *testing.T) {
	t.Parallel()
	k := newKeeper(t)
	tests := []struct {
		name    string
		kek     *secrets.Keeper
		id      string
		wantErr bool
	}{
		{"empty ID", k, "", false},
		{"KMS alias", k, "alias/palisade-prod@eu-west-1", false},
		{"64 bytes", k, string(bytes.Repeat([]byte("a"), 64)), false},
		{"65 bytes", k, string(bytes.Repeat([]byte("a"), 65)), true},
		{"space", k, "a b", true},
		{"newline", k, "a\nb", true},
		{"nil KEK", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := crypto.NewEnvelope(tt.kek, crypto.Options{KeyID: tt.id})
			if (err != nil) != tt.wantErr {
				t.Errorf("NewEnvelope(%q) error = %v, want error %t", tt.id, err, tt.wantErr)
			}
		})
	}
}

func TestBlobAAD(t *testing.T) {
	t.Parallel()
	got := crypto.BlobAAD("ab", "sha256:c")
	want := []byte("project\x00\x00\x00\x00\x02ab" + "digest\x00\x00\x00\x00\x08sha256:c")
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("BlobAAD mismatch (-got +want):\n%s", diff)
	}
	if bytes.Equal(crypto.BlobAAD("ab", "c"), crypto.BlobAAD("a", "bc")) {
		t.Error("BlobAAD is ambiguous")
	}
}

type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// I/O errors and cancellation are reported as such, not as ErrDecrypt.
func TestIOErrors(t *testing.T) {
	t.Parallel()
	e := newEnvelope(t, "k")
	errIO := errors.New("disk on fire")
	pt := plaintext(firstSegment+100, 11)
	ct, wrapped := encrypt(t, e, pt, nil)
	canceled, cancel := context.WithCancel(t.Context())
	cancel()

	t.Run("encrypt source", func(t *testing.T) {
		_, err := e.Encrypt(t.Context(), io.Discard, &failingReader{data: pt[:100], err: errIO}, nil)
		if !errors.Is(err, errIO) {
			t.Errorf("error = %v, want %v", err, errIO)
		}
	})
	t.Run("encrypt destination", func(t *testing.T) {
		_, err := e.Encrypt(t.Context(), failingWriter{errIO}, bytes.NewReader(pt), nil)
		if !errors.Is(err, errIO) {
			t.Errorf("error = %v, want %v", err, errIO)
		}
	})
	t.Run("encrypt canceled", func(t *testing.T) {
		_, err := e.Encrypt(canceled, io.Discard, bytes.NewReader(pt), nil)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error = %v, want context.Canceled", err)
		}
	})
	t.Run("decrypt source", func(t *testing.T) {
		r, err := e.Decrypt(t.Context(), &failingReader{data: ct[:len(ct)/2], err: errIO}, wrapped, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.ReadAll(r)
		if !errors.Is(err, errIO) || errors.Is(err, crypto.ErrDecrypt) {
			t.Errorf("error = %v, want %v and not ErrDecrypt", err, errIO)
		}
	})
	t.Run("decrypt canceled", func(t *testing.T) {
		_, err := decrypt(canceled, e, ct, wrapped, nil)
		if !errors.Is(err, context.Canceled) || errors.Is(err, crypto.ErrDecrypt) {
			t.Errorf("error = %v, want context.Canceled and not ErrDecrypt", err)
		}
	})
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	e := newEnvelope(t, "k")
	var g errgroup.Group
	for i := range 8 {
		g.Go(func() error {
			pt := plaintext(100_000*i+1, uint64(i))
			aad := crypto.BlobAAD("demo", fmt.Sprintf("sha256:%x", sha256.Sum256(pt)))
			var buf bytes.Buffer
			wrapped, err := e.Encrypt(t.Context(), &buf, bytes.NewReader(pt), aad)
			if err != nil {
				return err
			}
			got, err := decrypt(t.Context(), e, buf.Bytes(), wrapped, aad)
			if err != nil {
				return err
			}
			if !bytes.Equal(got, pt) {
				return fmt.Errorf("goroutine %d: plaintext differs", i)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
}

// countingWriter counts bytes and hashes them, so that large blobs need not
// be held in memory.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// allocated returns the bytes allocated by the Go heap while f runs.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Memory use does not grow with blob size: encrypting and decrypting
// 10 MiB+1 and 40 MiB+1 allocate the same, small, amount. (Not parallel:
// TotalAlloc is process-wide.)
func TestFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 100 MiB")
	}
	e := newEnvelope(t, "k")
	const limit = 8 << 20 // two 1 MiB segment buffers, a copy buffer and slack
	var prevEnc, prevDec uint64
	for _, n := range []int64{10<<20 + 1, 40<<20 + 1} {
		src := func() io.Reader { return io.LimitReader(rand.NewChaCha8([32]byte{1}), n) }
		var ct bytes.Buffer
		ct.Grow(int(n) + 1<<20)
		var wrapped []byte
		enc := allocated(func() {
			var err error
			wrapped, err = e.Encrypt(t.Context(), &ct, src(), nil)
			if err != nil {
				t.Fatal(err)
			}
		})
		var out countingWriter
		dec := allocated(func() {
			r, err := e.Decrypt(t.Context(), bytes.NewReader(ct.Bytes()), wrapped, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(&out, r); err != nil {
				t.Fatal(err)
			}
		})
		if out.n != n {
			t.Fatalf("decrypted %d bytes, want %d", out.n, n)
		}
		t.Logf("%d bytes: encrypt allocated %d bytes, decrypt %d", n, enc, dec)
		if enc > limit || dec > limit {
			t.Errorf("%d bytes: encrypt allocated %d, decrypt %d; want at most %d each", n, enc, dec, limit)
		}
		if prevEnc != 0 && (enc > prevEnc+1<<20 || dec > prevDec+1<<20) {
			t.Errorf("allocation grows with size: encrypt %d -> %d, decrypt %d -> %d", prevEnc, enc, prevDec, dec)
		}
		prevEnc, prevDec = enc, dec
	}
}

// Test vectors: a blob encrypted by format version 1 under a fixed,
// test-only KEK must stay decryptable by every later version.
const (
	vectorKEK       = "base64key://dGVzdC1vbmx5LWtlay1uZXZlci11c2UtZWxzZXdoZXI="
	vectorKeyID     = "test-vector"
	vectorProject   = "demo"
	vectorPlaintext = "Palisade blob encryption, format version 1 test vector.\n"
)

func TestVectorsV1(t *testing.T) {
	t.Parallel()
	k, err := crypto.OpenKeeper(t.Context(), vectorKEK)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Close() })
	e, err := crypto.NewEnvelope(k, crypto.Options{KeyID: vectorKeyID})
	if err != nil {
		t.Fatal(err)
	}
	aad := crypto.BlobAAD(vectorProject, fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(vectorPlaintext))))
	blobPath, keyPath := filepath.Join("testdata", "v1.blob"), filepath.Join("testdata", "v1.wrapped")
	if *update {
		ct, wrapped := encrypt(t, e, []byte(vectorPlaintext), aad)
		for p, b := range map[string][]byte{blobPath: ct, keyPath: wrapped} {
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	ct, err := os.ReadFile(blobPath)
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decrypt(t.Context(), e, ct, wrapped, aad)
	if err != nil {
		t.Fatalf("decrypt v1 vector: %v", err)
	}
	if diff := cmp.Diff(string(got), vectorPlaintext); diff != "" {
		t.Errorf("v1 vector plaintext (-got +want):\n%s", diff)
	}
	if id, err := crypto.WrappedKeyID(wrapped); err != nil || id != vectorKeyID {
		t.Errorf("WrappedKeyID = %q, %v, want %q", id, err, vectorKeyID)
	}
}
