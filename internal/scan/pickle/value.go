package pickle

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// kind is the type of a symbolic value.
type kind uint8

const (
	kNone kind = iota
	kBool
	kInt
	kFloat
	kStr // a str (any unicode or STRING-family opcode)
	kBytes
	kByteArray
	kTuple
	kList
	kDict
	kSet
	kFrozenSet
	kGlobal // an imported global (GLOBAL, STACK_GLOBAL, INST)
	kExt    // an import through the copyreg extension registry (EXT1/2/4)
	kCall   // the result of calling something (REDUCE, OBJ, INST, NEWOBJ, NEWOBJ_EX)
	kPersID // the result of persistent_load (PERSID, BINPERSID)
	kBuffer // an out-of-band buffer (NEXT_BUFFER)
	kArray  // a joblib array read from raw data after its wrapper
)

// Value flags.
const (
	fTrunc    uint8 = 1 << iota // s holds only a prefix of the string or bytes; items only some of the container's items
	fBig                        // an int too large for int64: s holds its decimal text (or a description)
	fEscaped                    // a str whose stream form is escaped text (STRING, UNICODE): aux/num describe the raw line
	fLatin1                     // a str whose stream form is Latin-1 bytes (STRING family): encode back as Latin-1
	fReadonly                   // a buffer marked READONLY_BUFFER
	fDynamic                    // a STACK_GLOBAL whose arguments are not constant strings: items are module, name
	fCompat                     // a global imported under protocol < 3: find_class maps it through _compat_pickle
)

// value is a symbolic Python object. Fields are reused per kind to keep
// the struct small (the memo can hold a million of them):
//
//	kBool, kInt: num is the value (fBig: s is the text)
//	kFloat: num holds the IEEE bits
//	kStr, kBytes, kByteArray: s is the content (or a prefix, fTrunc), num the
//	  payload length in the stream, aux the payload offset (-1 if unknown)
//	kTuple, kList, kDict, kSet, kFrozenSet: items (dict: key, value pairs),
//	  num the item count including items not kept, aux the expansion weight
//	kGlobal: s is module+name as written, num the module length; items[0]
//	  caches the canonical path (fDynamic: items are the module and name
//	  values); aux counts the GET and DUP opcodes that pushed it again
//	kExt: num is the extension code; items[0] the resolved global, if known
//	kCall: items are callable, args, kwargs (or nil), BUILD state (or nil);
//	  op the calling opcode; aux the expansion weight
//	kPersID: items[0] is the persistent id
//	kArray: items[0] is the wrapper; num the data length, aux its offset
type value struct {
	kind  kind
	flags uint8
	op    byte
	num   int64
	aux   int64
	off   int64 // offset of the opcode that created the value
	s     string
	items []*value
}

// Call item indexes.
const (
	callFn = iota
	callArgs
	callKwargs
	callState
	callItems
)

var (
	valNone  = &value{kind: kNone, off: -1}
	valTrue  = &value{kind: kBool, num: 1, off: -1}
	valFalse = &value{kind: kBool, num: 0, off: -1}
)

// smallInts are shared values for the common small integers.
var smallInts = func() [257]*value {
	var t [257]*value
	for i := range t {
		t[i] = &value{kind: kInt, num: int64(i) - 1, off: -1}
	}
	return t
}()

func intValue(n int64, off int64) *value {
	if n >= -1 && n <= 255 {
		return smallInts[n+1]
	}
	return &value{kind: kInt, num: n, off: off}
}

func floatValue(f float64, off int64) *value {
	return &value{kind: kFloat, num: int64(math.Float64bits(f)), off: off}
}

func globalValue(module, name string, off int64, op byte) *value {
	return &value{kind: kGlobal, s: module + name, num: int64(len(module)), off: off, op: op}
}

// path returns a global's canonical dotted path, computed once and kept
// in items (unused otherwise by a constant global).
func (v *value) path() string {
	if len(v.items) == 1 {
		return v.items[0].s
	}
	p := canonicalName(v.target())
	v.items = []*value{{kind: kStr, s: p}}
	return p
}

// target returns the module and name find_class imports for a global: as
// written, or mapped through _compat_pickle (fCompat).
func (v *value) target() (module, name string) {
	if v.flags&fCompat != 0 {
		return compatMap(v.module(), v.name())
	}
	return v.module(), v.name()
}

