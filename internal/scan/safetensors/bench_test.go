package safetensors

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// writeSparse writes a safetensors file whose header describes 64 U8
// tensors filling dataLen bytes; the data section is a sparse hole, so a
// 4 GB file costs no disk.
func writeSparse(b *testing.B, dataLen int64) (path string, headerLen int) {
	b.Helper()
	const n = 64
	parts := make([]string, n)
	per := dataLen / n
	for i := range n {
		parts[i] = fmt.Sprintf(`"model.layers.%d.weight":{"dtype":"U8","shape":[%d],"data_offsets":[%d,%d]}`, i, per, int64(i)*per, int64(i+1)*per)
	}
	header := `{"__metadata__":{"format":"pt"},` + strings.Join(parts, ",") + `}`
	path = filepath.Join(b.TempDir(), "model.safetensors")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := binary.Write(f, binary.LittleEndian, uint64(len(header))); err != nil {
		b.Fatal(err)
	}
	if _, err := f.WriteString(header); err != nil {
		b.Fatal(err)
	}
	if err := f.Truncate(8 + int64(len(header)) + per*n); err != nil {
		b.Fatal(err)
	}
	return path, len(header)
}

// BenchmarkScan scans the same 64-tensor header in front of a 1 MB and a
// 4 GB data section; the time per op must not depend on the data size.
// SetBytes counts the header, which is all the scanner reads.
func BenchmarkScan(b *testing.B) {
	eng := scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatSafetensors: New()}, Workers: 1})
	for _, size := range []struct {
		name string
		n    int64
	}{{"data=1MB", 1 << 20}, {"data=4GB", 4 << 30}} {
		b.Run(size.name, func(b *testing.B) {
			path, hlen := writeSparse(b, size.n)
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			info, err := f.Stat()
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(hlen))
			b.ReportAllocs()
			for b.Loop() {
				fs, err := eng.ScanReader(b.Context(), path, f, info.Size())
				if err != nil || len(fs) != 0 {
					b.Fatalf("scan: %v, %d findings", err, len(fs))
				}
			}
		})
	}
}
