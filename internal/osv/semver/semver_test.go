package semver

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Version
	}{
		{"1.2.3", Version{Major: 1, Minor: 2, Patch: 3}},
		{"v1.2.3", Version{Major: 1, Minor: 2, Patch: 3}},
		{" =v1.2.3 ", Version{Major: 1, Minor: 2, Patch: 3}},
		{"v1", Version{Major: 1}},
		{"v1.2", Version{Major: 1, Minor: 2}},
		{"0", Version{}},
		{"1.0.0-rc.1", Version{Major: 1, Pre: []string{"rc", "1"}}},
		{"1.0.0-x-y.z", Version{Major: 1, Pre: []string{"x-y", "z"}}},
		{"v2.0.0+incompatible", Version{Major: 2, Build: "incompatible"}},
		{"1.0.0-beta+exp.sha.5114f85", Version{Major: 1, Pre: []string{"beta"}, Build: "exp.sha.5114f85"}},
		{"v0.0.0-20240101120000-abcdef123456", Version{Pre: []string{"20240101120000-abcdef123456"}}},
		{"v1.2.4-0.20191109021931-daa7c04131f5", Version{Major: 1, Minor: 2, Patch: 4, Pre: []string{"0", "20191109021931-daa7c04131f5"}}},
		{"1.0.0+001", Version{Major: 1, Build: "001"}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(got, tt.want); diff != "" {
			t.Errorf("Parse(%q) (-got +want):\n%s", tt.in, diff)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", "v", "1.2.3.4", "01.2.3", "1.02.3", "1.2.3-01", "1.2.3-", "1.2.3-a..b", "1.2.3+",
		"1.2.3-a_b", "1.2-rc.1", "v1+meta", "a.b.c", "1.2.x", "18446744073709551616.0.0",
		strings.Repeat("1", MaxLen+1), "1.2.3 beta",
	} {
		if v, err := Parse(in); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, %v; want ErrInvalid", in, v, err)
		}
	}
}

// TestOrder checks SemVer 2.0 precedence, including the example chain
// from the specification, Go pseudo-versions and +incompatible.
func TestOrder(t *testing.T) {
	t.Parallel()
	ordered := []string{
		"v0.0.0-20190101000000-aaaaaaaaaaaa",
		"v0.0.0-20240101120000-abcdef123456",
		"0.0.0",
		"0.9.0",
		"1.0.0-alpha",
		"1.0.0-alpha.1",
		"1.0.0-alpha.beta",
		"1.0.0-beta",
		"1.0.0-beta.2",
		"1.0.0-beta.11",
		"1.0.0-rc.1",
		"1.0.0",
		"v1.2.3",
		"v1.2.4-0.20191109021931-daa7c04131f5",
		"v1.2.4",
		"1.10.0",
		"v2.0.0+incompatible",
		"2.0.1",
		"10.0.0",
	}
	for i := range ordered {
		for j := range ordered {
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := Compare(MustParse(ordered[i]), MustParse(ordered[j])); got != want {
				t.Errorf("Compare(%q, %q) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	for _, pair := range [][2]string{{"v2.0.0+incompatible", "2.0.0"}, {"1.0.0+a", "1.0.0+b"}, {"v1.2", "1.2.0"}, {"=1.0.0", "v1.0.0"}} {
		if c := Compare(MustParse(pair[0]), MustParse(pair[1])); c != 0 {
			t.Errorf("Compare(%q, %q) = %d, want 0", pair[0], pair[1], c)
		}
	}
}

func TestString(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"v1.2.3": "1.2.3", "v2.0.0+incompatible": "2.0.0+incompatible", "1.0.0-rc.1": "1.0.0-rc.1", "v1.2": "1.2.0"} {
		if got := MustParse(in).String(); got != want {
			t.Errorf("String(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzSemver: Parse never panics; Compare is antisymmetric and agrees with
// the parse of String.
func FuzzSemver(f *testing.F) {
	for _, s := range []string{"1.2.3", "v1.2.3-rc.1+b", "v0.0.0-20240101120000-abcdef123456", "v2.0.0+incompatible", "1.0.0-alpha.beta", "v1"} {
		f.Add(s, "1.0.0-beta.11")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		va, errA := Parse(a)
		vb, errB := Parse(b)
		if errA == nil {
			again, err := Parse(va.String())
			if err != nil || again.Compare(va) != 0 {
				t.Errorf("round trip of %q via %q: %v", a, va.String(), err)
			}
		}
		if errA == nil && errB == nil && va.Compare(vb) != -vb.Compare(va) {
			t.Errorf("Compare(%q, %q) not antisymmetric", a, b)
		}
	})
}
