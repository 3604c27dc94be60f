package deps

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/scan"
)

// pkg is the comparable part of an extracted Package.
type pkg struct {
	Name, Version, Ecosystem string
	Line                     int
	Via                      string
}

func TestExtract(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []pkg
	}{
		{"project/requirements.txt", []pkg{
			{"Pillow", "9.0.0", "PyPI", 5, "base.txt:2"},
			{"jinja2", "2.11.2", "PyPI", 5, "base.txt:4"},
			{"torch", "1.13.0+cu117", "PyPI", 6, ""},
			{"transformers", "4.30.0", "PyPI", 10, ""},
			{"mlflow", "2.2.0", "PyPI", 12, ""},
			{"tensorflow", "2.4.0", "PyPI", 14, ""},
		}},
		{"project/poetry.lock", []pkg{
			{"jinja2", "2.11.2", "PyPI", 4, ""}, {"pillow", "9.0.0", "PyPI", 17, ""}, {"torch", "1.13.0", "PyPI", 27, ""},
		}},
		{"project/Pipfile.lock", []pkg{
			{"jinja2", "2.11.2", "PyPI", 19, ""}, {"tensorflow", "2.4.0", "PyPI", 26, ""}, {"pytest", "7.4.0", "PyPI", 35, ""},
		}},
		// The virtual root package (ml-service) is not a dependency.
		{"project/uv.lock", []pkg{{"mlflow", "2.2.0", "PyPI", 5, ""}, {"transformers", "4.30.0", "PyPI", 20, ""}}},
		{"project/pdm.lock", []pkg{{"pillow", "9.0.0", "PyPI", 11, ""}, {"torch", "1.13.0", "PyPI", 18, ""}}},
		{"project/pylock.toml", []pkg{{"transformers", "4.30.0", "PyPI", 6, ""}, {"jinja2", "2.11.2", "PyPI", 16, ""}}},
		// Ranges carry no version; the project itself is not listed.
		{"project/pyproject.toml", []pkg{
			{"torch", "1.13.0", "PyPI", 10, ""}, {"pillow", "9.0.0", "PyPI", 11, ""}, {"numpy", "", "PyPI", 12, ""},
			{"mlflow", "2.2.0", "PyPI", 16, ""}, {"jinja2", "", "PyPI", 16, ""},
		}},
		{"project/environment.yml", []pkg{
			{"python", "3.10.13", "conda", 6, ""}, {"pytorch", "1.13.0", "conda", 7, ""}, {"numpy", "1.23.5", "conda", 8, ""},
			{"cudatoolkit", "11.7", "conda", 9, ""}, {"pip", "", "conda", 10, ""},
			{"transformers", "4.30.0", "PyPI", 12, ""}, {"mlflow", "2.2.0", "PyPI", 13, ""}, {"tqdm", "", "PyPI", 14, ""},
		}},
		{"project/setup.cfg", []pkg{{"tensorflow", "2.4.0", "PyPI", 8, ""}, {"pillow", "", "PyPI", 9, ""}, {"jinja2", "2.11.2", "PyPI", 12, ""}}},
		{"project/go.mod", []pkg{
			{"stdlib", "1.21", "Go", 3, ""}, {"github.com/gin-gonic/gin", "1.9.0", "Go", 6, ""},
			{"golang.org/x/net", "0.7.0", "Go", 7, ""}, {"google.golang.org/protobuf", "1.28.1", "Go", 8, ""},
		}},
		{"project/package-lock.json", []pkg{{"axios", "0.21.0", "npm", 15, ""}, {"lodash", "4.17.15", "npm", 20, ""}}},
		{"site-packages/torch-1.13.0.dist-info/METADATA", []pkg{{"torch", "1.13.0", "PyPI", 2, ""}}},
		{"site-packages/Pillow-9.0.0.dist-info/METADATA", []pkg{{"Pillow", "9.0.0", "PyPI", 2, ""}}},
	}
	s := newScanner(t, nil)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			got, err := s.Extract(t.Context(), diskObject(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			var brief []pkg
			for _, p := range got {
				brief = append(brief, pkg{p.Name, p.Version, p.Ecosystem, p.Line, p.Via})
			}
			if d := cmp.Diff(brief, tt.want); d != "" {
				t.Errorf("Extract(%s) (-got +want):\n%s", tt.file, d)
			}
		})
	}
}

