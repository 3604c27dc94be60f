package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/palisade-sec/palisade/internal/blob"
	"github.com/palisade-sec/palisade/internal/blob/blobtest"
)

func newMemStore(t testing.TB, opts blob.Options) *blob.Store {
	t.Helper()
	if opts.Sealer == nil {
		opts.Sealer = blobtest.Envelope(t)
	}
	s, err := blob.OpenURL(t.Context(), "mem://", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(t.Context()) })
	return s
}

func TestFileblob(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) *blob.Store { return blobtest.FileStore(t, blob.Options{}) })
}

// The recommended production URL: temporary files next to the data (same
// file system, so renames are atomic) and no attribute sidecar files.
func TestFileblobRecommendedURL(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) *blob.Store {
		s, err := blob.OpenURL(t.Context(), "file://"+t.TempDir()+"?no_tmp_dir=true&metadata=skip", blob.Options{Sealer: blobtest.Envelope(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(t.Context()) })
		return s
	})
}

func TestMemblob(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) *blob.Store { return newMemStore(t, blob.Options{}) })
}

func TestNew(t *testing.T) {
	e := blobtest.Envelope(t)
	s := newMemStore(t, blob.Options{})
	tests := []struct {
		name string
		opts blob.Options
	}{
		{"no sealer", blob.Options{}},
		{"negative size", blob.Options{Sealer: e, MaxSize: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := blob.New(s.Bucket(), tt.opts); err == nil {
				t.Error("New succeeded")
			}
		})
	}
	if _, err := blob.New(nil, blob.Options{Sealer: e}); err == nil {
		t.Error("New(nil bucket) succeeded")
	}
	if _, err := blob.OpenURL(t.Context(), "nosuch://bucket", blob.Options{Sealer: e}); err == nil {
		t.Error("OpenURL(nosuch://) succeeded: no driver has that scheme")
	}
}

