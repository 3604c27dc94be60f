// Package pep440 parses and orders Python package versions as PEP 440
// defines them (the ordering pip and the PyPI OSV ecosystem use).
//
// Parsing accepts the lenient spellings PEP 440 normalises: any case, a
// leading "v", surrounding whitespace, "alpha"/"beta"/"c"/"pre"/"preview"
// for a/b/rc, "r"/"rev" and the implicit "-N" for post-releases, "-", "_"
// and "." as separators, missing pre/post/dev numbers (meaning 0), and
// leading zeros in numbers. Anything else, including the legacy
// (pre-PEP 440) strings some advisories list, is an error wrapping
// ErrInvalid; the parser never panics.
//
// Invariants: Compare is a total order on parsed versions, and a version
// compares equal to Parse(v.String()). Input is bounded (MaxLen bytes,
// MaxParts release components or local segments) and release, pre, post
// and dev numbers must fit in a uint64, so comparing two versions costs at
// most a few hundred steps.
package pep440

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Limits on what Parse accepts.
const (
	MaxLen   = 256 // bytes, after trimming whitespace
	MaxParts = 64  // release components, and local segments
)

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid PEP 440 version")

// Error reports a string that is not a PEP 440 version.
type Error struct {
	Input  string // the rejected string (truncated to 64 bytes)
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("%v %q: %s", ErrInvalid, e.Input, e.Reason) }

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

// Pre-release kinds, in their order.
const (
	preNone = iota // no pre-release
	preA
	preB
	preRC
)

