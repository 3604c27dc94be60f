package numpy

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/palisade-sec/palisade/internal/scan"
)

// maxLiteralDepth bounds container nesting in a header. CPython's parser
// refuses more than 200 nested brackets, so numpy cannot load deeper
// headers either.
const maxLiteralDepth = 200

// pyKind is the type of a Python literal value.
type pyKind uint8

const (
	pyStr pyKind = iota + 1
	pyBytes
	pyInt
	pyBool
	pyNone
	pyTuple
	pyList
	pyDict
	pySet
)

func (k pyKind) String() string {
	switch k {
	case pyStr:
		return "str"
	case pyBytes:
		return "bytes"
	case pyInt:
		return "int"
	case pyBool:
		return "bool"
	case pyNone:
		return "None"
	case pyTuple:
		return "tuple"
	case pyList:
		return "list"
	case pyDict:
		return "dict"
	case pySet:
		return "set"
	}
	return "unknown"
}

// pyValue is a Python literal: what ast.literal_eval would return for the
// subset a .npy header can use. Dicts keep their keys in items and their
// values in values; later duplicates replace earlier values, as in Python.
type pyValue struct {
	kind   pyKind
	s      string // str (UTF-8) and bytes
	i      int64  // int, and bool as 0 or 1
	big    bool   // int outside the int64 range
	items  []pyValue
	values []pyValue
}

// isInt reports whether v is a Python int; bool is a subclass of int.
func (v pyValue) isInt() bool { return v.kind == pyInt || v.kind == pyBool }

// lookup returns the value of the str key k in a dict.
func (v pyValue) lookup(k string) (pyValue, bool) {
	for i, key := range v.items {
		if key.kind == pyStr && key.s == k {
			return v.values[i], true
		}
	}
	return pyValue{}, false
}

