package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/scan/report"
	"github.com/palisade-sec/palisade/internal/version"
)

// fakeServices is an engine without scanners and an Explain that records
// its call.
type fakeServices struct{ explained bool }

func (f *fakeServices) ScanEngine(_ context.Context, opts scan.Options, _ config.Repository) (*scan.Engine, []string, error) {
	return scan.NewEngine(opts), nil, nil
}
func (f *fakeServices) Explain(_ context.Context, _ string, w io.Writer) error {
	f.explained = true
	_, err := io.WriteString(w, "listing\n")
	return err
}

func (f *fakeServices) SBOM(_ context.Context, paths []string, w io.Writer) ([]string, error) {
	return fakeSBOM(paths, w)
}

func (f *fakeServices) Server(_ context.Context, _ config.Server, _, _ io.Writer) error {
	return nil
}

// runCLI runs the command line in-process.
func runCLI(t *testing.T, ctx context.Context, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(ctx, args, &fakeServices{}, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestParseSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"1048576", 1 << 20, false},
		{"512MiB", 512 << 20, false},
		{"64GiB", 64 << 30, false},
		{"10GB", 10_000_000_000, false},
		{" 2 TiB ", 2 << 40, false},
		{"0", 0, true},
		{"-5MiB", 0, true},
		{"lots", 0, true},
		{"99999999999TiB", 0, true},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestResolveFailOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		flag    string
		project string
		want    scan.Severity
		wantErr string
	}{
		{"built-in default", "", "", scan.SeverityHigh, ""},
		{"project file", "", "medium", scan.SeverityMedium, ""},
		{"flag beats project file", "critical", "medium", scan.SeverityCritical, ""},
		{"none never fails", "none", "medium", scan.SeverityNone, ""},
		{"any case", "LOW", "", scan.SeverityLow, ""},
		{"bad flag", "severe", "", 0, "--fail-on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := resolveFailOn(tt.flag, tt.project)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("resolveFailOn(%q) error = %v, want one naming %s", tt.flag, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("resolveFailOn(%q, %q) = %v, %v; want %v", tt.flag, tt.project, got, err, tt.want)
			}
		})
	}
}

func TestCheckLimitFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		fl      scanFlags
		wantErr []string
	}{
		{"defaults", scanFlags{}, nil},
		{"explicit values", scanFlags{workers: 256, maxDepth: 3, maxEntries: 10, maxRatio: 50}, nil},
		{"negative workers", scanFlags{workers: -1}, []string{"--workers must be 0 or more (0 keeps the default)"}},
		{"too many workers", scanFlags{workers: 257}, []string{"--workers 257 is more than the maximum of 256"}},
		{"every problem at once", scanFlags{maxDepth: -1, maxEntries: -2, maxRatio: -0.5},
			[]string{"--max-depth must be 0 or more", "--max-entries must be 0 or more", "--max-ratio must be 0 or more"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkLimitFlags(tt.fl)
			if tt.wantErr == nil {
				if err != nil {
					t.Errorf("checkLimitFlags(%+v) = %v, want nil", tt.fl, err)
				}
				return
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("checkLimitFlags(%+v) = %v, want it to say %q", tt.fl, err, w)
				}
			}
		})
	}
}

func TestCheckOutput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		output  string
		wantErr string
	}{
		{"standard output", "", ""},
		{"dash", "-", ""},
		{"new file", filepath.Join(dir, "report.sarif"), ""},
		{"existing file", file, ""},
		{"missing directory", filepath.Join(dir, "nope", "r.json"),
			"cannot write report to " + filepath.Join(dir, "nope", "r.json") + ": directory " + filepath.Join(dir, "nope") + " does not exist; create it or choose another path"},
		{"a directory", dir, "it is a directory"},
		{"parent is a file", filepath.Join(file, "r.json"), "is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkOutput(tt.output)
			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("checkOutput(%q) = %v, want nil", tt.output, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("checkOutput(%q) = %v, want %q", tt.output, err, tt.wantErr)
			}
		})
	}
}

func TestWriteReportKeepsMode(t *testing.T) {
	t.Parallel()
	in := reportInput()
	tests := []struct {
		name     string
		existing os.FileMode // 0: no file yet
		want     os.FileMode
	}{
		{"new file", 0, 0o644},
		{"private file", 0o600, 0o600},
		{"group-writable file", 0o664, 0o664},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "report.json")
			if tt.existing != 0 {
				if err := os.WriteFile(out, []byte("old"), tt.existing); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(out, tt.existing); err != nil { // beat the umask
					t.Fatal(err)
				}
			}
			if err := writeReport(io.Discard, out, "json", in); err != nil {
				t.Fatal(err)
			}
			info, err := os.Stat(out)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Mode().Perm(); got != tt.want {
				t.Errorf("mode = %v, want %v", got, tt.want)
			}
		})
	}
}

