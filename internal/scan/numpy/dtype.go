package numpy

import (
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/palisade-sec/palisade/internal/scan"
)

// dtypeInfo is what the scan needs to know about a header's descr.
type dtypeInfo struct {
	size    uint64 // bytes per element, when every part is known
	object  string // where an object type sits ("" when none)
	unknown string // the first part numpy may accept but the scanner does not know
}

// errOverflow is a dtype or shape whose byte size does not fit in 64 bits.
var errOverflow = errors.New("size overflows 64 bits")

// dtypeError is a descr numpy rejects.
type dtypeError struct{ msg string }

func (e *dtypeError) Error() string { return e.msg }

func badDescr(format string, args ...any) error {
	return &dtypeError{msg: fmt.Sprintf(format, args...)}
}

// mulSize multiplies two sizes, failing on overflow.
func mulSize(a, b uint64) (uint64, error) {
	hi, lo := bits.Mul64(a, b)
	if hi != 0 {
		return 0, errOverflow
	}
	return lo, nil
}

func addSize(a, b uint64) (uint64, error) {
	s, carry := bits.Add64(a, b, 0)
	if carry != 0 {
		return 0, errOverflow
	}
	return s, nil
}

// analyzeDescr follows numpy.lib.format.descr_to_dtype: a str is a dtype
// string, a tuple is (dtype, shape), anything else is iterated as a list
// of fields (name, dtype) or (name, dtype, shape). Iterating a dict yields
// its keys and iterating a str its characters, so {'aO': 0} and ['aO']
// both describe a field 'a' of dtype 'O': such oddities are followed the
// way numpy follows them. where names the descr in evidence.
func analyzeDescr(v pyValue, where string, depth int) (dtypeInfo, error) {
	if depth > maxLiteralDepth {
		return dtypeInfo{}, badDescr("descr nested too deeply")
	}
	switch v.kind {
	case pyStr:
		info, err := dtypeString(v.s)
		if err != nil {
			return info, err
		}
		if info.object != "" {
			info.object = where + " " + v.repr()
		}
		if info.unknown != "" {
			info.unknown = where + " " + v.repr()
		}
		return info, nil
	case pyTuple:
		if len(v.items) < 2 {
			return dtypeInfo{}, badDescr("%s: a tuple descr needs (dtype, shape)", where)
		}
		base, err := analyzeDescr(v.items[0], where, depth+1)
		if err != nil {
			return base, err
		}
		return subarray(base, v.items[1], where, depth)
	case pyList, pyDict, pySet, pyBytes:
		fields, err := iterate(v)
		if err != nil {
			return dtypeInfo{}, badDescr("%s: %v", where, err)
		}
		var total dtypeInfo
		for i, field := range fields {
			info, err := analyzeField(field, v.kind == pySet, fmt.Sprintf("%s field %d", where, i), depth+1)
			if err != nil {
				return total, err
			}
			if total.size, err = addSize(total.size, info.size); err != nil {
				return total, err
			}
			total.object = firstOf(total.object, info.object)
			total.unknown = firstOf(total.unknown, info.unknown)
		}
		return total, nil
	}
	return dtypeInfo{}, badDescr("%s: %s is not a dtype descriptor", where, v.kind)
}

// analyzeField analyses one field of a structured descr. Fields of a set
// arrive in hash order, so their parts cannot be told apart: every part
// is checked for an object type and the field counts as unknown.
func analyzeField(field pyValue, unordered bool, where string, depth int) (dtypeInfo, error) {
	parts, err := iterate(field)
	if err != nil {
		return dtypeInfo{}, badDescr("%s: %v", where, err)
	}
	if len(parts) != 2 && len(parts) != 3 {
		return dtypeInfo{}, badDescr("%s: a field needs (name, dtype) or (name, dtype, shape), got %d items", where, len(parts))
	}
	if unordered || field.kind == pySet {
		info := dtypeInfo{unknown: where + " " + field.repr()}
		for _, p := range parts {
			if sub, err := analyzeDescr(p, where, depth+1); err == nil && sub.object != "" {
				info.object = sub.object
			}
		}
		return info, nil
	}
	name := parts[0]
	if name.kind == pyStr {
		where = "field " + name.repr()
	}
	info, err := analyzeDescr(parts[1], where, depth+1)
	if err != nil || len(parts) == 2 {
		return info, err
	}
	return subarray(info, parts[2], where, depth)
}

