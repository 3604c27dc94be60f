// Package semver parses and orders Semantic Versioning 2.0 versions as
// the Go and npm ecosystems (and OSV SEMVER ranges) use them.
//
// Accepted: MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] with an optional
// leading "v" (Go modules) or "=" (npm, loose), surrounding whitespace, and
// the Go shorthands "v1" and "v1.2" (meaning v1.0.0 and v1.2.0, as
// golang.org/x/mod/semver reads them). Numbers must not have leading zeros
// and must fit in a uint64. Build metadata, including Go's "+incompatible",
// is kept for String but ignored by Compare, as SemVer 2.0 requires. Go
// pseudo-versions (v0.0.0-20240101120000-abcdef123456) are ordinary
// pre-releases and order as such. Anything else is an error wrapping
// ErrInvalid; the parser never panics. Input is bounded by MaxLen.
package semver

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MaxLen bounds the accepted input, in bytes after trimming whitespace.
const MaxLen = 256

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid semantic version")

// Error reports a string that is not a semantic version.
type Error struct {
	Input  string // the rejected string (truncated to 64 bytes)
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("%v %q: %s", ErrInvalid, e.Input, e.Reason) }

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

// Version is a parsed semantic version. The zero value is 0.0.0.
type Version struct {
	Major, Minor, Patch uint64
	Pre                 []string // pre-release identifiers; nil for a release
	Build               string   // build metadata without "+"; ignored by Compare
}

// MustParse is Parse for constants in tests and tables; it panics on
// invalid input.
func MustParse(s string) Version {
	v, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return v
}

func perr(in, reason string) error {
	if len(in) > 64 {
		in = in[:64]
	}
	return &Error{Input: in, Reason: reason}
}

// Parse parses s as a semantic version.
func Parse(s string) (Version, error) {
	in := strings.TrimSpace(s)
	if len(in) > MaxLen {
		return Version{}, perr(in, fmt.Sprintf("longer than %d bytes", MaxLen))
	}
	rest := in
	if strings.HasPrefix(rest, "=") {
		rest = strings.TrimSpace(rest[1:])
	}
	if strings.HasPrefix(rest, "v") || strings.HasPrefix(rest, "V") {
		rest = rest[1:]
	}
	var v Version
	if i := strings.IndexByte(rest, '+'); i >= 0 {
		v.Build = rest[i+1:]
		rest = rest[:i]
		if err := checkIdents(v.Build, false); err != nil {
			return Version{}, perr(in, "build metadata: "+err.Error())
		}
	}
	if i := strings.IndexByte(rest, '-'); i >= 0 {
		pre := rest[i+1:]
		rest = rest[:i]
		if err := checkIdents(pre, true); err != nil {
			return Version{}, perr(in, "pre-release: "+err.Error())
		}
		v.Pre = strings.Split(pre, ".")
	}
	core := strings.Split(rest, ".")
	if len(core) > 3 {
		return Version{}, perr(in, "more than three numeric components")
	}
	dst := []*uint64{&v.Major, &v.Minor, &v.Patch}
	for i, c := range core {
		n, err := numeric(c)
		if err != nil {
			return Version{}, perr(in, err.Error())
		}
		*dst[i] = n
	}
	if len(core) < 3 && (v.Pre != nil || v.Build != "") {
		return Version{}, perr(in, "shorthand versions take no pre-release or build")
	}
	return v, nil
}

func numeric(c string) (uint64, error) {
	if c == "" {
		return 0, errors.New("empty numeric component")
	}
	if len(c) > 1 && c[0] == '0' {
		return 0, fmt.Errorf("leading zero in %q", c)
	}
	for i := 0; i < len(c); i++ {
		if c[i] < '0' || c[i] > '9' {
			return 0, fmt.Errorf("%q is not a number", c)
		}
	}
	n, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q does not fit in 64 bits", c)
	}
	return n, nil
}

// checkIdents validates dot-separated identifiers of [0-9A-Za-z-]; in a
// pre-release, numeric identifiers must not have leading zeros.
func checkIdents(s string, pre bool) error {
	for id := range strings.SplitSeq(s, ".") {
		if id == "" {
			return errors.New("empty identifier")
		}
		digits := true
		for i := 0; i < len(id); i++ {
			c := id[i]
			switch {
			case c >= '0' && c <= '9':
			case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '-':
				digits = false
			default:
				return fmt.Errorf("bad character %q", c)
			}
		}
		if pre && digits && len(id) > 1 && id[0] == '0' {
			return fmt.Errorf("leading zero in %q", id)
		}
	}
	return nil
}

// String returns the version without prefix: 1.2.3-rc.1+build.
func (v Version) String() string {
	s := fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch)
	if v.Pre != nil {
		s += "-" + strings.Join(v.Pre, ".")
	}
	if v.Build != "" {
		s += "+" + v.Build
	}
	return s
}

// Compare returns -1, 0 or +1 as a has lower, equal or higher precedence
// than b.
func Compare(a, b Version) int { return a.Compare(b) }

// Compare returns -1, 0 or +1 as v has lower, equal or higher precedence
// than w. Build metadata is ignored.
func (v Version) Compare(w Version) int {
	for _, c := range [][2]uint64{{v.Major, w.Major}, {v.Minor, w.Minor}, {v.Patch, w.Patch}} {
		if c[0] != c[1] {
			if c[0] < c[1] {
				return -1
			}
			return 1
		}
	}
	switch {
	case v.Pre == nil && w.Pre == nil:
		return 0
	case v.Pre == nil:
		return 1
	case w.Pre == nil:
		return -1
	}
	for i := 0; i < len(v.Pre) && i < len(w.Pre); i++ {
		if c := cmpIdent(v.Pre[i], w.Pre[i]); c != 0 {
			return c
		}
	}
	switch {
	case len(v.Pre) < len(w.Pre):
		return -1
	case len(v.Pre) > len(w.Pre):
		return 1
	}
	return 0
}

func isNum(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// cmpIdent orders pre-release identifiers: numeric ones numerically (any
// length) and below alphanumeric ones, which compare in ASCII order.
func cmpIdent(a, b string) int {
	na, nb := isNum(a), isNum(b)
	switch {
	case na && nb:
		if len(a) != len(b) {
			if len(a) < len(b) {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	case na:
		return -1
	case nb:
		return 1
	}
	return strings.Compare(a, b)
}
