package savedmodel

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

func FuzzSavedModel(f *testing.F) {
	for _, dir := range []string{"benign_tf_savedmodel", "mal_tf_savedmodel_readfile_writefile"} {
		data, err := os.ReadFile(filepath.Join("testdata", dir, "saved_model.pb"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(savedModel(metaGraph(
		graphDef(constString("p", "/etc/x"), node("s", "SaveV2", []string{"p"}), node("d", "DebugIdentityV2", nil, attr("debug_urls", attrList("file:///x"))),
			library(function("f", fnConstString("q", "a"), fnNode("r", "ReadFile", []string{"q:output:0"}), fnNode("c", "Custom", nil)))),
		asset("../a"),
		fMsg(7, fMsg(1, fMsg(4, fStr(3, `{"class_name": "Lambda"}`)))))))
	f.Add(kerasMetadata(`{"class_name": "Dense"}`, "", `{"class_name": "Lambda"}`))
	engine := newEngine(scan.Limits{})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, name := range []string{"saved_model.pb", "keras_metadata.pb"} {
			fs, err := engine.ScanReader(t.Context(), name, bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("ScanReader(%s): %v", name, err)
			}
			for _, f := range fs {
				if !strings.HasPrefix(f.RuleID, "TFS") && f.RuleID != "KER999" {
					t.Errorf("%s: unexpected finding %s: %s", name, f.RuleID, f.Message)
				}
				if f.Offset < -1 || f.Offset > int64(len(data)) {
					t.Errorf("%s: finding offset %d outside the %d-byte object", name, f.Offset, len(data))
				}
			}
		}
	})
}

// FuzzSavedModelText feeds arbitrary text to the text-format path. Besides
// never panicking, the wire format the transcoder writes must always be
// well-formed (every TFS001 is about the text) and at most twice as long
// as the text, and offsets must fall inside the text.
func FuzzSavedModelText(f *testing.F) {
	for _, dir := range []string{"text_tf_savedmodel_benign", "text_tf_savedmodel_readfile_writefile"} {
		data, err := os.ReadFile(filepath.Join("testdata", dir, textModelName))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(sampleText))
	f.Add([]byte(`meta_graphs < graph_def: < library < function [{ signature: < name: 'f' > node_def [{ name: "p" op: "Const" attr { key: "value" value { tensor { dtype: 7 string_val: "/tmp/\x6f\165t" "\u00e9" } } } }, { name: "w" op: "WriteFile" input: ["p:output:0"] }] }] > > >`))
	f.Add([]byte("# c\nmeta_graphs { [type.googleapis.com/x.Y] { a: -inf b: 0x1f c: [1, 2.5e-3] } asset_file_def { filename: '../x' } object_graph_def { nodes { user_object { metadata: \"{\\\"class_name\\\": \\\"Lambda\\\"}\" } } } }"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, f := range scanAs(t, scan.Limits{}, textModelName, data) {
			if !strings.HasPrefix(f.RuleID, "TFS") && f.RuleID != "KER999" {
				t.Errorf("unexpected finding %s: %s", f.RuleID, f.Message)
			}
			if f.RuleID == RuleMalformed.ID && !strings.Contains(f.Message, "text format") {
				t.Errorf("the transcoded wire format is malformed: %s", f.Message)
			}
			if f.Offset < -1 || f.Offset > int64(len(data)) {
				t.Errorf("finding offset %d outside the %d-byte text", f.Offset, len(data))
			}
		}
		tr := &transcoder{ctx: t.Context(), src: data}
		_ = tr.run()
		if len(tr.out) > 2*len(data)+1 {
			t.Errorf("%d bytes of text became %d bytes of wire format", len(data), len(tr.out))
		}
	})
}
