package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseProject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		wantErr []string // substrings the error must contain; nil means success
	}{
		{"empty file", "", nil},
		{"full", `
scan:
  fail_on: medium
  suppressions:
    - rule: PKL002
      path: "models/legacy/**"
      reason: "vendor model reviewed by security, ticket SEC-12"
      expires: 2027-01-31
`, nil},
		{"unknown key", "scan:\n  fail_onn: high\n", []string{"fail_onn"}},
		{"unknown top-level key", "scna: {}\n", []string{"scna"}},
		{"bad severity", "scan:\n  fail_on: severe\n", []string{"scan.fail_on", "severe"}},
		{"every suppression problem at once", `
scan:
  suppressions:
    - rule: PKL001
      path: a.pkl
      expires: 2027-01-01
    - rule: PKL001
      path: b.pkl
      reason: ok
      expires: next week
`, []string{"suppressions[0]", "reason is empty", "suppressions[1]", "YYYY-MM-DD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParseProject([]byte(tt.yaml))
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("ParseProject: %v", err)
				}
				if p == nil {
					t.Fatal("ParseProject returned nil project")
				}
				return
			}
			if err == nil {
				t.Fatal("ParseProject succeeded, want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestProjectSuppressions(t *testing.T) {
	t.Parallel()
	p, err := ParseProject([]byte("scan:\n  suppressions:\n    - {rule: PKL002, path: 'x/**', reason: reviewed, expires: 2027-01-31}\n"))
	if err != nil {
		t.Fatal(err)
	}
	sups, err := p.Suppressions()
	if err != nil {
		t.Fatal(err)
	}
	if len(sups) != 1 || sups[0].Rule != "PKL002" || !sups[0].Expires.Equal(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Suppressions() = %+v", sups)
	}
}

func TestLoadProjectTooLarge(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), ProjectFileName)
	if err := os.WriteFile(path, []byte(strings.Repeat("#", maxProjectFile+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadProject(path); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("LoadProject(huge) error = %v, want a size error", err)
	}
}
