package artifact

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"oras.land/oras-go/v2/content/memory"
)

// benchTree writes 256 MiB of pseudo-random weights in four 64 MiB
// shards, with a config file.
func benchTree(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	for i := range 4 {
		writeRandom(b, filepath.Join(dir, fmt.Sprintf("model-%05d-of-00004.safetensors", i+1)), 64<<20, uint64(i))
	}
	writeTree(b, dir, map[string]testFile{"config.json": {data: `{"model_type":"bench"}`}})
	return dir
}

// BenchmarkPack hashes 256 MiB (four files, hashed concurrently).
//
//	go test ./internal/artifact -run '^$' -bench . -benchtime 5x
func BenchmarkPack(b *testing.B) {
	dir := benchTree(b)
	b.SetBytes(256 << 20)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Pack(b.Context(), dir, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPull pulls 256 MiB from an in-memory store into a new
// directory: verification, writes and fsyncs.
func BenchmarkPull(b *testing.B) {
	dir := benchTree(b)
	p, err := Pack(b.Context(), dir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	store := memory.New()
	if _, err := Push(b.Context(), p, store, "v1", PushOptions{}); err != nil {
		b.Fatal(err)
	}
	out := b.TempDir()
	b.SetBytes(256 << 20)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		dst := filepath.Join(out, fmt.Sprint(i))
		if _, err := Pull(b.Context(), store, "v1", dst, PullOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := os.RemoveAll(dst); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
