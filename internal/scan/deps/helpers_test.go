package deps

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// recorder collects findings.
type recorder struct{ findings []scan.Finding }

func (r *recorder) Report(f scan.Finding) { r.findings = append(r.findings, f) }

// diskObject returns the testdata file rel as an on-disk object.
func diskObject(t testing.TB, rel string) scan.Object {
	t.Helper()
	p := filepath.Join("testdata", filepath.FromSlash(rel))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return scan.Object{Name: filepath.Base(p), R: bytes.NewReader(data), Size: int64(len(data)), DiskPath: p, Format: scan.FormatDependencies}
}

// memObject returns data as an object inside an archive (no disk path).
func memObject(name string, data []byte) scan.Object {
	return scan.Object{Name: name, R: bytes.NewReader(data), Size: int64(len(data)), Format: scan.FormatDependencies}
}

func newScanner(t testing.TB, adv Advisories) *Scanner {
	t.Helper()
	s, err := New(Options{Advisories: adv})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run scans obj and returns its findings.
func run(t testing.TB, s *Scanner, obj scan.Object) []scan.Finding {
	t.Helper()
	var r recorder
	if err := s.scan(context.Background(), obj, &r); err != nil {
		t.Fatalf("scan %s: %v", obj.Name, err)
	}
	return r.findings
}

// hit is the comparable part of a finding.
type hit struct {
	Rule string
	Line int
}

func hits(fs []scan.Finding) []hit {
	out := make([]hit, 0, len(fs))
	for _, f := range fs {
		out = append(out, hit{f.RuleID, f.Line})
	}
	slices.SortFunc(out, func(a, b hit) int {
		if c := strings.Compare(a.Rule, b.Rule); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	return out
}

// fakeAdvisories is an in-memory advisory set keyed by
// "ecosystem/name@version".
type fakeAdvisories map[string][]Advisory

func (f fakeAdvisories) Query(_ context.Context, eco, name, version string) ([]Advisory, error) {
	return f[eco+"/"+name+"@"+version], nil
}
