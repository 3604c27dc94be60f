package savedmodel

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/palisade-sec/palisade/internal/scan"
)

// forceName hands each top-level object to the SavedModel scanner under
// the name name, whatever the format sniffer makes of the object's own
// name: the tests do not depend on how internal/scan routes
// saved_model.pbtxt.
type forceName struct {
	name string
	sm   *Scanner
}

func (f forceName) Rules() []scan.Rule { return f.sm.Rules() }

func (f forceName) Scan(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	if sess.Depth() == 0 {
		return sess.Nested(ctx, f.name, obj.R, obj.Size, scan.FormatSavedModel)
	}
	return f.sm.Scan(ctx, obj, sess)
}

// scanAs scans data as an object named name, handed to the scanner with
// its format forced (the outer object is named saved_model.pb, which the
// sniffer routes to the SavedModel format).
func scanAs(t testing.TB, lim scan.Limits, name string, data []byte) []scan.Finding {
	t.Helper()
	eng := scan.NewEngine(scan.Options{Limits: lim, Scanners: map[scan.Format]scan.Scanner{
		scan.FormatSavedModel:  forceName{name: name, sm: New()},
		scan.FormatKerasConfig: fakeKeras{},
	}})
	fs, err := eng.ScanReader(t.Context(), "saved_model.pb", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("ScanReader(%s): %v", name, err)
	}
	return fs
}

func scanTextModel(t testing.TB, text string) []scan.Finding {
	t.Helper()
	return scanAs(t, scan.Limits{}, "saved_model.pbtxt", []byte(text))
}

// sampleText is the red-team sample: a text SavedModel (no .pb) whose
// graph reads and writes files.
const sampleText = `saved_model_schema_version: 1
meta_graphs {
  meta_info_def { tags: "serve" }
  graph_def {
    node { name: "c" op: "Const" attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape {} string_val: "/etc/passwd" } } } }
    node { name: "r" op: "ReadFile" input: "c" }
    node { name: "w" op: "WriteFile" input: "c" input: "r" }
  }
}
`

func TestTextSample(t *testing.T) {
	t.Parallel()
	got := scanTextModel(t, sampleText)
	want := []result{
		{"TFS002", scan.SeverityHigh, "meta_graphs[0].graph_def.node[1]", `ReadFile("/etc/passwd")`},
		{"TFS002", scan.SeverityHigh, "meta_graphs[0].graph_def.node[2]", `WriteFile("/etc/passwd")`},
	}
	if diff := cmp.Diff(results(got), want, sortResults); diff != "" {
		t.Fatalf("findings (-got +want):\n%s", diff)
	}
	// Offsets are in the text: at each node's field name.
	for i, f := range got {
		wantNode := []string{`node { name: "r"`, `node { name: "w"`}[i]
		if f.Offset < 0 || !strings.HasPrefix(sampleText[f.Offset:], wantNode) {
			t.Errorf("%s offset %d does not point at %q", f.Evidence, f.Offset, wantNode)
		}
	}
}

// TestTextCorpus scans the text-format copies in testdata.
func TestTextCorpus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir  string
		want []result
	}{
		{"text_tf_savedmodel_benign", nil},
		{"text_tf_savedmodel_readfile_writefile", []result{
			{"TFS002", scan.SeverityHigh, "meta_graphs[0].graph_def.node[1]", `ReadFile("/etc/passwd")`},
			{"TFS002", scan.SeverityHigh, "meta_graphs[0].graph_def.node[2]", `WriteFile("/etc/passwd")`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", tt.dir, textModelName))
			if err != nil {
				t.Fatal(err)
			}
			got := scanAs(t, scan.Limits{}, textModelName, data)
			if diff := cmp.Diff(results(got), tt.want, sortResults); diff != "" {
				t.Errorf("findings (-got +want):\n%s", diff)
			}
		})
	}
}

