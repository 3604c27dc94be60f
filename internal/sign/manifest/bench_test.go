package manifest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// benchModel writes n files of size bytes each (pseudo-random, so that no
// file system compresses them) and returns the model directory.
func benchModel(b *testing.B, n int, size int64) string {
	b.Helper()
	root := b.TempDir()
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
			b.Fatal(err)
		}
		for w := int64(0); w < size; w += int64(len(buf)) {
			buf[0] = byte(i) // files differ
			if _, err := f.Write(buf[:min(int64(len(buf)), size-w)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
	return root
}

// BenchmarkHashModel hashes eight 64 MiB files (from page cache after the
// first iteration) with file serialization.
func BenchmarkHashModel(b *testing.B) {
	const files, size = 8, 64 << 20
	root := benchModel(b, files, size)
	for _, h := range []Hash{SHA256, BLAKE3} {
		b.Run(string(h), func(b *testing.B) {
			b.SetBytes(files * size)
			for b.Loop() {
				if _, err := Build(b.Context(), root, Options{Hash: h}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHashShards hashes one 512 MiB file in 64 MiB shards.
func BenchmarkHashShards(b *testing.B) {
	const size = 512 << 20
	root := benchModel(b, 1, size)
	for _, h := range []Hash{SHA256, BLAKE2b} {
		b.Run(string(h), func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				if _, err := Build(b.Context(), root, Options{Hash: h, Method: Shards, ShardSize: 64 << 20}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
