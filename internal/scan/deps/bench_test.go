package deps

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// BenchmarkExtract extracts and matches every manifest and lockfile in
// testdata/project against the in-memory advisories, per file kind.
func BenchmarkExtract(b *testing.B) {
	s, err := New(Options{Advisories: vulnDB})
	if err != nil {
		b.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join("testdata", "project"))
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		p := filepath.Join("testdata", "project", e.Name())
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(e.Name(), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				obj := scan.Object{Name: e.Name(), R: bytes.NewReader(data), Size: int64(len(data)), DiskPath: p}
				var r recorder
				if err := s.scan(b.Context(), obj, &r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
