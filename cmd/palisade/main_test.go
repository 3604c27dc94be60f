package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
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
		{"no path", []string{"scan"}, 2, "palisade scan needs at least one PATH; run 'palisade scan --help'"},
		{"format in upper case", []string{"scan", "-f", "JSON", "--fail-on", "none", "examples/models/weights.safetensors"}, 0, ""},
		{"negative workers", []string{"scan", "--workers", "-2", "examples/models"}, 2, "--workers must be 0 or more (0 keeps the default)"},
		{"too many workers", []string{"scan", "--workers", "100000", "examples/models"}, 2, "maximum of 256"},
		{"negative limits", []string{"scan", "--max-depth", "-1", "--max-entries", "-1", "--max-ratio", "-1", "examples/models"}, 2,
			"--max-depth must be 0 or more (0 keeps the default)\n--max-entries must be 0 or more (0 keeps the default)\n--max-ratio must be 0 or more"},
		{"output into a missing directory", []string{"scan", "-o", "no/such/dir/r.json", "examples/models"}, 2,
			"cannot write report to no/such/dir/r.json: directory no/such/dir does not exist; create it or choose another path"},
		{"output is a directory", []string{"scan", "-o", "examples", "examples/models"}, 2, "it is a directory"},
		{"explain with json", []string{"scan", "--explain", "-f", "json", "examples/models/untrusted/pytorch_model.bin"}, 2,
			"--explain prints text to standard output"},
		{"explain with output", []string{"scan", "--explain", "-o", "x.txt", "examples/models/untrusted/pytorch_model.bin"}, 2,
			"--explain prints text to standard output"},
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

// maliciousPickle is an inert pickle (protocol 2) that would call
// os.system("id") if loaded.
var maliciousPickle = []byte("\x80\x02cos\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03.")

// TestControlCharactersInNames scans and explains a zip whose member name
// carries terminal escapes and a newline that would forge a table row.
func TestControlCharactersInNames(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := "evil\x1b[2J\x1b[31m\nCRITICAL  PKL001  forged.pkl  all clear\r\x1b[0m.pkl"
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(maliciousPickle); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.zip"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	noControls := func(what, out string) {
		t.Helper()
		if strings.ContainsAny(out, "\x1b\r") {
			t.Errorf("%s contains a control character from the member name:\n%q", what, out)
		}
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "CRITICAL  PKL001  forged.pkl") {
				t.Errorf("%s has a row forged by the member name:\n%s", what, out)
			}
		}
	}
	stdout, stderr, code := palisade(t, dir, "scan", "--no-progress", "model.zip")
	if code != 1 || !strings.Contains(stdout, "model.zip!/evil") {
		t.Errorf("scan: exit %d, want 1 with a finding in the member; stdout:\n%s\nstderr: %s", code, stdout, stderr)
	}
	noControls("scan table", stdout)
	noControls("scan stderr", stderr)

	stdout, stderr, code = palisade(t, dir, "scan", "--explain", "model.zip")
	if code != 0 || !strings.Contains(stdout, "# member ") || !strings.Contains(stdout, "system") {
		t.Errorf("explain: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	noControls("explain listing", stdout)
	noControls("explain stderr", stderr)
}

// TestExplainSaysWhatItFound covers files --explain cannot list.
func TestExplainSaysWhatItFound(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, data := range map[string][]byte{"empty.pkl": nil, "notes.json": []byte(`{"a": 1}`), "blob": {1, 2, 0, 3}} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		file string
		want string
	}{
		{"empty.pkl", "the file is empty"},
		{"notes.json", "it looks like text"},
		{"blob", "matches no format Palisade recognises"},
	}
	for _, tt := range tests {
		_, stderr, code := palisade(t, dir, "scan", "--explain", tt.file)
		if code != 2 || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, "[]") {
			t.Errorf("explain %s: exit %d, stderr %q; want 2 saying %q", tt.file, code, stderr, tt.want)
		}
	}
}

