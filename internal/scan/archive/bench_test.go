package archive

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// writeSparseCheckpoint writes a PyTorch-style stored zip to path: a small
// data.pkl, a version record and four tensor members of size/4 bytes each.
// Tensor data is left as holes in a sparse file and carries CRC 0, which
// the scanner never checks. It returns the file size.
func writeSparseCheckpoint(tb testing.TB, path string, size int64) int64 {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	type member struct {
		name string
		data []byte
		size int64
	}
	members := []member{{name: "archive/data.pkl", data: benignPickle}, {name: "archive/version", data: []byte("3\n")}}
	for i := range 4 {
		members = append(members, member{name: fmt.Sprintf("archive/data/%d", i), size: size / 4})
	}
	le := binary.LittleEndian
	var off int64
	var cd bytes.Buffer
	for _, m := range members {
		n := int64(len(m.data))
		if m.data == nil {
			n = m.size
		}
		var crc uint32
		if m.data != nil {
			crc = crc32.ChecksumIEEE(m.data)
		}
		h := make([]byte, zipLocalLen)
		le.PutUint32(h, zipLocalSig)
		le.PutUint16(h[4:], 20)
		le.PutUint32(h[14:], crc)
		le.PutUint32(h[18:], uint32(n))
		le.PutUint32(h[22:], uint32(n))
		le.PutUint16(h[26:], uint16(len(m.name)))
		if _, err := f.WriteAt(append(h, m.name...), off); err != nil {
			tb.Fatal(err)
		}
		if m.data != nil {
			if _, err := f.WriteAt(m.data, off+int64(len(h)+len(m.name))); err != nil {
				tb.Fatal(err)
			}
		}
		c := make([]byte, zipCentralLen)
		le.PutUint32(c, zipCentralSig)
		le.PutUint16(c[4:], 20)
		le.PutUint16(c[6:], 20)
		le.PutUint32(c[16:], crc)
		le.PutUint32(c[20:], uint32(n))
		le.PutUint32(c[24:], uint32(n))
		le.PutUint16(c[28:], uint16(len(m.name)))
		le.PutUint32(c[42:], uint32(off))
		cd.Write(c)
		cd.WriteString(m.name)
		off += int64(len(h)+len(m.name)) + n
	}
	end := make([]byte, zipEndLen)
	le.PutUint32(end, zipEndSig)
	le.PutUint16(end[8:], uint16(len(members)))
	le.PutUint16(end[10:], uint16(len(members)))
	le.PutUint32(end[12:], uint32(cd.Len()))
	le.PutUint32(end[16:], uint32(off))
	if _, err := f.WriteAt(append(cd.Bytes(), end...), off); err != nil {
		tb.Fatal(err)
	}
	return off + int64(cd.Len()) + zipEndLen
}

// BenchmarkZipStoredCheckpoint scans PyTorch-like stored zips whose
// tensors hold 64 MiB and 1 GiB: the time per scan stays the same, as
// stored members are handed on as section readers and never read whole.
func BenchmarkZipStoredCheckpoint(b *testing.B) {
	for _, size := range []int64{64 << 20, 1 << 30} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "model.pt")
			n := writeSparseCheckpoint(b, path, size)
			rec := &recorder{quiet: true}
			eng := newEngine(b, rec, scan.Limits{})
			b.SetBytes(n)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				res, err := eng.ScanPaths(context.Background(), []string{path})
				if err != nil {
					b.Fatal(err)
				}
				if len(res.Findings) != 0 {
					b.Fatalf("unexpected findings:\n%s", dump(res.Findings))
				}
			}
		})
	}
}

// BenchmarkTarGz measures expanding a 16 MiB tar.gz (decompression
// through Session.Expand, spilled to a temporary file, then tar walking).
func BenchmarkTarGz(b *testing.B) {
	var entries []tarEntry
	entries = append(entries, tarEntry{name: "pickle", data: benignPickle})
	for i := range 4 {
		// Half noise, half zeros: compresses about 2:1, like weights.
		d := append(noise(2<<20), make([]byte, 2<<20)...)
		entries = append(entries, tarEntry{name: fmt.Sprintf("tensors/%d", i), data: d})
	}
	tarball := buildTar(b, entries)
	data := gzipBytes(b, tarball)
	eng := newEngine(b, &recorder{quiet: true}, scan.Limits{})
	b.SetBytes(int64(len(tarball)))
	b.ReportAllocs()
	for b.Loop() {
		fs, err := eng.ScanReader(context.Background(), "model.tar.gz", bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		if len(fs) != 0 {
			b.Fatalf("unexpected findings:\n%s", dump(fs))
		}
	}
}
