package manifest

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeFile creates the file at path (and its parents) holding content.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fixture recreates one of the reference's fixture models (see
// testdata/README) in a temporary directory and returns the model path.
func fixture(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	switch name {
	case "sample_model_file":
		p := filepath.Join(dir, "file_model")
		writeFile(t, p, "This is a simple model")
		return p
	case "empty_model_file":
		p := filepath.Join(dir, "empty_file_model")
		writeFile(t, p, "")
		return p
	case "sample_model_folder":
		p := filepath.Join(dir, "sample_model")
		for i := range 2 {
			for j := range 3 {
				writeFile(t, filepath.Join(p, fmt.Sprintf("d%d/f%d%d", i, i, j)), fmt.Sprintf("This is file f%d%d in d%d.", i, j, i))
			}
		}
		for i := range 4 {
			writeFile(t, filepath.Join(p, fmt.Sprintf("f%d", i)), fmt.Sprintf("This is file f%d in root.", i))
		}
		return p
	case "empty_model_folder":
		p := filepath.Join(dir, "empty_folder_model")
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	case "model_folder_with_empty_file":
		p := filepath.Join(dir, "empty_file_inside_model")
		writeFile(t, filepath.Join(p, "empty_file"), "")
		return p
	case "deep_model_folder":
		p := filepath.Join(dir, "deep_model")
		for i := range 4 {
			writeFile(t, filepath.Join(p, "d0/d1/d2/d3/d4", fmt.Sprintf("f%d", i)), fmt.Sprintf("This is file f%d.", i))
		}
		return p
	case "symlink_model_folder":
		p := filepath.Join(dir, "symlink_model")
		target := filepath.Join(dir, "outside")
		writeFile(t, target, "This is a simple model")
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(p, "symlink_file")); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Fatalf("unknown fixture %q", name)
	return ""
}

var fixtures = []string{
	"sample_model_file", "empty_model_file", "sample_model_folder", "empty_model_folder",
	"model_folder_with_empty_file", "deep_model_folder", "symlink_model_folder",
}

// serializationLines renders a manifest as the serialization goldens do.
func serializationLines(m *Manifest) string {
	var b strings.Builder
	for _, r := range m.Resources {
		fmt.Fprintf(&b, "%s:%s\n", r.Name(), hex.EncodeToString(r.Digest))
	}
	return b.String()
}

// TestGoldens reproduces every payload and serialization golden of the
// reference: same resources, digests, serialization and root digest.
func TestGoldens(t *testing.T) {
	t.Parallel()
	modes := []struct {
		payloadSuffix string
		serialization string // golden path under serialization-goldens, %s = fixture
		opts          Options
	}{
		{"", "file/%s", Options{}},
		{"_shard", "file_shard/%s", Options{Method: Shards, ShardSize: 1_000_000_000}},
		{"_small_shards", "file_shard/%s_small_shards", Options{Method: Shards, ShardSize: 8}},
	}
	for _, fx := range fixtures {
		for _, mode := range modes {
			t.Run(fx+mode.payloadSuffix, func(t *testing.T) {
				t.Parallel()
				opts := mode.opts
				opts.AllowEscapingSymlinks, opts.NoDefaultIgnores = true, true
				got, err := Build(t.Context(), fixture(t, fx), opts)
				if err != nil {
					t.Fatalf("Build: %v", err)
				}

				payload, err := os.ReadFile(filepath.Join("testdata/payload-goldens", fx+mode.payloadSuffix))
				if err != nil {
					t.Fatal(err)
				}
				want, err := ParseStatement(payload)
				if err != nil {
					t.Fatalf("ParseStatement(golden): %v", err)
				}
				if diff := cmp.Diff(got, want); diff != "" {
					t.Errorf("manifest differs from the payload golden (-got +want):\n%s", diff)
				}
				if got.RootDigest() != want.RootDigest() {
					t.Errorf("root digest %x, want %x", got.RootDigest(), want.RootDigest())
				}

				// Our own statement parses back to the same manifest.
				st, err := got.Statement()
				if err != nil {
					t.Fatal(err)
				}
				back, err := ParseStatement(st)
				if err != nil {
					t.Fatalf("ParseStatement(own): %v\n%s", err, st)
				}
				if diff := cmp.Diff(back, got); diff != "" {
					t.Errorf("statement round trip (-got +want):\n%s", diff)
				}

				lines, err := os.ReadFile(filepath.Join("testdata/serialization-goldens", fmt.Sprintf(mode.serialization, fx)))
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(serializationLines(got), strings.TrimSpace(string(lines))+"\n"); diff != "" && strings.TrimSpace(string(lines)) != "" {
					t.Errorf("serialization golden (-got +want):\n%s", diff)
				} else if strings.TrimSpace(string(lines)) == "" && len(got.Resources) != 0 {
					t.Errorf("got %d resources, want an empty manifest", len(got.Resources))
				}
			})
		}
	}
}

// TestKnownRoots checks the root digests the spec lists.
func TestKnownRoots(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string // empty key: a single-file model
		want  string
	}{
		{"signme pair", map[string]string{"signme-1": "signme-1", "signme-2": "signme-2"}, "61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226"},
		{"signme pair newline", map[string]string{"signme-1": "signme-1\n", "signme-2": "signme-2"}, "92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4"},
		{"single file", map[string]string{"": "signme-1\n"}, "afa48c8674afe334b8a7dea34f7b46ab256e9255edf8da2132792341b667a45b"},
		{"empty dir", map[string]string{}, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := filepath.Join(t.TempDir(), "model")
			if err := os.Mkdir(root, 0o755); err != nil {
				t.Fatal(err)
			}
			for name, content := range tt.files {
				if name == "" {
					root = filepath.Join(root, "signme-1")
				}
				writeFile(t, filepath.Join(root, name), content)
			}
			// model.sig inside the model is ignored, as the CLI does.
			if _, ok := tt.files[""]; !ok {
				writeFile(t, filepath.Join(root, "model.sig"), "{}")
			}
			m, err := Build(t.Context(), root, Options{SignatureFile: filepath.Join(root, "model.sig")})
			if err != nil {
				t.Fatal(err)
			}
			if got := m.RootDigest(); hex.EncodeToString(got[:]) != tt.want {
				t.Errorf("root digest %x, want %s", got, tt.want)
			}
		})
	}
}
