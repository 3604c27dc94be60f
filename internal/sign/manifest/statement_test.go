package manifest

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
		{"predicate type", func(s string) string { return strings.Replace(s, "signature/v1.0", "Digests/v0.1", 1) }, ErrMalformed},
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
