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
