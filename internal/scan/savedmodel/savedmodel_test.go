package savedmodel

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/scan/protowalk"
	"github.com/palisade-sec/palisade/internal/testutil"
	"google.golang.org/protobuf/encoding/protowire"
)

var sortResults = cmpopts.SortSlices(func(a, b result) bool {
	return a.Rule+a.Pointer+a.Evidence < b.Rule+b.Pointer+b.Evidence
})

func TestCorpus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir     string
		wantMax scan.Severity // the verdict in the corpus MANIFEST.tsv
		want    []result
	}{
		{"benign_tf_savedmodel", scan.SeverityNone, nil},
		{"mal_tf_savedmodel_readfile_writefile", scan.SeverityHigh, []result{
			{"TFS002", scan.SeverityHigh, "meta_graphs[0].graph_def.node[1]", "ReadFile(<n0_Const>)"},
			{"TFS002", scan.SeverityHigh, "meta_graphs[0].graph_def.node[2]", "WriteFile(<n1_ReadFile>)"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			t.Parallel()
			// The model directory, as a user would name it.
			res, err := newEngine(scan.Limits{}).ScanPaths(t.Context(), []string{filepath.Join("testdata", tt.dir)})
			if err != nil {
				t.Fatal(err)
			}
			highest := scan.SeverityNone
			for _, f := range res.Findings {
				highest = max(highest, f.Severity)
			}
			if highest != tt.wantMax {
				t.Errorf("highest severity = %s, want %s", highest, tt.wantMax)
			}
			if res.Scanned != 1 {
				t.Errorf("scanned %d files, want 1", res.Scanned)
			}
			if diff := cmp.Diff(results(res.Findings), tt.want, sortResults); diff != "" {
				t.Errorf("findings (-got +want):\n%s", diff)
			}
		})
	}
}

