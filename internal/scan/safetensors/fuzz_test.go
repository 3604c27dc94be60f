package safetensors

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// FuzzSafetensorsHeader feeds arbitrary files to the scanner: it must not
// panic, must finish, and must report only its own rules at their
// severities, at offsets inside the file.
func FuzzSafetensorsHeader(f *testing.F) {
	for _, name := range []string{"benign_weights.safetensors", "malformed_safetensors_header_len.safetensors"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(stFile(`{"__metadata__":{"a":"b"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F4","shape":[3,2],"data_offsets":[4,7]}}`, 16))
	f.Add(stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"X","shape":[-1],"data_offsets":[9,1]}}`, 2))
	f.Add(stFile(`[[[{"a":1}]]]`, 0))

	severity := map[string]scan.Severity{}
	for _, r := range New().Rules() {
		severity[r.ID] = r.Severity
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sess := newFake()
		sess.limits.MaxHeaderBytes = 1 << 20
		obj := scan.Object{Name: "f.safetensors", R: bytes.NewReader(data), Size: int64(len(data))}
		if err := New().scan(t.Context(), obj, sess); err != nil {
			t.Fatalf("scan returned %v on in-memory input", err)
		}
		for _, x := range sess.findings {
			sev, ok := severity[x.RuleID]
			if !ok || sev != x.Severity {
				t.Errorf("finding %s at %s is not one of the scanner's rules", x.RuleID, x.Severity)
			}
			if x.Offset < -1 || x.Offset > int64(len(data)) {
				t.Errorf("%s offset %d outside the %d-byte file", x.RuleID, x.Offset, len(data))
			}
		}
	})
}
