package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzONNX(f *testing.F) {
	for _, name := range []string{"benign_identity.onnx", "mal_onnx_external_data_traversal.onnx"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(onnxModel(opset("com.example", 1), graphF(nodeF("if", "If", "", attrF("g", fMsg(6, nodeF("c", "Constant", "com.example", attrF("value", fMsg(5, extTensor("C", "../x"))))))))))
	f.Add(onnxModel(graphF(fMsg(15, fMsg(1, extTensor("S", "/abs")))), fMsg(20, fMsg(2, fMsg(5, inlineTensor("T", 8)))),
		fMsg(25, fStr(1, "F"), fStr(10, "local"), fMsg(7, fStr(4, "Add")), fMsg(11, fStr(1, "a"), fMsg(10, extTensor("A", "a.bin"))))))
	engine := newEngine()
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"model.onnx", "model"} {
			fs, err := engine.ScanReader(t.Context(), name, bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("ScanReader(%s): %v", name, err)
			}
			for _, f := range fs {
				if !strings.HasPrefix(f.RuleID, "ONX") {
					t.Errorf("%s: unexpected finding %s: %s", name, f.RuleID, f.Message)
				}
				if f.Offset < -1 || f.Offset > int64(len(data)) {
					t.Errorf("%s: finding offset %d outside the %d-byte object", name, f.Offset, len(data))
				}
			}
		}
	})
}
