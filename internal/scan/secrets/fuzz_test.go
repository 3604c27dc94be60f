package secrets

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// checkFindings asserts what every finding must satisfy: a scanner rule,
// a line inside the content, offsets inside it, and evidence that does
// not hold a long run of the content.
func checkFindings(t *testing.T, data []byte, fs []scan.Finding) {
	t.Helper()
	ids := map[string]bool{}
	for _, r := range shared.Rules() {
		ids[r.ID] = true
	}
	lines := bytes.Count(data, []byte{'\n'}) + 1
	for _, f := range fs {
		if !ids[f.RuleID] {
			t.Errorf("finding of unknown rule %s", f.RuleID)
		}
		if f.Line < 0 || f.Line > lines {
			t.Errorf("%s at line %d of a %d-line object", f.RuleID, f.Line, lines)
		}
		if f.Offset < -1 || f.Offset > int64(len(data)) {
			t.Errorf("%s at offset %d of a %d-byte object", f.RuleID, f.Offset, len(data))
		}
		if len(f.Evidence) > 0 && len(f.Evidence) > len("xxxx… sha256:")+12 {
			t.Errorf("%s evidence %q is longer than a masked prefix and a fingerprint", f.RuleID, f.Evidence)
		}
	}
}

func seeds(f *testing.F, names ...string) {
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzNotebook feeds arbitrary bytes to the notebook reader and scanner:
// no panic, findings inside the file, decoding within its limits.
func FuzzNotebook(f *testing.F) {
	seeds(f, "notebook-lines.ipynb", "corpus/notebook.ipynb")
	f.Add([]byte(`{"cells":[{"source":"GITHUB_TOKEN=ghp_FAKE0000exampleTokenAbCdEfGhIjKlMnOp"}]}`))
	f.Add([]byte(`{"cells":[{"outputs":[{"traceback":["a","-----BEGIN PRIVATE KEY-----","x"]}]}]`))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[`))
	s, err := New(Options{MaxNotebookDepth: 16, MaxLineBytes: 4096})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fs []scan.Finding
		obj := scan.Object{Name: "f.ipynb", Format: scan.FormatNotebook, R: bytes.NewReader(data), Size: int64(len(data))}
		if err := s.scan(context.Background(), obj, func(x scan.Finding) { fs = append(fs, x) }); err != nil {
			t.Fatalf("scan: %v", err)
		}
		checkFindings(t, data, fs)
		if segs, err := decodeNotebook(data, 16); err == nil {
			for _, sg := range segs {
				if want := bytes.Count(sg.text, []byte{'\n'}) + 1; len(sg.fileLines) > want {
					t.Errorf("segment %s maps %d lines, has at most %d", sg.field, len(sg.fileLines), want)
				}
			}
		}
	})
}

// FuzzLines feeds arbitrary text to the line scanner with a small line
// limit, so clipping and block boundaries are exercised.
func FuzzLines(f *testing.F) {
	seeds(f, "corpus/train.py", "corpus/config.yaml", "corpus/run.sh", "corpus/gcp-sa.json")
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\n\\n\\n-----END"))
	s, err := New(Options{MaxLineBytes: 64})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var fs []scan.Finding
		obj := scan.Object{Name: "f.txt", Format: scan.FormatText, R: bytes.NewReader(data), Size: int64(len(data))}
		if err := s.scan(context.Background(), obj, func(x scan.Finding) { fs = append(fs, x) }); err != nil {
			t.Fatalf("scan: %v", err)
		}
		checkFindings(t, data, fs)
	})
}
