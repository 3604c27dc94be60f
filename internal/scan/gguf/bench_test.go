package gguf

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// writeSparse writes a GGUF file with a realistic header (a ChatML
// template, a 32k-token vocabulary with scores, 64 F32 tensors) whose
// tensors fill dataLen bytes; the data section is a sparse hole.
func writeSparse(b *testing.B, dataLen int64) (path string, headerLen int) {
	b.Helper()
	const n = 64
	tokens := make([]string, 32_000)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("tok%05d", i)
	}
	per := uint64(dataLen / n)
	var tensors []ti
	for i := range uint64(n) {
		tensors = append(tensors, ti{fmt.Sprintf("blk.%d.attn_q.weight", i), []uint64{per / 4}, f32, i * per})
	}
	scores := kvRaw("tokenizer.ggml.scores", typeArray, func(w *gw) {
		w.u32(typeF32)
		w.u64(uint64(len(tokens)))
		w.b.Write(make([]byte, 4*len(tokens)))
	})
	header := build(spec{kvs: with(kvStr("tokenizer.chat_template", chatML), kvStrs("tokenizer.ggml.tokens", tokens), scores), tensors: tensors})
	path = filepath.Join(b.TempDir(), "model.gguf")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(header); err != nil {
		b.Fatal(err)
	}
	if err := f.Truncate(int64(len(header)) + int64(per*n)); err != nil {
		b.Fatal(err)
	}
	return path, len(header)
}

// BenchmarkScan scans the same header in front of a 1 MB and a 4 GB data
// section; the time per op must not depend on the data size. SetBytes
// counts the header, which is all the scanner reads.
func BenchmarkScan(b *testing.B) {
	eng := scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatGGUF: New()}, Workers: 1})
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

// BenchmarkTemplate measures the analyser on a long benign template.
func BenchmarkTemplate(b *testing.B) {
	src := benignTemplates["qwen2.5-tools"]
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if v := analyzeTemplate(src); v.severity != scan.SeverityNone {
			b.Fatal(v.reasons)
		}
	}
}
