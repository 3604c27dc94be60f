package onnx

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
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

func maxSeverity(fs []scan.Finding) scan.Severity {
	s := scan.SeverityNone
	for _, f := range fs {
		s = max(s, f.Severity)
	}
	return s
}

func TestCorpus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file    string
		wantMax scan.Severity // the verdict in the corpus MANIFEST.tsv
		want    []result
	}{
		{"benign_identity.onnx", scan.SeverityNone, nil},
		{"mal_onnx_external_data_traversal.onnx", scan.SeverityHigh, []result{{
			"ONX002", scan.SeverityHigh, "graph.initializer[0].external_data[0]", `location="../../../../../../etc/passwd"`,
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			got := scanBytes(t, tt.file, data)
			if s := maxSeverity(got); s != tt.wantMax {
				t.Errorf("highest severity = %s, want %s", s, tt.wantMax)
			}
			if diff := cmp.Diff(results(got), tt.want, sortResults); diff != "" {
				t.Errorf("findings (-got +want):\n%s", diff)
			}
			// The same file scanned where it lies on disk.
			res, err := newEngine().ScanPaths(t.Context(), []string{filepath.Join("testdata", tt.file)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(results(res.Findings), tt.want, sortResults); diff != "" {
				t.Errorf("findings on disk (-got +want):\n%s", diff)
			}
		})
	}
}

func TestExternalDataPlacement(t *testing.T) {
	t.Parallel()
	ext := func(name, loc string) []byte { return extTensor(name, loc) }
	tests := []struct {
		name  string
		model []byte
		want  []result
	}{
		{"initializer", onnxModel(graphF(fMsg(5, ext("W", "../w.bin")))),
			[]result{{"ONX002", scan.SeverityHigh, "graph.initializer[0].external_data[0]", `location="../w.bin"`}}},
		{"sparse initializer values", onnxModel(graphF(fMsg(15, fMsg(1, ext("SV", "../v.bin")), fMsg(2, inlineTensor("SI", 8))))),
			[]result{{"ONX002", scan.SeverityHigh, "graph.sparse_initializer[0].values.external_data[0]", `location="../v.bin"`}}},
		{"sparse initializer indices", onnxModel(graphF(fMsg(15, fMsg(1, inlineTensor("SV", 8)), fMsg(2, ext("SI", "/tmp/i.bin"))))),
			[]result{{"ONX002", scan.SeverityHigh, "graph.sparse_initializer[0].indices.external_data[0]", `location="/tmp/i.bin"`}}},
		{"constant node tensor", onnxModel(graphF(nodeF("c", "Constant", "", attrF("value", fMsg(5, ext("C", "/etc/passwd")), fVarint(20, 4))))),
			[]result{{"ONX002", scan.SeverityHigh, "graph.node[0].attribute[0].t.external_data[0]", `location="/etc/passwd"`}}},
		{"attribute tensor list", onnxModel(graphF(nodeF("n", "Op", "", attrF("ts", fMsg(10, inlineTensor("a", 4)), fMsg(10, ext("b", `..\b`)))))),
			[]result{{"ONX002", scan.SeverityHigh, "graph.node[0].attribute[0].tensors[1].external_data[0]", `location="..\\b"`}}},
		{"attribute sparse tensor", onnxModel(graphF(nodeF("n", "Constant", "", attrF("sparse_value", fMsg(22, fMsg(1, ext("s", "C:/x.bin"))))))),
			[]result{{"ONX002", scan.SeverityHigh, "graph.node[0].attribute[0].sparse_tensor.values.external_data[0]", `location="C:/x.bin"`}}},
		{"attribute sparse tensor list", onnxModel(graphF(nodeF("n", "Op", "", attrF("ss", fMsg(23, fMsg(1, ext("s", `\\srv\share\x`))))))),
			[]result{{"ONX002", scan.SeverityHigh, "graph.node[0].attribute[0].sparse_tensors[0].values.external_data[0]", `location="\\\\srv\\share\\x"`}}},
		{"if subgraph initializer", onnxModel(graphF(nodeF("if", "If", "", attrF("then_branch", fMsg(6, fStr(2, "then"), fMsg(5, ext("T", "a/../../t.bin"))))))),
			[]result{{"ONX002", scan.SeverityHigh, "graph.node[0].attribute[0].g.initializer[0].external_data[0]", `location="a/../../t.bin"`}}},
		{"loop body graphs constant", onnxModel(graphF(nodeF("loop", "Loop", "", attrF("bodies", fMsg(11, nodeF("c", "Constant", "", attrF("value", fMsg(5, ext("L", "../l.bin"))))))))),
			[]result{{"ONX002", scan.SeverityHigh, "graph.node[0].attribute[0].graphs[0].node[0].attribute[0].t.external_data[0]", `location="../l.bin"`}}},
		{"training algorithm", onnxModel(graphF(), fMsg(20, fMsg(2, fMsg(5, ext("A", "../a.bin"))))),
			[]result{{"ONX002", scan.SeverityHigh, "training_info[0].algorithm.initializer[0].external_data[0]", `location="../a.bin"`}}},
		{"training initialization", onnxModel(graphF(), fMsg(20, fMsg(1, fMsg(5, ext("I", "../i.bin"))))),
			[]result{{"ONX002", scan.SeverityHigh, "training_info[0].initialization.initializer[0].external_data[0]", `location="../i.bin"`}}},
		{"function node", onnxModel(graphF(), fMsg(25, fStr(1, "F"), fStr(10, "local"), fMsg(7, fStr(3, "fc"), fStr(4, "Constant"), attrF("value", fMsg(5, ext("F", "../f.bin")))))),
			[]result{{"ONX002", scan.SeverityHigh, "functions[0].node[0].attribute[0].t.external_data[0]", `location="../f.bin"`}}},
		{"function attribute default", onnxModel(graphF(), fMsg(25, fStr(1, "F"), fStr(10, "local"), fMsg(11, fStr(1, "default"), fMsg(5, ext("D", "../d.bin"))))),
			[]result{{"ONX002", scan.SeverityHigh, "functions[0].attribute_proto[0].t.external_data[0]", `location="../d.bin"`}}},
		{"external without location", onnxModel(graphF(fMsg(5, fStr(8, "W"), fVarint(14, dataLocationExternal)))),
			[]result{{"ONX002", scan.SeverityHigh, "graph.initializer[0]", "data_location=EXTERNAL, no location"}}},
		{"last location wins and is checked", onnxModel(graphF(fMsg(5, fStr(8, "W"),
			fMsg(13, fStr(1, "location"), fStr(2, "ok.bin")), fMsg(13, fStr(1, "location"), fStr(2, "../evil.bin")), fVarint(14, dataLocationExternal)))),
			[]result{{"ONX002", scan.SeverityHigh, "graph.initializer[0].external_data[1]", `location="../evil.bin"`}}},
		{"value before key", onnxModel(graphF(fMsg(5, fStr(8, "W"), fMsg(13, fStr(2, "/abs.bin"), fStr(1, "location"))))),
			[]result{{"ONX002", scan.SeverityHigh, "graph.initializer[0].external_data[0]", `location="/abs.bin"`}}},
		{"location entry without value", onnxModel(graphF(fMsg(5, fStr(8, "W"), fMsg(13, fStr(1, "location")), fVarint(14, dataLocationExternal)))),
			[]result{{"ONX002", scan.SeverityHigh, "graph.initializer[0].external_data[0]", `location=""`}}},
		{"nul in location", onnxModel(graphF(fMsg(5, ext("W", "w.bin\x00../../etc/passwd")))),
			[]result{{"ONX002", scan.SeverityHigh, "graph.initializer[0].external_data[0]", `location="w.bin\x00../../etc/passwd"`}}},
		{"same location reported once", onnxModel(graphF(fMsg(5, ext("A", "../x.bin")), fMsg(5, ext("B", "../x.bin")))),
			[]result{{"ONX002", scan.SeverityHigh, "graph.initializer[0].external_data[0]", `location="../x.bin"`}}},
		{"plain relative locations", onnxModel(graphF(fMsg(5, ext("A", "weights.bin")), fMsg(5, ext("B", "data/b.bin")), fMsg(5, ext("C", "./c.bin")))), nil},
		{"inline initializer", onnxModel(graphF(fMsg(5, inlineTensor("W", 64)))), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := scanBytes(t, "model.onnx", tt.model)
			if diff := cmp.Diff(results(got), tt.want, sortResults); diff != "" {
				t.Errorf("findings (-got +want):\n%s", diff)
			}
		})
	}
}

func TestExternalDataMessage(t *testing.T) {
	t.Parallel()
	got := scanBytes(t, "model.onnx", onnxModel(graphF(fMsg(5, extTensor("embed.weight", "../../secret")))))
	if len(got) != 1 {
		t.Fatalf("got %d findings, want 1: %+v", len(got), got)
	}
	f := got[0]
	for _, want := range []string{`"embed.weight"`, `"../../secret"`, "climbs out of the model directory"} {
		if !strings.Contains(f.Message, want) {
			t.Errorf("message %q does not mention %s", f.Message, want)
		}
	}
	if f.Offset <= 0 || f.Remediation == "" {
		t.Errorf("finding lacks offset or remediation: %+v", f)
	}
}

func TestLocationProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		loc  string
		want string // substring of the problem; "" for none
	}{
		{"weights.bin", ""},
		{"sub/dir/weights.bin", ""},
		{"./w.bin", ""},
		{`sub\w.bin`, ""},
		{"w..bin", ""},
		{"..w.bin", ""},
		{"", "is empty"},
		{"a\x00b", "NUL"},
		{"../x", "climbs out"},
		{"a/../../x", "climbs out"},
		{"a/b/../../../x", "climbs out"},
		{`..\x`, "climbs out"},
		{`a\..\..\x`, "climbs out"},
		{".../x", "climbs out"},
		{". ./x", "climbs out"},
		{".. /x", "climbs out"},
		{"a/../x", "contains a '..' component"},
		{"a/./../b", "contains a '..' component"},
		{"/etc/passwd", "absolute path"},
		{`\Windows\win.ini`, "absolute path"},
		{`C:\Windows\win.ini`, "Windows drive"},
		{"c:w.bin", "Windows drive"},
		{`\\server\share\w.bin`, "UNC"},
		{"//server/share/w.bin", "UNC"},
		{`\\?\C:\w.bin`, "UNC"},
		{"*/_ORT_MEM_ADDR_/*", "in-memory sentinel"},
		{"data/*/_ORT_MEM_ADDR_/*/w.bin", "in-memory sentinel"},
		{"_ORT_MEM_ADDR_.bin", ""},
	}
	for _, tt := range tests {
		got := locationProblem(tt.loc, false)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("locationProblem(%q) = %q, want it to mention %q", tt.loc, got, tt.want)
		}
	}
	if got := locationProblem("w.bin", true); !strings.Contains(got, "longer than") {
		t.Errorf("locationProblem(truncated) = %q, want a length problem", got)
	}
}

