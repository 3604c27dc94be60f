package numpy

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// BenchmarkSparseNpy1GiB scans a 1 GiB float64 array stored as a sparse
// file: the cost is the header, never the data.
func BenchmarkSparseNpy1GiB(b *testing.B) {
	const size = 1 << 30
	head := npy(1, hdr("'<f8'", "(134217728,)"), nil)
	path := filepath.Join(b.TempDir(), "big.npy")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := f.Write(head); err != nil {
		b.Fatal(err)
	}
	if err := f.Truncate(int64(len(head)) + size); err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	eng := scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatNumpy: New()}})
	b.SetBytes(info.Size())
	b.ReportAllocs()
	for b.Loop() {
		fs, err := eng.ScanReader(b.Context(), "big.npy", f, info.Size())
		if err != nil || len(fs) != 0 {
			b.Fatalf("ScanReader = %d findings, %v", len(fs), err)
		}
	}
}

// BenchmarkObjectNpy scans the corpus object array with its pickle handed
// to a fake pickle scanner: the header parse plus the hand-off.
func BenchmarkObjectNpy(b *testing.B) {
	data := readFile(b, "benign_numpy_object_dtype.npy")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		scanNpy(b, data, scan.Limits{})
	}
}