// projectTree writes a repository with a project file at its root that
// suppresses PKL rules under models/, and a malicious pickle there.
func projectTree(t *testing.T, rule string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "models", "v1"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "models", "v1", "evil.pkl"), maliciousPickle, 0o644); err != nil {
		t.Fatal(err)
	}
	yaml := "scan:\n  suppressions:\n"
	for _, r := range []string{rule, "PKL002", "PKL003", "PKL004", "SCN001"} {
		yaml += "    - {rule: " + r + ", path: 'models/**', reason: 'lab sample', expires: 2999-01-01}\n"
	}
	if err := os.WriteFile(filepath.Join(root, ".palisade.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestProjectFileLookupAndRelativePaths(t *testing.T) {
	t.Parallel()
	root := projectTree(t, "PKL001")
	// Without the project file the pickle is a critical finding.
	if _, _, code := palisade(t, root, "scan", "--config", os.DevNull, "models"); code != 1 {
		t.Fatalf("unsuppressed scan exit %d, want 1", code)
	}
	tests := []struct {
		name string
		dir  string
		args []string
	}{
		{"from the root", root, []string{"models"}},
		{"from a subdirectory, found in a parent", filepath.Join(root, "models"), []string{"v1"}},
		{"from deeper, naming the file", filepath.Join(root, "models", "v1"), []string{"evil.pkl"}},
		{"absolute path", root, []string{filepath.Join(root, "models", "v1", "evil.pkl")}},
		{"absolute path from elsewhere with --config", t.TempDir(),
			[]string{"--config", filepath.Join(root, ".palisade.yaml"), filepath.Join(root, "models")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"scan", "-f", "json"}, tt.args...)
			stdout, stderr, code := palisade(t, tt.dir, args...)
			var rep jsonReport
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("JSON: %v; stderr %s", err, stderr)
			}
			if code != 0 || rep.Summary.Findings != 0 || rep.Summary.Suppressed == 0 {
				t.Errorf("exit %d, %d findings, %d suppressed; want 0, 0, >0; stderr %s",
					code, rep.Summary.Findings, rep.Summary.Suppressed, stderr)
			}
		})
	}
}

func TestProjectFileBadRule(t *testing.T) {
	t.Parallel()
	root := projectTree(t, "pkl001")
	_, stderr, code := palisade(t, filepath.Join(root, "models"), "scan", "v1")
	want := "unknown rule pkl001 in suppressions[0]; rule IDs are case-sensitive: did you mean PKL001?"
	if code != 2 || !strings.Contains(stderr, want) || !strings.Contains(stderr, filepath.Join(root, ".palisade.yaml")) {
		t.Errorf("exit %d, stderr %q; want 2 naming the file and saying %q", code, stderr, want)
	}
	if err := os.WriteFile(filepath.Join(root, ".palisade.yaml"), []byte("scan:\n  fail_onn: high\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, code = palisade(t, root, "scan", "models")
	if code != 2 || !strings.Contains(stderr, `unknown key "fail_onn" under scan (valid keys: fail_on, suppressions, policy_dirs, gitleaks_config)`) || strings.Contains(stderr, "config.") {
		t.Errorf("unknown key: exit %d, stderr %q", code, stderr)
	}
}

func TestVersionFlagMatchesVersionCommand(t *testing.T) {
	t.Parallel()
	short, _, code := palisade(t, ".", "--version")
	long, _, code2 := palisade(t, ".", "version")
	first, _, _ := strings.Cut(long, "\n")
	if code != 0 || code2 != 0 || short != first+"\n" || !strings.HasPrefix(short, "palisade ") {
		t.Errorf("--version = %q (exit %d), first line of version = %q (exit %d)", short, code, first, code2)
	}
}

// interruptible starts a scan that blocks reading its project file, a
// FIFO, and returns once the process has opened it: by then it handles
// signals. The returned writer unblocks it.
func interruptible(t *testing.T) (*exec.Cmd, *os.File, *bufio.Reader, *bytes.Buffer) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("needs a FIFO and Unix signals")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "project.yaml")
	if out, err := exec.Command("mkfifo", fifo).CombinedOutput(); err != nil {
		t.Skipf("mkfifo: %v %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(dir, "m.pkl"), maliciousPickle, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "scan", "--no-progress", "--config", fifo, "m.pkl")
	cmd.Dir = dir
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	opened := make(chan *os.File, 1)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0) // returns once palisade opened it
		if err != nil {
			close(opened)
			return
		}
		opened <- w
	}()
	select {
	case w, ok := <-opened:
		if !ok {
			t.Fatal("open FIFO for writing failed")
		}
		t.Cleanup(func() { w.Close() })
		return cmd, w, bufio.NewReader(errPipe), &stdout
	case <-time.After(30 * time.Second):
		t.Fatal("palisade never opened its project file")
	}
	return nil, nil, nil, nil
}