// repr renders v roughly as Python would, for evidence.
func (v pyValue) repr() string {
	switch v.kind {
	case pyStr:
		return pyQuote(v.s)
	case pyBytes:
		return "b" + pyQuote(v.s)
	case pyInt:
		if v.big {
			return "<int out of range>"
		}
		return strconv.FormatInt(v.i, 10)
	case pyBool:
		if v.i != 0 {
			return "True"
		}
		return "False"
	case pyNone:
		return "None"
	case pyDict:
		parts := make([]string, len(v.items))
		for i := range v.items {
			parts[i] = v.items[i].repr() + ": " + v.values[i].repr()
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	parts := make([]string, len(v.items))
	for i, it := range v.items {
		parts[i] = it.repr()
	}
	switch v.kind {
	case pyTuple:
		if len(parts) == 1 {
			return "(" + parts[0] + ",)"
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case pyList:
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func pyQuote(s string) string {
	q := strconv.Quote(s)
	return "'" + strings.ReplaceAll(q[1:len(q)-1], `\"`, `"`) + "'"
}

// literalError is a header that is not a Python literal numpy accepts.
type literalError struct {
	Offset int // byte offset in the header text
	Msg    string
}

func (e *literalError) Error() string { return fmt.Sprintf("%s at header byte %d", e.Msg, e.Offset) }

// literalParser is a strict parser for the Python literals ast.literal_eval
// accepts in a .npy header: str and bytes (all prefixes, escapes and
// implicit concatenation), int (with underscores, hex, octal, binary, one
// unary sign, and numpy's tolerated Python 2 "L" suffix), True, False,
// None, tuples, lists, dicts and sets, with comments and line breaks. It
// never evaluates anything.
type literalParser struct {
	b      []byte
	pos    int
	latin1 bool // header versions 1.0 and 2.0 are latin-1; 3.0 is UTF-8
	allowL bool // accept a Python 2 long suffix after a number
	depth  int
}

// parseLiteral parses a whole header.
func parseLiteral(header []byte, latin1, allowL bool) (pyValue, error) {
	p := &literalParser{b: header, latin1: latin1, allowL: allowL}
	if !latin1 && !utf8.Valid(header) {
		return pyValue{}, p.errf("header is not valid UTF-8")
	}
	if i := bytes.IndexByte(header, 0); i >= 0 {
		// Python refuses to parse source containing NUL bytes.
		p.pos = i
		return pyValue{}, p.errf("NUL byte in header")
	}
	v, err := p.expr()
	if err != nil {
		return pyValue{}, err
	}
	p.space()
	if p.pos != len(p.b) {
		return pyValue{}, p.errf("unexpected %q after the header value", p.b[p.pos])
	}
	return v, nil
}

func (p *literalParser) errf(format string, args ...any) error {
	return &literalError{Offset: p.pos, Msg: fmt.Sprintf(format, args...)}
}

// space skips blanks, line breaks, comments and backslash continuations.
// Python ignores line breaks inside brackets, and a header is one bracketed
// dict; a break between two top-level tokens makes numpy fail, which the
// strict end-of-input check reports anyway.
func (p *literalParser) space() {
	for p.pos < len(p.b) {
		switch c := p.b[p.pos]; {
		case c == ' ' || c == '\t' || c == '\f' || c == '\n' || c == '\r':
			p.pos++
		case c == '#':
			for p.pos < len(p.b) && p.b[p.pos] != '\n' && p.b[p.pos] != '\r' {
				p.pos++
			}
		case c == '\\' && p.pos+1 < len(p.b) && (p.b[p.pos+1] == '\n' || p.b[p.pos+1] == '\r'):
			p.pos += 2
			if p.b[p.pos-1] == '\r' && p.pos < len(p.b) && p.b[p.pos] == '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

// expr parses one value: a signed number, a name, strings, or a
// container.
func (p *literalParser) expr() (pyValue, error) {
	p.space()
	if p.pos >= len(p.b) {
		return pyValue{}, p.errf("unexpected end of header")
	}
	c := p.b[p.pos]
	switch {
	case c == '{' || c == '[' || c == '(':
		return p.container()
	case c == '-' || c == '+':
		p.pos++
		p.space()
		if p.pos >= len(p.b) || !isDigit(p.b[p.pos]) {
			return pyValue{}, p.errf("a sign must be followed by a number")
		}
		v, err := p.number()
		if err != nil {
			return v, err
		}
		if c == '-' {
			v.i = -v.i
		}
		return v, nil
	case isDigit(c):
		return p.number()
	case c == '.':
		return pyValue{}, p.errf("float literals are not valid in a .npy header")
	case c == '\'' || c == '"':
		return p.strings()
	case isNameStart(c):
		start := p.pos
		for p.pos < len(p.b) && isNameChar(p.b[p.pos]) {
			p.pos++
		}
		name := string(p.b[start:p.pos])
		if p.pos < len(p.b) && (p.b[p.pos] == '\'' || p.b[p.pos] == '"') {
			p.pos = start
			return p.strings()
		}
		switch name {
		case "True":
			return pyValue{kind: pyBool, i: 1}, nil
		case "False":
			return pyValue{kind: pyBool}, nil
		case "None":
			return pyValue{kind: pyNone}, nil
		}
		p.pos = start
		return pyValue{}, p.errf("name %q is not a literal", scan.Clip(name, 40))
	}
	return pyValue{}, p.errf("unexpected %q", c)
}

func isDigit(c byte) bool     { return c >= '0' && c <= '9' }
func isNameStart(c byte) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isNameChar(c byte) bool  { return isNameStart(c) || isDigit(c) }

// number parses an unsigned int literal.
func (p *literalParser) number() (pyValue, error) {
	start := p.pos
	for p.pos < len(p.b) && (isNameChar(p.b[p.pos]) || p.b[p.pos] == '.') {
		p.pos++
	}
	tok := string(p.b[start:p.pos])
	if strings.HasSuffix(tok, "L") && p.allowL {
		tok = tok[:len(tok)-1]
	}
	base, digits := 10, tok
	if len(tok) > 1 && tok[0] == '0' {
		switch tok[1] {
		case 'x', 'X':
			base, digits = 16, tok[2:]
		case 'o', 'O':
			base, digits = 8, tok[2:]
		case 'b', 'B':
			base, digits = 2, tok[2:]
		}
	}
	if base != 10 {
		digits = strings.TrimPrefix(digits, "_")
	} else if strings.Trim(tok, "0_") != "" && tok[0] == '0' {
		p.pos = start
		return pyValue{}, p.errf("leading zeros in a decimal integer")
	}
	if digits == "" || strings.HasPrefix(digits, "_") || strings.HasSuffix(digits, "_") || strings.Contains(digits, "__") {
		p.pos = start
		return pyValue{}, p.errf("invalid number %q", scan.Clip(tok, 40))
	}
	clean := strings.ReplaceAll(digits, "_", "")
	for _, c := range clean {
		if d := digitValue(c); d < 0 || d >= base {
			p.pos = start
			if c == '.' || c == 'e' || c == 'E' || c == 'j' || c == 'J' {
				return pyValue{}, p.errf("float and complex literals are not valid in a .npy header")
			}
			return pyValue{}, p.errf("invalid number %q", scan.Clip(tok, 40))
		}
	}
	v, err := strconv.ParseInt(clean, base, 64)
	if err != nil {
		return pyValue{kind: pyInt, big: true}, nil
	}
	return pyValue{kind: pyInt, i: v}, nil
}

func digitValue(c rune) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// strings parses one or more adjacent string literals and concatenates
// them; mixing str and bytes is an error, as in Python.
func (p *literalParser) strings() (pyValue, error) {
	var (
		out  strings.Builder
		kind pyKind
	)
	for {
		isBytes, s, err := p.stringLiteral()
		if err != nil {
			return pyValue{}, err
		}
		k := pyStr
		if isBytes {
			k = pyBytes
		}
		if kind != 0 && k != kind {
			return pyValue{}, p.errf("cannot mix bytes and str literals")
		}
		kind = k
		out.WriteString(s)
		save := p.pos
		p.space()
		if p.pos < len(p.b) && p.startsString() {
			continue
		}
		p.pos = save
		return pyValue{kind: kind, s: out.String()}, nil
	}
}

// startsString reports whether a string literal (with an optional
// prefix) starts at p.pos.
func (p *literalParser) startsString() bool {
	i := p.pos
	for n := 0; n < 2 && i < len(p.b) && strings.IndexByte("rRbBuUfF", p.b[i]) >= 0; n++ {
		i++
	}
	return i < len(p.b) && (p.b[i] == '\'' || p.b[i] == '"')
}

// stringLiteral parses one prefixed string literal.
func (p *literalParser) stringLiteral() (isBytes bool, s string, err error) {
	start := p.pos
	var raw, uni bool
	for p.pos < len(p.b) && p.b[p.pos] != '\'' && p.b[p.pos] != '"' {
		switch p.b[p.pos] {
		case 'r', 'R':
			if raw || uni {
				return false, "", p.errf("invalid string prefix")
			}
			raw = true
		case 'b', 'B':
			if isBytes || uni {
				return false, "", p.errf("invalid string prefix")
			}
			isBytes = true
		case 'u', 'U':
			if uni || isBytes || raw {
				return false, "", p.errf("invalid string prefix")
			}
			uni = true
		case 'f', 'F':
			return false, "", p.errf("f-strings are not literals")
		default:
			return false, "", p.errf("invalid string prefix")
		}
		p.pos++
		if p.pos-start > 2 {
			return false, "", p.errf("invalid string prefix")
		}
	}
	if p.pos >= len(p.b) {
		return false, "", p.errf("unterminated string")
	}
	q := p.b[p.pos]
	triple := p.pos+2 < len(p.b) && p.b[p.pos+1] == q && p.b[p.pos+2] == q
	if triple {
		p.pos += 3
	} else {
		p.pos++
	}
	var out []byte
	for {
		if p.pos >= len(p.b) {
			return false, "", p.errf("unterminated string")
		}
		c := p.b[p.pos]
		switch {
		case c == q && (!triple || p.pos+2 < len(p.b) && p.b[p.pos+1] == q && p.b[p.pos+2] == q):
			if triple {
				p.pos += 3
			} else {
				p.pos++
			}
			return isBytes, string(out), nil
		case (c == '\n' || c == '\r') && !triple:
			return false, "", p.errf("line break in a single-quoted string")
		case c >= 0x80:
			if isBytes {
				return false, "", p.errf("non-ASCII character in a bytes literal")
			}
			if p.latin1 {
				out = utf8.AppendRune(out, rune(c))
				p.pos++
			} else {
				_, n := utf8.DecodeRune(p.b[p.pos:])
				out = append(out, p.b[p.pos:p.pos+n]...)
				p.pos += n
			}
		case c == '\\' && raw:
			// A raw string keeps the backslash, but it still escapes a
			// quote or line break.
			out = append(out, c)
			p.pos++
			if p.pos < len(p.b) && p.b[p.pos] < 0x80 {
				out = append(out, p.b[p.pos])
				p.pos++
			}
		case c == '\\':
			if err := p.escape(&out, isBytes); err != nil {
				return false, "", err
			}
		default:
			out = append(out, c)
			p.pos++
		}
	}
}

// escape decodes one backslash escape at p.pos.
func (p *literalParser) escape(out *[]byte, isBytes bool) error {
	if p.pos+1 >= len(p.b) {
		return p.errf("unterminated string")
	}
	e := p.b[p.pos+1]
	p.pos += 2
	simple := map[byte]byte{'\\': '\\', '\'': '\'', '"': '"', 'a': 7, 'b': 8, 'f': 12, 'n': '\n', 'r': '\r', 't': '\t', 'v': 11}
	if r, ok := simple[e]; ok {
		*out = append(*out, r)
		return nil
	}
	appendCode := func(v rune) error {
		if isBytes {
			*out = append(*out, byte(v))
			return nil
		}
		if v > utf8.MaxRune || v >= 0xd800 && v <= 0xdfff {
			// Python keeps lone surrogates; Go strings cannot.
			v = utf8.RuneError
		}
		*out = utf8.AppendRune(*out, v)
		return nil
	}
	hex := func(n int) (rune, error) {
		if p.pos+n > len(p.b) {
			return 0, p.errf("truncated \\%c escape", e)
		}
		var v rune
		for _, c := range p.b[p.pos : p.pos+n] {
			d := digitValue(rune(c))
			if d < 0 || d > 15 {
				return 0, p.errf("invalid \\%c escape", e)
			}
			v = v<<4 | rune(d)
		}
		p.pos += n
		return v, nil
	}
	switch {
	case e == '\n':
		return nil
	case e == '\r':
		if p.pos < len(p.b) && p.b[p.pos] == '\n' {
			p.pos++
		}
		return nil
	case e >= '0' && e <= '7':
		v := rune(e - '0')
		for n := 1; n < 3 && p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '7'; n++ {
			v = v*8 + rune(p.b[p.pos]-'0')
			p.pos++
		}
		if isBytes && v > 0xff {
			v &= 0xff
		}
		return appendCode(v)
	case e == 'x':
		v, err := hex(2)
		if err != nil {
			return err
		}
		return appendCode(v)
	case (e == 'u' || e == 'U') && !isBytes:
		n := 4
		if e == 'U' {
			n = 8
		}
		v, err := hex(n)
		if err != nil {
			return err
		}
		if v > utf8.MaxRune {
			return p.errf("\\U escape out of range")
		}
		return appendCode(v)
	case e == 'N' && !isBytes:
		// \N{NAME} needs the Unicode name database; refuse rather than
		// guess (the header is then reported as unreadable).
		return p.errf("\\N{...} escapes are not supported")
	}
	// An unknown escape keeps the backslash.
	*out = append(*out, '\\')
	p.pos--
	return nil
}

// container parses a tuple, list, dict or set (or a parenthesised value).
func (p *literalParser) container() (pyValue, error) {
	open := p.b[p.pos]
	closeCh := map[byte]byte{'(': ')', '[': ']', '{': '}'}[open]
	if p.depth >= maxLiteralDepth {
		return pyValue{}, p.errf("header nested more than %d levels deep", maxLiteralDepth)
	}
	p.depth++
	defer func() { p.depth-- }()
	p.pos++

	v := pyValue{kind: pyList}
	switch open {
	case '(':
		v.kind = pyTuple
	case '{':
		v.kind = pyDict
	}
	sawComma := false
	for n := 0; ; n++ {
		p.space()
		if p.pos >= len(p.b) {
			return pyValue{}, p.errf("unterminated %q", open)
		}
		if p.b[p.pos] == closeCh {
			p.pos++
			if open == '(' && n == 1 && !sawComma {
				return v.items[0], nil // (x) is x
			}
			return v, nil
		}
		if n > 0 && !sawComma {
			return pyValue{}, p.errf("expected ',' or %q", closeCh)
		}
		item, err := p.expr()
		if err != nil {
			return pyValue{}, err
		}
		p.space()
		if open == '{' {
			isPair := p.pos < len(p.b) && p.b[p.pos] == ':'
			switch {
			case n == 0 && !isPair:
				v.kind = pySet
			case (v.kind == pyDict) != isPair:
				return pyValue{}, p.errf("mixed dict and set syntax")
			}
			if isPair {
				p.pos++
				val, err := p.expr()
				if err != nil {
					return pyValue{}, err
				}
				if err := p.dictPut(&v, item, val); err != nil {
					return pyValue{}, err
				}
				p.space()
			} else {
				if !hashable(item) {
					return pyValue{}, p.errf("unhashable %s in a set", item.kind)
				}
				v.items = append(v.items, item)
			}
		} else {
			v.items = append(v.items, item)
		}
		sawComma = false
		if p.pos < len(p.b) && p.b[p.pos] == ',' {
			p.pos++
			sawComma = true
		}
	}
}

// dictPut stores key: val, replacing the value of an equal key.
func (p *literalParser) dictPut(d *pyValue, key, val pyValue) error {
	if !hashable(key) {
		return p.errf("unhashable %s as a dict key", key.kind)
	}
	for i, k := range d.items {
		if equalKeys(k, key) {
			d.values[i] = val
			return nil
		}
	}
	d.items = append(d.items, key)
	d.values = append(d.values, val)
	return nil
}

func hashable(v pyValue) bool {
	switch v.kind {
	case pyList, pyDict, pySet:
		return false
	case pyTuple:
		for _, it := range v.items {
			if !hashable(it) {
				return false
			}
		}
	}
	return true
}

// equalKeys compares hashable values the way Python's == does for the
// kinds a header holds (True == 1, False == 0).
func equalKeys(a, b pyValue) bool {
	switch {
	case a.isInt() && b.isInt():
		return a.big == b.big && a.i == b.i && !a.big
	case a.kind != b.kind:
		return false
	case a.kind == pyStr || a.kind == pyBytes:
		return a.s == b.s
	case a.kind == pyNone:
		return true
	case a.kind == pyTuple:
		if len(a.items) != len(b.items) {
			return false
		}
		for i := range a.items {
			if !equalKeys(a.items[i], b.items[i]) {
				return false
			}
		}
		return true
	}
	return false
}