func reportInput() report.Input {
	return report.Input{Result: &scan.Result{}, Build: version.Info{Version: "dev"}}
}

var testRules = []scan.Rule{{ID: "ONX002"}, {ID: "PKL001"}}

func TestConvertProject(t *testing.T) {
	t.Parallel()
	future := time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)
	ok := config.Suppression{Rule: "PKL001", Path: "models/**", Reason: "reviewed", Expires: future}
	tests := []struct {
		name    string
		project config.Project
		wantN   int
		wantErr []string
	}{
		{"valid", config.Project{FailOn: "medium", Suppressions: []config.Suppression{ok}}, 1, nil},
		{"case slip", config.Project{Suppressions: []config.Suppression{ok, {Rule: "onx002", Path: "a", Reason: "r", Expires: future}}}, 1,
			[]string{"unknown rule onx002 in suppressions[1]; rule IDs are case-sensitive: did you mean ONX002?"}},
		{"unknown rule", config.Project{Suppressions: []config.Suppression{{Rule: "XYZ999", Path: "a", Reason: "r", Expires: future}}}, 0,
			[]string{"unknown rule XYZ999 in suppressions[0]; 'palisade rules' lists every rule ID"}},
		{"fail_on and suppressions together", config.Project{FailOn: "severe", Suppressions: []config.Suppression{{Rule: "pkl001", Path: "[", Reason: "r", Expires: future}}}, 0,
			[]string{"scan.fail_on", "severe", "did you mean PKL001?"}},
		{"bad glob", config.Project{Suppressions: []config.Suppression{{Rule: "PKL001", Path: "a/[", Reason: "r", Expires: future}}}, 0,
			[]string{"scan.suppressions[0]", "not a valid glob"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, problems := convertProject(&tt.project, testRules)
			if len(s.suppressions) != tt.wantN {
				t.Errorf("%d suppressions, want %d", len(s.suppressions), tt.wantN)
			}
			err := errors.Join(problems...)
			if tt.wantErr == nil && err != nil {
				t.Errorf("convertProject: %v", err)
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("convertProject error = %v, want %q", err, w)
				}
			}
		})
	}
}

func TestLoadSettingsReportsEverything(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), config.ProjectFileName)
	data := "scan:\n  fail_on: severe\n  suppressions:\n    - {rule: onx002, path: a}\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := loadSettings(path, testRules)
	if err == nil {
		t.Fatal("loadSettings succeeded")
	}
	for _, w := range []string{"project file " + path + ": ", "reason is empty", "scan.fail_on", "did you mean ONX002?"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	if n := strings.Count(err.Error(), "project file"); n != 1 {
		t.Errorf("error names the project file %d times, want once:\n%v", n, err)
	}
}

func TestApplySuppressionsRelative(t *testing.T) {
	t.Parallel()
	projectDir := t.TempDir()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	sups := []scan.Suppression{
		{Rule: "PKL001", Path: "models/**", Reason: "reviewed", Expires: now.AddDate(1, 0, 0)},
		{Rule: "PKL001", Path: "old/**", Reason: "retired", Expires: now.AddDate(-1, 0, 0)},
	}
	abs := filepath.Join(projectDir, "models", "a.pkl")
	cwdRel, err := filepath.Rel(mustGetwd(t), abs)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		path       string
		dir        string
		wantHidden bool
	}{
		{"absolute path", abs, projectDir, true},
		{"relative to the working directory", cwdRel, projectDir, true},
		{"as printed", "models/b.pkl", "", true},
		{"outside the project", filepath.Join(filepath.Dir(projectDir), "models", "a.pkl"), projectDir, false},
		{"other rule", abs, projectDir, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rule := "PKL001"
			if tt.name == "other rule" {
				rule = "PKL002"
			}
			f := scan.Finding{RuleID: rule, Path: tt.path, Offset: -1}
			kept, hidden, expired := applySuppressions([]scan.Finding{f}, sups, tt.dir, now)
			if got := len(hidden) == 1; got != tt.wantHidden {
				t.Errorf("hidden = %v, kept = %v; want hidden %v", hidden, kept, tt.wantHidden)
			}
			if len(hidden) == 1 && hidden[0].Path != tt.path {
				t.Errorf("hidden finding path = %q, want it unchanged (%q)", hidden[0].Path, tt.path)
			}
			if len(expired) != 1 || expired[0].Path != "old/**" {
				t.Errorf("expired = %v, want the old/** suppression", expired)
			}
		})
	}
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}