// TestTextParity checks that text format and wire format of the same
// model get the same findings.
func TestTextParity(t *testing.T) {
	t.Parallel()
	g := func(parts ...[]byte) []byte { return savedModel(metaGraph(graphDef(parts...))) }
	lambda := `{"class_name": "Lambda", "config": {"function": {"class_name": "__lambda__"}}}`
	tests := []struct {
		name string
		text string
		wire []byte
	}{
		{"read of a constant path",
			`meta_graphs { graph_def {
				node { name: "path" op: "Const" attr { key: "value" value { tensor { dtype: DT_STRING string_val: "/etc/passwd" } } } }
				node { name: "read" op: "ReadFile" input: "path:0" } } }`,
			g(constString("path", "/etc/passwd"), node("read", "ReadFile", []string{"path:0"}))},
		{"file op in the function library, angle brackets and lists",
			`meta_graphs < graph_def: < library < function [
				{ signature { name: "f0" } node_def { name: "n" op: "Relu" } },
				{ signature: < name: '__inference_serve_7' >
				  node_def [{ name: "p" op: "Const" attr { key: "value" value { tensor { dtype: 7 string_val: "/tmp/out" } } } },
				            { name: "w" op: "WriteFile" input: ["p:output:0", "x:output:0"] }] } ] > > >`,
			g(library(function("f0", fnNode("n", "Relu", nil)), function("__inference_serve_7", fnConstString("p", "/tmp/out"), fnNode("w", "WriteFile", []string{"p:output:0", "x:output:0"}))))},
		{"debug urls list, escapes and concatenation",
			`meta_graphs { graph_def { node { name: "d" op: "Debug" 'Identity' "V2" input: "x"
				attr { key: "debug_urls" value { list { s: "file:///tmp/d\x75mp" s: ["file:\057\057/tmp/\"q\"", "\u00e9\U0001F600\n"] } } } } } }`,
			g(node("d", "DebugIdentityV2", []string{"x"}, attr("debug_urls", attrList("file:///tmp/dump", `file:///tmp/"q"`, "\u00e9\U0001F600\n"))))},
		{"py func with a token",
			`# a comment
			meta_graphs { # another
			  graph_def { node { name: "p"; op: "PyFunc"; input: "x"; attr { key: "token" value { s: "pyfunc_0" } }; } }
			}`,
			g(node("p", "PyFunc", []string{"x"}, attr("token", attrS("pyfunc_0"))))},
		{"save to a constant path, unknown fields skipped",
			`saved_model_schema_version: 1
			meta_graphs {
			  meta_info_def { tags: "serve" tensorflow_version: "2.16.1" any_info { [type.googleapis.com/tensorflow.Foo] { x: -1.5e-3 y: -inf z: 0x1F w: [1, 2, 3] } } }
			  saver_def { filename_tensor_name: "saver_filename:0" version: V2 }
			  graph_def {
			    versions { producer: 1645 }
			    node { name: "prefix" op: "Const" device: "/cpu:0"
			      attr { key: "dtype" value { type: DT_STRING } }
			      attr { key: "value" value { tensor { dtype: DT_STRING tensor_shape { dim { size: 1 } } string_val: "/etc/cron.d/evil" string_val: "ignored" } } } }
			    node { name: "s" op: "SaveV2" input: "prefix" input: "names" experimental_debug_info { original_node_names: "s" } }
			  }
			  signature_def { key: "serving_default" value { method_name: "tensorflow/serving/predict" } }
			}`,
			g(constString("prefix", "/etc/cron.d/evil"), node("s", "SaveV2", []string{"prefix", "names"}))},
		{"non-standard ops and a library function",
			`meta_graphs { graph_def {
				node { name: "a" op: "SentencepieceOp" } node { name: "b" op: "SentencepieceOp" }
				node { name: "call" op: "__inference_f_12" }
				library { function { signature { name: "__inference_f_12" } node_def { name: "k" op: "MyCustomKernel" } } } } }`,
			g(node("a", "SentencepieceOp", nil), node("b", "SentencepieceOp", nil), node("call", "__inference_f_12", nil),
				library(function("__inference_f_12", fnNode("k", "MyCustomKernel", nil))))},
		{"asset traversal",
			`meta_graphs { graph_def {} asset_file_def { tensor_info { name: "asset_path:0" } filename: "vocab.txt" }
				asset_file_def { filename: "../../etc/passwd" } }`,
			savedModel(metaGraph(graphDef(), asset("vocab.txt"), asset("../../etc/passwd")))},
		{"second meta graph and a print to a file",
			`meta_graphs { graph_def { node { name: "a" op: "Add" } } }
			meta_graphs { graph_def { node { name: "p" op: "PrintV2" attr { key: "output_stream" value { s: "file:///tmp/leak.txt" } } } } }`,
			savedModel(metaGraph(graphDef(node("a", "Add", nil))), metaGraph(graphDef(node("p", "PrintV2", nil, attr("output_stream", attrS("file:///tmp/leak.txt"))))))},
		{"keras metadata in the object graph",
			`meta_graphs { graph_def {} object_graph_def {
				nodes { user_object { identifier: "_generic_user_object" } }
				nodes { user_object { identifier: "_tf_keras_layer" version { producer: 1 } metadata: "` + strings.ReplaceAll(lambda, `"`, `\"`) + `" } }
				nodes { user_object { identifier: "trackable" metadata: "not json" } }
				nodes { variable { dtype: DT_FLOAT } } } }`,
			savedModel(metaGraph(graphDef(), fMsg(7,
				fMsg(1, fMsg(4, fStr(1, "_generic_user_object"))),
				fMsg(1, fMsg(4, fStr(1, "_tf_keras_layer"), fMsg(2, fVarint(1, 1)), fStr(3, lambda))),
				fMsg(1, fMsg(4, fStr(1, "trackable"), fStr(3, "not json"))),
				fMsg(1, fMsg(7, fVarint(1, 1))))))},
		{"saver graph of a real SavedModel",
			`meta_graphs { graph_def {
				node { name: "saver_filename" op: "Placeholder" attr { key: "dtype" value { type: DT_STRING } } }
				node { name: "Const" op: "Const" attr { key: "value" value { tensor { dtype: DT_STRING string_val: "_temp/part" } } } }
				node { name: "StringJoin" op: "StringJoin" input: "saver_filename" input: "Const" }
				node { name: "SaveV2" op: "SaveV2" input: "StringJoin" input: "tensor_names" }
				node { name: "RestoreV2" op: "RestoreV2" input: "saver_filename" } } }`,
			nil},
		{"empty model", ``, savedModel()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := results(scanTextModel(t, tt.text))
			var want []result
			if tt.wire != nil {
				want = results(scanBytes(t, "saved_model.pb", tt.wire))
			}
			if diff := cmp.Diff(got, want, sortResults); diff != "" {
				t.Errorf("text findings (-got) differ from wire-format findings (+want):\n%s", diff)
			}
			if tt.wire != nil && len(want) == 0 && tt.name != "empty model" {
				t.Errorf("the wire-format model has no findings; the case tests nothing")
			}
		})
	}
}