func TestGraphOps(t *testing.T) {
	t.Parallel()
	g := func(parts ...[]byte) []byte { return savedModel(metaGraph(graphDef(parts...))) }
	fnPtr := "meta_graphs[0].graph_def.library.function[0]"
	saverGraph := g(
		node("saver_filename", "Placeholder", nil, attr("dtype", fVarint(6, dtString))),
		node("Const", "Const", nil, attr("dtype", fVarint(6, dtString)), attr("value", fMsg(8, fVarint(1, dtString), fStr(8, "_temp/part")))),
		node("StringJoin", "StringJoin", []string{"saver_filename", "Const"}),
		node("ShardedFilename", "ShardedFilename", []string{"StringJoin", "num_shards", "shard"}),
		node("SaveV2", "SaveV2", []string{"ShardedFilename", "tensor_names", "shape_and_slices", "^v"}),
		node("MergeV2Checkpoints", "MergeV2Checkpoints", []string{"ShardedFilespec", "saver_filename"}),
		node("RestoreV2", "RestoreV2", []string{"saver_filename", "tensor_names", "shape_and_slices"}),
		node("StaticRegexFullMatch", "StaticRegexFullMatch", []string{"saver_filename"}),
		node("Select", "Select", []string{"StaticRegexFullMatch", "a", "b"}),
		node("Identity", "Identity", []string{"RestoreV2"}),
		node("DisableCopyOnRead", "DisableCopyOnRead", []string{"v"}),
		node("AssignVariableOp", "AssignVariableOp", []string{"v", "Identity"}),
		node("NoOp", "NoOp", nil),
	)
	tests := []struct {
		name  string
		model []byte
		want  []result
	}{
		{"saver graph of a real SavedModel", saverGraph, nil},
		{"read of a constant path", g(constString("path", "/etc/passwd"), node("read", "ReadFile", []string{"path:0"})),
			[]result{{"TFS002", scan.SeverityHigh, "meta_graphs[0].graph_def.node[1]", `ReadFile("/etc/passwd")`}}},
		{"file op in the function library", g(library(function("__inference_serve_7", fnConstString("p", "/tmp/out"), fnNode("w", "WriteFile", []string{"p:output:0", "x:output:0"})))),
			[]result{{"TFS002", scan.SeverityHigh, fnPtr + ".node_def[1]", `WriteFile("/tmp/out")`}}},
		{"matching files", g(node("m", "MatchingFiles", []string{"pattern"})),
			[]result{{"TFS002", scan.SeverityHigh, "meta_graphs[0].graph_def.node[0]", "MatchingFiles(<pattern>)"}}},
		{"whole file reader", g(node("r", "WholeFileReaderV2", nil)),
			[]result{{"TFS002", scan.SeverityHigh, "meta_graphs[0].graph_def.node[0]", "WholeFileReaderV2"}}},
		{"immutable const", g(node("c", "ImmutableConst", nil, attr("memory_region_name", attrS("/etc/shadow")))),
			[]result{{"TFS002", scan.SeverityHigh, "meta_graphs[0].graph_def.node[0]", `ImmutableConst(memory_region_name="/etc/shadow")`}}},
		{"debug identity to file", g(node("d", "DebugIdentityV2", []string{"x"}, attr("debug_urls", attrList("file:///tmp/dump", "file:///tmp/dump2")))),
			[]result{{"TFS002", scan.SeverityHigh, "meta_graphs[0].graph_def.node[0]", `DebugIdentityV2(debug_urls=["file:///tmp/dump", "file:///tmp/dump2"])`}}},
		{"tfrecord dataset", g(constString("f", "/data/x.tfrecord"), node("ds", "TFRecordDatasetV2", []string{"f", "c", "b", "m"})),
			[]result{{"TFS002", scan.SeverityHigh, "meta_graphs[0].graph_def.node[1]", `TFRecordDatasetV2("/data/x.tfrecord")`}}},
		{"print to a file", g(node("p", "PrintV2", []string{"s"}, attr("output_stream", attrS("file:///tmp/leak.txt")))),
			[]result{{"TFS002", scan.SeverityHigh, "meta_graphs[0].graph_def.node[0]", `PrintV2(output_stream="file:///tmp/leak.txt")`}}},
		{"print to stderr", g(node("p", "PrintV2", []string{"s"}, attr("output_stream", attrS("stderr")), attr("end", attrS("\n")))), nil},
		{"decode proto with a descriptor file", g(node("d", "DecodeProtoV2", []string{"b"}, attr("descriptor_source", attrS("/tmp/desc.pb")))),
			[]result{{"TFS002", scan.SeverityHigh, "meta_graphs[0].graph_def.node[0]", `DecodeProtoV2(descriptor_source="/tmp/desc.pb")`}}},
		{"decode proto from the registry", g(node("d", "DecodeProtoV2", []string{"b"}, attr("descriptor_source", attrS("local://")))), nil},
		{"py func", g(node("p", "PyFunc", []string{"x"}, attr("token", attrS("pyfunc_0")))),
			[]result{{"TFS003", scan.SeverityHigh, "meta_graphs[0].graph_def.node[0]", `PyFunc(token="pyfunc_0")`}}},
		{"eager py func in a function", g(library(function("f", fnNode("p", "EagerPyFunc", []string{"x"})))),
			[]result{{"TFS003", scan.SeverityHigh, fnPtr + ".node_def[0]", "EagerPyFunc"}}},
		{"save to a constant absolute path", g(constString("prefix", "/etc/cron.d/evil"), node("s", "SaveV2", []string{"prefix", "names", "slices", "t"})),
			[]result{{"TFS005", scan.SeverityHigh, "meta_graphs[0].graph_def.node[1]", `SaveV2("/etc/cron.d/evil")`}}},
		{"merge to a constant traversal path", g(constString("dst", "../../../home/u/.bashrc"), node("m", "MergeV2Checkpoints", []string{"src", "dst"})),
			[]result{{"TFS005", scan.SeverityHigh, "meta_graphs[0].graph_def.node[1]", `MergeV2Checkpoints("../../../home/u/.bashrc")`}}},
		{"vocabulary from a remote file system", g(constString("v", "gs://bucket/vocab.txt"), node("t", "InitializeTableFromTextFileV2", []string{"table", "v"})),
			[]result{{"TFS005", scan.SeverityHigh, "meta_graphs[0].graph_def.node[1]", `InitializeTableFromTextFileV2("gs://bucket/vocab.txt")`}}},
		{"vocabulary from a relative file", g(constString("v", "vocab.txt"), node("t", "InitializeTableFromTextFileV2", []string{"table", "v"})), nil},
		{"control input is not a path", g(constString("p", "/etc/x"), node("s", "SaveV2", []string{"^p"})), nil},
		{"constant in a merged graph_def", savedModel(metaGraph(graphDef(constString("p", "/etc/x")), graphDef(node("s", "Save", []string{"p"})))),
			[]result{{"TFS005", scan.SeverityHigh, "meta_graphs[0].graph_def.node[0]", `Save("/etc/x")`}}},
		{"constants are scoped per function", g(constString("p", "/etc/x"), library(function("f", fnNode("s", "SaveV2", []string{"p"})))), nil},
		{"non-standard op once per name", g(node("a", "SentencepieceOp", nil), node("b", "SentencepieceOp", nil), node("c", "CaseFoldUTF8", nil)),
			[]result{
				{"TFS004", scan.SeverityLow, "meta_graphs[0].graph_def.node[0]", "SentencepieceOp"},
				{"TFS004", scan.SeverityLow, "meta_graphs[0].graph_def.node[2]", "CaseFoldUTF8"},
			}},
		{"library function called as an op", g(node("call", "__inference_f_12", []string{"x"}), library(function("__inference_f_12", fnNode("r", "Relu", []string{"x"})))), nil},
		{"non-standard op inside a function", g(library(function("f", fnNode("k", "MyCustomKernel", nil)))),
			[]result{{"TFS004", scan.SeverityLow, fnPtr + ".node_def[0]", "MyCustomKernel"}}},
		{"second meta graph", savedModel(metaGraph(graphDef(node("a", "Add", nil))), metaGraph(graphDef(node("r", "ReadFile", []string{"x"})))),
			[]result{{"TFS002", scan.SeverityHigh, "meta_graphs[1].graph_def.node[0]", "ReadFile(<x>)"}}},
		{"asset traversal", savedModel(metaGraph(graphDef(), asset("vocab.txt"), asset("../../etc/passwd"))),
			[]result{{"TFS006", scan.SeverityHigh, "meta_graphs[0].asset_file_def[1]", `filename="../../etc/passwd"`}}},
		{"absolute asset", savedModel(metaGraph(graphDef(), asset(`C:\Windows\win.ini`))),
			[]result{{"TFS006", scan.SeverityHigh, "meta_graphs[0].asset_file_def[0]", `filename="C:\\Windows\\win.ini"`}}},
		{"empty model", savedModel(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := scanBytes(t, "saved_model.pb", tt.model)
			if diff := cmp.Diff(results(got), tt.want, sortResults); diff != "" {
				t.Errorf("findings (-got +want):\n%s", diff)
			}
		})
	}
}

