package keras

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/scan"
)

// Limits on decoding marshalled bytecode for evidence.
const (
	maxMarshalDepth   = 64      // container and code-object nesting
	maxMarshalObjects = 200_000 // objects read from one payload
	maxEvidenceNames  = 12
	maxEvidenceStrs   = 8
	maxEvidenceStrLen = 60
)

var errMarshal = errors.New("malformed marshal data")

// mkind is the kind of a decoded marshal object, as far as evidence needs.
type mkind uint8

const (
	mOther mkind = iota
	mString
	mBytes
	mTuple
	mCode
)

// mobj is a marshal object reduced to what the evidence needs: strings and
// containers (tuples, lists, sets) of strings. Code objects are never
// built, only read.
type mobj struct {
	kind  mkind
	s     string
	items []mobj
}

// marshalReader reads CPython's marshal format as data. It understands the
// code-object layouts of Python 2.7, 3.0-3.7, 3.8-3.10 and 3.11+, and
// collects the names (co_names) and string constants (co_consts) of every
// code object it meets.
type marshalReader struct {
	b       []byte
	pos     int
	refs    []mobj
	objects int
	names   []string
	strs    []string
}

func (m *marshalReader) need(n int) error {
	if n < 0 || m.pos+n > len(m.b) || m.pos+n < m.pos {
		return fmt.Errorf("truncated at offset %d: %w", m.pos, errMarshal)
	}
	return nil
}

func (m *marshalReader) u8() (int, error) {
	if err := m.need(1); err != nil {
		return 0, err
	}
	m.pos++
	return int(m.b[m.pos-1]), nil
}

func (m *marshalReader) i32() (int32, error) {
	if err := m.need(4); err != nil {
		return 0, err
	}
	v := int32(binary.LittleEndian.Uint32(m.b[m.pos:]))
	m.pos += 4
	return v, nil
}

// length reads a non-negative 32-bit length that must fit the remaining
// input when each element takes at least unit bytes.
func (m *marshalReader) length(unit int) (int, error) {
	n, err := m.i32()
	if err != nil {
		return 0, err
	}
	if n < 0 || int64(n)*int64(unit) > int64(len(m.b)-m.pos) {
		return 0, fmt.Errorf("length %d out of range at offset %d: %w", n, m.pos, errMarshal)
	}
	return int(n), nil
}

func (m *marshalReader) raw(n int) ([]byte, error) {
	if err := m.need(n); err != nil {
		return nil, err
	}
	m.pos += n
	return m.b[m.pos-n : m.pos], nil
}

// object reads one marshalled object.
func (m *marshalReader) object(depth int) (mobj, error) {
	if depth > maxMarshalDepth {
		return mobj{}, fmt.Errorf("nesting deeper than %d: %w", maxMarshalDepth, errMarshal)
	}
	m.objects++
	if m.objects > maxMarshalObjects {
		return mobj{}, fmt.Errorf("more than %d objects: %w", maxMarshalObjects, errMarshal)
	}
	t, err := m.u8()
	if err != nil {
		return mobj{}, err
	}
	flagRef := t&0x80 != 0
	t &^= 0x80
	ref := -1
	if flagRef {
		ref = len(m.refs)
		m.refs = append(m.refs, mobj{})
	}
	v, err := m.body(byte(t), depth)
	if err != nil {
		return mobj{}, err
	}
	if ref >= 0 {
		m.refs[ref] = v
	}
	return v, nil
}