// TestTextMalformed checks that malformed text fails closed (TFS001 at
// the fault's offset in the text) and that findings before the fault are
// kept.
func TestTextMalformed(t *testing.T) {
	t.Parallel()
	readFile := `meta_graphs { graph_def { node { name: "r" op: "ReadFile" input: "x" } `
	tests := []struct {
		name     string
		text     string
		at       string // the text at the fault's offset ("" for the end)
		reason   string
		pointer  string
		readFile bool // the ReadFile node before the fault is reported
	}{
		{"unclosed message", readFile, "", "ends inside a message", "meta_graphs[0].graph_def", true},
		{"unclosed string", `meta_graphs { graph_def { node { op: "ReadFile`, "", "ends inside a string", "meta_graphs[0].graph_def.node[0]", false},
		{"string across lines", "meta_graphs { graph_def { node { op: \"Read\nFile\" } } }", "\nFile", "past the end of its line", "meta_graphs[0].graph_def.node[0]", false},
		{"bad escape", readFile + `node { op: "a\qb" } } }`, `\qb`, "invalid escape", "meta_graphs[0].graph_def.node[1]", true},
		{"short unicode escape", `meta_graphs { graph_def { node { op: "\u12" } } }`, `\u12`, "needs 4 hex digits", "meta_graphs[0].graph_def.node[0]", false},
		{"op is not a string", readFile + `node { op: ReadFile } } }`, `ReadFile } } }`, "expected a string", "meta_graphs[0].graph_def.node[1]", true},
		{"scalar field without a colon", `meta_graphs { graph_def { node { op "ReadFile" } } }`, `"ReadFile"`, "expected ':'", "meta_graphs[0].graph_def.node[0]", false},
		{"node is not a message", `meta_graphs { graph_def { node: "x" } }`, `"x"`, "expected a message", "meta_graphs[0].graph_def", false},
		{"stray closer", readFile + `} } }`, `}`, "expected a field name", "", true},
		{"mismatched closer", `meta_graphs < graph_def { } }`, `}`, "expected a field name", "meta_graphs[0]", false},
		{"bad list", `meta_graphs { graph_def { node { input: ["a" "b"; ] } } }`, `; ]`, "expected ',' or ']'", "meta_graphs[0].graph_def.node[0]", false},
		{"unknown field without value", `meta_graphs { foo }`, `}`, "expected ':' or a message", "meta_graphs[0]", false},
		{"bad number", `meta_graphs { foo: 0x }`, `0x }`, "not a number", "meta_graphs[0]", false},
		{"bad type name", `meta_graphs { [a.b { } }`, `{ } }`, "expected ']'", "meta_graphs[0]", false},
		{"binary bytes", "meta_graphs { \x12\x05 }", "\x12", "expected a field name", "meta_graphs[0]", false},
		{"too deep", strings.Repeat("meta_graphs { foo {", 60) + strings.Repeat("} }", 60), "{", "nested deeper than 100", "meta_graphs[0]", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var bad []scan.Finding
			reported := false
			for _, f := range scanTextModel(t, tt.text) {
				switch {
				case f.RuleID == "TFS001":
					bad = append(bad, f)
				case f.RuleID == "TFS002" && f.Evidence == "ReadFile(<x>)":
					reported = true
				default:
					t.Errorf("unexpected finding %s: %s", f.RuleID, f.Message)
				}
			}
			if len(bad) != 1 {
				t.Fatalf("got %d TFS001 findings, want 1", len(bad))
			}
			f := bad[0]
			if f.Severity != scan.SeverityMedium || !strings.Contains(f.Message, tt.reason) || !strings.Contains(f.Message, "text format") {
				t.Errorf("message %q (%s) does not mention %q", f.Message, f.Severity, tt.reason)
			}
			if f.Offset < 0 || f.Offset > int64(len(tt.text)) || !strings.HasPrefix(tt.text[f.Offset:], tt.at) || (tt.at == "" && f.Offset != int64(len(tt.text))) {
				t.Errorf("fault offset %d, want it at %q", f.Offset, tt.at)
			}
			if f.Pointer != tt.pointer {
				t.Errorf("pointer = %q, want %q", f.Pointer, tt.pointer)
			}
			if reported != tt.readFile {
				t.Errorf("ReadFile before the fault reported = %v, want %v", reported, tt.readFile)
			}
		})
	}
}