// TestORTMemoryAddressSentinel checks that ONNX Runtime's in-memory
// external-data sentinel, whose offset loaders that honour it take for a
// raw pointer, is ONX002 high in a model file, whether or not the model is
// on disk (the red-team sample: location, offset=pointer and length).
func TestORTMemoryAddressSentinel(t *testing.T) {
	t.Parallel()
	const sentinel = "*/_ORT_MEM_ADDR_/*"
	tensor := cat(fVarint(1, 1024), fVarint(2, 1), fStr(8, "w"),
		fMsg(13, fStr(1, "location"), fStr(2, sentinel)),
		fMsg(13, fStr(1, "offset"), fStr(2, "140733193388032")),
		fMsg(13, fStr(1, "length"), fStr(2, "4096")),
		fVarint(14, dataLocationExternal))
	model := onnxModel(graphF(fMsg(5, tensor)))
	want := []result{{"ONX002", scan.SeverityHigh, "graph.initializer[0].external_data[0]", "location=" + strconv.Quote(sentinel)}}

	got := scanBytes(t, "model.onnx", model)
	if diff := cmp.Diff(results(got), want); diff != "" {
		t.Errorf("in memory: findings (-got +want):\n%s", diff)
	}
	if len(got) == 1 && !strings.Contains(got[0].Message, "raw memory address") {
		t.Errorf("message %q does not explain the sentinel", got[0].Message)
	}

	// On disk the location is judged before anything is looked up, so it
	// is not mistaken for a missing file (ONX006).
	path := filepath.Join(t.TempDir(), "model.onnx")
	if err := os.WriteFile(path, model, 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := newEngine().ScanPaths(t.Context(), []string{path})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(results(res.Findings), want); diff != "" {
		t.Errorf("on disk: findings (-got +want):\n%s", diff)
	}
}

func TestOverlongLocation(t *testing.T) {
	t.Parallel()
	loc := strings.Repeat("a", maxLocation+10)
	got := scanBytes(t, "model.onnx", onnxModel(graphF(fMsg(5, extTensor("W", loc)))))
	if len(got) != 1 || got[0].RuleID != "ONX002" || !strings.Contains(got[0].Message, "longer than 4096 bytes") {
		t.Fatalf("findings = %+v, want one ONX002 about the length", got)
	}
}

func TestDomains(t *testing.T) {
	t.Parallel()
	localFn := func(domain, name string, nodes ...[]byte) []byte {
		return fMsg(25, fStr(1, name), fStr(10, domain), opsetInFunction("", 17), cat(nodes...))
	}
	fnNode := func(op, domain string) []byte { return fMsg(7, fStr(3, "fn_"+op), fStr(4, op), fStr(7, domain)) }
	tests := []struct {
		name  string
		model []byte
		want  []result
	}{
		{"standard domains", onnxModel(opset("ai.onnx.ml", 3), graphF(
			nodeF("a", "Add", ""), nodeF("b", "Relu", "ai.onnx"), nodeF("c", "TreeEnsembleClassifier", "ai.onnx.ml"),
			nodeF("d", "Gradient", "ai.onnx.preview.training"), nodeF("e", "Adam", "ai.onnx.training"))), nil},
		{"custom domain node", onnxModel(opset("com.example", 1), graphF(nodeF("n", "MyOp", "com.example"))),
			[]result{{"ONX004", scan.SeverityMedium, "graph.node[0]", "com.example::MyOp"}}},
		{"one finding per domain", onnxModel(graphF(nodeF("a", "A", "com.example"), nodeF("b", "B", "com.example"), nodeF("c", "A", "com.example"))),
			[]result{{"ONX004", scan.SeverityMedium, "graph.node[0]", "com.example::A, B"}}},
		{"contrib domain", onnxModel(opset("com.microsoft", 1), graphF(nodeF("g", "FusedGemm", "com.microsoft"))),
			[]result{{"ONX005", scan.SeverityInfo, "graph.node[0]", "com.microsoft::FusedGemm"}}},
		{"imported custom domain", onnxModel(opset("com.example.ops", 1), graphF(nodeF("a", "Add", ""))),
			[]result{{"ONX004", scan.SeverityMedium, "opset_import[1]", `opset_import domain="com.example.ops"`}}},
		{"local function call", onnxModel(opset("local", 1), graphF(nodeF("call", "F", "local")), localFn("local", "F", fnNode("Add", ""))), nil},
		{"local function before graph", onnxModel(localFn("local", "F", fnNode("Add", "")), opset("local", 1), graphF(nodeF("call", "F", "local"))), nil},
		{"custom op inside local function", onnxModel(opset("local", 1), graphF(nodeF("call", "F", "local")), localFn("local", "F", fnNode("Evil", "com.evil"))),
			[]result{{"ONX004", scan.SeverityMedium, "functions[0].node[0]", "com.evil::Evil"}}},
		{"custom import inside local function", onnxModel(graphF(), fMsg(25, fStr(1, "F"), fStr(10, "local"), opsetInFunction("com.evil", 1))),
			[]result{{"ONX004", scan.SeverityMedium, "functions[0].opset_import[0]", `opset_import domain="com.evil"`}}},
		{"call to missing function in function domain", onnxModel(graphF(nodeF("call", "G", "local")), localFn("local", "F")),
			[]result{{"ONX004", scan.SeverityMedium, "graph.node[0]", "local::G"}}},
		{"custom op in subgraph", onnxModel(graphF(nodeF("if", "If", "", attrF("else_branch", fMsg(6, nodeF("x", "Secret", "ai.custom")))))),
			[]result{{"ONX004", scan.SeverityMedium, "graph.node[0].attribute[0].g.node[0]", "ai.custom::Secret"}}},
		{"domain is case sensitive", onnxModel(graphF(nodeF("n", "Add", "AI.ONNX"))),
			[]result{{"ONX004", scan.SeverityMedium, "graph.node[0]", "AI.ONNX::Add"}}},
		{"last domain field wins", onnxModel(graphF(fMsg(1, fStr(4, "Op"), fStr(7, "com.example"), fStr(7, "")))), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := scanBytes(t, "model.onnx", tt.model)
			if diff := cmp.Diff(results(got), tt.want, sortResults); diff != "" {
				t.Errorf("findings (-got +want):\n%s", diff)
			}
		})
	}
}

