package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseScope(t *testing.T) {
	t.Parallel()
	all := []Action{ActionPull, ActionPush, ActionDelete}
	tests := []struct {
		in      string
		want    Scope
		ok      bool
		wantErr bool
	}{
		{"repository:a/x:pull", Scope{"a/x", []Action{ActionPull}}, true, false},
		{"repository:a/x:pull,push", Scope{"a/x", []Action{ActionPull, ActionPush}}, true, false},
		{"repository:a/x:push,pull,push", Scope{"a/x", []Action{ActionPush, ActionPull}}, true, false},
		{"repository:a/x:*", Scope{"a/x", all}, true, false},
		{"repository:a/x:pull,*", Scope{"a/x", all}, true, false},
		{"repository:a/x:delete", Scope{"a/x", []Action{ActionDelete}}, true, false},
		{"repository:a/b/c/d:pull", Scope{"a/b/c/d", []Action{ActionPull}}, true, false},
		// The name runs to the last colon (a registry host with a port).
		{"repository:localhost:5000/a/x:pull", Scope{"localhost:5000/a/x", []Action{ActionPull}}, true, false},
		// Unknown actions are dropped, not refused.
		{"repository:a/x:pull,admin,PUSH", Scope{"a/x", []Action{ActionPull}}, true, false},
		{"repository:a/x:", Scope{"a/x", nil}, true, false},
		{"repository:a/x:metadata-read", Scope{"a/x", nil}, true, false},
		// Other resource types are ignored.
		{"registry:catalog:*", Scope{}, false, false},
		{"repository(plugin):a/x:pull", Scope{}, false, false},
		// Malformed.
		{"", Scope{}, false, true},
		{"repository", Scope{}, false, true},
		{"repository:a/x", Scope{}, false, true},
		{"repository::pull", Scope{}, false, true},
		{"repository:a/x\nrepository:b/y:pull", Scope{}, false, true},
		{"repository:a/x\r:pull", Scope{}, false, true},
		{"repository:a\x00x:pull", Scope{}, false, true},
		{"repository:a\x7fx:pull", Scope{}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok, err := ParseScope(tt.in)
			if (err != nil) != tt.wantErr || ok != tt.ok {
				t.Fatalf("ParseScope(%q) = %v, %v, %v; want ok %v, error %v", tt.in, got, ok, err, tt.ok, tt.wantErr)
			}
			if diff := cmp.Diff(got, tt.want); diff != "" {
				t.Errorf("ParseScope(%q) (-got +want):\n%s", tt.in, diff)
			}
		})
	}
}

func TestScopeString(t *testing.T) {
	t.Parallel()
	s := Scope{Repository: "a/x", Actions: []Action{ActionPull, ActionPush}}
	if got := s.String(); got != "repository:a/x:pull,push" {
		t.Errorf("String() = %q", got)
	}
	if !s.has("a/x", ActionPush) || s.has("a/x", ActionDelete) || s.has("a/y", ActionPull) || s.has("a/x/y", ActionPull) {
		t.Error("has is wrong")
	}
}

func TestScopesRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []Scope
		want []Scope // what decode returns; nil means in
	}{
		{"none", nil, nil},
		{"one", []Scope{{"a/x", []Action{ActionPull}}}, nil},
		{"several", []Scope{
			{"a/x", []Action{ActionPull, ActionPush}},
			{"b/y/z", []Action{ActionDelete}},
			{"localhost:5000/a/x", []Action{ActionPull, ActionPush, ActionDelete}},
		}, nil},
		{"empty actions dropped", []Scope{{"a/x", nil}, {"a/y", []Action{ActionPull}}}, []Scope{{"a/y", []Action{ActionPull}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc := encodeScopes(tt.in)
			got, err := decodeScopes(enc)
			if err != nil {
				t.Fatalf("decodeScopes(%q): %v", enc, err)
			}
			want := tt.want
			if want == nil {
				want = tt.in
			}
			if diff := cmp.Diff(got, want); diff != "" {
				t.Errorf("round trip of %q (-got +want):\n%s", enc, diff)
			}
		})
	}
	if _, err := decodeScopes("repository:a/x:pull\nnot a scope"); err == nil {
		t.Error("decodeScopes accepted a malformed line")
	}
}

// FuzzParseScope checks that ParseScope never panics, that an accepted
// scope names a repository without control characters and only known
// actions, each once, and that its String form (as stored for a session
// token) decodes to the same scope.
func FuzzParseScope(f *testing.F) {
	seeds, _ := os.ReadFile(filepath.Join("testdata", "scopes.txt"))
	for _, s := range strings.Split(string(seeds), "\n") {
		if s != "" && !strings.HasPrefix(s, "#") {
			f.Add(s)
		}
	}
	f.Add("repository:a/x\nrepository:b/y:pull")
	f.Fuzz(func(t *testing.T, s string) {
		sc, ok, err := ParseScope(s)
		if err != nil || !ok {
			if ok || sc.Repository != "" || sc.Actions != nil {
				t.Fatalf("ParseScope(%q) = %v, %v, %v", s, sc, ok, err)
			}
			return
		}
		if sc.Repository == "" || strings.ContainsAny(sc.Repository, "\n\r") {
			t.Fatalf("ParseScope(%q) repository %q", s, sc.Repository)
		}
		seen := map[Action]bool{}
		for _, a := range sc.Actions {
			if a != ActionPull && a != ActionPush && a != ActionDelete || seen[a] {
				t.Fatalf("ParseScope(%q) actions %v", s, sc.Actions)
			}
			seen[a] = true
		}
		again, ok, err := ParseScope(sc.String())
		if err != nil || !ok {
			t.Fatalf("ParseScope(%q) of String() of %q: %v, %v", sc.String(), s, ok, err)
		}
		if diff := cmp.Diff(again, sc); diff != "" {
			t.Fatalf("String() of %q does not parse back (-got +want):\n%s", s, diff)
		}
		if len(sc.Actions) == 0 {
			return
		}
		dec, err := decodeScopes(encodeScopes([]Scope{sc, sc}))
		if err != nil {
			t.Fatalf("decodeScopes of %q: %v", s, err)
		}
		if diff := cmp.Diff(dec, []Scope{sc, sc}); diff != "" {
			t.Fatalf("stored scopes of %q do not decode back (-got +want):\n%s", s, diff)
		}
	})
}
