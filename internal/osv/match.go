package osv

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/palisade-sec/palisade/internal/osv/pep440"
	"github.com/palisade-sec/palisade/internal/osv/semver"
)

// Ecosystem names with a version ordering (case as OSV spells them).
const (
	PyPI = "PyPI"
	Go   = "Go"
	Npm  = "npm"
)

// ErrUnsupportedEcosystem is returned for ecosystems without a version
// ordering here (Maven, crates.io, distributions, ...).
var ErrUnsupportedEcosystem = errors.New("unsupported ecosystem")

// ErrInvalidVersion is wrapped by the error for a queried version that
// does not parse in its ecosystem's ordering.
var ErrInvalidVersion = errors.New("invalid version")

// VersionError reports a version that cannot be matched.
type VersionError struct {
	Ecosystem, Name, Version string
	Err                      error // the parser's error
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("%s %s: version %q cannot be matched against advisories: %v", e.Ecosystem, e.Name, e.Version, e.Err)
}

// Unwrap returns ErrInvalidVersion and the parser's error.
func (e *VersionError) Unwrap() []error { return []error{ErrInvalidVersion, e.Err} }

// Ecosystems lists the ecosystems that can be matched.
func Ecosystems() []string { return []string{Go, PyPI, Npm} }

// CanonicalEcosystem returns the OSV spelling of a supported ecosystem
// given in any case ("pypi" -> "PyPI"), or ErrUnsupportedEcosystem.
func CanonicalEcosystem(eco string) (string, error) {
	for _, e := range Ecosystems() {
		if strings.EqualFold(eco, e) {
			return e, nil
		}
	}
	return "", fmt.Errorf("%w %q: supported are %s", ErrUnsupportedEcosystem, eco, strings.Join(Ecosystems(), ", "))
}

