package pep440

import (
	"bufio"
	"os"
	"path/filepath"
	"testing"
)

// FuzzPEP440 checks the parser and the order on arbitrary strings: Parse
// never panics; on what parses, Compare is reflexive, antisymmetric and
// transitive, and every version compares equal to the parse of its String,
// which is a fixed point.
func FuzzPEP440(f *testing.F) {
	file, err := os.Open(filepath.Join("testdata", "versions.txt"))
	if err != nil {
		f.Fatal(err)
	}
	defer file.Close()
	var seeds []string
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		seeds = append(seeds, sc.Text())
	}
	if err := sc.Err(); err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, ordered...)
	for i, s := range seeds {
		f.Add(s, seeds[(i+1)%len(seeds)], seeds[(i+7)%len(seeds)])
	}
	f.Fuzz(func(t *testing.T, a, b, c string) {
		va, errA := Parse(a)
		vb, errB := Parse(b)
		vc, errC := Parse(c)
		for _, p := range []struct {
			in  string
			v   Version
			err error
		}{{a, va, errA}, {b, vb, errB}, {c, vc, errC}} {
			if p.err != nil {
				continue
			}
			if p.v.Compare(p.v) != 0 {
				t.Errorf("%q does not equal itself", p.in)
			}
			s := p.v.String()
			again, err := Parse(s)
			if err != nil {
				t.Fatalf("String of %q = %q does not parse: %v", p.in, s, err)
			}
			if again.Compare(p.v) != 0 || again.String() != s {
				t.Errorf("round trip %q -> %q -> %q changed the version", p.in, s, again)
			}
		}
		if errA != nil || errB != nil {
			return
		}
		ab, ba := va.Compare(vb), vb.Compare(va)
		if ab != -ba || ab < -1 || ab > 1 {
			t.Errorf("Compare(%q, %q) = %d but Compare(%q, %q) = %d", a, b, ab, b, a, ba)
		}
		if errC != nil {
			return
		}
		bc, ac := vb.Compare(vc), va.Compare(vc)
		if ab <= 0 && bc <= 0 && ac > 0 {
			t.Errorf("not transitive: %q <= %q <= %q but %q > %q", a, b, c, a, c)
		}
		if ab == 0 && bc == 0 && ac != 0 {
			t.Errorf("equality not transitive: %q == %q == %q but Compare(%q, %q) = %d", a, b, c, a, c, ac)
		}
	})
}
