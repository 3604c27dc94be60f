package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/version"
)

// Format is an output format name.
type Format string

// Output formats.
const (
	FormatTable Format = "table"
	FormatJSON  Format = "json"
	FormatSARIF Format = "sarif"
)

// Formats lists the supported output formats.
func Formats() []Format { return []Format{FormatTable, FormatJSON, FormatSARIF} }

// ParseFormat validates an output format name, ignoring case.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Formats(), f) {
		return f, nil
	}
	return "", fmt.Errorf("unknown output format %q: use table, json or sarif", s)
}

// Input is everything a renderer shows.
type Input struct {
	Result     *scan.Result
	Suppressed []scan.SuppressedFinding // findings a suppression hid; counted, not listed in the table
	Rules      []scan.Rule              // every rule the scan could report (SARIF lists them)
	FailOn     scan.Severity            // the threshold the exit code uses
	Build      version.Info
}

// Write renders in as format to w.
func Write(w io.Writer, format Format, in Input) error {
	switch format {
	case FormatTable:
		return writeTable(w, in)
	case FormatJSON:
		return writeJSON(w, in)
	case FormatSARIF:
		return writeSARIF(w, in)
	default:
		return fmt.Errorf("unknown output format %q", format)
	}
}

// countBySeverity counts findings per severity name.
func countBySeverity(fs []scan.Finding) map[string]int {
	out := map[string]int{}
	for _, f := range fs {
		out[f.Severity.String()]++
	}
	return out
}
