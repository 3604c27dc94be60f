package savedmodel

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// BenchmarkScan measures the scan of synthetic SavedModels: a graph with a
// 256 MiB constant tensor, and a graph plus function library of 100k
// nodes. B/op stays near the window size whatever the model size.
func BenchmarkScan(b *testing.B) {
	manyNodes := func(n int, wrap func(string, string, []string, ...[]byte) []byte) []byte {
		var buf bytes.Buffer
		for i := range n {
			buf.Write(wrap(fmt.Sprintf("model/dense_%d/MatMul", i), "MatMul", []string{fmt.Sprintf("model/dense_%d/x", i), "w:0"},
				attr("T", fVarint(6, 1)), attr("transpose_a", fVarint(5, 0)), attr("transpose_b", fVarint(5, 0))))
		}
		return buf.Bytes()
	}
	for _, bc := range []struct {
		name  string
		build func() []byte
	}{
		{"const_256MiB", func() []byte {
			c := node("w", "Const", nil, attr("dtype", fVarint(6, 1)), attr("value", fMsg(8, fVarint(1, 1), fBytes(4, make([]byte, 256<<20)))))
			return savedModel(metaGraph(graphDef(c, manyNodes(1000, node))))
		}},
		{"nodes_100k", func() []byte {
			return savedModel(metaGraph(graphDef(manyNodes(50_000, node), library(function("__inference_f_1", manyNodes(50_000, fnNode))))))
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			data := bc.build()
			eng := newEngine(scan.Limits{})
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := eng.ScanReader(b.Context(), "saved_model.pb", bytes.NewReader(data), int64(len(data))); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