func TestKindOf(t *testing.T) {
	t.Parallel()
	tests := map[string]Kind{
		"requirements.txt": KindRequirements, "requirements-dev.txt": KindRequirements, "dev-requirements.txt": KindRequirements,
		"constraints.txt": KindRequirements, "requirements.in": KindRequirements, "pyproject.toml": KindPyproject,
		"Pipfile.lock": KindPipfileLock, "pylock.gpu.toml": KindPylock, "environment.yaml": KindConda,
		"venv/lib/python3.10/site-packages/torch-1.13.0.dist-info/METADATA": KindMetadata,
		"src/foo.egg-info/PKG-INFO":                                         KindMetadata, "docs/METADATA": "", "notes.txt": "", "Pipfile": "",
	}
	for in, want := range tests {
		if got := KindOf(in); got != want {
			t.Errorf("KindOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// vulnDB holds the advisories of the brief's test versions, in the shape
// the OSV database returns them.
var vulnDB = fakeAdvisories{
	"PyPI/torch@1.13.0+cu117": {{ID: "PYSEC-2022-43015", Aliases: []string{"CVE-2022-45907"}, Summary: "eval in torch.jit.annotations.parse_type_line", Severity: scan.SeverityCritical, Fixed: []string{"1.13.1"}}},
	"PyPI/torch@1.13.0": {
		{ID: "PYSEC-2022-43015", Aliases: []string{"CVE-2022-45907"}, Fixed: []string{"1.13.1"}},
		// The GitHub record of the same CVE: one vulnerability, one finding.
		{ID: "GHSA-47fc-vmwq-366v", Aliases: []string{"CVE-2022-45907"}, Fixed: []string{"1.13.1"}},
	},
	"PyPI/mlflow@2.2.0": {
		{ID: "PYSEC-2023-29", Aliases: []string{"CVE-2023-1177"}, Fixed: []string{"2.2.1"}},
		{ID: "PYSEC-2023-28", Aliases: []string{"CVE-2023-1176"}, Fixed: []string{"2.2.2"}},
	},
	"PyPI/pillow@9.0.0":         {{ID: "PYSEC-2023-175", Fixed: []string{"10.0.1"}, URL: "https://osv.dev/vulnerability/PYSEC-2023-175"}},
	"PyPI/jinja2@2.11.2":        {{ID: "PYSEC-2021-66", Aliases: []string{"CVE-2020-28493"}, Fixed: []string{"2.11.3"}}},
	"PyPI/tensorflow@2.4.0":     {{ID: "PYSEC-2021-300", Aliases: []string{"CVE-2021-37678"}, Fixed: []string{"2.4.3"}}},
	"PyPI/transformers@4.30.0":  {{ID: "GHSA-v68g-wm8c-6x7j", Aliases: []string{"CVE-2023-6730"}, Fixed: []string{"4.36.0"}}},
	"PyPI/paddlepaddle@2.4.0":   {{ID: "PYSEC-2022-43063"}},
	"npm/lodash@4.17.15":        {{ID: "GHSA-p6mc-m468-83gw", Fixed: []string{"4.17.19"}}},
	"Go/golang.org/x/net@0.7.0": {{ID: "GO-2023-1988", Fixed: []string{"0.13.0"}}},
}

func TestVulnerabilities(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []hit
	}{
		// Pillow and jinja2 through -r requirements/base.txt at line 5.
		{"project/requirements.txt", []hit{{"DEP001", 5}, {"DEP001", 5}, {"DEP001", 6}, {"DEP001", 10}, {"DEP001", 12}, {"DEP001", 12}, {"DEP001", 14}}},
		{"project/poetry.lock", []hit{{"DEP001", 4}, {"DEP001", 17}, {"DEP001", 27}}},
		{"project/Pipfile.lock", []hit{{"DEP001", 19}, {"DEP001", 26}}},
		{"project/uv.lock", []hit{{"DEP001", 5}, {"DEP001", 5}, {"DEP001", 20}}},
		{"project/pyproject.toml", []hit{{"DEP001", 10}, {"DEP001", 11}, {"DEP001", 16}, {"DEP001", 16}, {"DEP002", 12}, {"DEP002", 16}}},
		// pytorch==1.13.0 from conda is matched as PyPI torch.
		{"project/environment.yml", []hit{{"DEP001", 7}, {"DEP001", 12}, {"DEP001", 13}, {"DEP001", 13}, {"DEP002", 14}}},
		{"project/package-lock.json", []hit{{"DEP001", 20}}},
		{"project/go.mod", []hit{{"DEP001", 7}}},
		{"site-packages/Pillow-9.0.0.dist-info/METADATA", []hit{{"DEP001", 2}}},
	}
	s := newScanner(t, vulnDB)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			if d := cmp.Diff(hits(run(t, s, diskObject(t, tt.file))), tt.want); d != "" {
				t.Errorf("findings (-got +want):\n%s", d)
			}
		})
	}
}

