package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/version"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var testRules = []scan.Rule{
	{ID: "PKL001", Name: "dangerous-global", Severity: scan.SeverityCritical, Summary: "Imports a callable that runs code.", Remediation: "Do not load the file."},
	{ID: "SFT001", Name: "bad-header", Severity: scan.SeverityLow, Summary: "Header is malformed.", Remediation: "Re-export the file."},
}

func testInput() Input {
	return Input{
		Result: &scan.Result{
			Files: 3, Scanned: 2, Bytes: 4096,
			Findings: []scan.Finding{
				{RuleID: "PKL001", RuleName: "dangerous-global", Severity: scan.SeverityCritical, Path: "models/evil.pt",
					Inner: []string{"archive/data.pkl"}, Offset: 42, Message: "imports os.system and calls it",
					Evidence: "os.system('echo \x1b[31mpwned')", Remediation: "Do not load the file."},
				{RuleID: "SFT001", RuleName: "bad-header", Severity: scan.SeverityLow, Path: "/abs/w.safetensors",
					Offset: -1, Pointer: "header", Message: "header length exceeds the file", Remediation: "Re-export the file."},
			},
		},
		Suppressed: []scan.SuppressedFinding{{
			Finding: scan.Finding{RuleID: "PKL001", RuleName: "dangerous-global", Severity: scan.SeverityCritical,
				Path: "vendor/old.pkl", Offset: 2, Message: "imports os.system", Evidence: "os.system"},
			Reason: "sandboxed loader", Expires: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC),
		}},
		Rules:  testRules,
		FailOn: scan.SeverityHigh,
		Build:  version.Info{Version: "v0.1.0", Commit: "abc123", GoVersion: "go1.26", Platform: "linux/amd64"},
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := Write(&buf, f, testInput()); err != nil {
				t.Fatalf("Write: %v", err)
			}
			golden := filepath.Join("testdata", "report."+string(f)+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test -update): %v", err)
			}
			if diff := cmp.Diff(string(want), buf.String()); diff != "" {
				t.Errorf("%s output differs from %s (-want +got):\n%s", f, golden, diff)
			}
		})
	}
}

func TestTableNeutralisesControlCharacters(t *testing.T) {
	t.Parallel()
	hostile := "x\x1b[2J\nCRITICAL  PKL001  forged.pkl  fake row\r\x07\u009b31m"
	tests := []struct {
		name string
		edit func(*scan.Finding)
	}{
		{"evidence", func(f *scan.Finding) { f.Evidence = hostile }},
		{"message", func(f *scan.Finding) { f.Message = hostile }},
		{"path", func(f *scan.Finding) { f.Path = hostile }},
		{"member name", func(f *scan.Finding) { f.Inner = []string{"ok.zip", hostile} }},
		{"pointer", func(f *scan.Finding) { f.Pointer = hostile }},
		{"remediation", func(f *scan.Finding) { f.Remediation = hostile }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := testInput()
			fs := append([]scan.Finding(nil), in.Result.Findings...)
			tt.edit(&fs[0])
			in.Result = &scan.Result{Files: 1, Scanned: 1, Findings: fs[:1],
				Errors: []scan.PathError{{Path: hostile, Err: errors.New("unreadable")}}}
			var buf bytes.Buffer
			if err := Write(&buf, FormatTable, in); err != nil {
				t.Fatal(err)
			}
			out := buf.String()
			if strings.ContainsAny(out, "\x1b\r\x07\u009b") {
				t.Errorf("table output contains a control character from the %s:\n%q", tt.name, out)
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "CRITICAL  PKL001  forged.pkl") {
					t.Errorf("the %s forged a table row:\n%s", tt.name, out)
				}
			}
		})
	}
}

