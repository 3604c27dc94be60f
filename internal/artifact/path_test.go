package artifact

import (
	"errors"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidatePath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path string
		ok   bool
	}{
		{"simple", "model.safetensors", true},
		{"nested", "a/b/c.bin", true},
		{"dots in names", "a..b/...", true},
		{"unicode", "modèle/权重.bin", true},
		{"hidden file", ".gitattributes", true},
		{"empty", "", false},
		{"parent", "../x", false},
		{"absolute", "/etc/passwd", false},
		{"inner parent", "a/../../b", false},
		{"harmless parent", "a/../b", false},
		{"dot element", "a/./b", false},
		{"leading dot slash", "./a", false},
		{"only dot", ".", false},
		{"trailing slash", "a/", false},
		{"double slash", "a//b", false},
		{"backslash", `a\..\b`, false},
		{"drive letter", "C:/Windows/x", false},
		{"NUL", "a\x00b", false},
		{"newline", "a\nb", false},
		{"DEL", "a\x7fb", false},
		{"invalid UTF-8", "a\xffb", false},
		{"git directory", ".git/config", false},
		{"git directory, other case", "sub/.GIT/hooks/pre-commit", false},
		{"long element", strings.Repeat("a", 256), false},
		{"longest element", strings.Repeat("a", 255), true},
		{"long path", strings.Repeat("a/", 2048) + "b", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := ValidatePath(tt.path)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidatePath(%q) = %v, want ok=%v", tt.path, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidPath) {
				t.Errorf("ValidatePath(%q) error %v does not match ErrInvalidPath", tt.path, err)
			}
		})
	}
}

func TestPathSet(t *testing.T) {
	t.Parallel()
	type op struct {
		dir  bool
		path string
	}
	tests := []struct {
		name string
		ops  []op
		ok   bool // whether the last op succeeds; the others must
	}{
		{"distinct", []op{{false, "a"}, {false, "b/c"}}, true},
		{"shared directory", []op{{false, "d/a"}, {false, "d/b"}}, true},
		{"directory twice", []op{{true, "d"}, {true, "d"}, {false, "d/x"}}, true},
		{"duplicate", []op{{false, "a"}, {false, "a"}}, false},
		{"case duplicate", []op{{false, "Model.bin"}, {false, "model.bin"}}, false},
		{"file then directory", []op{{false, "a"}, {false, "a/b"}}, false},
		{"directory then file", []op{{false, "a/b"}, {false, "a"}}, false},
		{"directory case", []op{{false, "A/x"}, {false, "a/y"}}, false},
		{"explicit directory over file", []op{{false, "a"}, {true, "a"}}, false},
		{"file over explicit directory", []op{{true, "a"}, {false, "A"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newPathSet()
			for i, o := range tt.ops {
				add := s.addFile
				if o.dir {
					add = s.addDir
				}
				err := add(o.path)
				last := i == len(tt.ops)-1
				if !last && err != nil {
					t.Fatalf("op %d (%q) = %v", i, o.path, err)
				}
				if last && (err == nil) != tt.ok {
					t.Fatalf("last op (%q) = %v, want ok=%v", o.path, err, tt.ok)
				}
				if err != nil && !errors.Is(err, ErrInvalidPath) {
					t.Errorf("error %v does not match ErrInvalidPath", err)
				}
			}
		})
	}
}

// FuzzValidatePath checks ValidatePath against the standard library: an
// accepted path is local and already clean.
func FuzzValidatePath(f *testing.F) {
	for _, s := range []string{"a", "a/b", "../a", "a/../b", "/a", `a\b`, "a//b", ".git/x", "C:x", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if ValidatePath(p) != nil {
			return
		}
		if !filepath.IsLocal(filepath.FromSlash(p)) || path.Clean(p) != p || strings.Contains(p, "\\") {
			t.Fatalf("ValidatePath accepted %q", p)
		}
	})
}