func TestMessages(t *testing.T) {
	t.Parallel()
	model := savedModel(metaGraph(graphDef(library(function("__inference_serve_7", fnNode("w", "WriteFile", []string{"p"})))), graphDef(node("a", "Custom", nil), node("b", "Custom", nil))))
	got := scanBytes(t, "saved_model.pb", model)
	want := map[string][]string{
		"TFS002": {`node "w"`, `library function "__inference_serve_7" of meta graph 0`, "writes files"},
		"TFS004": {`op "Custom"`, `node "a"`, "2 node(s)", "custom library"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d findings, want %d: %+v", len(got), len(want), results(got))
	}
	for _, f := range got {
		for _, s := range want[f.RuleID] {
			if !strings.Contains(f.Message, s) {
				t.Errorf("%s message %q does not mention %s", f.RuleID, f.Message, s)
			}
		}
		if f.Offset <= 0 || f.Remediation == "" {
			t.Errorf("%s lacks an offset or remediation", f.RuleID)
		}
	}
}

func TestKerasMetadata(t *testing.T) {
	t.Parallel()
	lambda := `{"class_name": "Lambda", "config": {"function": {"class_name": "__lambda__"}}}`
	dense := `{"class_name": "Dense", "config": {"units": 4}}`
	tests := []struct {
		name  string
		file  string
		data  []byte
		inner [][]string
		json  []string
	}{
		{"keras_metadata.pb", "keras_metadata.pb", kerasMetadata(dense, "", lambda),
			[][]string{{"keras_metadata node 0"}, {"keras_metadata node 2"}}, []string{dense, lambda}},
		{"object graph metadata", "saved_model.pb", savedModel(metaGraph(graphDef(), fMsg(7,
			fMsg(1, fMsg(4, fStr(1, "_generic_user_object"))),
			fMsg(1, fMsg(4, fStr(1, "_tf_keras_layer"), fMsg(2, fVarint(1, 1)), fStr(3, lambda))),
			fMsg(1, fMsg(4, fStr(1, "trackable"), fStr(3, "not json"))),
			fMsg(1, fMsg(7, fVarint(1, 1))),
		))), [][]string{{"object_graph_def node 1 metadata"}}, []string{lambda}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := scanBytes(t, tt.file, tt.data)
			var inner [][]string
			var json []string
			for _, f := range got {
				if f.RuleID != "KER999" {
					t.Errorf("unexpected finding %s: %s", f.RuleID, f.Message)
					continue
				}
				inner = append(inner, f.Inner)
				json = append(json, f.Evidence)
			}
			if diff := cmp.Diff(inner, tt.inner); diff != "" {
				t.Errorf("nested objects (-got +want):\n%s", diff)
			}
			if diff := cmp.Diff(json, tt.json); diff != "" {
				t.Errorf("nested content (-got +want):\n%s", diff)
			}
		})
	}
}