// Version is a parsed PEP 440 version. The zero value is not a valid
// version; use Parse.
type Version struct {
	epoch   uint64
	release []uint64
	preKind int // preNone, preA, preB, preRC
	preNum  uint64
	hasPost bool
	post    uint64
	hasDev  bool
	dev     uint64
	local   []string // lower-case segments; nil when absent
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

// Parse parses s as a PEP 440 version.
func Parse(s string) (Version, error) {
	in := strings.TrimSpace(s)
	if len(in) > MaxLen {
		return Version{}, perr(in, fmt.Sprintf("longer than %d bytes", MaxLen))
	}
	p := parser{s: strings.ToLower(in), orig: in}
	return p.parse()
}

func perr(in, reason string) *Error {
	if len(in) > 64 {
		in = in[:64]
	}
	return &Error{Input: in, Reason: reason}
}

type parser struct {
	s    string
	orig string
	i    int
}

func (p *parser) fail(reason string) (Version, error) {
	return Version{}, perr(p.orig, reason)
}

func (p *parser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isSep(c byte) bool   { return c == '.' || c == '-' || c == '_' }
func isAlnum(c byte) bool { return isDigit(c) || (c >= 'a' && c <= 'z') }

// number reads a run of digits at the cursor.
func (p *parser) number() (uint64, bool, error) {
	start := p.i
	for p.i < len(p.s) && isDigit(p.s[p.i]) {
		p.i++
	}
	if p.i == start {
		return 0, false, nil
	}
	n, err := strconv.ParseUint(p.s[start:p.i], 10, 64)
	if err != nil {
		return 0, true, fmt.Errorf("number %q does not fit in 64 bits", p.s[start:p.i])
	}
	return n, true, nil
}

// word matches one of words (longest first) at position at, returning the
// index of the match and the position after it, or -1.
func (p *parser) word(at int, words []string) (int, int) {
	for k, w := range words {
		if strings.HasPrefix(p.s[at:], w) {
			return k, at + len(w)
		}
	}
	return -1, at
}

// Spellings, longest first so that a prefix never shadows a longer word.
var (
	preWords  = []string{"preview", "alpha", "beta", "pre", "rc", "a", "b", "c"}
	preKinds  = []int{preRC, preA, preB, preRC, preRC, preA, preB, preRC}
	postWords = []string{"post", "rev", "r"}
)

// optNumber reads "[sep]N" after a pre/post/dev word if a number follows;
// otherwise it leaves the cursor (and any separator) alone and returns 0.
func (p *parser) optNumber() (uint64, error) {
	at := p.i
	if at < len(p.s) && isSep(p.s[at]) && at+1 < len(p.s) && isDigit(p.s[at+1]) {
		p.i = at + 1
	}
	n, ok, err := p.number()
	if err != nil {
		return 0, err
	}
	if !ok {
		p.i = at
	}
	return n, nil
}

func (p *parser) parse() (Version, error) {
	var v Version
	if p.s == "" {
		return p.fail("empty")
	}
	if p.peek() == 'v' {
		p.i++
	}
	// Epoch or first release component.
	n, ok, err := p.number()
	if err != nil {
		return p.fail(err.Error())
	}
	if !ok {
		return p.fail("release must start with a number")
	}
	if p.peek() == '!' {
		p.i++
		v.epoch = n
		if n, ok, err = p.number(); err != nil {
			return p.fail(err.Error())
		} else if !ok {
			return p.fail("release must follow the epoch")
		}
	}
	v.release = append(v.release, n)
	for p.peek() == '.' && p.i+1 < len(p.s) && isDigit(p.s[p.i+1]) {
		p.i++
		n, _, err := p.number()
		if err != nil {
			return p.fail(err.Error())
		}
		if len(v.release) >= MaxParts {
			return p.fail(fmt.Sprintf("more than %d release components", MaxParts))
		}
		v.release = append(v.release, n)
	}

	// Pre-release: [sep](a|b|rc|...)[sep][N].
	at := p.i
	if isSep(p.peek()) {
		at++
	}
	if k, end := p.word(at, preWords); k >= 0 {
		p.i = end
		v.preKind = preKinds[k]
		if v.preNum, err = p.optNumber(); err != nil {
			return p.fail(err.Error())
		}
	}

	// Post-release: -N, or [sep](post|rev|r)[sep][N].
	if p.peek() == '-' && p.i+1 < len(p.s) && isDigit(p.s[p.i+1]) {
		p.i++
		v.hasPost = true
		if v.post, _, err = p.number(); err != nil {
			return p.fail(err.Error())
		}
	} else {
		at = p.i
		if isSep(p.peek()) {
			at++
		}
		if k, end := p.word(at, postWords); k >= 0 {
			p.i = end
			v.hasPost = true
			if v.post, err = p.optNumber(); err != nil {
				return p.fail(err.Error())
			}
		}
	}

	// Dev release: [sep]dev[sep][N].
	at = p.i
	if isSep(p.peek()) {
		at++
	}
	if strings.HasPrefix(p.s[at:], "dev") {
		p.i = at + 3
		v.hasDev = true
		if v.dev, err = p.optNumber(); err != nil {
			return p.fail(err.Error())
		}
	}

	// Local version: +seg([-_.]seg)*.
	if p.peek() == '+' {
		p.i++
		for {
			start := p.i
			for p.i < len(p.s) && isAlnum(p.s[p.i]) {
				p.i++
			}
			if p.i == start {
				return p.fail("empty local version segment")
			}
			if len(v.local) >= MaxParts {
				return p.fail(fmt.Sprintf("more than %d local version segments", MaxParts))
			}
			v.local = append(v.local, p.s[start:p.i])
			if !isSep(p.peek()) {
				break
			}
			p.i++
		}
	}
	if p.i != len(p.s) {
		return p.fail(fmt.Sprintf("unexpected %q at byte %d", p.s[p.i:], p.i))
	}
	return v, nil
}

// String returns the normalised form: [N!]N(.N)*[{a|b|rc}N][.postN][.devN][+local],
// with numbers in decimal without leading zeros and local segments joined
// by ".". Release components are kept as written (1.0 stays 1.0).
func (v Version) String() string {
	var b strings.Builder
	if v.epoch != 0 {
		b.WriteString(strconv.FormatUint(v.epoch, 10))
		b.WriteByte('!')
	}
	for i, n := range v.release {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.FormatUint(n, 10))
	}
	if v.preKind != preNone {
		b.WriteString([...]string{"", "a", "b", "rc"}[v.preKind])
		b.WriteString(strconv.FormatUint(v.preNum, 10))
	}
	if v.hasPost {
		b.WriteString(".post")
		b.WriteString(strconv.FormatUint(v.post, 10))
	}
	if v.hasDev {
		b.WriteString(".dev")
		b.WriteString(strconv.FormatUint(v.dev, 10))
	}
	if v.local != nil {
		b.WriteByte('+')
		b.WriteString(strings.Join(v.local, "."))
	}
	return b.String()
}

// Public returns v without its local version label.
func (v Version) Public() Version {
	v.local = nil
	return v
}

// IsPrerelease reports whether v is a pre-release or a dev release.
func (v Version) IsPrerelease() bool { return v.preKind != preNone || v.hasDev }

// Local returns the local version label ("cu117"), or "".
func (v Version) Local() string { return strings.Join(v.local, ".") }

// Compare returns -1, 0 or +1 as a sorts before, equal to or after b in
// PEP 440 order.
func Compare(a, b Version) int { return a.Compare(b) }

// Compare returns -1, 0 or +1 as v sorts before, equal to or after w.
func (v Version) Compare(w Version) int {
	if c := cmp.Compare(v.epoch, w.epoch); c != 0 {
		return c
	}
	if c := cmpRelease(v.release, w.release); c != 0 {
		return c
	}
	if c := cmpPre(v, w); c != 0 {
		return c
	}
	// Post: absent sorts before any post-release.
	if c := cmpOpt(v.hasPost, v.post, w.hasPost, w.post, -1); c != 0 {
		return c
	}
	// Dev: absent sorts after any dev release.
	if c := cmpOpt(v.hasDev, v.dev, w.hasDev, w.dev, +1); c != 0 {
		return c
	}
	return cmpLocal(v.local, w.local)
}

// cmpRelease compares release segments with trailing zeros ignored.
func cmpRelease(a, b []uint64) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y uint64
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// preRank places a version's pre-release part on one scale: a dev release
// of a final (1.0.dev1, no pre, no post) sorts before every pre-release,
// a final or post-release after all of them.
func preRank(v Version) (int, uint64) {
	switch {
	case v.preKind != preNone:
		return v.preKind, v.preNum
	case !v.hasPost && v.hasDev:
		return -1, 0
	default:
		return preRC + 1, 0
	}
}

func cmpPre(a, b Version) int {
	ka, na := preRank(a)
	kb, nb := preRank(b)
	if ka != kb {
		if ka < kb {
			return -1
		}
		return 1
	}
	return cmp.Compare(na, nb)
}

// cmpOpt compares optional numbers; absent sorts at side (-1 before, +1
// after) every present value.
func cmpOpt(ha bool, a uint64, hb bool, b uint64, side int) int {
	switch {
	case ha && hb:
		return cmp.Compare(a, b)
	case ha:
		return -side
	case hb:
		return side
	}
	return 0
}

// cmpLocal orders local labels: none first; then segment by segment,
// numeric segments numerically and above alphanumeric ones, which compare
// as strings; a label that extends another sorts after it.
func cmpLocal(a, b []string) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := cmpSegment(a[i], b[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(uint64(len(a)), uint64(len(b)))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func cmpSegment(x, y string) int {
	dx, dy := allDigits(x), allDigits(y)
	switch {
	case dx && dy:
		// Arbitrary length: drop leading zeros, longer is larger.
		x, y = strings.TrimLeft(x, "0"), strings.TrimLeft(y, "0")
		if c := cmp.Compare(uint64(len(x)), uint64(len(y))); c != 0 {
			return c
		}
		return strings.Compare(x, y)
	case dx:
		return 1
	case dy:
		return -1
	}
	return strings.Compare(x, y)
}
