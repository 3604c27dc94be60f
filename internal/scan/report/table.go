package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/palisade-sec/palisade/internal/scan"
)

// maxEvidence caps evidence in the table; JSON and SARIF carry it whole.
const maxEvidence = 120

func writeTable(w io.Writer, in Input) error {
	res := in.Result
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if len(res.Findings) > 0 {
		fmt.Fprintln(tw, "SEVERITY\tRULE\tLOCATION\tFINDING")
		for _, f := range res.Findings {
			loc := f.Where()
			if l := f.Location(); l != "" {
				loc += " (" + l + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", strings.ToUpper(f.Severity.String()), oneLine(f.RuleID), oneLine(loc), oneLine(f.Message))
			if f.Evidence != "" {
				fmt.Fprintf(tw, "\t\t\t  evidence: %s\n", oneLine(truncate(f.Evidence, maxEvidence)))
			}
			if f.Remediation != "" {
				fmt.Fprintf(tw, "\t\t\t  fix: %s\n", oneLine(f.Remediation))
			}
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	for _, e := range res.Errors {
		fmt.Fprintf(w, "error: %s\n", oneLine(e.Error()))
	}
	counts := countBySeverity(res.Findings)
	var parts []string
	for s := scan.SeverityCritical; s >= scan.SeverityInfo; s-- {
		if n := counts[s.String()]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	summary := "no findings"
	if len(parts) > 0 {
		summary = fmt.Sprintf("%s (%s)", plural(len(res.Findings), "finding", "findings"), strings.Join(parts, ", "))
	}
	_, err := fmt.Fprintf(w, "Scanned %s (%d in a recognised format, %s): %s",
		plural(res.Files, "file", "files"), res.Scanned, humanBytes(res.Bytes), summary)
	if err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	if len(in.Suppressed) > 0 {
		fmt.Fprintf(w, "; %d suppressed", len(in.Suppressed))
	}
	if len(res.Errors) > 0 {
		fmt.Fprintf(w, "; %s unreadable", plural(len(res.Errors), "file", "files"))
	}
	_, err = fmt.Fprintln(w, ".")
	return err
}

// plural renders a count with the singular or plural noun: "1 file", "2 files".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// oneLine collapses control characters so one finding stays one row and a
// hostile file name, member name or evidence string cannot forge rows or
// terminal escape sequences. Every string from the scanned content or the
// file system goes through it before it reaches the table.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, s)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
