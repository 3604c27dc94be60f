package scan

import (
	"fmt"
	"strings"
)

// Severity ranks a finding. The zero value, SeverityNone, is below every
// real finding and is used as the "report nothing" threshold.
type Severity uint8

// Severities, lowest first.
const (
	SeverityNone Severity = iota
	SeverityInfo
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

var severityNames = [...]string{"none", "info", "low", "medium", "high", "critical"}

// String returns the lower-case name of s ("high").
func (s Severity) String() string {
	if int(s) < len(severityNames) {
		return severityNames[s]
	}
	return fmt.Sprintf("severity(%d)", uint8(s))
}

// MarshalText encodes s as its name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText decodes a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity parses a severity name, case-insensitively.
func ParseSeverity(name string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(name, n) {
			return Severity(i), nil
		}
	}
	return SeverityNone, fmt.Errorf("unknown severity %q: use one of %s", name, strings.Join(severityNames[:], ", "))
}

// Rule describes one kind of finding. Rule IDs are stable: suppressions,
// SARIF consumers and CI gates refer to them.
type Rule struct {
	ID          string   // stable identifier, e.g. "PKL001"
	Name        string   // short kebab-case name, e.g. "dangerous-global"
	Severity    Severity // default severity; a finding may carry another
	Summary     string   // one sentence: what the rule detects
	Remediation string   // what the user should do about it
}

// Finding returns a finding of rule r with r's default severity and
// remediation, no location yet (Offset -1).
func (r Rule) Finding(message, evidence string) Finding {
	return Finding{
		RuleID:      r.ID,
		RuleName:    r.Name,
		Severity:    r.Severity,
		Message:     message,
		Evidence:    evidence,
		Remediation: r.Remediation,
		Offset:      -1,
	}
}

// Finding is one problem found in one object.
//
// Scanners fill the rule, severity, message, evidence, remediation and the
// location inside the object (Offset, Line, Pointer); the Session fills Path
// and Inner.
type Finding struct {
	RuleID      string
	RuleName    string
	Severity    Severity
	Path        string   // the file on disk
	Inner       []string // member names from the file down to the object, for archives and embedded payloads
	Offset      int64    // byte offset inside the innermost object, or -1
	Line        int      // 1-based line inside the innermost object, or 0
	Pointer     string   // position inside structured content, e.g. "config.layers[2]"; may be empty
	Message     string   // what was found, in one sentence
	Evidence    string   // the construct itself: the global, the call, the template snippet
	Remediation string
}

// Where renders the finding's object as "path!/member!/member".
func (f Finding) Where() string {
	if len(f.Inner) == 0 {
		return f.Path
	}
	return f.Path + "!/" + strings.Join(f.Inner, "!/")
}

// Location renders the position inside the object, or "" when none is known.
func (f Finding) Location() string {
	var parts []string
	if f.Line > 0 {
		parts = append(parts, fmt.Sprintf("line %d", f.Line))
	}
	if f.Offset >= 0 {
		parts = append(parts, fmt.Sprintf("offset %d", f.Offset))
	}
	if f.Pointer != "" {
		parts = append(parts, f.Pointer)
	}
	return strings.Join(parts, ", ")
}
