package archive

import (
	"bytes"
	"regexp"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

func TestRules(t *testing.T) {
	t.Parallel()
	id := regexp.MustCompile(`^ARC[0-9]{3}$`)
	name := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	seen := map[string]bool{}
	for _, r := range New().Rules() {
		if seen[r.ID] {
			t.Errorf("duplicate rule ID %s", r.ID)
		}
		seen[r.ID] = true
		if r == scan.RuleTooManyEntries {
			continue
		}
		if !id.MatchString(r.ID) || !name.MatchString(r.Name) || r.Summary == "" || r.Remediation == "" ||
			r.Severity < scan.SeverityLow || r.Severity > scan.SeverityCritical {
			t.Errorf("malformed rule %+v", r)
		}
	}
}

func TestEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want bool
	}{
		{"archive/data.pkl", false},
		{"a/../b", false},
		{"./a", false},
		{"..", true},
		{"../a", true},
		{"a/../../b", true},
		{`a\..\..\b`, true},
		{"/etc/passwd", true},
		{`\\server\share`, true},
		{"C:/x", true},
		{"c:x", true},
		{"..a/b", false},
	}
	for _, tt := range tests {
		if got, _ := escapes(tt.name); got != tt.want {
			t.Errorf("escapes(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestLinkEscapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, target string
		symbolic     bool
		want         bool
	}{
		{"model/alias", "data.pkl", true, false},
		{"model/alias", "../data.pkl", true, false},
		{"model/alias", "../../data.pkl", true, true},
		{"model/alias", "/etc/passwd", true, true},
		{"model/hard", "model/data.pkl", false, false},
		{"model/hard", "../data.pkl", false, true},
		{"model/hard", "/etc/shadow", false, true},
		{"model/alias", `C:\Windows`, true, true},
	}
	for _, tt := range tests {
		if got := linkEscapes(tt.name, tt.target, tt.symbolic); got != tt.want {
			t.Errorf("linkEscapes(%q, %q, %v) = %v, want %v", tt.name, tt.target, tt.symbolic, got, tt.want)
		}
	}
}

// TestScanRejectsOtherFormats checks that the scanner fails (and the
// engine fails closed) when handed a format it does not read.
func TestScanRejectsOtherFormats(t *testing.T) {
	t.Parallel()
	eng := scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatPickle: New()}})
	data := payload
	fs, err := eng.ScanReader(t.Context(), "x.pkl", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	checkFindings(t, fs, []want{{rule: "SCN001", sev: scan.SeverityHigh}}, nil)
}