func (m *marshalReader) body(t byte, depth int) (mobj, error) {
	switch t {
	case '0', 'N', 'F', 'T', 'S', '.':
		return mobj{}, nil
	case 'i':
		_, err := m.raw(4)
		return mobj{}, err
	case 'I', 'g':
		_, err := m.raw(8)
		return mobj{}, err
	case 'y':
		_, err := m.raw(16)
		return mobj{}, err
	case 'l':
		n, err := m.i32()
		if err != nil {
			return mobj{}, err
		}
		if n < 0 {
			n = -n
		}
		if n < 0 { // math.MinInt32
			return mobj{}, fmt.Errorf("long digit count out of range: %w", errMarshal)
		}
		_, err = m.raw(int(n) * 2)
		return mobj{}, err
	case 'f':
		n, err := m.u8()
		if err == nil {
			_, err = m.raw(n)
		}
		return mobj{}, err
	case 'x':
		for range 2 {
			n, err := m.u8()
			if err == nil {
				_, err = m.raw(n)
			}
			if err != nil {
				return mobj{}, err
			}
		}
		return mobj{}, nil
	case 's':
		n, err := m.length(1)
		if err != nil {
			return mobj{}, err
		}
		b, err := m.raw(n)
		return mobj{kind: mBytes, s: string(b)}, err
	case 't', 'u', 'a', 'A':
		n, err := m.length(1)
		if err != nil {
			return mobj{}, err
		}
		b, err := m.raw(n)
		return mobj{kind: mString, s: string(b)}, err
	case 'z', 'Z':
		n, err := m.u8()
		if err != nil {
			return mobj{}, err
		}
		b, err := m.raw(n)
		return mobj{kind: mString, s: string(b)}, err
	case ')', '(', '[', '<', '>':
		var n int
		var err error
		if t == ')' {
			n, err = m.u8()
		} else {
			n, err = m.length(1)
		}
		if err != nil {
			return mobj{}, err
		}
		v := mobj{kind: mTuple}
		for range n {
			item, err := m.object(depth + 1)
			if err != nil {
				return mobj{}, err
			}
			if item.kind == mString || item.kind == mTuple {
				v.items = append(v.items, item)
			}
		}
		return v, nil
	case '{':
		for {
			if err := m.need(1); err != nil {
				return mobj{}, err
			}
			if m.b[m.pos] == '0' {
				m.pos++
				return mobj{}, nil
			}
			for range 2 {
				if _, err := m.object(depth + 1); err != nil {
					return mobj{}, err
				}
			}
		}
	case 'r':
		n, err := m.i32()
		if err != nil {
			return mobj{}, err
		}
		if n < 0 || int(n) >= len(m.refs) {
			return mobj{}, fmt.Errorf("reference %d out of range: %w", n, errMarshal)
		}
		return m.refs[n], nil
	case 'c':
		return mobj{kind: mCode}, m.code(depth)
	}
	return mobj{}, fmt.Errorf("unknown type code %q at offset %d: %w", t, m.pos-1, errMarshal)
}

// code reads a code object. The number of leading 32-bit fields tells the
// layout apart: the co_code bytes object ('s') follows 4 ints in Python
// 2.7, 5 in 3.0-3.7 and 3.11+, 6 in 3.8-3.10. An int can itself look like
// the bytes type code, so each plausible layout is tried in turn.
func (m *marshalReader) code(depth int) error {
	err := fmt.Errorf("unrecognised code object layout at offset %d: %w", m.pos, errMarshal)
	pos, refs, objects, names, strs := m.pos, len(m.refs), m.objects, len(m.names), len(m.strs)
	for _, ints := range [...]int{5, 6, 4} {
		if p := m.pos + 4*ints; p >= len(m.b) || m.b[p]&^0x80 != 's' {
			continue
		}
		if err = m.codeLayout(ints, depth); err == nil {
			return nil
		}
		m.pos, m.refs, m.objects, m.names, m.strs = pos, m.refs[:refs], objects, m.names[:names], m.strs[:strs]
	}
	return err
}

// codeLayout reads a code object whose co_code follows ints 32-bit fields.
func (m *marshalReader) codeLayout(ints, depth int) error {
	if _, err := m.raw(4 * ints); err != nil {
		return err
	}
	next := func() (mobj, error) { return m.object(depth + 1) }
	if _, err := next(); err != nil { // co_code
		return err
	}
	consts, err := next()
	if err != nil {
		return err
	}
	names, err := next()
	if err != nil {
		return err
	}
	m.collect(consts, names)
	// The rest: 3.11+ has localsplusnames, localspluskinds (bytes),
	// filename, name, qualname, firstlineno, linetable, exceptiontable;
	// 3.0-3.10 and 2.7 have varnames, freevars (a tuple), cellvars,
	// filename, name, firstlineno, lnotab.
	if _, err := next(); err != nil {
		return err
	}
	fifth, err := next()
	if err != nil {
		return err
	}
	tail := 1
	if ints == 5 && fifth.kind == mBytes {
		tail = 2
	}
	for range 3 { // cellvars, filename, name or filename, name, qualname
		if _, err := next(); err != nil {
			return err
		}
	}
	if _, err := m.i32(); err != nil { // co_firstlineno
		return err
	}
	for range tail {
		if _, err := next(); err != nil {
			return err
		}
	}
	return nil
}