func TestVulnerabilityFinding(t *testing.T) {
	t.Parallel()
	s := newScanner(t, vulnDB)
	fs := run(t, s, memObject("requirements.txt", []byte("torch==1.13.0\npaddlepaddle==2.4.0\nnumpy>=1.21\n")))
	want := []scan.Finding{
		{
			RuleID: "DEP001", RuleName: "vulnerable-dependency", Severity: scan.SeverityHigh, Offset: -1, Line: 1,
			Message:     "torch 1.13.0 is affected by PYSEC-2022-43015 (CVE-2022-45907, GHSA-47fc-vmwq-366v)",
			Evidence:    "torch==1.13.0",
			Remediation: "Upgrade torch to a fixed version (1.13.1) and regenerate the lockfile.",
		},
		{
			RuleID: "DEP001", RuleName: "vulnerable-dependency", Severity: scan.SeverityHigh, Offset: -1, Line: 2,
			Message:     "paddlepaddle 2.4.0 is affected by PYSEC-2022-43063",
			Evidence:    "paddlepaddle==2.4.0",
			Remediation: "No fixed version of paddlepaddle is published: remove or replace it, or isolate the code that uses it.",
		},
	}
	var got []scan.Finding
	for _, f := range fs {
		if f.RuleID == "DEP001" {
			got = append(got, f)
		}
	}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("findings (-got +want):\n%s", d)
	}
}

func TestAdvisorySeverityAndLink(t *testing.T) {
	t.Parallel()
	s := newScanner(t, vulnDB)
	fs := run(t, s, memObject("requirements.txt", []byte("torch==1.13.0+cu117\npillow==9.0.0\n")))
	if len(fs) != 2 {
		t.Fatalf("got %d findings, want 2: %+v", len(fs), fs)
	}
	if fs[0].Severity != scan.SeverityCritical || !strings.Contains(fs[0].Message, "parse_type_line") {
		t.Errorf("torch finding = %+v, want critical with the summary", fs[0])
	}
	if !strings.HasSuffix(fs[1].Remediation, "See https://osv.dev/vulnerability/PYSEC-2023-175") {
		t.Errorf("pillow remediation = %q, want the advisory link", fs[1].Remediation)
	}
}

func TestNoAdvisories(t *testing.T) {
	t.Parallel()
	s := newScanner(t, nil)
	if fs := run(t, s, diskObject(t, "project/poetry.lock")); len(fs) != 0 {
		t.Errorf("findings without a database: %+v", fs)
	}
}

func TestHygiene(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want []hit
	}{
		{"unpinned-bad", []hit{{"DEP002", 1}, {"DEP002", 2}, {"DEP002", 3}, {"DEP002", 4}}},
		{"unpinned-good", nil},
		{"hash-bad", []hit{{"DEP003", 2}}},
		{"hash-good", nil},
		{"url-bad", []hit{{"DEP004", 1}, {"DEP004", 2}, {"DEP004", 3}, {"DEP004", 4}}},
		{"url-good", nil},
		{"index-bad", []hit{{"DEP005", 1}, {"DEP005", 2}, {"DEP005", 3}}},
		{"index-good", nil},
		{"typo-bad", []hit{{"DEP006", 1}, {"DEP006", 2}, {"DEP006", 3}, {"DEP006", 4}}},
		{"typo-good", nil},
	}
	s := newScanner(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := run(t, s, diskObject(t, "hygiene/requirements-"+tt.name+".txt"))
			var want []hit
			want = append(want, tt.want...)
			if d := cmp.Diff(hits(fs), append([]hit{}, want...)); d != "" {
				t.Errorf("findings (-got +want):\n%s", d)
			}
			for _, f := range fs {
				for _, s := range []string{f.Message, f.Evidence} {
					if strings.Contains(s, "FAKE0000") {
						t.Errorf("%s prints a credential: %q", f.RuleID, s)
					}
				}
			}
		})
	}
}

