package onnx

import (
	"bytes"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/testutil"
)

// Protobuf writer helpers: tests build ONNX models field by field.

var (
	cat     = testutil.Cat
	fVarint = testutil.PBVarint
	fBytes  = testutil.PBBytes
	fStr    = testutil.PBString
	fMsg    = testutil.PBMessage
)

// onnxModel is a ModelProto with IR version 8, the default opset and the
// given fields.
func onnxModel(parts ...[]byte) []byte {
	return cat(fVarint(1, 8), fStr(2, "palisade-test"), opset("", 17), cat(parts...))
}

// graphF is ModelProto.graph.
func graphF(parts ...[]byte) []byte { return fMsg(7, cat(fStr(2, "g"), cat(parts...))) }

// opset is an opset_import entry (ModelProto field 8).
func opset(domain string, version uint64) []byte {
	return fMsg(8, fStr(1, domain), fVarint(2, version))
}

// nodeF is a GraphProto.node (field 1) running op from domain.
func nodeF(name, op, domain string, attrs ...[]byte) []byte {
	parts := [][]byte{fStr(1, "x"), fStr(2, "y"), fStr(3, name), fStr(4, op)}
	if domain != "" {
		parts = append(parts, fStr(7, domain))
	}
	return fMsg(1, cat(parts...), cat(attrs...))
}

// attrF is a NodeProto.attribute (field 5).
func attrF(name string, parts ...[]byte) []byte { return fMsg(5, fStr(1, name), cat(parts...)) }

// extTensor is a TensorProto body whose data lives in external file loc.
func extTensor(name, loc string) []byte {
	return cat(fVarint(1, 4), fVarint(2, 1), fStr(8, name),
		fMsg(13, fStr(1, "location"), fStr(2, loc)),
		fMsg(13, fStr(1, "offset"), fStr(2, "0")),
		fVarint(14, dataLocationExternal))
}

// inlineTensor is a TensorProto body with n bytes of raw_data.
func inlineTensor(name string, n int) []byte {
	return cat(fVarint(1, uint64(n/4)), fVarint(2, 1), fStr(8, name), fBytes(9, make([]byte, n)))
}

// result is the part of a finding the tests compare.
type result struct {
	Rule     string
	Severity scan.Severity
	Pointer  string
	Evidence string
}

func results(fs []scan.Finding) []result {
	var out []result
	for _, f := range fs {
		out = append(out, result{f.RuleID, f.Severity, f.Pointer, f.Evidence})
	}
	return out
}

func newEngine() *scan.Engine {
	return scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatONNX: New()}})
}

// scanBytes scans data as an object named name through an engine.
func scanBytes(t testing.TB, name string, data []byte) []scan.Finding {
	t.Helper()
	fs, err := newEngine().ScanReader(t.Context(), name, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("ScanReader(%s): %v", name, err)
	}
	return fs
}