// opsetInFunction is FunctionProto.opset_import (field 9).
func opsetInFunction(domain string, version uint64) []byte {
	return fMsg(9, fStr(1, domain), fVarint(2, version))
}

func TestDomainMessage(t *testing.T) {
	t.Parallel()
	got := scanBytes(t, "model.onnx", onnxModel(graphF(nodeF("decoder", "Beam", "org.vendor"), nodeF("d2", "Beam", "org.vendor"))))
	if len(got) != 1 {
		t.Fatalf("got %d findings, want 1", len(got))
	}
	for _, want := range []string{"2 node(s)", `"org.vendor"`, `node "decoder"`, "native code"} {
		if !strings.Contains(got[0].Message, want) {
			t.Errorf("message %q does not mention %s", got[0].Message, want)
		}
	}
}

func TestMalformed(t *testing.T) {
	t.Parallel()
	benign, err := os.ReadFile(filepath.Join("testdata", "benign_identity.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	prefix := int64(len(onnxModel()))
	tag := func(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }
	deepGraph := nodeF("n", "Add", "")
	for range 40 {
		deepGraph = nodeF("if", "If", "", attrF("then_branch", fBytes(6, deepGraph)))
	}
	deep := onnxModel(fBytes(7, deepGraph))
	tests := []struct {
		name        string
		model       []byte
		wantOffset  int64 // -2: any offset
		wantPointer string
		wantMsg     string
	}{
		{"truncated", benign[:60], -2, "", "runs past the end"},
		{"graph as varint", onnxModel(fVarint(7, 1)), prefix, "", "ModelProto.graph (field 7) has wire type varint, want length-delimited"},
		{"length past end", onnxModel(protowire.AppendVarint(tag(7, protowire.BytesType), 100), []byte("abc")), prefix, "", "field 7: length 100 runs past the end of the enclosing message (3 bytes left)"},
		{"field number zero", onnxModel([]byte{0x00}), prefix, "", "invalid field number 0"},
		{"stray end group", onnxModel(tag(5, protowire.EndGroupType)), prefix, "", "end-group tag without a start-group tag"},
		{"wire type 7", onnxModel([]byte{0x0f}), prefix, "", "invalid wire type 7"},
		{"varint overflow", onnxModel([]byte{0x28}, bytes.Repeat([]byte{0xff}, 10), []byte{0x01}), prefix + 1, "", "invalid varint"},
		{"truncated varint", onnxModel([]byte{0x28, 0xff}), prefix + 1, "", "truncated varint"},
		{"truncated fixed32", onnxModel([]byte{0x2d, 1, 2}), prefix, "", "truncated 4-byte value"},
		{"op type as varint", onnxModel(graphF(fMsg(1, fVarint(4, 3)))), -2, "graph.node[0]", "NodeProto.op_type (field 4) has wire type varint"},
		{"bad packed floats", onnxModel(graphF(fMsg(5, fStr(8, "W"), fBytes(4, make([]byte, 5))))), -2, "graph.initializer[0]", "TensorProto.float_data (field 4): packed payload of 5 bytes is not a whole number of 4-byte values"},
		{"bad packed varints", onnxModel(graphF(fMsg(5, fStr(8, "W"), fBytes(7, []byte{1, 0x80})))), -2, "graph.initializer[0]", "ends inside a varint"},
		{"unclosed group", onnxModel(tag(30, protowire.StartGroupType), fVarint(1, 1)), prefix + 4, "", "group 30 is not closed"},
		{"mismatched group", onnxModel(tag(30, protowire.StartGroupType), tag(31, protowire.EndGroupType)), prefix + 2, "", "end-group tag 31 does not close group 30"},
		{"too deep", deep, -2, "", "messages nested deeper than 100 levels"},
		{"external data entry key as varint", onnxModel(graphF(fMsg(5, fMsg(13, fVarint(1, 1))))), -2, "graph.initializer[0].external_data[0]", "StringStringEntryProto.key (field 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := scanBytes(t, "model.onnx", tt.model)
			var mal []scan.Finding
			for _, f := range got {
				if f.RuleID == "ONX001" {
					mal = append(mal, f)
				}
				if strings.HasPrefix(f.RuleID, "SCN") {
					t.Errorf("engine finding %s: %s", f.RuleID, f.Message)
				}
			}
			if len(mal) != 1 {
				t.Fatalf("got %d ONX001 findings, want 1 (all: %+v)", len(mal), got)
			}
			f := mal[0]
			if f.Severity != scan.SeverityMedium || !strings.Contains(f.Evidence, tt.wantMsg) {
				t.Errorf("finding = %s %q, want medium with %q", f.Severity, f.Evidence, tt.wantMsg)
			}
			if tt.wantOffset != -2 && f.Offset != tt.wantOffset {
				t.Errorf("offset = %d, want %d", f.Offset, tt.wantOffset)
			}
			if tt.wantPointer != "" && !strings.HasPrefix(f.Pointer, tt.wantPointer) {
				t.Errorf("pointer = %q, want prefix %q", f.Pointer, tt.wantPointer)
			}
		})
	}
}

func TestWellFormedEdgeCases(t *testing.T) {
	t.Parallel()
	tag := func(num protowire.Number, typ protowire.Type) []byte { return protowire.AppendTag(nil, num, typ) }
	tests := []struct {
		name  string
		model []byte
	}{
		{"empty object", nil},
		{"unknown group field", onnxModel(tag(30, protowire.StartGroupType), fVarint(1, 5), tag(31, protowire.StartGroupType), tag(31, protowire.EndGroupType), tag(30, protowire.EndGroupType), graphF(nodeF("n", "Add", "")))},
		{"unknown fields of every wire type", onnxModel(fVarint(99, 1), fBytes(98, []byte("x")), protowire.AppendFixed32(tag(97, protowire.Fixed32Type), 1), protowire.AppendFixed64(tag(96, protowire.Fixed64Type), 1), graphF())},
		{"packed and unpacked dims", onnxModel(graphF(fMsg(5, fBytes(1, []byte{2, 3}), fVarint(1, 4), fStr(8, "W"), fBytes(4, make([]byte, 8)))))},
		{"two graph fields merge", onnxModel(graphF(nodeF("a", "Add", "")), graphF(nodeF("b", "Mul", "")))},
		{"value infos and metadata", onnxModel(graphF(fMsg(11, fStr(1, "x"), fMsg(2, fMsg(1, fVarint(1, 1)))), fMsg(16, fStr(1, "k"), fStr(2, "v"))), fMsg(14, fStr(1, "author"), fStr(2, "me")))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := scanBytes(t, "model.onnx", tt.model); len(got) != 0 {
				t.Errorf("findings = %+v, want none", results(got))
			}
		})
	}
}