// waitInterrupted sends SIGINT and waits for palisade to acknowledge it.
func waitInterrupted(t *testing.T, cmd *exec.Cmd, stderr *bufio.Reader) {
	t.Helper()
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	line, err := stderr.ReadString('\n')
	if err != nil || line != "palisade: interrupted\n" {
		t.Fatalf("stderr after SIGINT: %q, %v; want \"palisade: interrupted\"", line, err)
	}
}

func TestInterruptExits2(t *testing.T) {
	t.Parallel()
	cmd, w, stderr, stdout := interruptible(t)
	waitInterrupted(t, cmd, stderr)
	if _, err := w.WriteString("scan: {}\n"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	rest, _ := stderr.ReadString(0)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Errorf("exit %v, want status 2", err)
	}
	if strings.Contains(rest, "context canceled") || stdout.Len() != 0 {
		t.Errorf("after the interrupt: stderr %q, stdout %q; want neither a context error nor a report", rest, stdout)
	}
}

func TestSecondInterruptKillsStuckScan(t *testing.T) {
	t.Parallel()
	cmd, _, stderr, _ := interruptible(t)
	waitInterrupted(t, cmd, stderr)
	// The scan is stuck reading the FIFO; a second interrupt must end it.
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("wait: %v, want the process killed by SIGINT", err)
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && (!ws.Signaled() || ws.Signal() != syscall.SIGINT) {
		t.Errorf("process status %v, want killed by SIGINT", ws)
	}
}

