package manifest

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// benchModel writes n files of size bytes each (pseudo-random, so that no
// file system compresses them) and returns the model directory.
func benchModel(tb testing.TB, n int, size int64) string {
	tb.Helper()
	root := tb.TempDir()
	buf := make([]byte, 1<<20)
	x := uint64(0x9e3779b97f4a7c15)
	for i := range buf {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		buf[i] = byte(x)
	}
	for i := range n {
		f, err := os.Create(filepath.Join(root, fmt.Sprintf("model-%05d.safetensors", i)))
		if err != nil {
			tb.Fatal(err)
		}
		for w := int64(0); w < size; w += int64(len(buf)) {
			buf[0], buf[1] = byte(i), byte(w>>20) // files and their MiBs differ
			if _, err := f.Write(buf[:min(int64(len(buf)), size-w)]); err != nil {
				tb.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	return root
}

// TestSlicedJobs hashes more files and shards than workers, each several
// slices long, so that workers switch between jobs and hand them to each
// other, and checks every digest against one computed in a single pass.
func TestSlicedJobs(t *testing.T) {
	if testing.Short() {
		t.Skip("hashes 200 MiB")
	}
	t.Parallel()
	const size = 2*sliceSize + 12345
	root := benchModel(t, 3, size)
	want := func(start, end int64) []byte {
		var rs []Resource
		for i := range 3 {
			name := fmt.Sprintf("model-%05d.safetensors", i)
			b, err := os.ReadFile(filepath.Join(root, name))
			if err != nil {
				t.Fatal(err)
			}
			for s := int64(0); s < size; s += end - start {
				e := min(s+end-start, size)
				d := sha256.Sum256(b[s:e])
				rs = append(rs, Resource{Path: name, Start: s, End: e, Digest: d[:]})
			}
		}
		m := Manifest{Resources: rs}
		root := m.RootDigest()
		return root[:]
	}
	tests := []struct {
		name string
		opts Options
		want []byte
	}{
		{"files", Options{Workers: 2}, want(0, size)},
		{"shards", Options{Workers: 2, Method: Shards, ShardSize: sliceSize*3/2 + 1}, want(0, sliceSize*3/2+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Build(t.Context(), root, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := m.RootDigest()
			if diff := cmp.Diff(got[:], tt.want); diff != "" {
				t.Errorf("root digest (-got +want):\n%s", diff)
			}
		})
	}
}

// BenchmarkHashModel hashes a model (from page cache after the first
// iteration) with file serialization: eight 64 MiB files, and one file
// more than there are cores, where the last file would run alone unless
// the scheduler interleaves them.
func BenchmarkHashModel(b *testing.B) {
	const size = 64 << 20
	tests := []struct {
		name  string
		files int
		hash  Hash
	}{
		{"sha256", 8, SHA256},
		{"blake3", 8, BLAKE3},
		{"sha256/straggler", runtime.GOMAXPROCS(0) + 1, SHA256},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			root := benchModel(b, tt.files, size)
			b.SetBytes(int64(tt.files) * size)
			for b.Loop() {
				if _, err := Build(b.Context(), root, Options{Hash: tt.hash}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHashShards hashes one 512 MiB file in 64 MiB shards, and in
// 200 MiB shards, whose short last shard would run alone unless the
// scheduler interleaves them.
func BenchmarkHashShards(b *testing.B) {
	const size = 512 << 20
	root := benchModel(b, 1, size)
	tests := []struct {
		name  string
		shard int64
		hash  Hash
	}{
		{"sha256", 64 << 20, SHA256},
		{"blake2b", 64 << 20, BLAKE2b},
		{"sha256/uneven", 200 << 20, SHA256},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				if _, err := Build(b.Context(), root, Options{Hash: tt.hash, Method: Shards, ShardSize: tt.shard}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
