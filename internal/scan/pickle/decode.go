package pickle

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// Argument decoding: lengths, integers, and the text and binary string
// encodings of the string opcodes.

// payload reads an n-byte str or bytes argument, keeping a prefix and
// skipping the rest by offset.
func (m *machine) payload(n int64, k kind) (*value, error) {
	if n < 0 || n > m.rd.remaining() {
		return nil, errTruncated
	}
	keep := m.keepLen(n)
	v := &value{kind: k, num: n, aux: m.rd.offset(), off: m.opOff}
	p, err := m.rd.next(keep)
	if err != nil {
		return nil, err
	}
	if len(p) <= maxInternedLen {
		v.s = m.st.intern(p) // dict keys and names repeat
	} else {
		v.s = string(p)
	}
	if int64(keep) < n {
		v.flags |= fTrunc
		if err := m.rd.skip(n - int64(keep)); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// line reads a text argument.
func (m *machine) line(limit int) (string, int64, error) {
	p, total, err := m.rd.readLine(limit)
	if err != nil {
		return "", 0, err
	}
	return string(p), total, nil
}

// binSize reads an n-byte little-endian unsigned length.
func (m *machine) binSize(n int) (int64, error) {
	p, err := m.rd.next(n)
	if err != nil {
		return 0, err
	}
	switch n {
	case 1:
		return int64(p[0]), nil
	case 2:
		return int64(binary.LittleEndian.Uint16(p)), nil
	case 4:
		return int64(binary.LittleEndian.Uint32(p)), nil
	default:
		u := binary.LittleEndian.Uint64(p)
		if u > math.MaxInt64 {
			return 0, m.fail("%s length %d exceeds the system's maximum size", opName(m.op), u)
		}
		return int64(u), nil
	}
}

// longBytes reads the n little-endian two's complement bytes of LONG1 or
// LONG4.
func (m *machine) longBytes(n int64) (*value, error) {
	if n > m.rd.remaining() {
		return nil, errTruncated
	}
	if n <= 8 {
		p, err := m.rd.next(int(n))
		if err != nil {
			return nil, err
		}
		var u uint64
		for i := len(p) - 1; i >= 0; i-- {
			u = u<<8 | uint64(p[i])
		}
		if n > 0 && n < 8 && p[n-1]&0x80 != 0 {
			u |= ^uint64(0) << (8 * uint(n))
		}
		return intValue(int64(u), m.opOff), nil
	}
	v := &value{kind: kInt, flags: fBig, off: m.opOff}
	if n > 64 {
		v.s = fmt.Sprintf("<%d-byte int>", n)
		return v, m.rd.skip(n)
	}
	p, err := m.rd.next(int(n))
	if err != nil {
		return nil, err
	}
	be := make([]byte, n)
	for i := range p {
		be[len(p)-1-i] = p[i]
	}
	x := new(big.Int).SetBytes(be)
	if p[n-1]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	}
	v.s = x.String()
	return v, nil
}

// maxNumberText is the longest INT, LONG or FLOAT argument parsed; the
// text of a longer one (only a hostile stream pads numbers that far) is
// not examined and the value is unknown.
const maxNumberText = 64 << 10

// intText builds the value of an INT (cStrtol) or LONG argument the way
// CPython's load_int and load_long do: INT first tries C strtol with base
// 0 (so "010" is 8), then Python's int(text, 0); LONG only the latter.
// Text CPython rejects still yields a value (of unknown size) so that the
// analysis continues.
func intText(s string, truncated, cStrtol bool, off int64) *value {
	if !truncated {
		if cStrtol {
			if n, ok := strtol(s); ok {
				return intValue(n, off)
			}
		}
		if x, ok := pyIntLiteral(s); ok {
			if x.IsInt64() {
				return intValue(x.Int64(), off)
			}
			return &value{kind: kInt, flags: fBig, s: x.String(), off: off}
		}
	}
	t := s
	if len(t) > 64 {
		t = t[:64] + "..."
	}
	return &value{kind: kInt, flags: fBig, s: "int(" + strconv.Quote(t) + ")", off: off}
}

// isCSpace is C isspace in the C locale.
func isCSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// strtol parses s as C strtol(s, &end, 0) and reports whether the whole
// of s was consumed without overflow.
func strtol(s string) (int64, bool) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	base := 10
	switch {
	case i+2 < len(s)+0 && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && digitValue(s[i+2]) < 16:
		base = 16
		i += 2
	case i < len(s) && s[i] == '0':
		base = 8
	}
	start := i
	var n uint64
	for ; i < len(s); i++ {
		d := digitValue(s[i])
		if d >= base {
			break
		}
		n = n*uint64(base) + uint64(d)
		if n > 1<<63 {
			return 0, false // ERANGE
		}
	}
	if i == start || i != len(s) || (!neg && n > math.MaxInt64) {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

// digitValue returns the value of a digit in bases up to 36, or 99.
func digitValue(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

// pyIntLiteral parses s as Python's int(s, 0): optional whitespace and
// sign, a 0x/0o/0b prefix or a decimal without leading zeros, single
// underscores between digits.
func pyIntLiteral(s string) (*big.Int, bool) {
	t := strings.TrimFunc(s, func(r rune) bool { return r < 0x80 && isCSpace(byte(r)) })
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	base, prefixed := 10, false
	if len(t) >= 2 && t[0] == '0' {
		switch t[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 10 {
			t, prefixed = t[2:], true
		}
	}
	if prefixed && strings.HasPrefix(t, "_") {
		t = t[1:]
	}
	var digits strings.Builder
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c == '_' {
			if i == 0 || i == len(t)-1 || t[i-1] == '_' {
				return nil, false
			}
			continue
		}
		if digitValue(c) >= base {
			return nil, false
		}
		digits.WriteByte(c)
	}
	d := digits.String()
	if d == "" || (base == 10 && len(d) > 1 && d[0] == '0' && strings.Trim(d, "0") != "") {
		return nil, false
	}
	x, ok := new(big.Int).SetString(d, base)
	if !ok {
		return nil, false
	}
	if neg {
		x.Neg(x)
	}
	return x, true
}

// binaryString reads the length-prefixed string and bytes opcodes.
func (m *machine) binaryString(op byte) error {
	var size int
	k := kBytes
	switch op {
	case opShortBinString, opShortBinUnicode, opShortBinBytes:
		size = 1
	case opBinString, opBinUnicode, opBinBytes:
		size = 4
	default:
		size = 8
	}
	var n int64
	var err error
	if op == opBinString {
		p, e := m.rd.next(4)
		if e != nil {
			return e
		}
		n = int64(int32(binary.LittleEndian.Uint32(p)))
		if n < 0 {
			return m.fail("BINSTRING pickle has negative byte count")
		}
	} else if n, err = m.binSize(size); err != nil {
		return err
	}
	switch op {
	case opBinString, opShortBinString, opBinUnicode, opShortBinUnicode, opBinUnicode8:
		k = kStr
	case opByteArray8:
		k = kByteArray
	}
	v, err := m.payload(n, k)
	if err != nil {
		return err
	}
	if op == opBinString || op == opShortBinString {
		v.flags |= fLatin1
		v.s = latin1ToUTF8(v.s)
	}
	return m.push(v)
}

// storedText decodes the raw stream form of a str or bytes value (its
// whole payload or text line) into the value's content: UTF-8 text for
// str, the bytes themselves for bytes.
func storedText(v *value, raw []byte) string {
	switch {
	case v.flags&fEscaped != 0 && v.flags&fLatin1 != 0:
		return latin1ToUTF8(string(escapeDecode(stripQuotes(string(raw), false))))
	case v.flags&fEscaped != 0:
		return rawUnicodeEscapeDecode(string(raw))
	case v.flags&fLatin1 != 0:
		return latin1ToUTF8(string(raw))
	}
	return string(raw)
}

// readStored re-reads the whole stream form of a value whose prefix only
// was kept, if it is at most limit bytes long.
func readStored(ra io.ReaderAt, v *value, limit int64) ([]byte, bool) {
	if v.aux < 0 || v.num < 0 || v.num > limit {
		return nil, false
	}
	raw := make([]byte, v.num)
	if n, err := ra.ReadAt(raw, v.aux); n < len(raw) && err != nil {
		return nil, false
	}
	return raw, true
}

// textString decodes the argument of STRING (a quoted, escaped literal) or
// UNICODE (raw-unicode-escape).
func (m *machine) textString(s string, total int64, quoted bool) *value {
	v := &value{kind: kStr, num: total, aux: m.opOff + 1, off: m.opOff, flags: fEscaped}
	truncated := total > int64(len(s))
	if truncated {
		v.flags |= fTrunc
	}
	if quoted {
		v.flags |= fLatin1
		s = stripQuotes(s, truncated)
		v.s = latin1ToUTF8(string(escapeDecode(s)))
	} else {
		v.s = rawUnicodeEscapeDecode(s)
	}
	return v
}

// stripQuotes removes the quotes around a STRING argument; CPython rejects
// an unquoted one, which is kept as is here.
func stripQuotes(s string, truncated bool) string {
	if len(s) >= 1 && (s[0] == '\'' || s[0] == '"') {
		if truncated {
			return s[1:]
		}
		if len(s) >= 2 && s[len(s)-1] == s[0] {
			return s[1 : len(s)-1]
		}
	}
	return s
}

// escapeDecode decodes Python bytes-literal escapes.
func escapeDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			out = append(out, c)
			continue
		}
		i++
		switch e := s[i]; e {
		case '\n':
		case '\\', '\'', '"':
			out = append(out, e)
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, 11)
		case 'x':
			if i+2 < len(s)+0 && isHex(s[i+1]) && isHex(s[i+2]) {
				x, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
				out = append(out, byte(x))
				i += 2
			} else {
				out = append(out, '\\', 'x')
			}
		default:
			if e >= '0' && e <= '7' {
				x := int(e - '0')
				for j := 0; j < 2 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; j++ {
					i++
					x = x*8 + int(s[i]-'0')
				}
				out = append(out, byte(x))
			} else {
				out = append(out, '\\', e)
			}
		}
	}
	return out
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// rawUnicodeEscapeDecode decodes Python's raw-unicode-escape codec: bytes
// are Latin-1 code points except \uXXXX and \UXXXXXXXX after an odd number
// of backslashes.
func rawUnicodeEscapeDecode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			b.WriteRune(rune(c))
			i++
			continue
		}
		j := i
		for j < len(s) && s[j] == '\\' {
			j++
		}
		nbs := j - i
		for k := 0; k < nbs-1; k++ {
			b.WriteByte('\\')
		}
		if nbs%2 == 0 || j >= len(s) || (s[j] != 'u' && s[j] != 'U') {
			b.WriteByte('\\')
			i = j
			continue
		}
		digits := 4
		if s[j] == 'U' {
			digits = 8
		}
		if j+1+digits > len(s) {
			b.WriteString(s[j-1:])
			break
		}
		x, err := strconv.ParseUint(s[j+1:j+1+digits], 16, 32)
		if err != nil || x > 0x10ffff {
			b.WriteByte('\\')
			i = j
			continue
		}
		b.WriteRune(rune(x))
		i = j + 1 + digits
	}
	return b.String()
}

// latin1ToUTF8 maps bytes to the code points of the same value.
func latin1ToUTF8(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteRune(rune(s[i]))
	}
	return b.String()
}