// subarray applies numpy.dtype((base, shape)). A shape that is not an int
// or a tuple of ints is numpy's (base_dtype, new_dtype) form: it is
// checked for object types and otherwise counted as unknown.
func subarray(base dtypeInfo, shape pyValue, where string, depth int) (dtypeInfo, error) {
	count, ok, err := shapeCount(shape)
	if err != nil {
		return base, badDescr("%s: %v", where, err)
	}
	if !ok {
		other, err := analyzeDescr(shape, where, depth+1)
		if err != nil {
			return base, err
		}
		base.object = firstOf(base.object, other.object)
		base.unknown = firstOf(base.unknown, where+" (dtype, "+shape.repr()+")")
		return base, nil
	}
	size, err := mulSize(base.size, count)
	if err != nil {
		return base, err
	}
	base.size = size
	return base, nil
}

// shapeCount returns the element count of an int or a tuple of ints; ok is
// false when v is neither.
func shapeCount(v pyValue) (count uint64, ok bool, err error) {
	dims := []pyValue{v}
	switch {
	case v.kind == pyTuple:
		dims = v.items
	case !v.isInt():
		return 0, false, nil
	}
	for _, d := range dims {
		if !d.isInt() {
			return 0, false, nil
		}
		if d.big || d.i < 0 {
			return 0, true, fmt.Errorf("dimension %s out of range", d.repr())
		}
	}
	count = 1
	for _, d := range dims {
		if d.i == 0 {
			return 0, true, nil
		}
	}
	for _, d := range dims {
		if count, err = mulSize(count, uint64(d.i)); err != nil {
			return 0, true, err
		}
	}
	return count, true, nil
}

