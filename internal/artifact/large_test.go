package artifact

import (
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/opencontainers/go-digest"
)

// writeRandom writes size pseudo-random bytes to name, chunk by chunk.
func writeRandom(t testing.TB, name string, size int64, seed uint64) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rng := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	if _, err := io.CopyN(f, rng, size); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func fileDigest(t testing.TB, name string) digest.Digest {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := digest.FromReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// allocated returns the bytes fn allocates on the heap.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestLargeFileStreams packs, pushes and pulls a 64 MiB file and checks
// that no step allocates memory in proportion to it. It is not parallel,
// so that no other test allocates meanwhile.
func TestLargeFileStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and hashes 64 MiB several times")
	}
	const size = 64 << 20
	const budget = 8 << 20 // an eighth of the file
	src := t.TempDir()
	writeRandom(t, filepath.Join(src, "model.safetensors"), size, 1)
	writeTree(t, src, map[string]testFile{"config.json": {data: "{}"}})

	var p Packed
	var err error
	if n := allocated(func() { p, err = Pack(t.Context(), src, Options{}) }); err != nil {
		t.Fatal(err)
	} else {
		t.Logf("Pack allocated %d bytes for a %d-byte file", n, size)
		if n > budget {
			t.Errorf("Pack allocated more than %d bytes", budget)
		}
	}
	store := newDiskStore(t)
	if n := allocated(func() { _, err = Push(t.Context(), p, store, "v1", PushOptions{}) }); err != nil {
		t.Fatal(err)
	} else {
		t.Logf("Push allocated %d bytes for a %d-byte file", n, size)
		if n > budget {
			t.Errorf("Push allocated more than %d bytes", budget)
		}
	}
	dst := filepath.Join(t.TempDir(), "out")
	if n := allocated(func() { _, err = Pull(t.Context(), store, "v1", dst, PullOptions{}) }); err != nil {
		t.Fatal(err)
	} else {
		t.Logf("Pull allocated %d bytes for a %d-byte file", n, size)
		if n > budget {
			t.Errorf("Pull allocated more than %d bytes", budget)
		}
	}
	if got, want := fileDigest(t, filepath.Join(dst, "model.safetensors")), fileDigest(t, filepath.Join(src, "model.safetensors")); got != want {
		t.Errorf("pulled file digest %s, want %s", got, want)
	}
}
