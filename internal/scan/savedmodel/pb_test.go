package savedmodel

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/testutil"
)

// Protobuf writer helpers: tests build SavedModels field by field.

var (
	cat     = testutil.Cat
	fVarint = testutil.PBVarint
	fBytes  = testutil.PBBytes
	fStr    = testutil.PBString
	fMsg    = testutil.PBMessage
)

// savedModel is a SavedModel (schema version 1) with the given meta graphs.
func savedModel(metas ...[]byte) []byte { return cat(fVarint(1, 1), cat(metas...)) }

// metaGraph is a SavedModel.meta_graphs entry tagged "serve".
func metaGraph(parts ...[]byte) []byte {
	return fMsg(2, fMsg(1, fStr(4, "serve"), fStr(5, "2.16.1")), cat(parts...))
}

// graphDef is MetaGraphDef.graph_def.
func graphDef(parts ...[]byte) []byte { return fMsg(2, cat(parts...)) }

// nodeBody is a NodeDef.
func nodeBody(name, op string, inputs []string, attrs ...[]byte) []byte {
	parts := [][]byte{fStr(1, name), fStr(2, op)}
	for _, in := range inputs {
		parts = append(parts, fStr(3, in))
	}
	return cat(cat(parts...), cat(attrs...))
}

// node is GraphDef.node.
func node(name, op string, inputs []string, attrs ...[]byte) []byte {
	return fBytes(1, nodeBody(name, op, inputs, attrs...))
}

// fnNode is FunctionDef.node_def.
func fnNode(name, op string, inputs []string, attrs ...[]byte) []byte {
	return fBytes(3, nodeBody(name, op, inputs, attrs...))
}

// library is GraphDef.library with the given functions.
func library(fns ...[]byte) []byte { return fMsg(2, cat(fns...)) }

// function is a FunctionDefLibrary.function named name.
func function(name string, nodes ...[]byte) []byte {
	return fMsg(1, fMsg(1, fStr(1, name)), cat(nodes...))
}

// attr is a NodeDef.attr entry; value is the AttrValue body.
func attr(key string, value []byte) []byte { return fMsg(5, fStr(1, key), fBytes(2, value)) }

func attrS(s string) []byte { return fStr(2, s) }

func attrList(ss ...string) []byte {
	var parts [][]byte
	for _, s := range ss {
		parts = append(parts, fStr(2, s))
	}
	return fMsg(1, parts...)
}

// constString is a Const node holding the string s.
func constString(name, s string) []byte {
	return node(name, "Const", nil, attr("dtype", fVarint(6, dtString)), attr("value", fMsg(8, fVarint(1, dtString), fMsg(2), fStr(8, s))))
}

// fnConstString is constString inside a function.
func fnConstString(name, s string) []byte {
	return fnNode(name, "Const", nil, attr("dtype", fVarint(6, dtString)), attr("value", fMsg(8, fVarint(1, dtString), fStr(8, s))))
}

// asset is MetaGraphDef.asset_file_def.
func asset(filename string) []byte {
	return fMsg(6, fMsg(1, fStr(1, "asset_path:0")), fStr(2, filename))
}

// kerasMetadata is a keras_metadata.pb with one node per metadata string
// ("" for a node without metadata).
func kerasMetadata(metadata ...string) []byte {
	var parts [][]byte
	for i, m := range metadata {
		body := cat(fMsg(1, fVarint(1, 1)), fVarint(2, uint64(i)), fStr(3, "root.layer"), fStr(4, "_tf_keras_layer"))
		if m != "" {
			body = cat(body, fStr(5, m))
		}
		parts = append(parts, fBytes(1, body))
	}
	return cat(parts...)
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

// fakeKeras stands in for the Keras config scanner: it reads the whole
// object and reports it as one KER999 finding.
type fakeKeras struct{}

func (fakeKeras) Rules() []scan.Rule { return []scan.Rule{fakeKerasRule} }

var fakeKerasRule = scan.Rule{ID: "KER999", Name: "fake-keras", Severity: scan.SeverityInfo, Summary: "test", Remediation: "test"}

func (fakeKeras) Scan(_ context.Context, obj scan.Object, sess *scan.Session) error {
	b, err := io.ReadAll(io.NewSectionReader(obj.R, 0, obj.Size))
	if err != nil {
		return err
	}
	sess.Report(fakeKerasRule.Finding("keras config", string(b)))
	return nil
}

func newEngine(lim scan.Limits) *scan.Engine {
	return scan.NewEngine(scan.Options{Limits: lim, Scanners: map[scan.Format]scan.Scanner{
		scan.FormatSavedModel:  New(),
		scan.FormatKerasConfig: fakeKeras{},
	}})
}

// scanBytes scans data as an object named name through an engine.
func scanBytes(t testing.TB, name string, data []byte) []scan.Finding {
	t.Helper()
	fs, err := newEngine(scan.Limits{}).ScanReader(t.Context(), name, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("ScanReader(%s): %v", name, err)
	}
	return fs
}
