package report

import (
	"bytes"
	"encoding/json"
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
	var buf bytes.Buffer
	if err := Write(&buf, FormatTable, testInput()); err != nil {
		t.Fatal(err)
	}
	if strings.ContainsRune(buf.String(), 0x1b) {
		t.Error("table output contains an escape character from the evidence")
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
		loc.Region.StartLine != 1 || loc.Region.ByteOffset != 42 {
		t.Errorf("first result = %+v", first)
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
	if _, err := ParseFormat("xml"); err == nil || !strings.Contains(err.Error(), "table, json or sarif") {
		t.Errorf("ParseFormat(xml) error = %v, want one naming the choices", err)
	}
	if f, err := ParseFormat("sarif"); err != nil || f != FormatSARIF {
		t.Errorf("ParseFormat(sarif) = %q, %v", f, err)
	}
}