// NormalizeName returns the identity of a package name in its ecosystem:
// PEP 503 for PyPI (lower case, runs of "-", "_", "." become one "-");
// other ecosystems compare names exactly.
func NormalizeName(ecosystem, name string) string {
	name = strings.TrimSpace(name)
	if ecosystem != PyPI {
		return name
	}
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' || c == '_' || c == '.' {
			if i == 0 || !isNameSep(name[i-1]) {
				b.WriteByte('-')
			}
			continue
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

func isNameSep(c byte) bool { return c == '-' || c == '_' || c == '.' }

// version is a parsed version in one ordering. cmp is meant for versions
// of the same ordering; across orderings it falls back to comparing the
// strings, so that a malformed mix never panics.
type version interface {
	cmp(version) int
	String() string
}

type pepVersion struct{ v pep440.Version }

func (a pepVersion) cmp(b version) int {
	if w, ok := b.(pepVersion); ok {
		return a.v.Compare(w.v)
	}
	return strings.Compare(a.String(), b.String()) // different schemes: arbitrary but stable
}
func (a pepVersion) String() string { return a.v.String() }

type semVersion struct{ v semver.Version }

func (a semVersion) cmp(b version) int {
	if w, ok := b.(semVersion); ok {
		return a.v.Compare(w.v)
	}
	return strings.Compare(a.String(), b.String())
}
func (a semVersion) String() string { return a.v.String() }

// ordering parses versions of one scheme.
type ordering func(string) (version, error)

func parsePEP440(s string) (version, error) {
	v, err := pep440.Parse(s)
	if err != nil {
		return nil, err
	}
	return pepVersion{v}, nil
}

func parseSemver(s string) (version, error) {
	v, err := semver.Parse(s)
	if err != nil {
		return nil, err
	}
	return semVersion{v}, nil
}

// ecosystemOrdering returns the ECOSYSTEM-range ordering of eco.
func ecosystemOrdering(eco string) (ordering, bool) {
	switch eco {
	case PyPI:
		return parsePEP440, true
	case Go, Npm:
		return parseSemver, true
	}
	return nil, false
}

type eventKind uint8

const (
	evIntroduced eventKind = iota
	evFixed
	evLastAffected
)

type cEvent struct {
	kind eventKind
	zero bool    // introduced "0": below every version
	v    version // nil when zero
}

// cRange is a compiled ECOSYSTEM or SEMVER range with its events sorted.
type cRange struct {
	semver bool // compare with the SEMVER ordering, not the ecosystem's
	events []cEvent
}

// compiled is an Affected entry ready for matching.
type compiled struct {
	ranges   []cRange
	versions []version // enumerated versions (those parsed in the ecosystem's ordering)
}

// compileStats counts what compilation had to drop.
type compileStats struct {
	gitRanges      int // GIT ranges, ignored
	unusableRanges int // ranges of unknown type or with unparseable events
	legacyVersions int // versions-list entries that do not parse
}

// compileRange sorts and parses a range's events; ok is false when the
// range cannot be evaluated (an event that does not parse, or no
// introduced event).
func compileRange(r Range, ord ordering) (cRange, bool) {
	out := cRange{semver: r.Type == RangeSemver}
	if out.semver {
		ord = parseSemver
	}
	introduced := false
	for _, e := range r.Events {
		var kind eventKind
		var s string
		switch {
		case e.Introduced != "":
			kind, s = evIntroduced, e.Introduced
			introduced = true
		case e.Fixed != "":
			kind, s = evFixed, e.Fixed
		case e.LastAffected != "":
			kind, s = evLastAffected, e.LastAffected
		default:
			continue // limit: GIT only
		}
		if kind == evIntroduced && s == "0" {
			out.events = append(out.events, cEvent{kind: kind, zero: true})
			continue
		}
		v, err := ord(s)
		if err != nil {
			return cRange{}, false
		}
		out.events = append(out.events, cEvent{kind: kind, v: v})
	}
	if !introduced {
		return cRange{}, false
	}
	// Sort by version; at equal versions introduced comes first, so that
	// "introduced X, fixed X" affects nothing.
	slices.SortStableFunc(out.events, func(a, b cEvent) int {
		switch {
		case a.zero && b.zero:
			return 0
		case a.zero:
			return -1
		case b.zero:
			return 1
		}
		if c := a.v.cmp(b.v); c != 0 {
			return c
		}
		return int(a.kind) - int(b.kind)
	})
	return out, true
}

// compile prepares an Affected entry of ecosystem eco (which must have an
// ordering) for matching.
func compile(a Affected, ord ordering, st *compileStats) compiled {
	var c compiled
	for _, r := range a.Ranges {
		switch r.Type {
		case RangeGit:
			st.gitRanges++
			continue
		case RangeEcosystem, RangeSemver:
		default:
			st.unusableRanges++
			continue
		}
		cr, ok := compileRange(r, ord)
		if !ok {
			st.unusableRanges++
			continue
		}
		c.ranges = append(c.ranges, cr)
	}
	for _, s := range a.Versions {
		v, err := ord(s)
		if err != nil {
			st.legacyVersions++
			continue
		}
		c.versions = append(c.versions, v)
	}
	return c
}

// query is a version parsed in the orderings a match may need.
type query struct {
	eco    version
	sem    version // nil until needed
	raw    string
	semErr bool
}

func (q *query) in(semverRange bool) version {
	if !semverRange {
		return q.eco
	}
	if q.sem == nil && !q.semErr {
		v, err := parseSemver(q.raw)
		if err != nil {
			q.semErr = true
			return nil
		}
		q.sem = v
	}
	return q.sem
}

// contains walks the sorted events: the version is affected when the last
// event at or below it is an introduced; a fixed equal to it ends the
// affected span, a last_affected equal to it does not.
func (r *cRange) contains(v version) bool {
	affected := false
	for _, e := range r.events {
		if e.zero {
			affected = true
			continue
		}
		c := v.cmp(e.v)
		switch e.kind {
		case evIntroduced:
			if c >= 0 {
				affected = true
			}
		case evFixed:
			if c >= 0 {
				affected = false
			}
		case evLastAffected:
			if c > 0 {
				affected = false
			}
		}
		if c < 0 {
			break // events are sorted: none of the rest is at or below v
		}
	}
	return affected
}

// affects reports whether the entry covers q: listed in versions, or
// inside any range.
func (c *compiled) affects(q *query) bool {
	for _, v := range c.versions {
		if q.eco.cmp(v) == 0 {
			return true
		}
	}
	for i := range c.ranges {
		r := &c.ranges[i]
		if v := q.in(r.semver); v != nil && r.contains(v) {
			return true
		}
	}
	return false
}

// allFixes returns the fixed events of the entry's ranges in ascending
// order, deduplicated by version.
func (c *compiled) allFixes() []version {
	var all []version
	for i := range c.ranges {
		for _, e := range c.ranges[i].events {
			if e.kind == evFixed {
				all = append(all, e.v)
			}
		}
	}
	slices.SortFunc(all, func(a, b version) int { return a.cmp(b) })
	return slices.CompactFunc(all, func(a, b version) bool { return a.cmp(b) == 0 })
}

// nextFix returns the smallest fixed event above q, or nil.
func (c *compiled) nextFix(q *query) version {
	var next version
	for i := range c.ranges {
		r := &c.ranges[i]
		v := q.in(r.semver)
		if v == nil {
			continue
		}
		for _, e := range r.events {
			if e.kind == evFixed && v.cmp(e.v) < 0 && (next == nil || e.v.cmp(next) < 0) {
				next = e.v
			}
		}
	}
	return next
}

// Affects reports whether the record affects version of the named package
// in ecosystem: a withdrawn record affects nothing; names are compared
// after NormalizeName; GIT ranges are ignored. The error wraps
// ErrUnsupportedEcosystem or ErrInvalidVersion.
func (r *Record) Affects(ecosystem, name, ver string) (bool, error) {
	eco, err := CanonicalEcosystem(ecosystem)
	if err != nil {
		return false, err
	}
	ord, _ := ecosystemOrdering(eco)
	pv, err := ord(ver)
	if err != nil {
		return false, &VersionError{Ecosystem: eco, Name: name, Version: ver, Err: err}
	}
	if r.IsWithdrawn() {
		return false, nil
	}
	want := NormalizeName(eco, name)
	q := query{eco: pv, raw: ver}
	for _, a := range r.Affected {
		if a.Package.Ecosystem != eco || NormalizeName(eco, a.Package.Name) != want {
			continue
		}
		c := compile(a, ord, &compileStats{})
		if c.affects(&q) {
			return true, nil
		}
	}
	return false, nil
}