// TestNestedLimit checks that a budget error from sess.Nested stops the
// scan and reaches the engine unchanged (an SCN003 finding, not SCN001).
func TestNestedLimit(t *testing.T) {
	t.Parallel()
	data := kerasMetadata(`{"a": 1}`, `{"b": 2}`, `{"c": 3}`)
	fs, err := newEngine(scan.Limits{MaxEntries: 2}).ScanReader(t.Context(), "keras_metadata.pb", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, f := range fs {
		rules = append(rules, f.RuleID)
	}
	slices.Sort(rules)
	if diff := cmp.Diff(rules, []string{"KER999", "KER999", "SCN003"}); diff != "" {
		t.Errorf("rules (-got +want):\n%s", diff)
	}
}

func TestMalformed(t *testing.T) {
	t.Parallel()
	mal, err := os.ReadFile(filepath.Join("testdata", "mal_tf_savedmodel_readfile_writefile", "saved_model.pb"))
	if err != nil {
		t.Fatal(err)
	}
	tag := func(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }
	tests := []struct {
		name        string
		file        string
		data        []byte
		wantPointer string
		wantMsg     string
		wantOthers  []string // rules reported before the fault
	}{
		{"truncated", "saved_model.pb", mal[:100], "", "runs past the end", nil},
		{"meta graph as varint", "saved_model.pb", cat(fVarint(1, 1), fVarint(2, 5)), "", "SavedModel.meta_graphs (field 2) has wire type varint, want length-delimited", nil},
		{"graph def as fixed64", "saved_model.pb", savedModel(fMsg(2, protowire.AppendFixed64(tag(2, protowire.Fixed64Type), 1))), "meta_graphs[0]", "MetaGraphDef.graph_def (field 2) has wire type fixed64", nil},
		{"op as varint", "saved_model.pb", savedModel(metaGraph(graphDef(fMsg(1, fStr(1, "n"), fVarint(2, 1))))), "meta_graphs[0].graph_def.node[0]", "NodeDef.op (field 2)", nil},
		{"attr value list s as varint", "saved_model.pb", savedModel(metaGraph(graphDef(node("n", "Add", nil, attr("T", fMsg(1, fVarint(2, 1))))))), "meta_graphs[0].graph_def.node[0].attr[0].list", "AttrValue.ListValue.s (field 2)", nil},
		{"fault after a finding", "saved_model.pb", cat(savedModel(metaGraph(graphDef(node("r", "ReadFile", nil)))), []byte{0x00}), "", "invalid field number 0", []string{"TFS002"}},
		{"bad wire type", "saved_model.pb", cat(fVarint(1, 1), []byte{0x0e}), "", "invalid wire type 6", nil},
		{"keras metadata truncated", "keras_metadata.pb", kerasMetadata(`{"a": 1}`)[:20], "", "runs past the end", nil},
		{"keras node id as bytes", "keras_metadata.pb", fMsg(1, fStr(2, "x")), "nodes[0]", "SavedMetadata.SavedObject.node_id (field 2)", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := scanBytes(t, tt.file, tt.data)
			var others []string
			n := 0
			for _, f := range got {
				switch {
				case f.RuleID == "TFS001":
					n++
					if f.Severity != scan.SeverityMedium || !strings.Contains(f.Evidence, tt.wantMsg) || f.Pointer != tt.wantPointer || f.Offset < 0 {
						t.Errorf("finding = %s %q at %q offset %d, want medium with %q at %q", f.Severity, f.Evidence, f.Pointer, f.Offset, tt.wantMsg, tt.wantPointer)
					}
				case strings.HasPrefix(f.RuleID, "SCN"):
					t.Errorf("engine finding %s: %s", f.RuleID, f.Message)
				default:
					others = append(others, f.RuleID)
				}
			}
			if n != 1 {
				t.Errorf("got %d TFS001 findings, want 1: %+v", n, results(got))
			}
			if diff := cmp.Diff(others, tt.wantOthers); diff != "" {
				t.Errorf("other findings (-got +want):\n%s", diff)
			}
		})
	}
}