func TestTableSummaryPlurals(t *testing.T) {
	t.Parallel()
	one := scan.Finding{RuleID: "SFT001", Severity: scan.SeverityLow, Path: "a", Offset: -1, Message: "m"}
	tests := []struct {
		name string
		res  scan.Result
		want string
	}{
		{"nothing", scan.Result{}, "Scanned 0 files (0 in a recognised format, 0 B): no findings."},
		{"one of each", scan.Result{Files: 1, Scanned: 1, Bytes: 10, Findings: []scan.Finding{one},
			Errors: []scan.PathError{{Path: "b", Err: errors.New("gone")}}},
			"Scanned 1 file (1 in a recognised format, 10 B): 1 finding (1 low); 1 file unreadable."},
		{"two of each", scan.Result{Files: 2, Scanned: 2, Bytes: 2048, Findings: []scan.Finding{one, one},
			Errors: []scan.PathError{{Path: "b", Err: errors.New("gone")}, {Path: "c", Err: errors.New("gone")}}},
			"Scanned 2 files (2 in a recognised format, 2.0 KiB): 2 findings (2 low); 2 files unreadable."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := Write(&buf, FormatTable, Input{Result: &tt.res}); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if got := lines[len(lines)-1]; got != tt.want {
				t.Errorf("summary = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSARIFSemanticVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version string
		want    string // "" means omitted
	}{
		{"v1.2.3", "1.2.3"},
		{"v1.2.3-rc.1", "1.2.3-rc.1"},
		{"dev", ""},
		{"abc1234", ""},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			t.Parallel()
			in := testInput()
			in.Build.Version = tt.version
			var buf bytes.Buffer
			if err := Write(&buf, FormatSARIF, in); err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Runs []struct {
					Tool struct {
						Driver map[string]any `json:"driver"`
					} `json:"tool"`
				} `json:"runs"`
			}
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			got, present := doc.Runs[0].Tool.Driver["semanticVersion"]
			if tt.want == "" && present {
				t.Errorf("semanticVersion = %v for version %q, want it omitted", got, tt.version)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("semanticVersion = %v for version %q, want %q", got, tt.version, tt.want)
			}
			if v := doc.Runs[0].Tool.Driver["version"]; v != tt.version {
				t.Errorf("version = %v, want %q", v, tt.version)
			}
		})
	}
}

func TestSARIFShape(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := Write(&buf, FormatSARIF, testInput()); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID         string         `json:"id"`
						Properties map[string]any `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI       string `json:"uri"`
							URIBaseID string `json:"uriBaseId"`
						} `json:"artifactLocation"`
						Region struct {
							StartLine  int `json:"startLine"`
							ByteOffset int `json:"byteOffset"`
						} `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				Suppressions []struct {
					Justification string `json:"justification"`
				} `json:"suppressions"`
				Properties map[string]any `json:"properties"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("SARIF is not JSON: %v", err)
	}
	if doc.Version != "2.1.0" || len(doc.Runs) != 1 {
		t.Fatalf("version %q with %d runs, want 2.1.0 with 1", doc.Version, len(doc.Runs))
	}
	run := doc.Runs[0]
	if len(run.Tool.Driver.Rules) != 2 || run.Tool.Driver.Rules[0].Properties["security-severity"] != "9.5" {
		t.Errorf("rules = %+v, want both rules with a security-severity", run.Tool.Driver.Rules)
	}
	if len(run.Results) != 3 {
		t.Fatalf("%d results, want 3 (two findings, one suppressed)", len(run.Results))
	}
	first := run.Results[0]
	loc := first.Locations[0].PhysicalLocation
	if first.RuleID != "PKL001" || first.RuleIndex != 0 || first.Level != "error" ||
		loc.ArtifactLocation.URI != "models/evil.pt" || loc.ArtifactLocation.URIBaseID != "%SRCROOT%" ||
		loc.Region.StartLine != 1 || loc.Region.ByteOffset != -1 {
		t.Errorf("first result = %+v; want start line 1 and byteOffset -1, SARIF's unset value (the offset counts from the member)", first)
	}
	if got := first.Properties["inner_offset"]; got != float64(42) {
		t.Errorf("first result inner_offset = %v, want 42", got)
	}
	if off := run.Results[2].Locations[0].PhysicalLocation.Region.ByteOffset; off != 2 {
		t.Errorf("top-level finding byteOffset = %v, want 2", off)
	}
	if got := run.Results[1].Locations[0].PhysicalLocation.ArtifactLocation.URI; got != "file:///abs/w.safetensors" {
		t.Errorf("absolute path URI = %q, want file:///abs/w.safetensors", got)
	}
	if s := run.Results[2].Suppressions; len(s) != 1 || !strings.Contains(s[0].Justification, "sandboxed loader") {
		t.Errorf("suppressed result suppressions = %+v", s)
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"SARIF", "Sarif", " sarif "} {
		if f, err := ParseFormat(in); err != nil || f != FormatSARIF {
			t.Errorf("ParseFormat(%q) = %q, %v; want sarif", in, f, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "table, json or sarif") {
		t.Errorf("ParseFormat(xml) error = %v, want one naming the choices", err)
	}
	if f, err := ParseFormat("sarif"); err != nil || f != FormatSARIF {
		t.Errorf("ParseFormat(sarif) = %q, %v", f, err)
	}
}