func TestRequirementsIn(t *testing.T) {
	t.Parallel()
	// pip-tools inputs are loose by design: no DEP002.
	fs := run(t, newScanner(t, nil), memObject("requirements.in", []byte("torch\ntransformers>=4\n")))
	if len(fs) != 0 {
		t.Errorf("findings on requirements.in: %+v", fs)
	}
}

func TestIncludes(t *testing.T) {
	t.Parallel()
	s := newScanner(t, vulnDB)
	t.Run("archive", func(t *testing.T) {
		t.Parallel()
		fs := run(t, s, memObject("requirements.txt", []byte("-r requirements/base.txt\ntorch==2.2.1\n")))
		if d := cmp.Diff(hits(fs), []hit{{"DEP007", 1}}); d != "" {
			t.Errorf("findings (-got +want):\n%s", d)
		}
		if !strings.Contains(fs[0].Message, "inside archives") {
			t.Errorf("message %q does not say why", fs[0].Message)
		}
	})
	t.Run("outside the project", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
			t.Fatal(err)
		}
		outside := filepath.Join(dir, "secret.txt")
		if err := os.WriteFile(outside, []byte("pillow==9.0.0\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		req := filepath.Join(dir, "a", "b", "requirements.txt")
		if err := os.WriteFile(req, []byte("-r ../../secret.txt\n-r missing.txt\n-r /dev/zero\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(req)
		obj := memObject("requirements.txt", data)
		obj.DiskPath = req
		fs := run(t, s, obj)
		if d := cmp.Diff(hits(fs), []hit{{"DEP007", 1}, {"DEP007", 2}, {"DEP007", 3}}); d != "" {
			t.Errorf("findings (-got +want):\n%s", d)
		}
	})
}

func TestLimits(t *testing.T) {
	t.Parallel()
	s, err := New(Options{MaxFileBytes: 64})
	if err != nil {
		t.Fatal(err)
	}
	big := []byte(strings.Repeat("torch==1.13.0\n", 10))
	if d := cmp.Diff(hits(run(t, s, memObject("requirements.txt", big))), []hit{{"DEP009", 0}}); d != "" {
		t.Errorf("oversized file (-got +want):\n%s", d)
	}
	deep := []byte("[[package]]\nname = \"x\"\nversion = \"1\"\nx = " + strings.Repeat("[", 10_000) + "\n")
	s = newScanner(t, nil)
	if d := cmp.Diff(hits(run(t, s, memObject("poetry.lock", deep))), []hit{{"DEP009", 0}}); d != "" {
		t.Errorf("deep nesting (-got +want):\n%s", d)
	}
	if d := cmp.Diff(hits(run(t, s, memObject("poetry.lock", []byte("[[package]\nname = ")))), []hit{{"DEP008", 0}}); d != "" {
		t.Errorf("malformed lockfile (-got +want):\n%s", d)
	}
}

func TestEngine(t *testing.T) {
	t.Parallel()
	s := newScanner(t, vulnDB)
	eng := scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatDependencies: s}, Workers: 1})
	res, err := eng.ScanPaths(context.Background(), []string{filepath.Join("testdata", "site-packages")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.RuleID+" "+filepath.Base(filepath.Dir(f.Path)))
	}
	want := []string{"DEP001 Pillow-9.0.0.dist-info", "DEP001 torch-1.13.0.dist-info"}
	if d := cmp.Diff(got, want); d != "" {
		t.Errorf("engine findings (-got +want):\n%s", d)
	}
}

func TestRules(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range newScanner(t, nil).Rules() {
		if len(r.ID) != 6 || !strings.HasPrefix(r.ID, "DEP") || seen[r.ID] || r.Name == "" || r.Summary == "" || r.Remediation == "" || r.Severity == scan.SeverityNone {
			t.Errorf("rule %+v is incomplete or duplicated", r)
		}
		seen[r.ID] = true
	}
}
