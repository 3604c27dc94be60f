package report

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"

	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/version"
)

const informationURI = "https://github.com/palisade-sec/palisade"

// securitySeverity maps severities to the CVSS-like score GitHub code
// scanning reads from a rule's "security-severity" property.
var securitySeverity = map[scan.Severity]string{
	scan.SeverityCritical: "9.5",
	scan.SeverityHigh:     "8.0",
	scan.SeverityMedium:   "5.5",
	scan.SeverityLow:      "3.0",
	scan.SeverityInfo:     "1.0",
}

// sarifLevel maps a severity to a SARIF result level.
func sarifLevel(s scan.Severity) string {
	switch {
	case s >= scan.SeverityHigh:
		return "error"
	case s == scan.SeverityMedium:
		return "warning"
	default:
		return "note"
	}
}

func writeSARIF(w io.Writer, in Input) error {
	rep := sarif.NewReport()
	run := sarif.NewRunWithInformationURI("palisade", informationURI)
	run.Tool.Driver.WithVersion(in.Build.Version)
	// semanticVersion must be Semantic Versioning 2.0.0; a development
	// build ("dev") has none.
	if sv, ok := version.SemVer(in.Build.Version); ok {
		run.Tool.Driver.WithSemanticVersion(sv)
	}
	for _, r := range in.Rules {
		run.AddRule(r.ID).
			WithName(r.Name).
			WithShortDescription(sarif.NewMultiformatMessageString().WithText(r.Summary)).
			WithFullDescription(sarif.NewMultiformatMessageString().WithText(r.Summary)).
			WithHelp(sarif.NewMultiformatMessageString().WithText(r.Remediation)).
			WithDefaultConfiguration(sarif.NewReportingConfiguration().WithLevel(sarifLevel(r.Severity))).
			WithProperties(sarif.NewPropertyBag().
				Add("security-severity", securitySeverity[r.Severity]).
				Add("precision", "high").
				WithTags([]string{"security", "ml-model"}))
	}
	for _, f := range in.Result.Findings {
		addResult(run, f, nil)
	}
	for _, s := range in.Suppressed {
		addResult(run, s.Finding, sarif.NewSuppression().WithKind("external").WithStatus("accepted").
			WithJustification(fmt.Sprintf("%s (until %s)", s.Reason, s.Expires.Format("2006-01-02"))))
	}
	rep.AddRun(run)
	if err := rep.PrettyWrite(w); err != nil {
		return fmt.Errorf("write sarif report: %w", err)
	}
	return nil
}

func addResult(run *sarif.Run, f scan.Finding, sup *sarif.Suppression) {
	uri := artifactURI(f.Path)
	// The region locates the finding in the artifact, the file on disk.
	// Line and offset of a finding inside an archive member count from the
	// start of that member, so they go to the properties instead and the
	// region points at the start of the file.
	region := sarif.NewRegion().WithStartLine(1)
	if len(f.Inner) == 0 {
		region.WithStartLine(max(f.Line, 1))
		if f.Offset >= 0 {
			region.WithByteOffset(int(f.Offset))
		}
	}
	loc := sarif.NewArtifactLocation().WithURI(uri)
	if !strings.HasPrefix(uri, "file:") {
		loc.WithURIBaseID("%SRCROOT%")
	}
	text := f.Message
	if len(f.Inner) > 0 {
		text += " (in " + f.Where() + ")"
	}
	if f.Evidence != "" {
		text += " Evidence: " + f.Evidence
	}
	props := sarif.NewPropertyBag().Add("severity", f.Severity.String())
	if len(f.Inner) > 0 {
		props.Add("inner_path", f.Inner)
		if f.Offset >= 0 {
			props.Add("inner_offset", f.Offset)
		}
		if f.Line > 0 {
			props.Add("inner_line", f.Line)
		}
	}
	if f.Pointer != "" {
		props.Add("pointer", f.Pointer)
	}
	res := run.CreateResultForRule(f.RuleID).
		WithLevel(sarifLevel(f.Severity)).
		WithMessage(sarif.NewTextMessage(text)).
		AddLocation(sarif.NewLocationWithPhysicalLocation(
			sarif.NewPhysicalLocation().WithArtifactLocation(loc).WithRegion(region))).
		WithPartialFingerprints(map[string]string{"palisadeFinding/v1": fingerprint(f)}).
		WithProperties(props)
	if sup != nil {
		res.WithSuppressions([]*sarif.Suppression{sup})
	}
}

// artifactURI turns a scanned path into a SARIF artifact URI: relative
// paths stay relative (resolved against %SRCROOT%), absolute ones become
// file URIs.
func artifactURI(p string) string {
	slashed := filepath.ToSlash(filepath.Clean(p))
	if filepath.IsAbs(p) {
		return (&url.URL{Scheme: "file", Path: slashed}).String()
	}
	return (&url.URL{Path: slashed}).String()
}

// fingerprint identifies a finding across runs independently of its
// message wording.
func fingerprint(f scan.Finding) string {
	h := sha256.New()
	for _, part := range []string{f.RuleID, f.Where(), f.Pointer, f.Evidence} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
