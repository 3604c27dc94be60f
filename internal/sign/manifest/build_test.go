package manifest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/blake2b"
	"lukechampine.com/blake3"
)

// names lists the resource names of m in order.
func names(m *Manifest) []string {
	out := []string{}
	for _, r := range m.Resources {
		out = append(out, r.Name())
	}
	return out
}

// model writes files (name -> content) under a new model directory.
func model(t *testing.T, files map[string]string) string {
	t.Helper()
	root := filepath.Join(t.TempDir(), "model")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		writeFile(t, filepath.Join(root, name), content)
	}
	return root
}

func TestOrderingAndIgnores(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"B": "", "a/b": "", "a/c": "", "a-b": "", "a.txt": "", ".hidden": "",
		".git/HEAD": "", ".gitignore": "", ".gitmodules": "", "sub/.gitignore": "",
		"model.sig": "", "ignore-me": "", "sub/ignore-me": "", "big:name": "x",
	}
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"defaults", Options{},
			[]string{".gitmodules", ".hidden", "B", "a/b", "a/c", "a-b", "a.txt", "big:name", "ignore-me", "model.sig", "sub/.gitignore", "sub/ignore-me"}},
		{"no default ignores", Options{NoDefaultIgnores: true},
			[]string{".git/HEAD", ".gitignore", ".gitmodules", ".hidden", "B", "a/b", "a/c", "a-b", "a.txt", "big:name", "ignore-me", "model.sig", "sub/.gitignore", "sub/ignore-me"}},
		{"user ignores", Options{IgnorePaths: []string{"ignore-me", "a", "../outside", "/elsewhere", "."}},
			[]string{".gitmodules", ".hidden", "B", "a-b", "a.txt", "big:name", "model.sig", "sub/.gitignore", "sub/ignore-me"}},
		{"signature file", Options{SignatureFile: "model.sig"},
			[]string{".gitmodules", ".hidden", "B", "a/b", "a/c", "a-b", "a.txt", "big:name", "ignore-me", "sub/.gitignore", "sub/ignore-me"}},
	}
	root := model(t, files)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := tt.opts
			if opts.SignatureFile != "" {
				opts.SignatureFile = filepath.Join(root, opts.SignatureFile)
			}
			m, err := Build(t.Context(), root, opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(names(m), tt.want); diff != "" {
				t.Errorf("names (-got +want):\n%s", diff)
			}
		})
	}

	m, err := Build(t.Context(), root, Options{IgnorePaths: []string{"ignore-me"}, SignatureFile: filepath.Join(root, "model.sig")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".git", ".gitattributes", ".github", ".gitignore", "ignore-me", "model.sig"}
	if diff := cmp.Diff(m.Serialization.IgnorePaths, want); diff != "" {
		t.Errorf("recorded ignore paths (-got +want):\n%s", diff)
	}
}

func TestShardOrderingAndNames(t *testing.T) {
	t.Parallel()
	root := model(t, map[string]string{"f": "0123456789abcdefghij0123", "e": ""})
	m, err := Build(t.Context(), root, Options{Method: Shards, ShardSize: 8})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(names(m), []string{"f:0:8", "f:8:16", "f:16:24"}); diff != "" {
		t.Errorf("names (-got +want):\n%s", diff)
	}
	if m.Resources[0].Algorithm != "sha256-sharded-8" {
		t.Errorf("algorithm %q", m.Resources[0].Algorithm)
	}
	// ':' in a name cannot be written in a shard manifest.
	bad := model(t, map[string]string{"a:b": "x"})
	if _, err := Build(t.Context(), bad, Options{Method: Shards}); !errors.Is(err, ErrBadName) {
		t.Errorf("Build with ':' in a name: %v, want ErrBadName", err)
	}
	// Non-UTF-8 names are refused in any mode.
	if runtime.GOOS == "linux" {
		bad := model(t, map[string]string{"ok": "x"})
		writeFile(t, filepath.Join(bad, "\xff"), "")
		if _, err := Build(t.Context(), bad, Options{}); !errors.Is(err, ErrBadName) {
			t.Errorf("Build with a non-UTF-8 name: %v, want ErrBadName", err)
		}
	}
}

