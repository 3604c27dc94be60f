package pep440

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseNormalises(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"1.0", "1.0"},
		{"1.0.0", "1.0.0"},
		{"  1.0\n", "1.0"},
		{"v1.0", "1.0"},
		{"V2.1", "2.1"},
		{"01.002", "1.2"},
		{"1!2.0", "1!2.0"},
		{"0!1.0", "1.0"},
		{"1.0a1", "1.0a1"},
		{"1.0A1", "1.0a1"},
		{"1.0alpha1", "1.0a1"},
		{"1.0-alpha.1", "1.0a1"},
		{"1.0.a.1", "1.0a1"},
		{"1.0_a_1", "1.0a1"},
		{"1.0a", "1.0a0"},
		{"1.0b2", "1.0b2"},
		{"1.0beta2", "1.0b2"},
		{"1.0-beta", "1.0b0"},
		{"1.0c1", "1.0rc1"},
		{"1.0rc1", "1.0rc1"},
		{"1.0pre1", "1.0rc1"},
		{"1.0preview1", "1.0rc1"},
		{"1.0-RC-1", "1.0rc1"},
		{"1.0.post1", "1.0.post1"},
		{"1.0post1", "1.0.post1"},
		{"1.0-post1", "1.0.post1"},
		{"1.0.post", "1.0.post0"},
		{"1.0-1", "1.0.post1"},
		{"1.0r1", "1.0.post1"},
		{"1.0rev1", "1.0.post1"},
		{"1.0-rev-1", "1.0.post1"},
		{"1.0.dev1", "1.0.dev1"},
		{"1.0dev", "1.0.dev0"},
		{"1.0-dev-2", "1.0.dev2"},
		{"1.0a1.dev2", "1.0a1.dev2"},
		{"1.0a.dev2", "1.0a0.dev2"},
		{"1.0.post1.dev1", "1.0.post1.dev1"},
		{"1.0-1.dev1", "1.0.post1.dev1"},
		{"1.0rc1.post2.dev3+local.7", "1.0rc1.post2.dev3+local.7"},
		{"1.13.0+cu117", "1.13.0+cu117"},
		{"1.13.0+CU117", "1.13.0+cu117"},
		{"1.0+ubuntu-1_2", "1.0+ubuntu.1.2"},
		{"1.0+01", "1.0+01"},
		{"2024.1", "2024.1"},
		{"0", "0"},
		{"18446744073709551615", "18446744073709551615"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			v, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if got := v.String(); got != tt.want {
				t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
			again, err := Parse(v.String())
			if err != nil || again.Compare(v) != 0 || again.String() != v.String() {
				t.Errorf("round trip of %q: %v, %v", v, again, err)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		"", "   ", "v", "a1", "1.", "1..0", ".1", "1.0+", "1.0+abc.", "1.0+a+b",
		"1.0-", "1.0.dev1.post1", "1.0a1b1", "1!", "!1.0", "1!2!3",
		"0.7.4.svn.r2010", "1.0.0-b1-SNAPSHOT", "2.0-final", "1.0 beta", "1.0alphabet",
		"1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30.31.32.33.34.35.36.37.38.39.40.41.42.43.44.45.46.47.48.49.50.51.52.53.54.55.56.57.58.59.60.61.62.63.64.65",
		"18446744073709551616", "1.0a18446744073709551616",
		strings.Repeat("1", MaxLen+1),
		"1.0\x00", "１.0",
	} {
		v, err := Parse(in)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) = %v, %v; want ErrInvalid", in, v, err)
		}
		var pe *Error
		if !errors.As(err, &pe) || pe.Reason == "" {
			t.Errorf("Parse(%q) error %v is not an *Error with a reason", in, err)
		}
	}
}

// TestEqual lists spellings that denote the same version.
func TestEqual(t *testing.T) {
	t.Parallel()
	for _, pair := range [][2]string{
		{"1.0", "1.0.0"},
		{"1.0", "1.0.0.0.0"},
		{"1.01", "1.1"},
		{"0!1.0", "1.0"},
		{"v1.0", "1.0"},
		{"1.0-beta", "1.0b0"},
		{"1.0alpha", "1.0a0"},
		{"1.0c1", "1.0rc1"},
		{"1.0pre1", "1.0rc1"},
		{"1.0preview1", "1.0rc1"},
		{"1.0.post1", "1.0-1"},
		{"1.0.post1", "1.0r1"},
		{"1.0.post1", "1.0rev1"},
		{"1.0.post1", "1.0_post_1"},
		{"1.0.dev0", "1.0dev"},
		{"1.0+abc.1", "1.0+ABC-1"},
		{"1.0+1", "1.0+01"},
		{"1.0.0+cu117", "1.0+cu117"},
	} {
		a, b := MustParse(pair[0]), MustParse(pair[1])
		if c := Compare(a, b); c != 0 {
			t.Errorf("Compare(%q, %q) = %d, want 0", pair[0], pair[1], c)
		}
	}
}

// ordered lists versions in strictly increasing PEP 440 order, covering
// every ordering rule of the spec.
var ordered = []string{
	"0.dev0",
	"0",
	"0.1",
	"1.0.dev0",
	"1.0.dev1",
	"1.0a1.dev2",
	"1.0a1",
	"1.0a1.post1.dev1",
	"1.0a1.post1",
	"1.0a2",
	"1.0b1",
	"1.0rc1",
	"1.0rc1+local",
	"1.0",
	"1.0+abc",
	"1.0+abc.1",
	"1.0+1",
	"1.0+1.2",
	"1.0+1.10",
	"1.0+2",
	"1.0.post1.dev1",
	"1.0.post1",
	"1.0.post2",
	"1.0.1",
	"1.1.dev1",
	"1.1",
	"1.9",
	"1.10",
	"1.13.0",
	"1.13.0+cpu",
	"1.13.0+cu117",
	"1.13.0+rocm5.6",
	"1.13.1",
	"2024.1",
	"1!0.1",
	"1!1.0",
	"2!0.dev0",
}

func TestOrder(t *testing.T) {
	t.Parallel()
	vs := make([]Version, len(ordered))
	for i, s := range ordered {
		vs[i] = MustParse(s)
	}
	for i := range vs {
		for j := range vs {
			want := 0
			switch {
			case i < j:
				want = -1
			case i > j:
				want = 1
			}
			if got := Compare(vs[i], vs[j]); got != want {
				t.Errorf("Compare(%q, %q) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	// Sorting a shuffled copy restores the order.
	shuffled := slices.Clone(vs)
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	slices.SortFunc(shuffled, Compare)
	got := make([]string, len(shuffled))
	for i, v := range shuffled {
		got[i] = v.String()
	}
	want := make([]string, len(vs))
	for i, v := range vs {
		want[i] = v.String()
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("sorted (-got +want):\n%s", diff)
	}
}

func TestAccessors(t *testing.T) {
	t.Parallel()
	v := MustParse("1.13.0rc1+cu117")
	if !v.IsPrerelease() || v.Local() != "cu117" || v.Public().String() != "1.13.0rc1" {
		t.Errorf("accessors of %s: pre=%v local=%q public=%s", v, v.IsPrerelease(), v.Local(), v.Public())
	}
	if MustParse("1.0.post1").IsPrerelease() || !MustParse("1.0.dev1").IsPrerelease() {
		t.Error("IsPrerelease wrong for post/dev")
	}
}

func TestMustParsePanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("MustParse of an invalid version did not panic")
		}
	}()
	MustParse("not a version")
}
