package scan

import (
	"strings"
	"testing"
)

type recorder []Finding

func (r *recorder) Report(f Finding) { *r = append(*r, f) }

func TestCapped(t *testing.T) {
	t.Parallel()
	var got recorder
	c := NewCapped(&got, 2)
	other := Rule{ID: "TST002", Name: "other", Severity: SeverityLow}
	for i := 0; i < 5; i++ {
		c.Add(ruleFake, int64(i), "p", "m", "e")
	}
	c.Add(other, -1, "", "m", "e")
	c.Flush()
	if len(got) != 4 {
		t.Fatalf("%d findings reported, want 2 + 1 + 1 summary: %+v", len(got), got)
	}
	if got[0].Offset != 0 || got[1].Offset != 1 || got[0].Pointer != "p" {
		t.Errorf("first findings = %+v, want offsets 0 and 1 with pointer p", got[:2])
	}
	if s := got[3]; s.RuleID != "TST001" || !strings.Contains(s.Message, "3 more fake findings") {
		t.Errorf("summary = %+v, want one TST001 finding counting 3 more", s)
	}
}

func TestQuote(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{"esc\x1b[31m", `"esc\x1b["...`}, // control characters escaped, clipped at 5 bytes
		{"ééééé", `"éé"...`},             // clipped back to a rune boundary
	}
	for _, tt := range tests {
		if got := Quote(tt.in, 5); got != tt.want {
			t.Errorf("Quote(%q, 5) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCappedReportAndBuffer(t *testing.T) {
	t.Parallel()
	var buf Buffer
	c := NewCapped(&buf, 1)
	f := ruleFake.Finding("m", "e")
	c.Report(f)
	c.Report(f)
	c.Report(f)
	c.Flush()
	if len(buf) != 2 || !strings.Contains(buf[1].Message, "2 more fake findings") || buf[1].Evidence != "3 findings" {
		t.Fatalf("buffer = %+v, want the first finding and a summary of 2 more out of 3", buf)
	}
	var out recorder
	buf.FlushTo(&out)
	if len(out) != 2 || len(buf) != 0 {
		t.Errorf("FlushTo moved %d findings and left %d, want 2 and 0", len(out), len(buf))
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"short", "short"},
		{"exactly5", "exact..."},
		{"ééé", "éé..."},     // 6 bytes; cut at 5 falls inside the third é
		{"a\x1bb", "a\x1bb"}, // Clip does not escape; Quote does
	}
	for _, tt := range tests {
		if got := Clip(tt.in, 5); got != tt.want {
			t.Errorf("Clip(%q, 5) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