func TestFindingsBeforeFaultAreKept(t *testing.T) {
	t.Parallel()
	model := onnxModel(graphF(fMsg(5, extTensor("W", "/etc/shadow"))), []byte{0x00})
	got := results(scanBytes(t, "model.onnx", model))
	rules := []string{}
	for _, r := range got {
		rules = append(rules, r.Rule)
	}
	slices.Sort(rules)
	if diff := cmp.Diff(rules, []string{"ONX001", "ONX002"}); diff != "" {
		t.Errorf("rules (-got +want):\n%s", diff)
	}
}

func TestTentative(t *testing.T) {
	t.Parallel()
	notONNX := []byte("\x08\x07\x12\xff\xff\xff\xff\x0fthis is not a model")
	noGraph := []byte("\x08\x07\x12\x03abc")
	badONNX := cat([]byte{0x08, 0x07}, graphF(fMsg(5, extTensor("W", "../../etc/passwd"))))
	brokenAfterGraph := cat([]byte{0x08, 0x07}, graphF(nodeF("n", "Add", "")), []byte{0x00})
	tests := []struct {
		name  string
		data  []byte
		rules []string
	}{
		{"not protobuf", notONNX, nil},
		{"protobuf without graph", noGraph, nil},
		{"onnx with traversal", badONNX, []string{"ONX002"}},
		{"onnx broken after graph", brokenAfterGraph, []string{"ONX001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Without an extension, the content is only a weak ONNX match.
			m, err := scan.Sniff("model", bytes.NewReader(tt.data), int64(len(tt.data)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(m, []scan.Match{{Format: scan.FormatONNX, Tentative: true}}); diff != "" {
				t.Fatalf("Sniff (-got +want):\n%s", diff)
			}
			var rules []string
			for _, f := range scanBytes(t, "model", tt.data) {
				rules = append(rules, f.RuleID)
			}
			if diff := cmp.Diff(rules, tt.rules); diff != "" {
				t.Errorf("rules (-got +want):\n%s", diff)
			}
		})
	}
	// With the .onnx extension the same non-model is malformed (fail closed).
	if got := scanBytes(t, "model.onnx", notONNX); len(got) != 1 || got[0].RuleID != "ONX001" {
		t.Errorf("named .onnx: findings = %+v, want one ONX001", results(got))
	}
}

func TestRules(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range New().Rules() {
		if !strings.HasPrefix(r.ID, "ONX") || len(r.ID) != 6 || seen[r.ID] {
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
	var inits [][]byte
	for i := range maxPerRule + 5 {
		inits = append(inits, fMsg(5, extTensor("W", "/abs/"+strings.Repeat("x", i+1))))
	}
	got := scanBytes(t, "model.onnx", onnxModel(graphF(cat(inits...))))
	if len(got) != maxPerRule+1 {
		t.Fatalf("got %d findings, want %d", len(got), maxPerRule+1)
	}
	last := 0
	for _, f := range got {
		if strings.Contains(f.Message, "5 more external-data-path-escape findings") {
			last++
		}
	}
	if last != 1 {
		t.Errorf("no closing count finding among %d findings", len(got))
	}
}

func TestContextCancelled(t *testing.T) {
	t.Parallel()
	var nodes [][]byte
	for range 3 * protowalk.ContextCheckInterval {
		nodes = append(nodes, nodeF("n", "Add", ""))
	}
	model := onnxModel(graphF(cat(nodes...)))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := newEngine().ScanReader(ctx, "model.onnx", bytes.NewReader(model), int64(len(model)))
	if err == nil {
		t.Errorf("ScanReader with a cancelled context: no error")
	}
}

// TestReadErrorFailsClosed checks that an object that cannot be read to
// its end is not reported clean: the scanner returns the error and the
// engine reports SCN001.
func TestReadErrorFailsClosed(t *testing.T) {
	t.Parallel()
	model := onnxModel(graphF(fMsg(5, inlineTensor("W", 3*protowalk.WindowSize)), nodeF("n", "Add", "")))
	fs, err := newEngine().ScanReader(t.Context(), "model.onnx", testutil.FailingReaderAt{Data: model, N: protowalk.WindowSize}, int64(len(model)))
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 1 || fs[0].RuleID != "SCN001" || !strings.Contains(fs[0].Message, "disk on fire") {
		t.Errorf("findings = %+v, want one SCN001 naming the read error", results(fs))
	}
}