func TestPrintable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"models/a.pkl", "models/a.pkl"},
		{"dir with spaces/é.pkl", "dir with spaces/é.pkl"},
		{"evil\x1b[31m.pkl", `"evil\x1b[31m.pkl"`},
		{"two\nlines", `"two\nlines"`},
		{"c1\u009bcontrol", `"c1\u009bcontrol"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
	}
	for _, tt := range tests {
		if got := printable(tt.in); got != tt.want {
			t.Errorf("printable(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got, want := printableLines("a\x1b\nb"), "\"a\\x1b\"\nb"; got != want {
		t.Errorf("printableLines = %q, want %q", got, want)
	}
}

func TestRunUsageMessages(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope", "r.json")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no path", []string{"scan"}, 2, "palisade scan needs at least one PATH; run 'palisade scan --help'"},
		{"negative workers", []string{"scan", "--workers", "-1", "."}, 2, "--workers must be 0 or more"},
		{"too many workers", []string{"scan", "--workers", "1000", "."}, 2, "maximum of 256"},
		{"negative ratio", []string{"scan", "--max-ratio", "-1", "."}, 2, "--max-ratio must be 0 or more"},
		{"output in a missing directory", []string{"scan", "-o", missing, "."}, 2, "does not exist; create it or choose another path"},
		{"explain with json", []string{"scan", "--explain", "-f", "json", "x"}, 2, "--explain prints text to standard output"},
		{"explain with output", []string{"scan", "--explain", "-o", "x.txt", "x"}, 2, "--explain prints text to standard output"},
		{"bad format", []string{"scan", "-f", "xml", "."}, 2, "table, json or sarif"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, stderr, code := runCLI(t, t.Context(), tt.args...)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestExplainWithTableFormat(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"scan", "--explain", "x"},
		{"scan", "--explain", "-f", "TABLE", "x"},
		{"scan", "--explain", "-o", "-", "x"},
	} {
		svc := &fakeServices{}
		var out, errOut bytes.Buffer
		code := run(t.Context(), args, svc, strings.NewReader(""), &out, &errOut)
		wantOK := !strings.Contains(strings.Join(args, " "), "-o")
		if wantOK && (code != 0 || !svc.explained) {
			t.Errorf("%v: exit %d, explained %v, stderr %q", args, code, svc.explained, errOut.String())
		}
		if !wantOK && code != 2 {
			t.Errorf("%v: exit %d, want 2 (--output is refused even as -)", args, code)
		}
	}
}

func TestRunInterrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, stderr, code := runCLI(t, ctx, "scan", "--no-progress", ".")
	if code != ExitError {
		t.Errorf("exit %d, want %d", code, ExitError)
	}
	if strings.Contains(stderr, "context canceled") {
		t.Errorf("stderr %q mentions the context", stderr)
	}
}

func TestVersionOutputs(t *testing.T) {
	t.Parallel()
	long, _, code := runCLI(t, t.Context(), "version")
	if code != 0 {
		t.Fatalf("version exit %d", code)
	}
	short, _, code := runCLI(t, t.Context(), "--version")
	if code != 0 {
		t.Fatalf("--version exit %d", code)
	}
	first, _, _ := strings.Cut(long, "\n")
	if diff := cmp.Diff(short, first+"\n"); diff != "" {
		t.Errorf("--version differs from the first line of 'palisade version' (-got +want):\n%s", diff)
	}
	if want := version.Get().Headline() + "\n"; short != want {
		t.Errorf("--version = %q, want %q", short, want)
	}
}

// TestCheckOutputRefusesSpecialFiles refuses, before scanning, a report
// path that a rename would replace: a device or a symbolic link.
func TestCheckOutputRefusesSpecialFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	link := filepath.Join(dir, "report.json")
	if err := os.Symlink(filepath.Join(dir, "elsewhere.json"), link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{os.DevNull, link} {
		if err := checkOutput(p); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("checkOutput(%s) = %v, want a refusal", p, err)
		}
	}
}
