package container

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/scan"
)

// brief is the comparable part of a finding.
type brief struct {
	Rule string
	Line int
}

var (
	sharedOnce sync.Once
	shared     *Scanner
	sharedErr  error
)

// scanner returns a scanner with the built-in policies, compiled once for
// the package's tests.
func scanner(t testing.TB) *Scanner {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = New(t.Context(), Options{}) })
	if sharedErr != nil {
		t.Fatalf("New: %v", sharedErr)
	}
	return shared.Fork()
}

func object(name string, format scan.Format, data []byte) scan.Object {
	return scan.Object{Name: name, DiskPath: name, Format: format, R: bytes.NewReader(data), Size: int64(len(data))}
}

// run scans one fixture and returns its findings.
func run(t *testing.T, s *Scanner, format scan.Format, path string) []scan.Finding {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var buf scan.Buffer
	if err := s.scan(t.Context(), object(path, format, data), &buf); err != nil {
		t.Fatalf("scan %s: %v", path, err)
	}
	return buf
}

func briefs(fs []scan.Finding) []brief {
	out := []brief{}
	for _, f := range fs {
		out = append(out, brief{f.RuleID, f.Line})
	}
	return out
}

func TestDockerfileRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []brief
	}{
		{"dkr001_fail.Dockerfile", []brief{{"DKR001", 1}}},
		{"dkr001_fail_uid0.Dockerfile", []brief{{"DKR001", 5}}},
		{"dkr001_pass.Dockerfile", []brief{}},
		{"dkr002_fail.Dockerfile", []brief{{"DKR002", 1}}},
		{"dkr002_pass.Dockerfile", []brief{}},
		{"dkr003_fail.Dockerfile", []brief{{"DKR003", 2}, {"DKR003", 3}}},
		{"dkr003_pass.Dockerfile", []brief{}},
		{"dkr004_fail.Dockerfile", []brief{{"DKR004", 2}}},
		{"dkr004_pass.Dockerfile", []brief{}},
		{"dkr005_fail.Dockerfile", []brief{{"DKR005", 2}, {"DKR005", 4}}},
		{"dkr005_pass.Dockerfile", []brief{}},
		{"dkr006_fail.Dockerfile", []brief{{"DKR006", 1}, {"DKR006", 3}, {"DKR006", 4}, {"DKR006", 4}, {"DKR006", 6}}},
		{"dkr006_pass.Dockerfile", []brief{}},
		{"dkr007_fail.Dockerfile", []brief{{"DKR007", 2}, {"DKR007", 5}}},
		{"dkr007_pass.Dockerfile", []brief{}},
		{"dkr008_fail.Dockerfile", []brief{{"DKR008", 2}, {"DKR008", 3}}},
		{"dkr008_pass.Dockerfile", []brief{}},
	}
	s := scanner(t)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got := briefs(run(t, s, scan.FormatDockerfile, filepath.Join("testdata", "docker", tt.file)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKubernetesRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []brief
	}{
		{"k8s001_fail.yaml", []brief{{"K8S001", 23}}},
		{"k8s002_fail.yaml", []brief{{"K8S002", 22}}},
		{"k8s003_fail.yaml", []brief{{"K8S003", 17}}},
		{"k8s004_fail.yaml", []brief{{"K8S004", 18}}},
		{"k8s005_fail.yaml", []brief{{"K8S005", 20}}},
		{"k8s006_fail.yaml", []brief{{"K8S006", 15}, {"K8S006", 16}}},
		{"k8s007_fail.yaml", []brief{{"K8S007", 24}}},
		{"k8s008_fail.yaml", []brief{{"K8S008", 25}}},
		{"k8s009_fail.yaml", []brief{{"K8S009", 13}}},
		{"k8s001_pass.yaml", []brief{}},
		{"k8s002_pass.yaml", []brief{}},
		{"k8s003_pass.yaml", []brief{}},
		{"k8s004_pass.yaml", []brief{}},
		{"k8s005_pass.yaml", []brief{}},
		{"k8s006_pass.yaml", []brief{}},
		{"k8s007_pass.yaml", []brief{}},
		{"k8s008_pass.yaml", []brief{}},
		{"k8s009_pass.yaml", []brief{}},
		{"k8s010_fail.yaml", []brief{}},
		{"k8s010_pass_policy.yaml", []brief{}},
		{"clean_list.yaml", []brief{}},
		{"clean_multi.yaml", []brief{}},
		{"helm_template.yaml", []brief{}},
	}
	s := scanner(t)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got := briefs(run(t, s, scan.FormatKubernetes, filepath.Join("testdata", "k8s", tt.file)))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFindingFields(t *testing.T) {
	t.Parallel()
	s := scanner(t)
	got := run(t, s, scan.FormatKubernetes, filepath.Join("testdata", "k8s", "k8s001_fail.yaml"))
	if len(got) != 1 {
		t.Fatalf("got %d findings, want 1", len(got))
	}
	f := got[0]
	want := scan.Finding{
		RuleID: "K8S001", RuleName: "privileged-container", Severity: scan.SeverityHigh, Offset: -1, Line: 23,
		Pointer:     "spec.template.spec.containers[0].securityContext.privileged",
		Message:     "Deployment infer, container server runs privileged",
		Remediation: "Remove securityContext.privileged (or set it to false) and grant only the specific capabilities or device plugins the workload needs.",
	}
	if diff := cmp.Diff(want, f); diff != "" {
		t.Errorf("finding (-want +got):\n%s", diff)
	}
	// Secrets are named, never quoted.
	for _, f := range run(t, s, scan.FormatDockerfile, filepath.Join("testdata", "docker", "dkr006_fail.Dockerfile")) {
		for _, v := range []string{"FAKE", "EXAMPLE", "0000", "example-fake"} {
			if strings.Contains(f.Message, v) || strings.Contains(f.Evidence, v) {
				t.Errorf("finding %q reveals the value", f.Message)
			}
		}
	}
}

func TestClusterRule(t *testing.T) {
	t.Parallel()
	k := func(name string) string { return filepath.Join("testdata", "k8s", name) }
	tests := []struct {
		name  string
		files []string
		want  []scan.Finding
	}{
		{"no network policy", []string{k("k8s010_fail.yaml"), k("clean_multi.yaml")}, []scan.Finding{{
			RuleID: "K8S010", RuleName: "namespace-without-network-policy", Severity: scan.SeverityMedium,
			Path: k("k8s010_fail.yaml"), Offset: -1, Line: 1,
			Message:     "namespace ml has workloads (first: Deployment infer) but no NetworkPolicy in the scanned manifests",
			Remediation: "Add a NetworkPolicy to the namespace that denies ingress by default, then allow only the traffic each workload needs.",
		}}},
		{"policy in another file", []string{k("k8s010_fail.yaml"), k("k8s010_pass_policy.yaml")}, nil},
		{"policy in the same list", []string{k("clean_list.yaml")}, nil},
		{"no workloads", []string{k("clean_multi.yaml"), k("helm_template.yaml")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := scanner(t)
			for _, f := range tt.files {
				run(t, s, scan.FormatKubernetes, f)
			}
			got, err := s.Finish(t.Context())
			if err != nil {
				t.Fatalf("Finish: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings (-want +got):\n%s", diff)
			}
			// Finish clears the record.
			if again, err := s.Finish(t.Context()); err != nil || len(again) != 0 {
				t.Errorf("second Finish = %v, %v; want nothing", again, err)
			}
		})
	}
}

// TestEngine runs the scanner through the engine, so that format sniffing
// routes fixture names to it and Session fills the path.
func TestEngine(t *testing.T) {
	t.Parallel()
	s := scanner(t)
	eng := scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatDockerfile: s, scan.FormatKubernetes: s}, Workers: 2})
	res, err := eng.ScanPaths(t.Context(), []string{filepath.Join("testdata", "docker", "dkr002_fail.Dockerfile"), filepath.Join("testdata", "k8s", "k8s010_fail.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := s.Finish(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	all := append(res.Findings, fs...)
	scan.SortFindings(all)
	type loc struct {
		Path, Rule string
		Line       int
	}
	var got []loc
	for _, f := range all {
		got = append(got, loc{filepath.Base(f.Path), f.RuleID, f.Line})
	}
	want := []loc{{"dkr002_fail.Dockerfile", "DKR002", 1}, {"k8s010_fail.yaml", "K8S010", 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
}

func TestRulesMetadata(t *testing.T) {
	t.Parallel()
	rules := scanner(t).Rules()
	if len(rules) != 18 {
		t.Errorf("got %d rules, want 18", len(rules))
	}
	kebab := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	for i, r := range rules {
		if i > 0 && rules[i-1].ID >= r.ID {
			t.Errorf("rules not sorted: %s after %s", r.ID, rules[i-1].ID)
		}
		if !kebab.MatchString(r.Name) || r.Summary == "" || r.Remediation == "" || r.Severity == scan.SeverityNone {
			t.Errorf("rule %s is incomplete: %+v", r.ID, r)
		}
		if !strings.HasSuffix(r.Summary, ".") || strings.Contains(r.Summary, "\n") {
			t.Errorf("rule %s summary is not one sentence: %q", r.ID, r.Summary)
		}
		// Every rule has a failing and a passing fixture.
		dir := "docker"
		if strings.HasPrefix(r.ID, "K8S") {
			dir = "k8s"
		}
		for _, kind := range []string{"fail", "pass"} {
			m, _ := filepath.Glob(filepath.Join("testdata", dir, strings.ToLower(r.ID)+"_"+kind+"*"))
			if len(m) == 0 {
				t.Errorf("rule %s has no %s fixture", r.ID, kind)
			}
		}
	}
}

func TestUserPolicies(t *testing.T) {
	t.Parallel()
	s, err := New(t.Context(), Options{PolicyDirs: []string{filepath.Join("testdata", "policies", "good")}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var ids []string
	for _, r := range s.Rules() {
		if strings.HasPrefix(r.ID, "ORG") {
			ids = append(ids, r.ID+" "+r.Name+" "+r.Severity.String())
		}
	}
	if diff := cmp.Diff([]string{"ORG001 owner-label-missing low", "ORG002 untrusted-registry high"}, ids); diff != "" {
		t.Errorf("user rules (-want +got):\n%s", diff)
	}

	got := briefs(run(t, s, scan.FormatDockerfile, filepath.Join("testdata", "docker", "dkr002_fail.Dockerfile")))
	if diff := cmp.Diff([]brief{{"DKR002", 1}, {"ORG001", 1}}, got); diff != "" {
		t.Errorf("dockerfile findings (-want +got):\n%s", diff)
	}

	data := []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  automountServiceAccountToken: false\n  securityContext: {runAsNonRoot: true}\n  containers:\n  - name: c\n    image: docker.io/library/python:3\n    securityContext: {allowPrivilegeEscalation: false}\n    resources: {limits: {cpu: 1, memory: 1Gi}}\n")
	var buf scan.Buffer
	if err := s.scan(t.Context(), object("pod.yaml", scan.FormatKubernetes, data), &buf); err != nil {
		t.Fatal(err)
	}
	if len(buf) != 1 || buf[0].RuleID != "ORG002" || buf[0].Severity != scan.SeverityCritical || buf[0].Line != 9 {
		t.Errorf("kubernetes findings = %+v, want one critical ORG002 at line 9", buf)
	}
}

func TestBadPolicies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir      string
		wantFile string
		wantLine int
		wantMsg  string
	}{
		{"broken", "bad.rego", 11, ""},
		{"missing", "nometa.rego", 3, "custom.remediation"},
		{"dup", "dup.rego", 3, "already declared"},
		{"network", "send.rego", 4, "http.send"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			t.Parallel()
			_, err := New(t.Context(), Options{PolicyDirs: []string{filepath.Join("testdata", "policies", tt.dir)}})
			var pe *PolicyError
			if !errors.As(err, &pe) || !errors.Is(err, ErrPolicy) {
				t.Fatalf("New error = %v, want a *PolicyError", err)
			}
			if filepath.Base(pe.File) != tt.wantFile || pe.Line != tt.wantLine || !strings.Contains(pe.Msg, tt.wantMsg) {
				t.Errorf("PolicyError = %s:%d %q, want %s:%d containing %q", pe.File, pe.Line, pe.Msg, tt.wantFile, tt.wantLine, tt.wantMsg)
			}
		})
	}
	if _, err := New(t.Context(), Options{PolicyDirs: []string{filepath.Join("testdata", "policies", "absent")}}); err == nil {
		t.Error("New with a missing policy directory succeeded")
	}
}

func TestLimitsAndErrors(t *testing.T) {
	t.Parallel()
	s, err := New(t.Context(), Options{MaxDockerfileBytes: 64, MaxYAMLBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	big := []byte("FROM scratch\n" + strings.Repeat("# padding\n", 10))
	var buf scan.Buffer
	if err := s.scan(t.Context(), object("Dockerfile", scan.FormatDockerfile, big), &buf); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized Dockerfile: error %v, want ErrTooLarge", err)
	}
	if err := s.scan(t.Context(), object("Dockerfile", scan.FormatDockerfile, []byte("# only a comment\n")), &buf); err == nil {
		t.Error("Dockerfile without instructions: no error")
	}

	// A broken second document: the first is still judged, the error
	// marks the file incomplete.
	data := []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n---\nkind: [unclosed\n")
	buf = nil
	err = s.scan(t.Context(), object("pod.yaml", scan.FormatKubernetes, data), &buf)
	if err == nil {
		t.Error("broken YAML: no error")
	}
	var host bool
	for _, f := range buf {
		host = host || f.RuleID == "K8S006"
	}
	if !host {
		t.Errorf("findings before the broken document were lost: %+v", buf)
	}

	// An alias bomb stops at the node budget.
	var bomb strings.Builder
	bomb.WriteString("apiVersion: v1\nkind: ConfigMap\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		bomb.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 10 {
			if j > 0 {
				bomb.WriteString(", ")
			}
			bomb.WriteString("*a" + string(rune('0'+i-1)))
		}
		bomb.WriteString("]\n")
	}
	if _, err := readKubernetes([]byte(bomb.String())); !errors.Is(err, errBudget) {
		t.Errorf("alias bomb: error %v, want errBudget", err)
	}
	deep := strings.Repeat("[", maxDepth+8) + strings.Repeat("]", maxDepth+8)
	if _, err := readKubernetes([]byte("kind: X\nv: " + deep + "\n")); !errors.Is(err, errBudget) {
		t.Errorf("deep nesting: error %v, want errBudget", err)
	}
	many := strings.Repeat("kind: X\n---\n", maxDocuments+1)
	if _, err := readKubernetes([]byte(many)); !errors.Is(err, errBudget) {
		t.Errorf("too many documents: error %v, want errBudget", err)
	}
}

func TestSplitShell(t *testing.T) {
	t.Parallel()
	type cmd struct {
		Argv          []string
		Pipeline, Pos int
	}
	tests := []struct {
		name, in string
		want     []cmd
	}{
		{"and chain", "apt-get update && apt-get install -y curl", []cmd{{[]string{"apt-get", "update"}, 0, 0}, {[]string{"apt-get", "install", "-y", "curl"}, 1, 0}}},
		{"pipe", "curl -fsSL https://x | sudo -u root bash -s", []cmd{{[]string{"curl", "-fsSL", "https://x"}, 0, 0}, {[]string{"bash", "-s"}, 0, 1}}},
		{"or is not a pipe", "curl x || sh", []cmd{{[]string{"curl", "x"}, 0, 0}, {[]string{"sh"}, 1, 0}}},
		{"quotes", `pip install "transformers>=4" 'a b' c\ d`, []cmd{{[]string{"pip", "install", "transformers>=4", "a b", "c d"}, 0, 0}}},
		{"assignments and paths", "DEBIAN_FRONTEND=noninteractive /usr/bin/apt-get install x", []cmd{{[]string{"apt-get", "install", "x"}, 0, 0}}},
		{"comment and newline", "echo a # | sh\nenv -u X pip install y", []cmd{{[]string{"echo", "a"}, 0, 0}, {[]string{"pip", "install", "y"}, 1, 0}}},
		{"subshell", "(cd /x; make)", []cmd{{[]string{"cd", "/x"}, 1, 0}, {[]string{"make"}, 2, 0}}},
		{"unterminated quote", `echo "abc`, []cmd{{[]string{"echo", "abc"}, 0, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []cmd
			for _, c := range splitShell(tt.in) {
				if a := argv(c.words); len(a) > 0 {
					got = append(got, cmd{a, c.pipeline, c.pos})
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("splitShell(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParseImage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ref, name, tag, digest string
	}{
		{"python:3.12-slim", "python", "3.12-slim", ""},
		{"localhost:5000/team/img", "localhost:5000/team/img", "", ""},
		{"localhost:5000/team/img:1@sha256:ab", "localhost:5000/team/img", "1", "sha256:ab"},
		{"ubuntu@sha256:ab", "ubuntu", "", "sha256:ab"},
	}
	for _, tt := range tests {
		img := parseImage(tt.ref)
		if img["name"] != tt.name || img["tag"] != tt.tag || img["digest"] != tt.digest {
			t.Errorf("parseImage(%q) = %v %v %v, want %s %s %s", tt.ref, img["name"], img["tag"], img["digest"], tt.name, tt.tag, tt.digest)
		}
	}
	args := map[string]string{"REG": "ghcr.io", "V": ""}
	for in, want := range map[string]string{"$REG/x:${V:-1.0}": "ghcr.io/x:1.0", "${UNSET}/x": "${UNSET}/x"} {
		if got := expandArgs(in, args); got != want {
			t.Errorf("expandArgs(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestConcurrent scans every fixture from several goroutines at once with
// one scanner; the race detector checks the shared prepared queries.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	s := scanner(t)
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*"))
	want := map[string][]brief{}
	format := func(p string) scan.Format {
		if strings.Contains(p, string(filepath.Separator)+"k8s"+string(filepath.Separator)) {
			return scan.FormatKubernetes
		}
		return scan.FormatDockerfile
	}
	var fixtures []string
	for _, f := range files {
		if strings.Contains(f, "docker") || strings.Contains(f, "k8s") {
			fixtures = append(fixtures, f)
			want[f] = briefs(run(t, s, format(f), f))
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, f := range fixtures {
				data, _ := os.ReadFile(f)
				var buf scan.Buffer
				if err := s.scan(t.Context(), object(f, format(f), data), &buf); err != nil {
					t.Errorf("scan %s: %v", f, err)
					return
				}
				if diff := cmp.Diff(want[f], briefs(buf)); diff != "" {
					t.Errorf("%s concurrent findings differ (-want +got):\n%s", f, diff)
				}
			}
		})
	}
	wg.Wait()
}