// TestTextSizeLimit checks that text past MaxHeaderBytes is not read, that
// what comes before the limit is analysed, and that the scan is reported
// incomplete.
func TestTextSizeLimit(t *testing.T) {
	t.Parallel()
	text := `meta_graphs { graph_def { node { name: "r" op: "ReadFile" input: "x" } node { name: "w" op: "WriteFile" input: "x" } } }`
	cut := strings.Index(text, "WriteFile") + 4 // inside the second op name
	got := scanAs(t, scan.Limits{MaxHeaderBytes: int64(cut)}, textModelName, []byte(text))
	want := []result{
		{"SCN001", scan.SeverityHigh, "", ""},
		{"TFS002", scan.SeverityHigh, "meta_graphs[0].graph_def.node[0]", "ReadFile(<x>)"},
	}
	if diff := cmp.Diff(results(got), want, sortResults); diff != "" {
		t.Fatalf("findings (-got +want):\n%s", diff)
	}
	for _, f := range got {
		if f.RuleID == "SCN001" && !strings.Contains(f.Message, "header limit") {
			t.Errorf("SCN001 message %q does not mention the limit", f.Message)
		}
	}
	// At the limit exactly, everything is read.
	got = scanAs(t, scan.Limits{MaxHeaderBytes: int64(len(text))}, textModelName, []byte(text))
	if len(got) != 2 || got[0].RuleID != "TFS002" || got[1].RuleID != "TFS002" {
		t.Errorf("findings at the limit = %+v, want two TFS002", results(got))
	}
}

