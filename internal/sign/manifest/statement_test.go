package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseLegacyStatement(t *testing.T) {
	t.Parallel()
	payload := `{"_type": "https://in-toto.io/Statement/v1",
	  "subject": [
	    {"name": "signme-1", "digest": {"sha256": "f6310066c7320497ea554260c32c43660bff648cb2a61194832cc086077085e1"},
	     "annotations": {"actual_hash_algorithm": "file-sha256"}},
	    {"name": "sub/signme-2", "digest": {"sha256": "32dcb1f8e1ae52d5963e56a6ba06ab58b424c15ed2a6b70d2feca1d089370028"}}],
	  "predicateType": "https://model_signing/Digests/v0.1",
	  "predicate": {"unused": "Unused, just passed due to API requirements"}}`
	m, err := ParseStatement([]byte(payload))
	if err != nil {
		t.Fatalf("ParseStatement: %v", err)
	}
	if !m.Legacy || m.Serialization.Method != Files || m.Serialization.Hash != SHA256 {
		t.Errorf("got legacy=%v serialization=%+v, want legacy files/sha256", m.Legacy, m.Serialization)
	}
	var names []string
	for _, r := range m.Resources {
		names = append(names, r.Name()+"="+r.Algorithm)
	}
	if diff := cmp.Diff(names, []string{"signme-1=sha256", "sub/signme-2=sha256"}); diff != "" {
		t.Errorf("resources (-got +want):\n%s", diff)
	}
	for _, bad := range []string{
		strings.Replace(payload, `"sha256": "f631`, `"sha512": "f631`, 1),
		strings.Replace(payload, `"sub/signme-2"`, `"signme-1"`, 1),
	} {
		if _, err := ParseStatement([]byte(bad)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseStatement(bad v0.1) error = %v, want ErrMalformed", err)
		}
	}
}

func TestParseStatementErrors(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile("testdata/payload-goldens/sample_model_folder_small_shards")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(string) string
		wantErr error
	}{
		{"golden", func(s string) string { return s }, nil},
		{"integer shard size", func(s string) string { return strings.Replace(s, `"shard_size": 8.0`, `"shard_size": 8`, 1) }, nil},
		{"fractional shard size", func(s string) string { return strings.Replace(s, `"shard_size": 8.0`, `"shard_size": 8.5`, 1) }, ErrMalformed},
		{"not json", func(s string) string { return s[:len(s)/2] }, ErrMalformed},
		{"statement type", func(s string) string { return strings.Replace(s, "Statement/v1", "Statement/v0.1", 1) }, ErrMalformed},
		{"predicate type", func(s string) string { return strings.Replace(s, "signature/v1.0", "signature/v2.0", 1) }, ErrMalformed},
		{"no serialization", func(s string) string { return strings.Replace(s, `"serialization"`, `"serialisation"`, 1) }, ErrMalformed},
		{"resources not a list", func(s string) string { return strings.Replace(s, `"resources": [`, `"resources": {"x": [`, 1) + "}" }, ErrMalformed},
		{"string shard size", func(s string) string { return strings.Replace(s, `"shard_size": 8.0`, `"shard_size": "8"`, 1) }, ErrMalformed},
		{"unknown keys", func(s string) string { return strings.Replace(s, `"method"`, `"model_card": {"a": [1]}, "method"`, 1) }, nil},
		{"digest changed", func(s string) string {
			return strings.Replace(s, "a37010c994067764d86540bf479d93b4d0c3bb3955de7b61f951caf2fd0301b0", strings.Repeat("0", 64), 1)
		}, ErrRootDigest},
		{"bad shard name", func(s string) string { return strings.Replace(s, `"d0/f00:0:8"`, `"d0/f00:8"`, 1) }, ErrMalformed},
		{"non-canonical offset", func(s string) string { return strings.Replace(s, `"d0/f00:0:8"`, `"d0/f00:00:8"`, 1) }, ErrMalformed},
		{"duplicate", func(s string) string { return strings.Replace(s, `"d0/f00:8:16"`, `"d0/f00:0:8"`, 1) }, ErrMalformed},
		{"hash type", func(s string) string { return strings.Replace(s, `"hash_type": "sha256"`, `"hash_type": "md5"`, 1) }, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseStatement([]byte(tt.edit(string(good))))
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ParseStatement error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// FuzzParseStatement checks that decoding never panics and that whatever
// decodes renders back to a statement that decodes to the same manifest.
func FuzzParseStatement(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/payload-goldens/*")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseStatement(data)
		if err != nil {
			return
		}
		out, err := m.Statement()
		if err != nil {
			t.Fatalf("Statement: %v", err)
		}
		back, err := ParseStatement(out)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, out)
		}
		if back.RootDigest() != m.RootDigest() || len(back.Resources) != len(m.Resources) {
			t.Fatalf("round trip changed the manifest")
		}
	})
}