func TestValidDigest(t *testing.T) {
	h64, h128 := strings.Repeat("ab", 32), strings.Repeat("0f", 64)
	tests := []struct {
		in   string
		want bool
	}{
		{"sha256:" + h64, true},
		{"sha512:" + h128, true},
		{"sha256:" + h128, false},
		{"sha512:" + h64, false},
		{"sha256:" + strings.ToUpper(h64), false},
		{"sha256:" + h64 + "\n", false},
		{"sha256" + h64, false},
		{"sha384:" + h64, false},
		{"", false},
		{":", false},
	}
	for _, tt := range tests {
		if got := blob.ValidDigest(tt.in); got != tt.want {
			t.Errorf("ValidDigest(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzValidDigest(f *testing.F) {
	f.Add("sha256:" + strings.Repeat("ab", 32))
	f.Add("sha512:" + strings.Repeat("0f", 64))
	f.Add("sha256:xyz")
	f.Fuzz(func(t *testing.T, s string) {
		if !blob.ValidDigest(s) {
			return
		}
		algo, h, _ := strings.Cut(s, ":")
		b, err := hex.DecodeString(h)
		if err != nil || hex.EncodeToString(b) != h {
			t.Fatalf("accepted %q: hex not canonical", s)
		}
		if !(algo == "sha256" && len(b) == 32 || algo == "sha512" && len(b) == 64) {
			t.Fatalf("accepted %q", s)
		}
	})
}

// PlaintextSize inverts the sizes the real envelope produces.
func TestPlaintextSize(t *testing.T) {
	e := blobtest.Envelope(t)
	const first, later = 1048520, 1048560
	sizes := []int64{0, 1, 100, first - 1, first, first + 1, first + later - 1, first + later, first + later + 1, first + 2*later + 17}
	for _, n := range sizes {
		var ct countingWriter
		if _, err := e.Encrypt(t.Context(), &ct, io.LimitReader(zeros{}, n), nil); err != nil {
			t.Fatal(err)
		}
		got, err := blob.PlaintextSize(ct.n)
		if err != nil || got != n {
			t.Errorf("PlaintextSize(%d) = %d, %v; want %d", ct.n, got, err, n)
		}
	}
	for _, n := range []int64{-1, 0, 55, 1<<20 + 1, 1<<20 + 16, 2<<20 + 16} {
		if _, err := blob.PlaintextSize(n); !errors.Is(err, blob.ErrInvalid) {
			t.Errorf("PlaintextSize(%d): %v, want ErrInvalid", n, err)
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func TestTooLarge(t *testing.T) {
	s := newMemStore(t, blob.Options{MaxSize: 1000})
	data := blobtest.Bytes(1001, 1)
	d := blobtest.Digest(data)
	if _, err := s.Put(t.Context(), "p", d, 1001, bytes.NewReader(data)); !errors.Is(err, blob.ErrTooLarge) {
		t.Errorf("Put declared too large: %v, want ErrTooLarge", err)
	}
	if _, err := s.Put(t.Context(), "p", d, -1, bytes.NewReader(data)); !errors.Is(err, blob.ErrTooLarge) {
		t.Errorf("Put too large: %v, want ErrTooLarge", err)
	}
	u, err := s.Begin(t.Context(), "p")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(t.Context(), 0, bytes.NewReader(data[:600])); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Write(t.Context(), 600, bytes.NewReader(data[600:])); !errors.Is(err, blob.ErrTooLarge) {
		t.Errorf("Write past limit: %v, want ErrTooLarge", err)
	}
	if _, err := u.Write(t.Context(), 600, bytes.NewReader(data[600:1000])); err != nil {
		t.Errorf("Write up to limit: %v", err)
	}
	if _, err := u.Commit(t.Context(), blobtest.Digest(data[:1000]), 1000); err != nil {
		t.Errorf("Commit at limit: %v", err)
	}
	if keys := blobtest.Keys(t, s.Bucket(), "uploads/"); len(keys) != 0 {
		t.Errorf("parts left: %q", keys)
	}
}

// On fileblob, a monolithic push allocates a bounded amount whatever the
// blob's size, and a chunked push a bounded amount per chunk (each chunk is
// one encryption, and commit decrypts each once; the garbage is not live at
// once, see TestPartsOpenedOneAtATime). (Not parallel: TotalAlloc is
// process-wide.)
func TestWriteFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 60 MiB")
	}
	s := blobtest.FileStore(t, blob.Options{})
	const limit = 8 << 20
	for i, n := range []int64{10 << 20, 30 << 20} {
		src, d := blobtest.Data(n, uint64(i))
		var allocs [2]uint64
		allocs[0] = allocated(func() {
			if _, err := s.Put(t.Context(), "mono", d, n, src()); err != nil {
				t.Fatal(err)
			}
		})
		r := src()
		allocs[1] = allocated(func() {
			u, err := s.Begin(t.Context(), "chunked")
			if err != nil {
				t.Fatal(err)
			}
			for u.Size() < n {
				if _, err := u.Write(t.Context(), u.Size(), io.LimitReader(r, 4<<20)); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := u.Commit(t.Context(), d, n); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("%d bytes: monolithic push allocated %d bytes, chunked %d", n, allocs[0], allocs[1])
		if allocs[0] > limit {
			t.Errorf("%d bytes: monolithic push allocated %d, want at most %d", n, allocs[0], limit)
		}
		if chunks := uint64((n + 4<<20 - 1) / (4 << 20)); allocs[1] > limit*(chunks+1) {
			t.Errorf("%d bytes: chunked push allocated %d, want at most %d per chunk", n, allocs[1], limit)
		}
	}
}

// countingSealer records how many decrypted readers are open (not yet
// read to their end) at once.
type countingSealer struct {
	blob.Sealer
	mu         sync.Mutex
	open, peak int
}

func (c *countingSealer) Decrypt(ctx context.Context, src io.Reader, wrappedKey, aad []byte) (io.Reader, error) {
	r, err := c.Sealer.Decrypt(ctx, src, wrappedKey, aad)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.open++
	c.peak = max(c.peak, c.open)
	c.mu.Unlock()
	return &eofReader{r: r, c: c}, nil
}

type eofReader struct {
	r    io.Reader
	c    *countingSealer
	done bool
}

func (e *eofReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !e.done {
		e.done = true
		e.c.mu.Lock()
		e.c.open--
		e.c.mu.Unlock()
	}
	return n, err
}

// Commit of a many-chunk upload holds one part's decryption state at a
// time, so memory does not grow with the number of chunks.
func TestPartsOpenedOneAtATime(t *testing.T) {
	cs := &countingSealer{Sealer: blobtest.Envelope(t)}
	s := newMemStore(t, blob.Options{Sealer: cs})
	data := blobtest.Bytes(50*1000, 1)
	u, err := s.Begin(t.Context(), "p")
	if err != nil {
		t.Fatal(err)
	}
	for off := 0; off < len(data); off += 1000 {
		if _, err := u.Write(t.Context(), int64(off), bytes.NewReader(data[off:off+1000])); err != nil {
			t.Fatal(err)
		}
	}
	b, err := u.Commit(t.Context(), blobtest.Digest(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if cs.peak != 1 {
		t.Errorf("commit of 50 parts had %d decryptions open at once, want 1", cs.peak)
	}
	got, err := blobtest.ReadAll(t.Context(), s, b)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %d bytes, %v", len(got), err)
	}
}

func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// BenchmarkPutGet pushes 64 MiB through encryption into fileblob and reads
// it back with decryption and digest verification.
func BenchmarkPutGet(b *testing.B) {
	const n = 64 << 20
	s := blobtest.FileStore(b, blob.Options{})
	data := blobtest.Bytes(n, 1)
	sum := sha256.Sum256(data)
	d := "sha256:" + hex.EncodeToString(sum[:])
	buf := make([]byte, 256<<10)
	b.SetBytes(n)
	b.ReportAllocs()
	for b.Loop() {
		bl, err := s.Put(b.Context(), "bench", d, n, bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		r, err := s.Open(b.Context(), "bench", d, bl.WrappedKey, bl.AADContext)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.CopyBuffer(io.Discard, r, buf); err != nil {
			b.Fatal(err)
		}
		_ = r.Close()
		if err := s.Delete(b.Context(), "bench", d); err != nil {
			b.Fatal(err)
		}
	}
}