func TestHashAlgorithms(t *testing.T) {
	t.Parallel()
	content := make([]byte, 5<<20+123) // several read buffers, not aligned
	for i := range content {
		content[i] = byte(i * 7)
	}
	s := sha256.Sum256(content)
	b2 := blake2b.Sum512(content)
	b3 := blake3.Sum256(content)
	tests := []struct {
		name    string
		opts    Options
		wantAlg string
		want    []byte
		method  Method
	}{
		{"sha256", Options{Hash: SHA256}, "sha256", s[:], Files},
		{"blake2b", Options{Hash: BLAKE2b}, "blake2b", b2[:], Files},
		{"blake3", Options{Hash: BLAKE3}, "blake3", b3[:], Files},
		{"blake3 shards become files", Options{Hash: BLAKE3, Method: Shards, ShardSize: 8}, "blake3", b3[:], Files},
		{"blake2b one shard", Options{Hash: BLAKE2b, Method: Shards}, "blake2b-sharded-1000000000", b2[:], Shards},
	}
	root := model(t, map[string]string{"w": string(content)})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Build(t.Context(), root, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Resources) != 1 {
				t.Fatalf("%d resources, want 1", len(m.Resources))
			}
			r := m.Resources[0]
			if r.Algorithm != tt.wantAlg || hex.EncodeToString(r.Digest) != hex.EncodeToString(tt.want) {
				t.Errorf("got %s %x, want %s %x", r.Algorithm, r.Digest, tt.wantAlg, tt.want)
			}
			if m.Serialization.Method != tt.method {
				t.Errorf("method %q, want %q", m.Serialization.Method, tt.method)
			}
			root := m.RootDigest()
			if want := sha256.Sum256(tt.want); root != want {
				t.Errorf("root %x, want sha256 of the digest %x", root, want)
			}
		})
	}
	if _, err := ParseHash("md5"); !errors.Is(err, ErrUnknownHash) {
		t.Errorf("ParseHash(md5) = %v, want ErrUnknownHash", err)
	}
}

func TestSymlinksAndSpecialFiles(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T, kind string) string {
		t.Helper()
		root := model(t, map[string]string{"inside": "in", "dir/x": "x"})
		outside := filepath.Join(filepath.Dir(root), "outside")
		writeFile(t, outside, "out")
		link := func(target string) {
			if err := os.Symlink(target, filepath.Join(root, "link")); err != nil {
				t.Fatal(err)
			}
		}
		switch kind {
		case "inside":
			link("inside")
		case "escaping":
			link(outside)
		case "escaping relative":
			link("../outside")
		case "directory":
			link("dir")
		case "broken":
			link("nowhere")
		case "fifo":
			if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return root
	}
	tests := []struct {
		kind    string
		opts    Options
		wantErr error
		want    []string
	}{
		{"inside", Options{}, ErrSymlink, nil},
		{"inside", Options{AllowSymlinks: true}, nil, []string{"dir/x", "inside", "link"}},
		{"escaping", Options{}, ErrSymlink, nil},
		{"escaping", Options{AllowSymlinks: true}, ErrSymlinkEscapes, nil},
		{"escaping relative", Options{AllowSymlinks: true}, ErrSymlinkEscapes, nil},
		{"escaping", Options{AllowEscapingSymlinks: true}, nil, []string{"dir/x", "inside", "link"}},
		{"directory", Options{AllowSymlinks: true}, ErrSymlinkDir, nil},
		{"broken", Options{AllowSymlinks: true}, ErrSpecialFile, nil},
		{"fifo", Options{}, ErrSpecialFile, nil},
		{"fifo", Options{IgnorePaths: []string{"fifo"}}, nil, []string{"dir/x", "inside"}},
		{"escaping", Options{IgnorePaths: []string{"link"}}, nil, []string{"dir/x", "inside"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			t.Parallel()
			root := setup(t, tt.kind)
			m, err := Build(t.Context(), root, tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Build error = %v, want %v", err, tt.wantErr)
			}
			var pe *PathError
			if err != nil && !errors.As(err, &pe) {
				t.Errorf("error %v is not a *PathError", err)
			}
			if err == nil {
				if diff := cmp.Diff(names(m), tt.want); diff != "" {
					t.Errorf("names (-got +want):\n%s", diff)
				}
				if m.Resources[len(m.Resources)-1].Path == "link" {
					if want := sha256.Sum256([]byte(map[bool]string{true: "out", false: "in"}[tt.opts.AllowEscapingSymlinks])); string(m.Resources[len(m.Resources)-1].Digest) != string(want[:]) {
						t.Errorf("link digest %x is not the target's", m.Resources[len(m.Resources)-1].Digest)
					}
				}
			}
		})
	}

	// The model path itself as a symlink follows the same policy.
	root := model(t, map[string]string{"f": "x"})
	alias := filepath.Join(t.TempDir(), "alias")
	if err := os.Symlink(root, alias); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(t.Context(), alias, Options{}); !errors.Is(err, ErrSymlink) {
		t.Errorf("symlinked root: %v, want ErrSymlink", err)
	}
	m, err := Build(t.Context(), alias, Options{AllowSymlinks: true})
	if err != nil || m.Name != "alias" || len(m.Resources) != 1 {
		t.Errorf("symlinked root allowed: %v, %+v", err, m)
	}
}