// iterate returns what Python's iteration of v yields.
func iterate(v pyValue) ([]pyValue, error) {
	switch v.kind {
	case pyList, pyTuple, pyDict, pySet:
		return v.items, nil
	case pyStr:
		out := make([]pyValue, 0, utf8.RuneCountInString(v.s))
		for _, r := range v.s {
			out = append(out, pyValue{kind: pyStr, s: string(r)})
		}
		return out, nil
	case pyBytes:
		out := make([]pyValue, len(v.s))
		for i := range len(v.s) {
			out[i] = pyValue{kind: pyInt, i: int64(v.s[i])}
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s is not iterable", v.kind)
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// namedTypes maps dtype names numpy accepts in a string to their sizes on
// the 64-bit platforms models are saved on.
var namedTypes = map[string]uint64{
	"bool": 1, "bool_": 1, "bool8": 1, "int8": 1, "uint8": 1, "byte": 1, "ubyte": 1,
	"int16": 2, "uint16": 2, "short": 2, "ushort": 2, "half": 2, "float16": 2,
	"int32": 4, "uint32": 4, "intc": 4, "uintc": 4, "single": 4, "float32": 4,
	"int64": 8, "uint64": 8, "int": 8, "int_": 8, "uint": 8, "intp": 8, "uintp": 8, "long": 8, "ulong": 8,
	"longlong": 8, "ulonglong": 8, "double": 8, "float": 8, "float64": 8, "float_": 8,
	"longdouble": 16, "float128": 16, "complex64": 8, "csingle": 8, "complex": 16,
	"complex128": 16, "cdouble": 16, "complex_": 16, "clongdouble": 32, "complex256": 32,
	"datetime64": 8, "timedelta64": 8, "str": 0, "str_": 0, "unicode": 0, "bytes": 0, "bytes_": 0,
	"void": 0, "string_": 0, "unicode_": 0,
}

// charCodes are the one-character type codes.
var charCodes = map[byte]uint64{
	'?': 1, 'b': 1, 'B': 1, 'h': 2, 'H': 2, 'i': 4, 'I': 4, 'l': 8, 'L': 8, 'q': 8, 'Q': 8,
	'p': 8, 'P': 8, 'n': 8, 'N': 8, 'e': 2, 'f': 4, 'd': 8, 'g': 16, 'F': 8, 'D': 16, 'G': 32,
	'S': 0, 'a': 0, 'U': 0, 'V': 0, 'M': 8, 'm': 8, 'c': 1,
}

// isObjectName reports whether s names the object type.
func isObjectName(s string) bool {
	switch strings.ToLower(s) {
	case "o", "object", "object_", "object0", "o4", "o8":
		return true
	}
	return false
}

// dtypeString analyses a dtype string: a type string ("<f8", "|O",
// "<U10", "<M8[ns]"), a name ("float64", "object") or a comma-separated
// list of them with optional repeat counts or shapes ("i4, (2,3)f8, O").
func dtypeString(s string) (dtypeInfo, error) {
	t := strings.TrimSpace(s)
	parts := splitTopLevel(t)
	if len(parts) == 1 && !startsWithShape(t) {
		return typeString(t)
	}
	var total dtypeInfo
	for i, part := range parts {
		part = strings.TrimSpace(part)
		if part == "" {
			if i == len(parts)-1 && i > 0 {
				continue // a trailing comma
			}
			return total, badDescr("empty field in dtype string %q", scan.Clip(s, 60))
		}
		count, rest, err := shapePrefix(part)
		if err != nil {
			return total, badDescr("dtype string %q: %v", scan.Clip(s, 60), err)
		}
		info, err := typeString(strings.TrimSpace(rest))
		if err != nil {
			return total, err
		}
		size, err := mulSize(info.size, count)
		if err != nil {
			return total, err
		}
		if total.size, err = addSize(total.size, size); err != nil {
			return total, err
		}
		total.object = firstOf(total.object, info.object)
		total.unknown = firstOf(total.unknown, info.unknown)
	}
	return total, nil
}

// splitTopLevel splits s at commas outside parentheses and brackets.
func splitTopLevel(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

func startsWithShape(s string) bool { return s != "" && (s[0] == '(' || isDigit(s[0])) }

// shapePrefix strips a repeat count ("3i4") or shape ("(2,3)f8") from a
// field of a comma dtype string and returns the element count.
func shapePrefix(s string) (uint64, string, error) {
	switch {
	case s == "":
		return 1, s, nil
	case s[0] == '(':
		end := strings.IndexByte(s, ')')
		if end < 0 {
			return 0, "", errors.New("unclosed shape")
		}
		count := uint64(1)
		for dim := range strings.SplitSeq(s[1:end], ",") {
			dim = strings.TrimSpace(dim)
			if dim == "" {
				continue
			}
			n, err := strconv.ParseUint(dim, 10, 64)
			if err != nil {
				return 0, "", fmt.Errorf("bad dimension %q", scan.Clip(dim, 20))
			}
			if count, err = mulSize(count, n); err != nil {
				return 0, "", err
			}
		}
		return count, s[end+1:], nil
	case isDigit(s[0]):
		i := 0
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		n, err := strconv.ParseUint(s[:i], 10, 64)
		if err != nil {
			return 0, "", fmt.Errorf("bad repeat count %q", scan.Clip(s[:i], 20))
		}
		return n, s[i:], nil
	}
	return 1, s, nil
}

// typeString analyses one type: an optional byte-order character, then a
// name, a one-character code, or a kind and a size.
func typeString(t string) (dtypeInfo, error) {
	body := t
	if body != "" && strings.IndexByte("<>|=!", body[0]) >= 0 {
		body = body[1:]
	}
	if isObjectName(body) || isObjectName(t) || (len(body) > 1 && body[0] == 'O' && allDigits(body[1:])) {
		return dtypeInfo{size: 8, object: t}, nil
	}
	if size, ok := namedTypes[body]; ok {
		return dtypeInfo{size: size}, nil
	}
	if body == "" {
		return dtypeInfo{unknown: strconv.Quote(t)}, nil
	}
	kind, rest := body[0], body[1:]
	if kind == 'M' || kind == 'm' {
		if i := strings.IndexByte(rest, '['); i >= 0 && strings.HasSuffix(rest, "]") {
			rest = rest[:i]
		}
	}
	if rest == "" {
		if size, ok := charCodes[kind]; ok {
			return dtypeInfo{size: size}, nil
		}
		return dtypeInfo{unknown: strconv.Quote(t)}, nil
	}
	if !allDigits(rest) {
		return dtypeInfo{unknown: strconv.Quote(t)}, nil
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	if err != nil {
		return dtypeInfo{}, errOverflow
	}
	valid := func(sizes ...uint64) (dtypeInfo, error) {
		for _, s := range sizes {
			if n == s {
				return dtypeInfo{size: n}, nil
			}
		}
		return dtypeInfo{unknown: strconv.Quote(t)}, nil
	}
	switch kind {
	case 'b':
		return valid(1)
	case 'i', 'u':
		return valid(1, 2, 4, 8)
	case 'f':
		return valid(2, 4, 8, 10, 12, 16)
	case 'c':
		return valid(8, 16, 20, 24, 32)
	case 'M', 'm':
		return valid(8)
	case 'S', 'a', 'V':
		return dtypeInfo{size: n}, nil
	case 'U':
		size, err := mulSize(n, 4)
		return dtypeInfo{size: size}, err
	}
	return dtypeInfo{unknown: strconv.Quote(t)}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}
