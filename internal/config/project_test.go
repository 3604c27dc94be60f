package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseProject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		yaml    string
		wantErr []string // substrings the error must contain; nil means success
	}{
		{"empty file", "", nil},
		{"comments only", "# nothing yet\n", nil},
		{"null sections", "scan:\n", nil},
		{"full", `
scan:
  fail_on: medium
  suppressions:
    - rule: PKL002
      path: "models/legacy/**"
      reason: "vendor model reviewed by security, ticket SEC-12"
      expires: 2027-01-31
`, nil},
		{"unknown key", "scan:\n  fail_onn: high\n",
			[]string{`line 2: unknown key "fail_onn" under scan (valid keys: fail_on, suppressions, policy_dirs, gitleaks_config)`}},
		{"unknown top-level key", "scna: {}\n", []string{`unknown key "scna" at the top level (valid keys: scan, advisories)`}},
		{"repository settings", "scan:\n  policy_dirs: [policies, more]\n  gitleaks_config: .gitleaks.toml\nadvisories:\n  database: .osv\n  max_age_days: 14\n", nil},
		{"one policy dir as text", "scan:\n  policy_dirs: policies\n", nil},
		{"bad max age", "advisories:\n  max_age_days: soon\n", []string{"advisories.max_age_days must be a whole number of days"}},
		{"policy dirs as a mapping", "scan:\n  policy_dirs: {a: b}\n", []string{"scan.policy_dirs must be a list of paths"}},
		{"unknown suppression key", "scan:\n  suppressions:\n    - {rule: A, path: b, reason: c, expires: 2027-01-01, until: x}\n",
			[]string{`unknown key "until" under scan.suppressions[0] (valid keys: rule, path, reason, expires)`}},
		{"list where a mapping belongs", "scan: [1, 2]\n", []string{"scan must be a mapping", "not a list"}},
		{"text where a list belongs", "scan:\n  suppressions: everything\n",
			[]string{`scan.suppressions must be a list of suppressions, not the text "everything"`}},
		{"mapping where text belongs", "scan:\n  fail_on: {level: high}\n", []string{"scan.fail_on must be text, not a mapping"}},
		{"duplicate key", "scan:\n  fail_on: high\n  fail_on: low\n", []string{`key "fail_on" appears twice under scan`}},
		{"second document", "scan: {}\n---\nscan: {}\n", []string{"line 2", "second YAML document"}},
		{"syntax error", "scan: [\n", []string{"not valid YAML"}},
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
		{"key and suppression problems together", "scan:\n  fail_onn: x\n  suppressions:\n    - {rule: A}\n",
			[]string{`unknown key "fail_onn"`, "scan.suppressions[0]: path is empty", "expires is missing"}},
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
			for _, goType := range []string{"config.", "[]", "!!", "in type"} {
				if strings.Contains(err.Error(), goType) {
					t.Errorf("error %q names a Go or YAML type (%q)", err, goType)
				}
			}
		})
	}
}

func TestParseProjectData(t *testing.T) {
	t.Parallel()
	p, err := ParseProject([]byte("scan:\n  fail_on: Medium\n  suppressions:\n    - {rule: ' PKL002 ', path: 'x/**', reason: reviewed, expires: 2027-01-31}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := &Project{FailOn: "Medium", Suppressions: []Suppression{{
		Rule: "PKL002", Path: "x/**", Reason: "reviewed", Expires: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC),
	}}}
	if diff := cmp.Diff(p, want); diff != "" {
		t.Errorf("ParseProject (-got +want):\n%s", diff)
	}
}

func TestParseProjectReturnsWhatItReadWithProblems(t *testing.T) {
	t.Parallel()
	p, err := ParseProject([]byte("scan:\n  fail_on: severe\n  suppressions:\n    - {rule: onx002, path: a}\n"))
	if err == nil || !strings.Contains(err.Error(), "reason is empty") {
		t.Fatalf("error = %v, want one about the missing reason", err)
	}
	if p == nil || p.FailOn != "severe" || len(p.Suppressions) != 1 || p.Suppressions[0].Rule != "onx002" {
		t.Errorf("project = %+v, want fail_on and the suppression read so callers can check them too", p)
	}
	if p, err := ParseProject([]byte("scan: [\n")); p != nil || err == nil {
		t.Errorf("ParseProject(bad YAML) = %+v, %v; want nil and an error", p, err)
	}
}

func TestFindProject(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	deep := filepath.Join(root, "repo", "models", "v1")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	// A directory named like the project file is not one.
	if err := os.Mkdir(filepath.Join(root, "repo", "models", ProjectFileName), 0o755); err != nil {
		t.Fatal(err)
	}
	repoFile := filepath.Join(root, "repo", ProjectFileName)
	if err := os.WriteFile(repoFile, []byte("scan: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	nested := filepath.Join(root, "repo", "models", "v1", "inner")
	if err := os.MkdirAll(nested, 0o755); err != nil {
		t.Fatal(err)
	}
	nestedFile := filepath.Join(nested, ProjectFileName)
	if err := os.WriteFile(nestedFile, []byte("scan: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		dir  string
		want string
	}{
		{"in the directory itself", filepath.Join(root, "repo"), repoFile},
		{"in a parent", deep, repoFile},
		{"nearest wins", nested, nestedFile},
		{"none above", root, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := FindProject(tt.dir)
			if err != nil {
				t.Fatal(err)
			}
			// Only files under the temporary root count; a developer's
			// own project file above it must not break the test.
			if !strings.HasPrefix(got, root) {
				got = ""
			}
			if got != tt.want {
				t.Errorf("FindProject(%s) = %q, want %q", tt.dir, got, tt.want)
			}
		})
	}
}

func TestLoadProjectSetsDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, ProjectFileName)
	if err := os.WriteFile(path, []byte("scan: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := LoadProject(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Path != path || p.Dir != dir {
		t.Errorf("LoadProject = Path %q, Dir %q; want %q, %q", p.Path, p.Dir, path, dir)
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

func TestParseProjectRepositorySettings(t *testing.T) {
	t.Parallel()
	p, err := ParseProject([]byte("scan:\n  policy_dirs: [policies, more]\n  gitleaks_config: .gitleaks.toml\nadvisories:\n  database: .osv\n  max_age_days: 14\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := []any{p.PolicyDirs, p.GitleaksConfig, p.AdvisoryDB, p.AdvisoryMaxAgeDays}
	want := []any{[]string{"policies", "more"}, ".gitleaks.toml", ".osv", 14}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("settings (-got +want):\n%s", diff)
	}
}
