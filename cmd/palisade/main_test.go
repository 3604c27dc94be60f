package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// binary is the palisade executable built once for the end-to-end tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "palisade-e2e-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "palisade")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		panic("build palisade: " + err.Error())
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// palisade runs the binary in dir and returns stdout, stderr and the exit code.
func palisade(t *testing.T, dir string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run palisade %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// repoRoot is the module root, where examples/ lives.
func repoRoot(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

type jsonReport struct {
	Summary struct {
		Files      int            `json:"files"`
		Findings   int            `json:"findings"`
		BySeverity map[string]int `json:"by_severity"`
		Suppressed int            `json:"suppressed"`
	} `json:"summary"`
	Findings []struct {
		RuleID    string   `json:"rule_id"`
		Severity  string   `json:"severity"`
		Path      string   `json:"path"`
		InnerPath []string `json:"inner_path"`
		Evidence  string   `json:"evidence"`
	} `json:"findings"`
}

// TestQuickStartScan is the README's first command: the example models
// directory, where untrusted/ holds attacks and the rest is clean.
func TestQuickStartScan(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	stdout, stderr, code := palisade(t, root, "scan", "--format", "json", "examples/models")
	if code != 1 {
		t.Fatalf("exit code %d, want 1 (findings); stderr: %s", code, stderr)
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("JSON output: %v\n%s", err, stdout)
	}
	flagged := map[string]string{}
	for _, f := range rep.Findings {
		if f.Severity == "high" || f.Severity == "critical" {
			flagged[filepath.Base(f.Path)] = f.Severity
		}
		if !strings.HasPrefix(f.Path, filepath.Join("examples", "models", "untrusted")) && (f.Severity == "high" || f.Severity == "critical") {
			t.Errorf("benign example %s has a %s finding %s", f.Path, f.Severity, f.RuleID)
		}
	}
	for _, want := range []string{"pytorch_model.bin", "checkpoint.pt", "classifier.keras", "assistant.gguf", "detector.onnx"} {
		if flagged[want] == "" {
			t.Errorf("untrusted/%s has no high or critical finding; flagged: %v", want, flagged)
		}
	}

	// The clean files alone exit 0.
	clean := []string{"scan", "examples/models/pytorch_state_dict.pt", "examples/models/sklearn_pipeline.joblib",
		"examples/models/weights.safetensors", "examples/models/chat_model.gguf"}
	if _, stderr, code := palisade(t, root, clean...); code != 0 {
		t.Errorf("scan of the clean examples exit code %d, want 0; stderr: %s", code, stderr)
	}
}

func TestTableAndSARIFOutput(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	stdout, _, code := palisade(t, root, "scan", "examples/models/untrusted/pytorch_model.bin")
	if code != 1 || !strings.Contains(stdout, "CRITICAL") || !strings.Contains(stdout, "pytorch_model.bin!/") || !strings.Contains(stdout, "os.system") {
		t.Errorf("table output (exit %d) lacks the critical finding with member path and evidence:\n%s", code, stdout)
	}
	out := filepath.Join(t.TempDir(), "report.sarif")
	if _, stderr, code := palisade(t, root, "scan", "-f", "sarif", "-o", out, "examples/models/untrusted"); code != 1 {
		t.Fatalf("sarif scan exit %d; stderr %s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID string `json:"ruleId"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(data, &sarif); err != nil || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 || len(sarif.Runs[0].Results) == 0 {
		t.Errorf("SARIF file: err=%v version=%q runs=%d", err, sarif.Version, len(sarif.Runs))
	}
}

func TestExitCodesAndErrors(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"missing path", []string{"scan", "no/such/dir"}, 2, "no such file or directory"},
		{"no path", []string{"scan"}, 2, "requires at least 1 arg"},
		{"unknown flag", []string{"scan", "--nope", "."}, 2, "unknown flag"},
		{"bad format", []string{"scan", "-f", "xml", "examples/models"}, 2, "table, json or sarif"},
		{"bad fail-on", []string{"scan", "--fail-on", "severe", "examples/models"}, 2, "unknown severity"},
		{"bad size", []string{"scan", "--max-expanded", "lots", "examples/models"}, 2, "KiB, MiB, GiB"},
		{"fail-on none", []string{"scan", "--fail-on", "none", "examples/models/untrusted"}, 0, ""},
		{"fail-on critical", []string{"scan", "--fail-on", "critical", "examples/models/untrusted/detector.onnx"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, stderr, code := palisade(t, root, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr: %s", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q does not contain %q", stderr, tt.wantErr)
			}
		})
	}
}

func TestProjectFileSuppresses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	model, err := os.ReadFile(filepath.Join(repoRoot(t), "examples", "models", "untrusted", "assistant.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "models"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "chat.gguf"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	// First find out which rules fire, then suppress exactly those.
	stdout, _, code := palisade(t, dir, "scan", "-f", "json", "models")
	var rep jsonReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != 1 || len(rep.Findings) == 0 {
		t.Fatalf("unsuppressed scan: exit %d, err %v, %d findings", code, err, len(rep.Findings))
	}
	var yaml strings.Builder
	yaml.WriteString("scan:\n  suppressions:\n")
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		if !seen[f.RuleID] {
			seen[f.RuleID] = true
			yaml.WriteString("    - {rule: " + f.RuleID + ", path: 'models/**', reason: 'lab sample, never served', expires: 2999-01-01}\n")
		}
	}
	yaml.WriteString("    - {rule: GGF001, path: 'old/**', reason: 'retired', expires: 2001-01-01}\n")
	if err := os.WriteFile(filepath.Join(dir, ".palisade.yaml"), []byte(yaml.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := palisade(t, dir, "scan", "-f", "json", "models")
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if code != 0 || rep.Summary.Findings != 0 || rep.Summary.Suppressed == 0 {
		t.Errorf("suppressed scan: exit %d, %d findings, %d suppressed; want 0, 0, >0", code, rep.Summary.Findings, rep.Summary.Suppressed)
	}
	if !strings.Contains(stderr, "expired on 2001-01-01") {
		t.Errorf("stderr %q does not warn about the expired suppression", stderr)
	}

	if err := os.WriteFile(filepath.Join(dir, ".palisade.yaml"), []byte("scan:\n  supressions: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := palisade(t, dir, "scan", "models"); code != 2 || !strings.Contains(stderr, "supressions") {
		t.Errorf("misspelt key: exit %d, stderr %q; want 2 naming the key", code, stderr)
	}
}

func TestExplainVersionRules(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	stdout, stderr, code := palisade(t, root, "scan", "--explain", "examples/models/untrusted/pytorch_model.bin")
	if code != 0 || !strings.Contains(stdout, "system") || !strings.Contains(stdout, "data.pkl") {
		t.Errorf("explain: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if _, stderr, code := palisade(t, root, "scan", "--explain", "examples/models/weights.safetensors"); code != 2 || !strings.Contains(stderr, "not a pickle") {
		t.Errorf("explain of safetensors: exit %d, stderr %q", code, stderr)
	}
	stdout, _, code = palisade(t, root, "version")
	if code != 0 || !strings.Contains(stdout, "commit:") || !strings.Contains(stdout, "go version: go1.") {
		t.Errorf("version: exit %d, %q", code, stdout)
	}
	stdout, _, code = palisade(t, root, "rules")
	for _, id := range []string{"SCN001", "PKL001", "ARC001", "KER001", "NPY001", "ONX001", "TFS001", "SFT001", "GGF001"} {
		if code != 0 || !strings.Contains(stdout, id) {
			t.Errorf("rules output lacks %s (exit %d)", id, code)
		}
	}
}