// collect records the names and string constants of one code object.
func (m *marshalReader) collect(consts, names mobj) {
	for _, n := range names.items {
		if n.kind == mString {
			m.names = append(m.names, n.s)
		}
	}
	var walk func(items []mobj)
	walk = func(items []mobj) {
		for _, c := range items {
			switch c.kind {
			case mString:
				m.strs = append(m.strs, c.s)
			case mTuple: // a constant tuple or frozenset; its depth was bounded when read
				walk(c.items)
			}
		}
	}
	walk(consts.items)
}

// decodeCodeString decodes the base64 text Keras stores for a function.
// Keras 2 wraps it at 76 columns; Windows builds swap backslashes.
func decodeCodeString(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\n', '\r', ' ', '\t':
			return -1
		}
		return r
	}, s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not valid base64")
}

// describeBytecode renders evidence for a base64 marshalled code object:
// the names it references and its string constants, e.g.
// `bytecode references __import__, system; strings "os", "echo pwned"`.
func describeBytecode(code string) string {
	raw, err := decodeCodeString(code)
	if err != nil {
		return fmt.Sprintf("code %s is %v", strconv.Quote(scan.Clip(code, 40)), err)
	}
	m := &marshalReader{b: raw}
	_, err = m.object(0)
	names, strs := dedupe(m.names), dedupe(m.strs)
	prefix := "bytecode"
	if err != nil || len(names)+len(strs) == 0 {
		prefix = fmt.Sprintf("%d bytes of bytecode that could not be fully decoded", len(raw))
		names, strs = nil, printableRecords(raw)
	}
	var b strings.Builder
	b.WriteString(prefix)
	if len(names) > 0 {
		b.WriteString(" references ")
		b.WriteString(joinLimited(names, maxEvidenceNames, func(s string) string { return scan.Clip(sanitize(s), maxEvidenceStrLen) }))
	}
	if len(strs) > 0 {
		if len(names) > 0 {
			b.WriteString(";")
		}
		b.WriteString(" strings ")
		b.WriteString(joinLimited(strs, maxEvidenceStrs, func(s string) string { return strconv.Quote(scan.Clip(s, maxEvidenceStrLen)) }))
	}
	if len(names)+len(strs) == 0 {
		b.WriteString(" with no readable names")
	}
	return b.String()
}

// dedupe returns items without repeats, in first-seen order.
func dedupe(items []string) []string {
	seen := make(map[string]bool, len(items))
	out := items[:0:0]
	for _, s := range items {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func joinLimited(items []string, limit int, render func(string) string) string {
	var parts []string
	for i, s := range items {
		if i == limit {
			parts = append(parts, fmt.Sprintf("and %d more", len(items)-limit))
			break
		}
		parts = append(parts, render(s))
	}
	return strings.Join(parts, ", ")
}

// sanitize replaces non-printable bytes in a name with '?'.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// printableRecords is the fallback for bytecode the structural reader
// cannot follow: marshal string records (short ASCII, ASCII, unicode,
// interned) whose content is printable ASCII of at least two bytes.
func printableRecords(b []byte) []string {
	var out []string
	seen := map[string]bool{}
	for i := 0; i < len(b) && len(out) < maxEvidenceStrs*2; i++ {
		t := b[i] &^ 0x80
		var start, n int
		switch t {
		case 'z', 'Z':
			if i+1 >= len(b) {
				continue
			}
			start, n = i+2, int(b[i+1])
		case 'a', 'A', 'u', 't':
			if i+5 > len(b) {
				continue
			}
			start, n = i+5, int(binary.LittleEndian.Uint32(b[i+1:]))
		default:
			continue
		}
		if n < 2 || n > 200 || start+n > len(b) {
			continue
		}
		s := b[start : start+n]
		ok := true
		for _, c := range s {
			if c < 0x20 || c > 0x7e {
				ok = false
				break
			}
		}
		if ok && !seen[string(s)] {
			seen[string(s)] = true
			out = append(out, string(s))
			i = start + n - 1
		}
	}
	return out
}
