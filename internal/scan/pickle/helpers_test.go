package pickle

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// recorder is a sink that keeps everything the machine reports.
type recorder struct {
	events []event
	segs   []segment
	kept   []bool
	trails []string
}

func (r *recorder) event(_ context.Context, _ *machine, e *event) error {
	r.events = append(r.events, *e)
	return nil
}
func (r *recorder) begin(int, int64) {}
func (r *recorder) dangerous() bool  { return false }
func (r *recorder) end(_ context.Context, seg *segment, keep bool) error {
	r.segs = append(r.segs, *seg)
	r.kept = append(r.kept, keep)
	return nil
}
func (r *recorder) trailing(off, n int64, kind trailingKind, what string) {
	r.trails = append(r.trails, fmt.Sprintf("%d+%d kind=%d %s", off, n, kind, what))
}

// wide renders values in full for assertions.
var wide = renderer{strLimit: 1000, items: 100, depth: 20, budget: 100000}

// run runs data through the stream driver with a recorder.
func run(t *testing.T, data []byte, lim *limits) *recorder {
	t.Helper()
	if lim == nil {
		lim = &defaultLimits
	}
	rec := &recorder{}
	if err := runStream(t.Context(), bytes.NewReader(data), int64(len(data)), lim, rec, false); err != nil {
		t.Fatalf("runStream: %v", err)
	}
	return rec
}

// tampers returns the protocol-anomaly messages the recorder saw.
func (r *recorder) tampers() []string {
	var out []string
	for _, e := range r.events {
		if e.kind == evTamper {
			out = append(out, e.msg)
		}
	}
	return out
}

// engine returns an engine with the pickle scanner sc (New() if nil).
func engine(sc *Scanner) *scan.Engine {
	if sc == nil {
		sc = New()
	}
	return scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatPickle: sc}})
}

// scanBytes scans data named name with the pickle scanner.
func scanBytes(t *testing.T, sc *Scanner, name string, data []byte) []scan.Finding {
	t.Helper()
	fs, err := engine(sc).ScanReader(t.Context(), name, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("ScanReader(%s): %v", name, err)
	}
	return fs
}

// want describes a finding a test expects.
type want struct {
	rule     string
	sev      scan.Severity
	evidence string // substring of the evidence; "" matches any
	inner    string // the innermost member name; "" means the top-level object
}

func (w want) String() string {
	return fmt.Sprintf("%s/%s evidence~%q inner=%q", w.rule, w.sev, w.evidence, w.inner)
}

func matches(f scan.Finding, w want) bool {
	inner := ""
	if len(f.Inner) > 0 {
		inner = f.Inner[len(f.Inner)-1]
	}
	return f.RuleID == w.rule && f.Severity == w.sev && strings.Contains(f.Evidence, w.evidence) && inner == w.inner
}

func maxSeverity(fs []scan.Finding) scan.Severity {
	m := scan.SeverityNone
	for _, f := range fs {
		if f.Severity > m {
			m = f.Severity
		}
	}
	return m
}

func dump(fs []scan.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "\n  %s %s %s @%d inner=%v: %s | %s", f.RuleID, f.Severity, f.RuleName, f.Offset, f.Inner, f.Message, f.Evidence)
	}
	if b.Len() == 0 {
		return " (none)"
	}
	return b.String()
}

// checkFindings asserts that every wanted finding is present and that
// nothing is more severe than the worst one wanted.
func checkFindings(t *testing.T, fs []scan.Finding, wants []want) {
	t.Helper()
	worst := scan.SeverityNone
	for _, w := range wants {
		if w.sev > worst {
			worst = w.sev
		}
		found := false
		for _, f := range fs {
			if matches(f, w) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("missing finding %v; got:%s", w, dump(fs))
		}
	}
	if got := maxSeverity(fs); got != worst {
		t.Errorf("max severity = %s, want %s; got:%s", got, worst, dump(fs))
	}
}