// module returns a global's module.
func (v *value) module() string { return v.s[:v.num] }

// name returns a global's (possibly dotted) name.
func (v *value) name() string { return v.s[v.num:] }

// float returns a kFloat's value.
func (v *value) float() float64 { return math.Float64frombits(uint64(v.num)) }

// str returns the content of a str value and whether it is complete.
func (v *value) str() (string, bool) {
	if v == nil || v.kind != kStr {
		return "", false
	}
	return v.s, v.flags&fTrunc == 0
}

// isContainer reports whether v is a tuple, list, dict, set or frozenset.
func (v *value) isContainer() bool {
	switch v.kind {
	case kTuple, kList, kDict, kSet, kFrozenSet:
		return true
	}
	return false
}

// weight is the number of objects a full traversal of v visits (shared
// references counted each time), saturating; it measures memo/DUP
// expansion ("billion laughs").
func (v *value) weight() uint64 {
	if v.isContainer() || v.kind == kCall {
		return uint64(v.aux)
	}
	return 1
}

func addWeight(a, b uint64) uint64 {
	if s := a + b; s >= a && s < math.MaxInt64 {
		return s
	}
	return math.MaxInt64
}

// call helpers.

func (v *value) fn() *value { return v.items[callFn] }

// args returns a call's positional arguments (the kept items of its args
// tuple).
func (v *value) args() []*value {
	a := v.items[callArgs]
	if a == nil || a.kind != kTuple {
		return nil
	}
	return a.items
}

// arg returns positional argument i, or nil.
func (v *value) arg(i int) *value {
	a := v.args()
	if i < len(a) {
		return a[i]
	}
	return nil
}

// dictGet returns the value for a str key in a kept dict, or nil.
func (v *value) dictGet(key string) *value {
	if v == nil || v.kind != kDict {
		return nil
	}
	for i := 0; i+1 < len(v.items); i += 2 {
		if s, ok := v.items[i].str(); ok && s == key {
			return v.items[i+1]
		}
	}
	return nil
}

// Python-like rendering.

// pyStr renders s as a Python str literal, at most limit characters of it.
func pyStr(s string, truncated bool, total int64, limit int) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	n := 0
	for i := 0; i < len(s); n++ {
		if n >= limit {
			truncated = true
			break
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case r == '\\' || r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && (r < 0x20 || r == 0x7f):
			b.WriteString(`\x`)
			b.WriteString(hex2(byte(r)))
		case r >= 0x80 && !unicode.IsPrint(r):
			switch {
			case r < 0x100:
				b.WriteString(`\x` + hex2(byte(r)))
			case r < 0x10000:
				b.WriteString(`\u` + hexN(uint64(r), 4))
			default:
				b.WriteString(`\U` + hexN(uint64(r), 8))
			}
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteByte(q)
	if truncated {
		b.WriteString(" [")
		if total > 0 {
			b.WriteString(strconv.FormatInt(total, 10))
			b.WriteString(" bytes")
		} else {
			b.WriteString("truncated")
		}
		b.WriteString("]")
	}
	return b.String()
}

// pyBytes renders p as a Python bytes literal, at most limit bytes of it.
func pyBytes(p string, truncated bool, total int64, limit int) string {
	q := byte('\'')
	if strings.IndexByte(p, '\'') >= 0 && strings.IndexByte(p, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteString("b")
	b.WriteByte(q)
	for i := 0; i < len(p); i++ {
		if i >= limit {
			truncated = true
			break
		}
		c := p[i]
		switch {
		case c == '\\' || c == q:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c >= 0x7f:
			b.WriteString(`\x`)
			b.WriteString(hex2(c))
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte(q)
	if truncated {
		b.WriteString(" [")
		b.WriteString(strconv.FormatInt(total, 10))
		b.WriteString(" bytes]")
	}
	return b.String()
}

func hex2(c byte) string { return hexN(uint64(c), 2) }

func hexN(x uint64, n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := n - 1; i >= 0; i-- {
		b[i] = digits[x&15]
		x >>= 4
	}
	return string(b)
}

// pyFloat renders f as Python's repr does.
func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp < -4 || exp >= 16 {
		// Go, like Python, writes at least two exponent digits.
		return mant + "e" + expStr
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}
