package scan

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/bmatcuk/doublestar/v4"
)

// Suppression hides findings of one rule on matching paths until it
// expires. Every suppression carries the reason a person accepted the risk.
type Suppression struct {
	Rule    string    // rule ID, e.g. "PKL002"
	Path    string    // glob ("**" crosses directories) matched against the finding's path, or its path with members ("a.zip!/b.pkl")
	Reason  string    // why the finding is accepted
	Expires time.Time // the first day on which the suppression no longer applies
}

// Validate reports what is wrong with s, if anything.
func (s Suppression) Validate() error {
	var problems []string
	if s.Rule == "" {
		problems = append(problems, "rule is empty")
	}
	if s.Path == "" {
		problems = append(problems, "path is empty")
	} else if !doublestar.ValidatePattern(filepath.ToSlash(s.Path)) {
		problems = append(problems, fmt.Sprintf("path %q is not a valid glob", s.Path))
	}
	if strings.TrimSpace(s.Reason) == "" {
		problems = append(problems, "reason is empty (say why the risk is accepted)")
	}
	if s.Expires.IsZero() {
		problems = append(problems, "expires is missing (give a date, YYYY-MM-DD)")
	}
	if len(problems) > 0 {
		return fmt.Errorf("suppression of %s on %s: %s", s.Rule, s.Path, strings.Join(problems, "; "))
	}
	return nil
}

// Expired reports whether s no longer applies at now.
func (s Suppression) Expired(now time.Time) bool {
	return !now.Before(s.Expires)
}

// matches reports whether s covers f.
func (s Suppression) matches(f Finding) bool {
	if s.Rule != f.RuleID {
		return false
	}
	pattern := filepath.ToSlash(s.Path)
	for _, candidate := range []string{f.Path, f.Where()} {
		c := strings.TrimPrefix(filepath.ToSlash(candidate), "./")
		if ok, _ := doublestar.Match(pattern, c); ok {
			return true
		}
	}
	return false
}

// SuppressedFinding is a finding hidden by a suppression.
type SuppressedFinding struct {
	Finding
	Reason  string
	Expires time.Time
}

// ApplySuppressions splits findings into those still reported and those
// hidden by an unexpired suppression. It also returns the suppressions that
// have expired, so the caller can tell the user they stopped applying.
func ApplySuppressions(findings []Finding, sups []Suppression, now time.Time) (kept []Finding, hidden []SuppressedFinding, expired []Suppression) {
	var active []Suppression
	for _, s := range sups {
		if s.Expired(now) {
			expired = append(expired, s)
			continue
		}
		active = append(active, s)
	}
	kept = make([]Finding, 0, len(findings))
	for _, f := range findings {
		hiddenBy := -1
		for i, s := range active {
			if s.matches(f) {
				hiddenBy = i
				break
			}
		}
		if hiddenBy < 0 {
			kept = append(kept, f)
			continue
		}
		hidden = append(hidden, SuppressedFinding{Finding: f, Reason: active[hiddenBy].Reason, Expires: active[hiddenBy].Expires})
	}
	return kept, hidden, expired
}