// TestTextRouting checks which objects are read as text: saved_model.pbtxt
// always, saved_model.pb never (TensorFlow parses it as wire format), and
// other names when the content opens like a text SavedModel.
func TestTextRouting(t *testing.T) {
	t.Parallel()
	text := []byte(sampleText)
	tests := []struct {
		name string
		data []byte
		want string // the rule of the findings
	}{
		{"saved_model.pbtxt", text, "TFS002"},
		{"SAVED_MODEL.PBTXT", text, "TFS002"},
		{"model/saved_model.pbtxt", []byte("\n# exported\n" + sampleText), "TFS002"},
		{"saved_model.pb", text, "TFS001"},
		{"graph.txt", text, "TFS002"},
		{"graph.txt", []byte("  # c\n meta_graphs<graph_def<node<op:'ReadFile'>>>"), "TFS002"},
		{"graph.bin", savedModel(metaGraph(graphDef(node("r", "ReadFile", nil)))), "TFS002"},
		{"graph.bin", []byte("meta_graphs_x { }"), "TFS001"},
	}
	for _, tt := range tests {
		got := scanAs(t, scan.Limits{}, tt.name, tt.data)
		if len(got) == 0 {
			t.Errorf("%s %q: no findings, want %s", tt.name, tt.data[:min(len(tt.data), 20)], tt.want)
		}
		for _, f := range got {
			if f.RuleID != tt.want {
				t.Errorf("%s %q: finding %s (%s), want %s", tt.name, tt.data[:min(len(tt.data), 20)], f.RuleID, f.Message, tt.want)
			}
		}
	}
}

// TestTranscodeBounded checks that the wire format the transcoder writes
// is at most twice as long as the text, whatever the text.
func TestTranscodeBounded(t *testing.T) {
	t.Parallel()
	for _, text := range []string{
		sampleText,
		"meta_graphs{" + strings.Repeat("graph_def{}", 1000) + "}",
		"meta_graphs{graph_def{" + strings.Repeat("node{attr{value{list{s:''}}}}", 1000) + "}}",
		"meta_graphs{graph_def{node{input:[" + strings.Repeat("'',", 1000) + "'']}}}",
		"meta_graphs{graph_def{node[" + strings.Repeat("{},", 1000) + "{}]}}",
		"meta_graphs{graph_def{node{attr{value{tensor{" + strings.Repeat("dtype:18446744073709551615 ", 1000) + "}}}}}}",
	} {
		tr := &transcoder{ctx: t.Context(), src: []byte(text)}
		if err := tr.run(); err != nil {
			t.Fatalf("run(%.40q): %v", text, err)
		}
		if len(tr.out) > 2*len(text) {
			t.Errorf("%.40q: %d bytes of text became %d bytes", text, len(text), len(tr.out))
		}
	}
}

func TestTextContextCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	text := "meta_graphs { graph_def { " + strings.Repeat(`node { op: "Add" } `, 2*textCheckInterval) + "} }"
	tr := &transcoder{ctx: ctx, src: []byte(text)}
	if err := tr.run(); !errors.Is(err, context.Canceled) {
		t.Errorf("run = %v, want context.Canceled", err)
	}
}

// TestTextSchema checks that every message of the text schema fits the
// per-message counters and that its fields match their kinds.
func TestTextSchema(t *testing.T) {
	t.Parallel()
	seen := map[*textMsg]bool{}
	var visit func(name string, m *textMsg)
	visit = func(name string, m *textMsg) {
		if seen[m] {
			return
		}
		seen[m] = true
		if len(m.fields) > maxTextFields {
			t.Errorf("%s has %d fields, more than maxTextFields (%d)", name, len(m.fields), maxTextFields)
		}
		for _, f := range m.fields {
			if (f.kind == textMessage) != (f.msg != nil) {
				t.Errorf("%s.%s: kind %d with message %v", name, f.name, f.kind, f.msg != nil)
			}
			if f.msg != nil {
				visit(name+"."+f.name, f.msg)
			}
		}
	}
	visit("SavedModel", textSavedModel)
	if len(seen) != 15 {
		t.Errorf("the schema has %d messages, want 15", len(seen))
	}
}
