package report

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/palisade-sec/palisade/internal/scan"
)

// jsonSchemaVersion versions the JSON report; it changes only when a field
// is removed or changes meaning.
const jsonSchemaVersion = 1

type jsonReport struct {
	SchemaVersion int           `json:"schema_version"`
	Tool          jsonTool      `json:"tool"`
	Summary       jsonSummary   `json:"summary"`
	Findings      []jsonFinding `json:"findings"`
	Suppressed    []jsonFinding `json:"suppressed"`
	Errors        []jsonError   `json:"errors"`
}

type jsonTool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Commit  string `json:"commit"`
}

type jsonSummary struct {
	Files      int            `json:"files"`
	Recognised int            `json:"recognised"`
	Bytes      int64          `json:"bytes"`
	Findings   int            `json:"findings"`
	BySeverity map[string]int `json:"by_severity"`
	Suppressed int            `json:"suppressed"`
	Errors     int            `json:"errors"`
	FailOn     string         `json:"fail_on"`
}

type jsonFinding struct {
	RuleID      string   `json:"rule_id"`
	RuleName    string   `json:"rule_name"`
	Severity    string   `json:"severity"`
	Path        string   `json:"path"`
	InnerPath   []string `json:"inner_path,omitempty"`
	Offset      *int64   `json:"offset,omitempty"`
	Line        int      `json:"line,omitempty"`
	Pointer     string   `json:"pointer,omitempty"`
	Message     string   `json:"message"`
	Evidence    string   `json:"evidence,omitempty"`
	Remediation string   `json:"remediation,omitempty"`
	// Set on suppressed findings only.
	SuppressionReason  string `json:"suppression_reason,omitempty"`
	SuppressionExpires string `json:"suppression_expires,omitempty"`
}

type jsonError struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

func toJSONFindings(fs []scan.Finding) []jsonFinding {
	out := make([]jsonFinding, 0, len(fs))
	for _, f := range fs {
		jf := jsonFinding{
			RuleID: f.RuleID, RuleName: f.RuleName, Severity: f.Severity.String(),
			Path: f.Path, InnerPath: f.Inner, Line: f.Line, Pointer: f.Pointer,
			Message: f.Message, Evidence: f.Evidence, Remediation: f.Remediation,
		}
		if f.Offset >= 0 {
			off := f.Offset
			jf.Offset = &off
		}
		out = append(out, jf)
	}
	return out
}

func writeJSON(w io.Writer, in Input) error {
	res := in.Result
	rep := jsonReport{
		SchemaVersion: jsonSchemaVersion,
		Tool:          jsonTool{Name: "palisade", Version: in.Build.Version, Commit: in.Build.Commit},
		Summary: jsonSummary{
			Files: res.Files, Recognised: res.Scanned, Bytes: res.Bytes,
			Findings: len(res.Findings), BySeverity: countBySeverity(res.Findings),
			Suppressed: len(in.Suppressed), Errors: len(res.Errors), FailOn: in.FailOn.String(),
		},
		Findings:   toJSONFindings(res.Findings),
		Suppressed: toJSONSuppressed(in.Suppressed),
		Errors:     []jsonError{},
	}
	for _, e := range res.Errors {
		rep.Errors = append(rep.Errors, jsonError{Path: e.Path, Error: e.Err.Error()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write json report: %w", err)
	}
	return nil
}

func toJSONSuppressed(ss []scan.SuppressedFinding) []jsonFinding {
	out := make([]jsonFinding, 0, len(ss))
	for _, s := range ss {
		jf := toJSONFindings([]scan.Finding{s.Finding})[0]
		jf.SuppressionReason = s.Reason
		jf.SuppressionExpires = s.Expires.Format("2006-01-02")
		out = append(out, jf)
	}
	return out
}