// TestDigest prints the OMS root digest of the spec's golden model (two
// files signed by the reference), in text and JSON, and ignores model.sig.
func TestDigest(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	model := filepath.Join(dir, "model")
	for name, content := range map[string]string{"signme-1": "signme-1", "signme-2": "signme-2", "model.sig": "{}", ".gitignore": "x"} {
		if err := os.MkdirAll(model, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(model, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "file_model"), []byte("This is a simple model"), 0o644); err != nil {
		t.Fatal(err)
	}
	const want = "sha256:61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"files", []string{"digest", "model"}, want},
		{"file", []string{"digest", "file_model"}, "sha256:002d162f867c5eee944e5080d25829b6625be0e3f081f6fbafc7dd655ca2e178"},
		{"shards", []string{"digest", "--shards", "1GB", "model"}, want},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stdout, stderr, code := palisade(t, dir, tt.args...)
			if code != 0 {
				t.Fatalf("exit code %d; stderr: %s", code, stderr)
			}
			if got := strings.TrimSpace(stdout); got != tt.want {
				t.Errorf("digest %q, want %q", got, tt.want)
			}
		})
	}

	stdout, stderr, code := palisade(t, dir, "digest", "--json", "--hash", "blake2b", "--ignore", "signme-2", "model")
	if code != 0 {
		t.Fatalf("digest --json exit code %d; stderr: %s", code, stderr)
	}
	var out struct {
		Digest    string `json:"digest"`
		Statement struct {
			Subject []struct {
				Name   string            `json:"name"`
				Digest map[string]string `json:"digest"`
			} `json:"subject"`
			Predicate struct {
				Serialization struct {
					HashType    string   `json:"hash_type"`
					IgnorePaths []string `json:"ignore_paths"`
				} `json:"serialization"`
				Resources []struct {
					Name, Algorithm, Digest string
				} `json:"resources"`
			} `json:"predicate"`
		} `json:"statement"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("JSON output: %v\n%s", err, stdout)
	}
	st := out.Statement
	if len(st.Subject) != 1 || "sha256:"+st.Subject[0].Digest["sha256"] != out.Digest || st.Subject[0].Name != "model" {
		t.Errorf("subject %+v does not match digest %s", st.Subject, out.Digest)
	}
	if r := st.Predicate.Resources; len(r) != 1 || r[0].Name != "signme-1" || r[0].Algorithm != "blake2b" || len(r[0].Digest) != 128 {
		t.Errorf("resources %+v, want signme-1 alone with a blake2b digest", r)
	}
	if ig := strings.Join(st.Predicate.Serialization.IgnorePaths, ","); ig != ".git,.gitattributes,.github,.gitignore,model.sig,signme-2" {
		t.Errorf("ignore_paths %s", ig)
	}
}

// TestDigestErrors checks exit code 2 and a message naming the problem
// and the fix.
func TestDigestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, model string)
		args  []string
		want  []string // substrings of stderr
	}{
		{"missing path", func(*testing.T, string) {}, []string{"digest", "nowhere"}, []string{"nowhere", "check the path"}},
		{"symlink", func(t *testing.T, m string) {
			if err := os.Symlink("weights", filepath.Join(m, "link")); err != nil {
				t.Fatal(err)
			}
		}, []string{"digest", "model"}, []string{"link", "symlink not allowed", "--allow-symlinks"}},
		{"escaping symlink", func(t *testing.T, m string) {
			if err := os.Symlink("../outside", filepath.Join(m, "link")); err != nil {
				t.Fatal(err)
			}
		}, []string{"digest", "--allow-symlinks", "model"}, []string{"link", "outside the model root", "--allow-external-symlinks"}},
		{"fifo", func(t *testing.T, m string) {
			if err := syscall.Mkfifo(filepath.Join(m, "pipe"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{"digest", "model"}, []string{"pipe", "not a regular file", "--ignore"}},
		{"bad hash", func(*testing.T, string) {}, []string{"digest", "--hash", "md5", "model"}, []string{"--hash", "md5"}},
		{"bad shards", func(*testing.T, string) {}, []string{"digest", "--shards", "-1", "model"}, []string{"--shards", "positive size"}},
		{"two paths", func(*testing.T, string) {}, []string{"digest", "model", "model"}, []string{"exactly one PATH"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			model := filepath.Join(dir, "model")
			if err := os.Mkdir(model, 0o755); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{filepath.Join(model, "weights"), filepath.Join(dir, "outside")} {
				if err := os.WriteFile(p, []byte("w"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			tt.setup(t, model)
			stdout, stderr, code := palisade(t, dir, tt.args...)
			if code != 2 {
				t.Fatalf("exit code %d, want 2; stdout: %s stderr: %s", code, stdout, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not mention %q", stderr, w)
				}
			}
		})
	}
}

// TestRepositoryScan imports an advisory, then scans a small ML repository
// with a vulnerable pin, a root Dockerfile and a privileged pod.
func TestRepositoryScan(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{
		"advisories/PYSEC-TEST-1.json": `{"id": "PYSEC-TEST-1", "aliases": ["CVE-0000-0001"], "modified": "2026-11-01T00:00:00Z",
			"summary": "test advisory", "affected": [{"package": {"ecosystem": "PyPI", "name": "torch"},
			"ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.13.1"}]}]}]}`,
		"repo/requirements.txt": "torch==1.13.0\nnumpy==1.26.4\n",
		"repo/Dockerfile":       "FROM python:3.11\nRUN pip install -r requirements.txt\n",
		"repo/k8s/pod.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: train\nspec:\n  containers:\n" +
			"    - name: t\n      image: trainer@sha256:" + strings.Repeat("a", 64) + "\n      securityContext:\n        privileged: true\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(dir, "osvdb")
	stdout, stderr, code := palisade(t, dir, "db", "import", "--db", db, "advisories")
	if code != 0 || !strings.Contains(stdout, "PyPI: 1 advisories") {
		t.Fatalf("db import: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, stderr, code = palisade(t, dir, "db", "status", "--db", db, "--json")
	var status struct {
		Ecosystems []struct {
			Name       string `json:"name"`
			Advisories int    `json:"advisories"`
		} `json:"ecosystems"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &status) != nil || len(status.Ecosystems) != 1 || status.Ecosystems[0].Advisories != 1 {
		t.Fatalf("db status: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	stdout, stderr, code = palisade(t, dir, "scan", "--format", "json", "--advisory-db", db, "repo")
	if code != 1 {
		t.Fatalf("scan: exit %d, want 1; stderr %q", code, stderr)
	}
	var rep struct {
		Findings []struct {
			Rule string `json:"rule_id"`
			Path string `json:"path"`
			Line int    `json:"line"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("scan output: %v\n%s", err, stdout)
	}
	got := map[string]bool{}
	for _, f := range rep.Findings {
		got[f.Rule+" "+filepath.Base(f.Path)] = true
	}
	for _, want := range []string{"DEP001 requirements.txt", "DKR001 Dockerfile", "K8S001 pod.yaml"} {
		if !got[want] {
			t.Errorf("scan findings lack %s; got %v", want, got)
		}
	}
	if strings.Contains(stderr, "no OSV database") {
		t.Errorf("stderr warns about a missing database that was given: %q", stderr)
	}
	_, stderr, code = palisade(t, dir, "scan", "--advisory-db", filepath.Join(dir, "absent"), "repo")
	if code != 1 || !strings.Contains(stderr, "no OSV database") {
		t.Errorf("scan without a database: exit %d, stderr %q; want a warning and the other findings", code, stderr)
	}
}

// TestSBOM writes the AI bill of materials of a small project with the
// built binary: CycloneDX 1.6 JSON with the model (and its card) and the
// pinned packages, written atomically to --output.
func TestSBOM(t *testing.T) {
	dir := t.TempDir()
	header := `{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`
	model := append([]byte{byte(len(header)), 0, 0, 0, 0, 0, 0, 0}, header...)
	model = append(model, 0, 0, 0x80, 0x3f)
	files := map[string][]byte{
		"repo/model.safetensors": model,
		"repo/README.md":         []byte("---\nlicense: mit\npipeline_tag: text-classification\n---\n"),
		"repo/requirements.txt":  []byte("transformers==4.38.0\n"),
		"repo/pickled.pkl":       []byte("\x80\x02}q\x00."),
	}
	for name, data := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stdout, stderr, code := palisade(t, dir, "sbom", "--output", "bom.json", "repo")
	if code != 0 || stdout != "" {
		t.Fatalf("sbom: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "bom.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		BOMFormat    string `json:"bomFormat"`
		SpecVersion  string `json:"specVersion"`
		SerialNumber string `json:"serialNumber"`
		Components   []struct {
			Type      string `json:"type"`
			Name      string `json:"name"`
			PURL      string `json:"purl"`
			ModelCard *struct {
				ModelParameters struct {
					Task string `json:"task"`
				} `json:"modelParameters"`
			} `json:"modelCard"`
		} `json:"components"`
	}
	if err := json.Unmarshal(data, &bom); err != nil {
		t.Fatalf("bom.json: %v\n%s", err, data)
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.6" || !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") {
		t.Errorf("header: %s %s %s", bom.BOMFormat, bom.SpecVersion, bom.SerialNumber)
	}
	var got []string
	for _, c := range bom.Components {
		s := c.Type + " " + c.Name + " " + c.PURL
		if c.ModelCard != nil {
			s += " task=" + c.ModelCard.ModelParameters.Task
		}
		got = append(got, s)
	}
	want := []string{
		"machine-learning-model model.safetensors  task=text-classification",
		"machine-learning-model pickled.pkl  task=text-classification",
		"library transformers pkg:pypi/transformers@4.38.0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("components:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, stderr, code := palisade(t, dir, "sbom", "missing"); code != 2 || !strings.Contains(stderr, "missing") {
		t.Errorf("missing path: exit %d, stderr %q", code, stderr)
	}
}
