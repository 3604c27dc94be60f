package secrets

import (
	"bytes"
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// need is a condition every match of an expression satisfies, checked on
// a line before the expression runs: a literal it contains, or a run of
// at least min characters of one class. Both are read off the parsed
// expression, so the check is sound for any rule, a user's included.
type need struct {
	lit  []byte // literal the line must contain (lower-cased when fold)
	fold bool
	cls  *[256]bool // ASCII class; nil for a literal need
	min  int
	any  []need // when set, the need is met when one of these is
}

// minClassRun is the shortest class repetition worth checking.
const minClassRun = 8

// needsOf derives at most one literal and one class-run need from expr.
func needsOf(expr string) []need {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	var lit, run, alt *need
	var walk func(n *syntax.Regexp)
	walk = func(n *syntax.Regexp) {
		switch n.Op {
		case syntax.OpConcat:
			for _, c := range n.Sub {
				walk(c)
			}
		case syntax.OpCapture:
			walk(n.Sub[0])
		case syntax.OpAlternate:
			if alt != nil {
				return
			}
			var any []need
			for _, b := range n.Sub {
				bn := needsOf(b.String())
				if len(bn) == 0 {
					return
				}
				any = append(any, bn[len(bn)-1])
			}
			alt = &need{any: any}
		case syntax.OpLiteral:
			s := string(n.Rune)
			if len(n.Rune) < 2 || !isASCII(s) {
				return
			}
			fold := n.Flags&syntax.FoldCase != 0
			if fold && strings.ContainsAny(s, "kKsS") {
				// (?i)k and s also match U+212A and U+017F.
				return
			}
			if fold {
				s = strings.ToLower(s)
			}
			if lit == nil || len(s) > len(lit.lit) {
				lit = &need{lit: []byte(s), fold: fold}
			}
		case syntax.OpRepeat, syntax.OpPlus:
			min := n.Min
			if n.Op == syntax.OpPlus {
				min = 1
			}
			if min < minClassRun {
				return
			}
			cls, ok := asciiClass(n.Sub[0])
			if ok && (run == nil || min > run.min) {
				run = &need{cls: cls, min: min}
			}
		}
	}
	walk(re)
	var out []need
	if lit != nil {
		out = append(out, *lit)
	}
	if alt != nil {
		out = append(out, *alt)
	}
	if run != nil {
		out = append(out, *run)
	}
	return out
}

// asciiClass returns the ASCII members of a character class node, if the
// node is a class (or a single literal character) that matches no
// non-ASCII character: a run of it then has min bytes in the table.
func asciiClass(n *syntax.Regexp) (*[256]bool, bool) {
	var t [256]bool
	switch n.Op {
	case syntax.OpCharClass:
		for i := 0; i+1 < len(n.Rune); i += 2 {
			lo, hi := n.Rune[i], n.Rune[i+1]
			if lo == hi && (lo == 0x17f || lo == 0x212a) {
				// The case folds of s and k that (?i) adds: treated as
				// outside the class (see the package documentation).
				continue
			}
			if hi >= utf8.RuneSelf {
				return nil, false
			}
			for c := lo; c <= hi; c++ {
				t[c] = true
			}
		}
		return &t, true
	case syntax.OpLiteral:
		if len(n.Rune) != 1 || n.Rune[0] >= utf8.RuneSelf || n.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		t[n.Rune[0]] = true
		return &t, true
	}
	return nil, false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// met reports whether the line (and its lower-case copy) meets the need.
func (n *need) met(line, lower []byte) bool {
	if n.any != nil {
		for i := range n.any {
			if n.any[i].met(line, lower) {
				return true
			}
		}
		return false
	}
	if n.cls == nil {
		if n.fold {
			return bytes.Contains(lower, n.lit)
		}
		return bytes.Contains(line, n.lit)
	}
	run := 0
	for _, c := range line {
		if n.cls[c] {
			run++
			if run >= n.min {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}
