// Package blobtest is the conformance suite of blob.Store: every bucket
// driver the Store is used with (fileblob, memblob, later S3) must pass
// Run. It is imported only by tests.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	gcblob "gocloud.dev/blob"
	"gocloud.dev/secrets/localsecrets"

	"github.com/palisade-sec/palisade/internal/blob"
	"github.com/palisade-sec/palisade/internal/crypto"
)

// Envelope returns a crypto.Envelope under a fresh random test KEK.
func Envelope(t testing.TB) *crypto.Envelope {
	t.Helper()
	key, err := localsecrets.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	k := localsecrets.NewKeeper(key)
	t.Cleanup(func() { _ = k.Close() })
	e, err := crypto.NewEnvelope(k, crypto.Options{KeyID: "blobtest"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Data returns a reader of n deterministic pseudo-random bytes and their
// SHA-256 digest, without holding them in memory.
func Data(n int64, seed uint64) (func() io.Reader, string) {
	mk := func() io.Reader { return io.LimitReader(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 1}), n) }
	h := sha256.New()
	if _, err := io.Copy(h, mk()); err != nil {
		panic(err)
	}
	return mk, "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Bytes returns n deterministic pseudo-random bytes.
func Bytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	_, _ = rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 2}).Read(b)
	return b
}

// Digest returns the SHA-256 digest string of b.
func Digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// FileStore opens a Store on local files in a temporary directory,
// sealed by opts.Sealer or else a fresh Envelope; the test's end closes it.
func FileStore(t testing.TB, opts blob.Options) *blob.Store {
	t.Helper()
	if opts.Sealer == nil {
		opts.Sealer = Envelope(t)
	}
	s, err := blob.OpenURL(t.Context(), "file://"+t.TempDir(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// ReadAll opens and reads the blob to its end.
func ReadAll(ctx context.Context, s *blob.Store, b blob.Blob) ([]byte, error) {
	r, err := s.Open(ctx, b.Project, b.Digest, b.WrappedKey, b.AADContext)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
}

// Keys lists the bucket's object keys under prefix.
func Keys(t testing.TB, b *gcblob.Bucket, prefix string) []string {
	t.Helper()
	var keys []string
	it := b.List(&gcblob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(context.Background())
		if err == io.EOF {
			return keys
		}
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, obj.Key)
	}
}

const project = "proj"

// mib is the size of multi-segment test chunks (crosses Tink's 1 MiB
// segment boundary).
const mib = 1 << 20

// Run runs the conformance suite. newStore returns an empty Store (with the
// default MaxSize) that the test may use until it ends.
func Run(t *testing.T, newStore func(t *testing.T) *blob.Store) {
	// Sequential first: it measures process-wide allocation.
	t.Run("LargeBlobFlatMemory", func(t *testing.T) { testLarge(t, newStore(t)) })

	tests := []struct {
		name string
		f    func(t *testing.T, s *blob.Store)
	}{
		{"Put", testPut},
		{"Chunked", testChunked},
		{"SingleChunk", testSingleChunk},
		{"CommitFrom", testCommitFrom},
		{"Empty", testEmpty},
		{"SHA512", testSHA512},
		{"OutOfOrder", testOutOfOrder},
		{"Mismatch", testMismatch},
		{"Abort", testAbort},
		{"Dedupe", testDedupe},
		{"Tamper", testTamper},
		{"Swap", testSwap},
		{"WrongKeyOrContext", testWrongKey},
		{"Delete", testDelete},
		{"InvalidArguments", testInvalid},
		{"Concurrent", testConcurrent},
		{"PurgeUploads", testPurge},
		{"Close", testClose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.f(t, newStore(t))
		})
	}
}

func mustPut(t *testing.T, s *blob.Store, data []byte) blob.Blob {
	t.Helper()
	b, err := s.Put(t.Context(), project, Digest(data), int64(len(data)), bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Put: %v", err)
	}
	return b
}

func checkRead(t *testing.T, s *blob.Store, b blob.Blob, want []byte) {
	t.Helper()
	got, err := ReadAll(t.Context(), s, b)
	if err != nil {
		t.Fatalf("read %s: %v", b.Digest, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %s: got %d bytes, want %d (content differs)", b.Digest, len(got), len(want))
	}
}

// checkClean fails if any upload part is left in storage.
func checkClean(t *testing.T, s *blob.Store) {
	t.Helper()
	if keys := Keys(t, s.Bucket(), "uploads/"); len(keys) != 0 {
		t.Errorf("upload parts left behind: %q", keys)
	}
}

func testPut(t *testing.T, s *blob.Store) {
	data := Bytes(2*mib+123, 1)
	b := mustPut(t, s, data)
	want := blob.Blob{Project: project, Digest: Digest(data), Size: int64(len(data))}
	if diff := cmp.Diff(b, want, cmpBlob); diff != "" {
		t.Errorf("Put (-got +want):\n%s", diff)
	}
	if len(b.WrappedKey) == 0 || b.AADContext == "" {
		t.Errorf("Put returned no wrapped key or AAD context: %+v", b)
	}
	checkRead(t, s, b, data)
	ok, err := s.Exists(t.Context(), project, b.Digest)
	if err != nil || !ok {
		t.Errorf("Exists = %v, %v; want true", ok, err)
	}
	info, err := s.Stat(t.Context(), project, b.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != int64(len(data)) || info.StoredSize <= info.Size {
		t.Errorf("Stat = %+v, want plaintext size %d", info, len(data))
	}
	// The stored object is ciphertext: no 64-byte window of plaintext occurs.
	key, _ := s.Key(project, b.Digest)
	ct, err := s.Bucket().ReadAll(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, data[mib:mib+64]) {
		t.Error("stored object contains plaintext")
	}
	checkClean(t, s)
}

// cmpBlob compares Blobs without their key material.
var cmpBlob = cmp.FilterPath(func(p cmp.Path) bool {
	n := p.Last().String()
	return n == ".WrappedKey" || n == ".AADContext"
}, cmp.Ignore())

func testChunked(t *testing.T, s *blob.Store) {
	data := Bytes(3*mib+77, 2)
	u, err := s.Begin(t.Context(), project)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Upload(project, u.ID()); err != nil || got != u {
		t.Fatalf("Upload(%q) = %p, %v; want %p", u.ID(), got, err, u)
	}
	chunks := [][2]int{{0, 100}, {100, mib + 5}, {mib + 5, len(data)}}
	for _, c := range chunks {
		n, err := u.Write(t.Context(), int64(c[0]), bytes.NewReader(data[c[0]:c[1]]))
		if err != nil {
			t.Fatalf("Write at %d: %v", c[0], err)
		}
		if n != int64(c[1]-c[0]) || u.Size() != int64(c[1]) {
			t.Fatalf("Write at %d = %d, Size %d; want %d, %d", c[0], n, u.Size(), c[1]-c[0], c[1])
		}
	}
	if keys := Keys(t, s.Bucket(), "blobs/"); len(keys) != 0 {
		t.Fatalf("visible before commit: %q", keys)
	}
	b, err := u.Commit(t.Context(), Digest(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if b.Existing || b.Size != int64(len(data)) {
		t.Errorf("Commit = %+v", b)
	}
	checkRead(t, s, b, data)
	checkClean(t, s)
	if _, err := s.Upload(project, u.ID()); !errors.Is(err, blob.ErrUploadUnknown) {
		t.Errorf("Upload after commit: %v, want ErrUploadUnknown", err)
	}
	if _, err := u.Write(t.Context(), u.Size(), bytes.NewReader([]byte("x"))); !errors.Is(err, blob.ErrUploadUnknown) {
		t.Errorf("Write after commit: %v, want ErrUploadUnknown", err)
	}
}

func testSingleChunk(t *testing.T, s *blob.Store) {
	data := Bytes(mib+1, 3)
	u, err := s.Begin(t.Context(), project)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(t.Context(), 0, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	// An empty chunk adds nothing.
	if n, err := u.Write(t.Context(), u.Size(), bytes.NewReader(nil)); err != nil || n != 0 {
		t.Fatalf("empty Write = %d, %v", n, err)
	}
	b, err := u.Commit(t.Context(), Digest(data), -1)
	if err != nil {
		t.Fatal(err)
	}
	checkRead(t, s, b, data)
	checkClean(t, s)
}

func testCommitFrom(t *testing.T, s *blob.Store) {
	data := Bytes(2*mib, 4)
	u, err := s.Begin(t.Context(), project)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(t.Context(), 0, bytes.NewReader(data[:mib])); err != nil {
		t.Fatal(err)
	}
	b, err := u.CommitFrom(t.Context(), bytes.NewReader(data[mib:]), Digest(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	checkRead(t, s, b, data)
	checkClean(t, s)
}

func testEmpty(t *testing.T, s *blob.Store) {
	b := mustPut(t, s, nil)
	checkRead(t, s, b, []byte{})
	u, err := s.Begin(t.Context(), "other")
	if err != nil {
		t.Fatal(err)
	}
	b, err = u.Commit(t.Context(), Digest(nil), 0)
	if err != nil {
		t.Fatal(err)
	}
	checkRead(t, s, b, []byte{})
	checkClean(t, s)
}

func testSHA512(t *testing.T, s *blob.Store) {
	data := Bytes(mib+9, 5)
	sum := sha512.Sum512(data)
	d := "sha512:" + hex.EncodeToString(sum[:])
	b, err := s.Put(t.Context(), project, d, -1, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	checkRead(t, s, b, data)
	for _, chunks := range [][]int{{0}, {0, 100}} {
		u, err := s.Begin(t.Context(), "p512")
		if err != nil {
			t.Fatal(err)
		}
		for i, off := range chunks {
			end := len(data)
			if i+1 < len(chunks) {
				end = chunks[i+1]
			}
			if _, err := u.Write(t.Context(), int64(off), bytes.NewReader(data[off:end])); err != nil {
				t.Fatal(err)
			}
		}
		wrong := "sha512:" + hex.EncodeToString(make([]byte, 64))
		if _, err := u.Commit(t.Context(), wrong, -1); !errors.Is(err, blob.ErrDigestMismatch) {
			t.Fatalf("%d chunks, wrong sha512: %v, want ErrDigestMismatch", len(chunks), err)
		}
	}
	checkClean(t, s)
}

func testOutOfOrder(t *testing.T, s *blob.Store) {
	data := Bytes(1000, 6)
	u, err := s.Begin(t.Context(), project)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(t.Context(), 0, bytes.NewReader(data[:500])); err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{0, 499, 501} {
		if _, err := u.Write(t.Context(), off, bytes.NewReader(data[500:])); !errors.Is(err, blob.ErrRange) {
			t.Errorf("Write at %d: %v, want ErrRange", off, err)
		}
	}
	// A chunk whose reader fails is dropped whole; the upload goes on.
	failing := io.MultiReader(bytes.NewReader(data[500:700]), errReader{})
	if _, err := u.Write(t.Context(), 500, failing); !errors.Is(err, errBroken) {
		t.Errorf("Write with failing reader: %v, want errBroken", err)
	}
	if u.Size() != 500 {
		t.Fatalf("Size after failed writes = %d, want 500", u.Size())
	}
	if _, err := u.Write(t.Context(), 500, bytes.NewReader(data[500:])); err != nil {
		t.Fatal(err)
	}
	b, err := u.Commit(t.Context(), Digest(data), 1000)
	if err != nil {
		t.Fatal(err)
	}
	checkRead(t, s, b, data)
	checkClean(t, s)
}

var errBroken = errors.New("broken reader")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBroken }

func testMismatch(t *testing.T, s *blob.Store) {
	data := Bytes(mib+500, 7)
	other := Digest([]byte("something else"))
	tests := []struct {
		name    string
		chunks  int
		digest  string
		size    int64
		wantErr error
	}{
		{"put digest", 0, other, -1, blob.ErrDigestMismatch},
		{"put size", 0, Digest(data), 5, blob.ErrSizeMismatch},
		{"one chunk digest", 1, other, -1, blob.ErrDigestMismatch},
		{"two chunks digest", 2, other, int64(len(data)), blob.ErrDigestMismatch},
		{"two chunks size", 2, Digest(data), int64(len(data)) + 1, blob.ErrSizeMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := s.Begin(t.Context(), project)
			if err != nil {
				t.Fatal(err)
			}
			if tt.chunks == 0 {
				_, err = u.CommitFrom(t.Context(), bytes.NewReader(data), tt.digest, tt.size)
			} else {
				split := len(data) / tt.chunks
				for off := 0; off < len(data); off += split {
					if _, err := u.Write(t.Context(), int64(off), bytes.NewReader(data[off:min(off+split, len(data))])); err != nil {
						t.Fatal(err)
					}
				}
				_, err = u.Commit(t.Context(), tt.digest, tt.size)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("commit: %v, want %v", err, tt.wantErr)
			}
			if keys := Keys(t, s.Bucket(), "blobs/"); len(keys) != 0 {
				t.Errorf("visible after mismatch: %q", keys)
			}
			checkClean(t, s)
			if _, err := s.Upload(project, u.ID()); !errors.Is(err, blob.ErrUploadUnknown) {
				t.Errorf("upload after mismatch: %v, want ErrUploadUnknown", err)
			}
		})
	}
}

func testAbort(t *testing.T, s *blob.Store) {
	u, err := s.Begin(t.Context(), project)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := u.Write(t.Context(), u.Size(), bytes.NewReader(Bytes(1000, uint64(i)))); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(Keys(t, s.Bucket(), "uploads/")); n != 3 {
		t.Fatalf("%d part objects, want 3", n)
	}
	if err := u.Abort(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkClean(t, s)
	if err := u.Abort(t.Context()); !errors.Is(err, blob.ErrUploadUnknown) {
		t.Errorf("second Abort: %v, want ErrUploadUnknown", err)
	}
	if _, err := u.Commit(t.Context(), Digest(nil), -1); !errors.Is(err, blob.ErrUploadUnknown) {
		t.Errorf("Commit after Abort: %v, want ErrUploadUnknown", err)
	}
	if _, err := s.Upload(project, u.ID()); !errors.Is(err, blob.ErrUploadUnknown) {
		t.Errorf("Upload after Abort: %v, want ErrUploadUnknown", err)
	}
	if _, err := s.Upload(project, "nonexistent"); !errors.Is(err, blob.ErrUploadUnknown) {
		t.Errorf("Upload(unknown): %v, want ErrUploadUnknown", err)
	}
}

func testDedupe(t *testing.T, s *blob.Store) {
	data := Bytes(mib+3, 8)
	first := mustPut(t, s, data)
	key, _ := s.Key(project, first.Digest)
	before, err := s.Bucket().ReadAll(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	second := mustPut(t, s, data)
	want := blob.Blob{Project: project, Digest: first.Digest, Size: first.Size, Existing: true}
	if diff := cmp.Diff(second, want); diff != "" {
		t.Errorf("second Put (-got +want):\n%s", diff)
	}
	// Chunked push of the same content.
	u, err := s.Begin(t.Context(), project)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range [][2]int{{0, 10}, {10, len(data)}} {
		if _, err := u.Write(t.Context(), int64(c[0]), bytes.NewReader(data[c[0]:c[1]])); err != nil {
			t.Fatal(err)
		}
	}
	third, err := u.Commit(t.Context(), first.Digest, -1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(third, want); diff != "" {
		t.Errorf("chunked commit (-got +want):\n%s", diff)
	}
	// A mismatching duplicate is still refused.
	if _, err := s.Put(t.Context(), project, first.Digest, -1, bytes.NewReader(data[1:])); !errors.Is(err, blob.ErrDigestMismatch) {
		t.Errorf("Put of wrong content under existing digest: %v, want ErrDigestMismatch", err)
	}
	after, err := s.Bucket().ReadAll(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("stored object changed by a duplicate push")
	}
	checkRead(t, s, first, data)
	checkClean(t, s)
	// Another project gets its own copy.
	b, err := s.Put(t.Context(), "other", first.Digest, -1, bytes.NewReader(data))
	if err != nil || b.Existing {
		t.Fatalf("Put to another project = %+v, %v", b, err)
	}
}

func testTamper(t *testing.T, s *blob.Store) {
	data := Bytes(2*mib, 9)
	b := mustPut(t, s, data)
	key, _ := s.Key(project, b.Digest)
	ct, err := s.Bucket().ReadAll(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int{0, 40, mib + 7, len(ct) - 1} {
		mod := bytes.Clone(ct)
		mod[off] ^= 1
		if err := s.Bucket().WriteAll(t.Context(), key, mod, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadAll(t.Context(), s, b); !errors.Is(err, crypto.ErrDecrypt) {
			t.Errorf("byte %d flipped: read error %v, want crypto.ErrDecrypt", off, err)
		}
	}
	if err := s.Bucket().WriteAll(t.Context(), key, ct[:len(ct)-100], nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAll(t.Context(), s, b); !errors.Is(err, crypto.ErrDecrypt) {
		t.Errorf("truncated: read error %v, want crypto.ErrDecrypt", err)
	}
}

func testSwap(t *testing.T, s *blob.Store) {
	a, c := Bytes(1000, 10), Bytes(1000, 11)
	ba, bc := mustPut(t, s, a), mustPut(t, s, c)
	ka, _ := s.Key(project, ba.Digest)
	kc, _ := s.Key(project, bc.Digest)
	ct, err := s.Bucket().ReadAll(t.Context(), ka)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Bucket().WriteAll(t.Context(), kc, ct, nil); err != nil {
		t.Fatal(err)
	}
	// The attacker also swaps the metadata (wrapped key and context).
	swapped := bc
	swapped.WrappedKey, swapped.AADContext = ba.WrappedKey, ba.AADContext
	_, err = ReadAll(t.Context(), s, swapped)
	if !errors.Is(err, blob.ErrDigestMismatch) || !errors.Is(err, crypto.ErrDecrypt) {
		t.Errorf("swapped ciphertext: %v, want ErrDigestMismatch and crypto.ErrDecrypt", err)
	}
	// Swapping only the ciphertext fails with the wrong data key.
	if _, err := ReadAll(t.Context(), s, bc); !errors.Is(err, crypto.ErrDecrypt) {
		t.Errorf("swapped ciphertext, original key: %v, want crypto.ErrDecrypt", err)
	}
}

func testWrongKey(t *testing.T, s *blob.Store) {
	data := Bytes(5000, 12)
	b := mustPut(t, s, data)
	other := mustPut(t, s, Bytes(5000, 13))
	tests := []struct {
		name string
		mod  func(b *blob.Blob)
	}{
		{"context", func(b *blob.Blob) { b.AADContext += "x" }},
		{"key", func(b *blob.Blob) { b.WrappedKey = other.WrappedKey }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bb := b
			tt.mod(&bb)
			if _, err := ReadAll(t.Context(), s, bb); !errors.Is(err, crypto.ErrDecrypt) {
				t.Errorf("read: %v, want crypto.ErrDecrypt", err)
			}
		})
	}
	// Another store's KEK cannot open it.
	s2, err := blob.New(s.Bucket(), blob.Options{Sealer: Envelope(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ReadAll(t.Context(), s2, b); !errors.Is(err, crypto.ErrDecrypt) {
		t.Errorf("read with another KEK: %v, want crypto.ErrDecrypt", err)
	}
}

func testDelete(t *testing.T, s *blob.Store) {
	b := mustPut(t, s, Bytes(100, 14))
	if err := s.Delete(t.Context(), project, b.Digest); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(t.Context(), project, b.Digest); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
	if _, err := s.Open(t.Context(), project, b.Digest, b.WrappedKey, b.AADContext); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Open deleted: %v, want ErrNotFound", err)
	}
	if _, err := s.Stat(t.Context(), project, b.Digest); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat deleted: %v, want ErrNotFound", err)
	}
	if ok, err := s.Exists(t.Context(), project, b.Digest); ok || err != nil {
		t.Errorf("Exists deleted = %v, %v; want false, nil", ok, err)
	}
	// Deleted blobs can be pushed again.
	b2 := mustPut(t, s, Bytes(100, 14))
	if b2.Existing {
		t.Error("push after delete reported Existing")
	}
}

func testInvalid(t *testing.T, s *blob.Store) {
	good := Digest(nil)
	digests := []string{"", "sha256:", "sha256:" + good[7:70], "SHA256:" + good[7:], "sha256:" + good[7:69] + "G",
		"sha256:" + hex.EncodeToString(make([]byte, 31)) + "AB", "md5:d41d8cd98f00b204e9800998ecf8427e", good[7:]}
	for _, d := range digests {
		if _, err := s.Put(t.Context(), project, d, -1, bytes.NewReader(nil)); !errors.Is(err, blob.ErrInvalidDigest) {
			t.Errorf("Put(digest %q): %v, want ErrInvalidDigest", d, err)
		}
		if _, err := s.Exists(t.Context(), project, d); !errors.Is(err, blob.ErrInvalidDigest) {
			t.Errorf("Exists(digest %q): %v, want ErrInvalidDigest", d, err)
		}
	}
	// A malformed digest leaves the upload open.
	u, err := s.Begin(t.Context(), project)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Commit(t.Context(), "sha256:xyz", -1); !errors.Is(err, blob.ErrInvalidDigest) {
		t.Errorf("Commit(bad digest): %v", err)
	}
	if _, err := u.Commit(t.Context(), good, 0); err != nil {
		t.Errorf("Commit after bad digest: %v", err)
	}
	for _, p := range []string{"", ".", "..", "a/b", "a\x00", "ü", ".hidden"} {
		if _, err := s.Begin(t.Context(), p); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("Begin(%q): %v, want ErrInvalid", p, err)
		}
		if _, err := s.Stat(t.Context(), p, good); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("Stat(%q): %v, want ErrInvalid", p, err)
		}
	}
}

func testConcurrent(t *testing.T, s *blob.Store) {
	const workers = 8
	contents := [][]byte{Bytes(mib+10, 20), Bytes(3000, 21)}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results []blob.Blob
		errs    []error
	)
	for i := range workers {
		wg.Go(func() {
			data := contents[i%len(contents)]
			var b blob.Blob
			var err error
			if i%4 < 2 {
				b, err = s.Put(context.Background(), project, Digest(data), -1, bytes.NewReader(data))
			} else {
				var u *blob.Upload
				if u, err = s.Begin(context.Background(), project); err == nil {
					if _, err = u.Write(context.Background(), 0, bytes.NewReader(data[:len(data)/2])); err == nil {
						b, err = u.CommitFrom(context.Background(), bytes.NewReader(data[len(data)/2:]), Digest(data), int64(len(data)))
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			results = append(results, b)
			errs = append(errs, err)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	created := map[string]blob.Blob{}
	for _, b := range results {
		if !b.Existing {
			if _, dup := created[b.Digest]; dup {
				t.Errorf("%s committed twice", b.Digest)
			}
			created[b.Digest] = b
		}
	}
	for _, data := range contents {
		b, ok := created[Digest(data)]
		if !ok {
			t.Fatalf("%s: no upload created it", Digest(data))
		}
		checkRead(t, s, b, data)
	}
	checkClean(t, s)
}

func testPurge(t *testing.T, s *blob.Store) {
	u, err := s.Begin(t.Context(), project)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(t.Context(), 0, bytes.NewReader([]byte("live"))); err != nil {
		t.Fatal(err)
	}
	stray := fmt.Sprintf("uploads/%s/%032x/0", project, 1)
	if err := s.Bucket().WriteAll(t.Context(), stray, []byte("left by a crash"), nil); err != nil {
		t.Fatal(err)
	}
	n, err := s.PurgeUploads(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("PurgeUploads = %d, %v; want 1, nil", n, err)
	}
	b, err := u.Commit(t.Context(), Digest([]byte("live")), 4)
	if err != nil {
		t.Fatalf("commit after purge: %v", err)
	}
	checkRead(t, s, b, []byte("live"))
	checkClean(t, s)
}

func testClose(t *testing.T, s0 *blob.Store) {
	// A second Store over the same bucket: closing it leaves the bucket open.
	s, err := blob.New(s0.Bucket(), blob.Options{Sealer: Envelope(t)})
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Begin(t.Context(), project)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(t.Context(), 0, bytes.NewReader([]byte("in flight"))); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	checkClean(t, s)
	if _, err := u.Write(t.Context(), u.Size(), bytes.NewReader([]byte("x"))); !errors.Is(err, blob.ErrUploadUnknown) {
		t.Errorf("Write after Close: %v, want ErrUploadUnknown", err)
	}
}

// allocated returns the bytes the Go heap allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// testLarge pushes 20 MiB in 3 MiB chunks, streamed from a generator, and
// reads it back; reading allocates a bounded amount whatever the driver
// (write-side allocation depends on the driver: memblob keeps objects in
// memory, so it is checked by the fileblob tests).
func testLarge(t *testing.T, s *blob.Store) {
	if testing.Short() {
		t.Skip("streams 20 MiB")
	}
	const n = 20 * mib
	src, digest := Data(n, 30)
	r := src()
	u, err := s.Begin(t.Context(), project)
	if err != nil {
		t.Fatal(err)
	}
	for u.Size() < n {
		if _, err := u.Write(t.Context(), u.Size(), io.LimitReader(r, 3*mib)); err != nil {
			t.Fatal(err)
		}
	}
	b, err := u.Commit(t.Context(), digest, n)
	if err != nil {
		t.Fatal(err)
	}
	const limit = 8 << 20
	var got int64
	alloc := allocated(func() {
		rc, err := s.Open(t.Context(), project, b.Digest, b.WrappedKey, b.AADContext)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		h := sha256.New()
		if got, err = io.Copy(h, rc); err != nil {
			t.Fatal(err)
		}
		if d := "sha256:" + hex.EncodeToString(h.Sum(nil)); d != digest {
			t.Fatalf("read back %s, want %s", d, digest)
		}
	})
	if got != n {
		t.Fatalf("read %d bytes, want %d", got, n)
	}
	t.Logf("reading %d bytes allocated %d bytes", n, alloc)
	if alloc > limit {
		t.Errorf("reading %d bytes allocated %d, want at most %d", n, alloc, limit)
	}
	checkClean(t, s)
}