func TestChangedWhileHashing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(path string) error
		opts   Options
	}{
		{"grows", func(p string) error {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteString("more")
			return err
		}, Options{}},
		{"truncated shard", func(p string) error { return os.Truncate(p, 3) }, Options{Method: Shards, ShardSize: 4}},
		{"touched", func(p string) error {
			fi, err := os.Stat(p)
			if err != nil {
				return err
			}
			mt := fi.ModTime().Add(-3600e9)
			return os.Chtimes(p, mt, mt)
		}, Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := model(t, map[string]string{"weights": "0123456789"})
			opts := tt.opts
			opts.Workers = 1
			done := false
			opts.afterHash = func(rel string) {
				if !done {
					done = true
					if err := tt.mutate(filepath.Join(root, rel)); err != nil {
						t.Error(err)
					}
				}
			}
			_, err := Build(t.Context(), root, opts)
			if !errors.Is(err, ErrChanged) {
				t.Fatalf("Build error = %v, want ErrChanged", err)
			}
		})
	}
}

func TestEmpty(t *testing.T) {
	t.Parallel()
	root := model(t, map[string]string{"empty": "", "dir/empty": ""})
	if err := os.MkdirAll(filepath.Join(root, "only/dirs/here"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"files", Options{}, []string{"dir/empty", "empty"}},
		{"shards", Options{Method: Shards}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Build(t.Context(), root, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(names(m), tt.want); diff != "" {
				t.Errorf("names (-got +want):\n%s", diff)
			}
		})
	}
}

func TestCanceled(t *testing.T) {
	t.Parallel()
	root := model(t, map[string]string{"f": "x"})
	ctx, cancel := contextWithCancel(t)
	cancel()
	if _, err := Build(ctx, root, Options{}); err == nil {
		t.Error("Build with a canceled context succeeded")
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	signed := map[string]string{"a": "a", "b": "b", "c": "c", "ignore-me": ""}
	root := model(t, signed)
	want, err := Build(t.Context(), root, Options{IgnorePaths: []string{"ignore-me"}, Method: Shards, ShardSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(t *testing.T, root string)
		want   *MismatchError
	}{
		{"unchanged", func(*testing.T, string) {}, nil},
		{"ignored file changed", func(t *testing.T, r string) { writeFile(t, filepath.Join(r, "ignore-me"), "z") }, nil},
		{"one byte", func(t *testing.T, r string) { writeFile(t, filepath.Join(r, "b"), "B") }, &MismatchError{Changed: []string{"b:0:1"}}},
		{"added", func(t *testing.T, r string) { writeFile(t, filepath.Join(r, "d"), "d") }, &MismatchError{Extra: []string{"d:0:1"}}},
		{"removed", func(t *testing.T, r string) {
			if err := os.Remove(filepath.Join(r, "c")); err != nil {
				t.Fatal(err)
			}
		}, &MismatchError{Missing: []string{"c:0:1"}}},
		{"renamed", func(t *testing.T, r string) {
			if err := os.Rename(filepath.Join(r, "a"), filepath.Join(r, "z")); err != nil {
				t.Fatal(err)
			}
		}, &MismatchError{Extra: []string{"z:0:1"}, Missing: []string{"a:0:1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := model(t, signed)
			tt.change(t, r)
			err := Verify(t.Context(), r, want, Options{NoDefaultIgnores: true})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			var me *MismatchError
			if !errors.As(err, &me) || !errors.Is(err, ErrMismatch) {
				t.Fatalf("Verify error = %v, want a *MismatchError", err)
			}
			if diff := cmp.Diff(me, tt.want); diff != "" {
				t.Errorf("mismatch (-got +want):\n%s", diff)
			}
		})
	}
}
