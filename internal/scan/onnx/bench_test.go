package onnx

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// manyNodes returns n GraphProto.node fields with attributes, alternating
// standard and custom-domain operators.
func manyNodes(n int) []byte {
	var buf bytes.Buffer
	for i := range n {
		domain := ""
		if i%100 == 0 {
			domain = "com.example"
		}
		buf.Write(nodeF(fmt.Sprintf("node_%d", i), "Conv", domain,
			attrF("strides", fVarint(8, 1), fVarint(8, 1), fVarint(20, 7)),
			attrF("kernel_shape", fBytes(8, []byte{3, 3}), fVarint(20, 7))))
	}
	return buf.Bytes()
}

// BenchmarkScan measures the scan of synthetic models: a 256 MiB inline
// initializer (in memory and as a file on disk) and a graph of 200k nodes.
// B/op stays near the window size whatever the model size.
func BenchmarkScan(b *testing.B) {
	large := func() []byte { return onnxModel(graphF(fMsg(5, inlineTensor("W", 256<<20)), manyNodes(1000))) }
	nodes := func() []byte { return onnxModel(graphF(manyNodes(200_000))) }
	for _, bc := range []struct {
		name  string
		build func() []byte
	}{{"raw_256MiB", large}, {"nodes_200k", nodes}} {
		b.Run(bc.name, func(b *testing.B) {
			data := bc.build()
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				scanBytes(b, "model.onnx", data)
			}
		})
	}
	b.Run("raw_256MiB_file", func(b *testing.B) {
		data := large()
		path := filepath.Join(b.TempDir(), "model.onnx")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
		eng := newEngine()
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := eng.ScanPaths(b.Context(), []string{path}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