// TestTentative routes content to the scanner as a weak match (the engine
// does so for ONNX-looking content without an extension; the scanner is
// registered for that format here) and checks that content that is not a
// SavedModel is ignored.
func TestTentative(t *testing.T) {
	t.Parallel()
	eng := scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatONNX: New()}})
	tests := []struct {
		name  string
		data  []byte
		rules []string
	}{
		{"not protobuf", []byte("\x08\x07\x12\xff\xff\xff\xff\x0fgarbage"), nil},
		{"savedmodel", savedModel(metaGraph(graphDef(node("r", "ReadFile", nil)))), []string{"TFS002"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := tt.data
			data[1] = 0x07 // ir_version-like first field, so that Sniff makes a weak ONNX match
			fs, err := eng.ScanReader(t.Context(), "model", bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			var rules []string
			for _, f := range fs {
				rules = append(rules, f.RuleID)
			}
			if diff := cmp.Diff(rules, tt.rules); diff != "" {
				t.Errorf("rules (-got +want):\n%s", diff)
			}
		})
	}
}

func TestPathProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path   string
		remote bool
		want   string
	}{
		{"vocab.txt", true, ""},
		{"assets/vocab.txt", true, ""},
		{"", true, ""},
		{"/etc/passwd", true, "absolute"},
		{`\\srv\share`, true, "UNC"},
		{"c:/x", true, "Windows drive"},
		{"a/../../x", true, "climbs out"},
		{`..\x`, false, "climbs out"},
		{".../x", false, "climbs out"},
		{"gs://b/o", true, "remote"},
		{"gs://b/o", false, ""},
		{"a\x00b", false, "NUL"},
	}
	for _, tt := range tests {
		got := pathProblem(tt.path, tt.remote)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("pathProblem(%q, %v) = %q, want it to mention %q", tt.path, tt.remote, got, tt.want)
		}
	}
}

func TestInputNode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"n", "n", true}, {"n:1", "n", true}, {"n:output:0", "n", true}, {"^n", "", false}, {"", "", false},
	}
	for _, tt := range tests {
		got, ok := inputNode(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("inputNode(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRules(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range New().Rules() {
		if !strings.HasPrefix(r.ID, "TFS") || len(r.ID) != 6 || seen[r.ID] {
			t.Errorf("bad or duplicate rule ID %q", r.ID)
		}
		seen[r.ID] = true
		if r.Name == "" || r.Summary == "" || r.Remediation == "" || r.Severity == scan.SeverityNone {
			t.Errorf("rule %s is incomplete: %+v", r.ID, r)
		}
	}
}

func TestFindingCap(t *testing.T) {
	t.Parallel()
	var nodes [][]byte
	for range maxPerRule + 3 {
		nodes = append(nodes, node("r", "ReadFile", nil))
	}
	got := scanBytes(t, "saved_model.pb", savedModel(metaGraph(graphDef(nodes...))))
	if len(got) != maxPerRule+1 {
		t.Fatalf("got %d findings, want %d", len(got), maxPerRule+1)
	}
	n := 0
	for _, f := range got {
		if strings.Contains(f.Message, "3 more file-access-op findings") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("no closing count finding")
	}
}

// TestReadErrorFailsClosed checks that an object that cannot be read to
// its end is not reported clean: the scanner returns the error and the
// engine reports SCN001.
func TestReadErrorFailsClosed(t *testing.T) {
	t.Parallel()
	big := node("c", "Const", nil, attr("value", fMsg(8, fVarint(1, 1), fBytes(4, make([]byte, 3*protowalk.WindowSize)))))
	model := savedModel(metaGraph(graphDef(big, node("r", "Relu", nil))))
	fs, err := newEngine(scan.Limits{}).ScanReader(t.Context(), "saved_model.pb", testutil.FailingReaderAt{Data: model, N: protowalk.WindowSize}, int64(len(model)))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].RuleID != "SCN001" || !strings.Contains(fs[0].Message, "disk on fire") {
		t.Errorf("findings = %+v, want one SCN001 naming the read error", results(fs))
	}
}

// TestEveryFileOp checks that each op of the file-op list is reported, and
// that no reported op is also listed as standard.
func TestEveryFileOp(t *testing.T) {
	t.Parallel()
	for op := range fileOps {
		if knownOps[op] || pyOps[op] {
			t.Errorf("%s is both a file op and a standard or Python op", op)
		}
		got := scanBytes(t, "saved_model.pb", savedModel(metaGraph(graphDef(node("n", op, []string{"a", "b"})))))
		if len(got) != 1 || got[0].RuleID != "TFS002" || !strings.HasPrefix(got[0].Evidence, op) {
			t.Errorf("%s: findings = %+v, want one TFS002", op, results(got))
		}
	}
	for op := range pyOps {
		if knownOps[op] {
			t.Errorf("%s is both a Python op and a standard op", op)
		}
	}
}
