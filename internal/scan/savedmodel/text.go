package savedmodel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"

	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/scan/protowalk"
	"google.golang.org/protobuf/encoding/protowire"
)

// TensorFlow reads saved_model.pbtxt, the protobuf text format of the same
// SavedModel message, when a directory has no saved_model.pb. The text is
// not analysed by a second set of checks: it is transcoded into the wire
// format of the fields the binary walk reads, and that walk runs on the
// result, so both forms get exactly the same checks. Fields the walk does
// not read are parsed (malformed text anywhere fails closed) but not
// emitted.

const (
	// textModelName is the file TensorFlow falls back to.
	textModelName = "saved_model.pbtxt"
	// binaryModelName is always wire format: TensorFlow parses it as such.
	binaryModelName = "saved_model.pb"
	// lenWidth is the width of the length prefixes the transcoder writes: a
	// fixed-width (non-minimal, still valid) varint, patched in place when
	// the message ends, so no emitted byte ever moves.
	lenWidth = 5
	maxLen   = 1<<(7*lenWidth) - 1
	// sniffBytes is how much of an object not named saved_model.pb(txt)
	// is looked at to recognise text format.
	sniffBytes = 4096
	// textCheckInterval is how many fields the transcoder reads between
	// checks of its context.
	textCheckInterval = 4096
	// dtStringName is the text form of DT_STRING.
	dtStringName = "DT_STRING"
)

// textKind is how the transcoder emits a known field.
type textKind uint8

const (
	textString   textKind = iota + 1 // string or bytes: string literals
	textMessage                      // a sub-message: { ... } or < ... >
	textDataType                     // tensorflow.DataType: DT_* name or number
)

// textField is a field the binary walk reads, by its text-format name.
type textField struct {
	name     string
	num      protowire.Number
	kind     textKind
	repeated bool
	msg      *textMsg
}

// textMsg lists the fields of one message that are transcoded; the rest are
// parsed and dropped.
type textMsg struct{ fields []textField }

func (m *textMsg) lookup(name []byte) int {
	if m == nil {
		return -1
	}
	for i := range m.fields {
		if m.fields[i].name == string(name) {
			return i
		}
	}
	return -1
}

// The text-format schema: the subset of schema.go's messages, with the
// same field numbers, that the binary walk reads.
var (
	textSavedModel = &textMsg{[]textField{
		{name: "meta_graphs", num: 2, kind: textMessage, repeated: true, msg: textMetaGraph},
	}}
	textMetaGraph = &textMsg{[]textField{
		{name: "graph_def", num: 2, kind: textMessage, msg: textGraphDef},
		{name: "asset_file_def", num: 6, kind: textMessage, repeated: true, msg: textAssetFile},
		{name: "object_graph_def", num: 7, kind: textMessage, msg: textObjectGraph},
	}}
	textGraphDef = &textMsg{[]textField{
		{name: "node", num: 1, kind: textMessage, repeated: true, msg: textNodeDef},
		{name: "library", num: 2, kind: textMessage, msg: textLibrary},
	}}
	textLibrary = &textMsg{[]textField{
		{name: "function", num: 1, kind: textMessage, repeated: true, msg: textFunctionDef},
	}}
	textFunctionDef = &textMsg{[]textField{
		{name: "signature", num: 1, kind: textMessage, msg: textOpDef},
		{name: "node_def", num: 3, kind: textMessage, repeated: true, msg: textNodeDef},
	}}
	textOpDef   = &textMsg{[]textField{{name: "name", num: 1, kind: textString}}}
	textNodeDef = &textMsg{[]textField{
		{name: "name", num: 1, kind: textString},
		{name: "op", num: 2, kind: textString},
		{name: "input", num: 3, kind: textString, repeated: true},
		{name: "attr", num: 5, kind: textMessage, repeated: true, msg: textAttrEntry},
	}}
	textAttrEntry = &textMsg{[]textField{
		{name: "key", num: 1, kind: textString},
		{name: "value", num: 2, kind: textMessage, msg: textAttrValue},
	}}
	textAttrValue = &textMsg{[]textField{
		{name: "list", num: 1, kind: textMessage, msg: textListValue},
		{name: "s", num: 2, kind: textString},
		{name: "tensor", num: 8, kind: textMessage, msg: textTensor},
	}}
	textListValue = &textMsg{[]textField{{name: "s", num: 2, kind: textString, repeated: true}}}
	textTensor    = &textMsg{[]textField{
		{name: "dtype", num: 1, kind: textDataType},
		{name: "string_val", num: 8, kind: textString, repeated: true},
	}}
	textAssetFile   = &textMsg{[]textField{{name: "filename", num: 2, kind: textString}}}
	textObjectGraph = &textMsg{[]textField{
		{name: "nodes", num: 1, kind: textMessage, repeated: true, msg: textSavedObject},
	}}
	textSavedObject = &textMsg{[]textField{{name: "user_object", num: 4, kind: textMessage, msg: textUserObject}}}
	textUserObject  = &textMsg{[]textField{{name: "metadata", num: 3, kind: textString}}}
)

// maxTextFields is the most transcoded fields a textMsg has.
const maxTextFields = 4

// errCut reports that the text ended where the size limit cut it.
var errCut = errors.New("text cut at the size limit")

// transcoder turns protobuf text format into wire format. It is a single
// forward pass over the text: every byte is looked at a bounded number of
// times, nesting is bounded by protowalk.MaxDepth, and the output is at
// most twice as long as the text (the shortest element of a list, an
// empty message or string and a comma, becomes a tag and a lenWidth-byte
// length; only fields of the schema are emitted).
type transcoder struct {
	ctx   context.Context
	src   []byte
	pos   int
	out   []byte
	cut   bool // src is a prefix cut at the size limit
	depth int
	path  protowalk.Path
	count int
	// recognised is set once a meta_graphs field is met.
	recognised bool
	// want, on the locating pass, maps the output offsets of findings to
	// the text offsets of the fields emitted there.
	want map[int64]int64
}

// run transcodes the whole text. On an error the output holds everything
// emitted before it, with every open message closed: well-formed wire
// format that the binary walk can analyse.
func (t *transcoder) run() error {
	t.pos, t.out, t.depth, t.count, t.recognised = 0, t.out[:0], 0, 0, false
	err := t.message(textSavedModel, 0)
	if errors.Is(err, errCut) {
		return nil
	}
	return err
}

func (t *transcoder) malformed(off int, format string, args ...any) error {
	return &protowalk.MalformedError{Offset: int64(off), Reason: fmt.Sprintf(format, args...)}
}

// endOfText is the error for text that ends inside a construct.
func (t *transcoder) endOfText(what string) error {
	if t.cut {
		return errCut
	}
	return t.malformed(len(t.src), "the text ends inside %s", what)
}

// skipSpace skips whitespace and # comments.
func (t *transcoder) skipSpace() {
	for t.pos < len(t.src) {
		switch t.src[t.pos] {
		case ' ', '\t', '\n', '\r', '\v', '\f':
			t.pos++
		case '#':
			if i := bytes.IndexByte(t.src[t.pos:], '\n'); i >= 0 {
				t.pos += i + 1
			} else {
				t.pos = len(t.src)
			}
		default:
			return
		}
	}
}

// peek skips space and returns the next byte, or false at the end.
func (t *transcoder) peek() (byte, bool) {
	t.skipSpace()
	if t.pos >= len(t.src) {
		return 0, false
	}
	return t.src[t.pos], true
}

func isIdentStart(b byte) bool { return b == '_' || b|0x20 >= 'a' && b|0x20 <= 'z' }
func isDigit(b byte) bool      { return b >= '0' && b <= '9' }
func isIdentByte(b byte) bool  { return isIdentStart(b) || isDigit(b) }

// ident reads an identifier at pos.
func (t *transcoder) ident() ([]byte, bool) {
	if t.pos >= len(t.src) || !isIdentStart(t.src[t.pos]) {
		return nil, false
	}
	start := t.pos
	for t.pos < len(t.src) && isIdentByte(t.src[t.pos]) {
		t.pos++
	}
	return t.src[start:t.pos], true
}

// message reads fields up to closer ('}' or '>'), or to the end of the
// text for the top-level message (closer 0). m is nil for a message whose
// fields are not transcoded.
func (t *transcoder) message(m *textMsg, closer byte) error {
	var counts [maxTextFields]int
	for {
		b, ok := t.peek()
		switch {
		case !ok && closer == 0:
			return nil
		case !ok:
			return t.endOfText("a message")
		case closer != 0 && b == closer:
			t.pos++
			return nil
		}
		t.count++
		if t.count%textCheckInterval == 0 {
			if err := t.ctx.Err(); err != nil {
				return err
			}
		}
		if err := t.field(m, &counts); err != nil {
			return err
		}
		if b, ok := t.peek(); ok && (b == ',' || b == ';') {
			t.pos++
		}
	}
}

// field reads one field: a name, then ": value", ": [values]" or a
// message ("name { ... }", "name: < ... >", "name [{...}, {...}]").
func (t *transcoder) field(m *textMsg, counts *[maxTextFields]int) error {
	nameOff := t.pos
	fi := -1
	if t.src[t.pos] == '[' {
		// An extension or an Any type URL: never transcoded.
		if err := t.typeName(); err != nil {
			return err
		}
	} else {
		name, ok := t.ident()
		if !ok {
			return t.malformed(t.pos, "expected a field name, found %s", t.describe())
		}
		fi = m.lookup(name)
	}
	b, ok := t.peek()
	colon := ok && b == ':'
	if colon {
		t.pos++
		b, ok = t.peek()
	}
	if !ok {
		return t.endOfText("a field")
	}
	if fi < 0 {
		return t.skipValue(colon)
	}
	f := &m.fields[fi]
	idx := -1 // the element's index, for the path of a repeated field
	next := func() {
		if f.repeated {
			idx = counts[fi]
			counts[fi]++
		}
	}
	if f.kind == textMessage {
		if m == textSavedModel {
			t.recognised = true
		}
		if b != '[' {
			if b != '{' && b != '<' {
				return t.malformed(t.pos, "field %q: expected a message, found %s", f.name, t.describe())
			}
			next()
			return t.emitMessage(f, idx, nameOff)
		}
		return t.list(func() error {
			b := t.src[t.pos]
			if b != '{' && b != '<' {
				return t.malformed(t.pos, "field %q: expected a message, found %s", f.name, t.describe())
			}
			next()
			return t.emitMessage(f, idx, t.pos)
		})
	}
	if !colon {
		return t.malformed(t.pos, "field %q: expected ':', found %s", f.name, t.describe())
	}
	scalar := func(off int) error {
		if f.kind == textDataType {
			return t.emitDataType(f, off)
		}
		return t.emitString(f, off)
	}
	if b == '[' {
		return t.list(func() error { return scalar(t.pos) })
	}
	return scalar(nameOff)
}

// list reads "[ elem, elem ]", calling elem at the start of each element.
func (t *transcoder) list(elem func() error) error {
	t.pos++ // '['
	for first := true; ; first = false {
		b, ok := t.peek()
		if !ok {
			return t.endOfText("a list")
		}
		if b == ']' {
			t.pos++
			return nil
		}
		if !first {
			if b != ',' {
				return t.malformed(t.pos, "expected ',' or ']' in a list, found %s", t.describe())
			}
			t.pos++
			if _, ok := t.peek(); !ok {
				return t.endOfText("a list")
			}
		}
		if err := elem(); err != nil {
			return err
		}
	}
}

// typeName reads "[name.space.Ext]" or "[type.googleapis.com/pkg.Msg]".
func (t *transcoder) typeName() error {
	t.pos++ // '['
	t.skipSpace()
	start := t.pos
	for t.pos < len(t.src) {
		b := t.src[t.pos]
		if !isIdentByte(b) && b != '.' && b != '/' && b != '-' {
			break
		}
		t.pos++
	}
	if t.pos == start {
		if t.pos >= len(t.src) {
			return t.endOfText("a type name")
		}
		return t.malformed(t.pos, "expected a type name, found %s", t.describe())
	}
	b, ok := t.peek()
	switch {
	case !ok:
		return t.endOfText("a type name")
	case b != ']':
		return t.malformed(t.pos, "expected ']' after a type name, found %s", t.describe())
	}
	t.pos++
	return nil
}

// skipValue parses, without emitting it, the value of a field that is not
// transcoded.
func (t *transcoder) skipValue(colon bool) error {
	switch b := t.src[t.pos]; {
	case b == '{' || b == '<':
		return t.subMessage(nil)
	case b == '[':
		return t.list(func() error {
			if b := t.src[t.pos]; b == '{' || b == '<' {
				return t.subMessage(nil)
			}
			if !colon {
				return t.malformed(t.pos, "expected a message, found %s", t.describe())
			}
			return t.scalar()
		})
	case colon:
		return t.scalar()
	}
	return t.malformed(t.pos, "expected ':' or a message, found %s", t.describe())
}

// subMessage reads "{ ... }" or "< ... >" at pos.
func (t *transcoder) subMessage(m *textMsg) error {
	closer := byte('}')
	if t.src[t.pos] == '<' {
		closer = '>'
	}
	if t.depth >= protowalk.MaxDepth {
		return t.malformed(t.pos, "messages nested deeper than %d levels", protowalk.MaxDepth)
	}
	t.pos++
	t.depth++
	err := t.message(m, closer)
	t.depth--
	return err
}

// emitMessage transcodes the sub-message at pos as field f. The message
// is closed (its length patched) even when reading it fails, so the
// output stays well-formed.
func (t *transcoder) emitMessage(f *textField, idx, textOff int) error {
	lp := t.tag(f.num, protowire.BytesType, textOff)
	t.out = append(t.out, make([]byte, lenWidth)...)
	err := t.path.Descend(protowalk.Field{Offset: int64(textOff)}, f.name, idx, func(protowalk.Field) error {
		return t.subMessage(f.msg)
	})
	if perr := t.patchLen(lp); perr != nil && err == nil {
		err = perr
	}
	return err
}

// emitString transcodes one or more adjacent string literals as field f.
// On an error the partial field is dropped.
func (t *transcoder) emitString(f *textField, textOff int) error {
	tagPos := len(t.out)
	lp := t.tag(f.num, protowire.BytesType, textOff)
	t.out = append(t.out, make([]byte, lenWidth)...)
	err := t.strings(true)
	if err == nil {
		err = t.patchLen(lp)
	}
	if err != nil {
		t.out = t.out[:tagPos]
	}
	return err
}

// emitDataType transcodes a DataType value: DT_STRING becomes 7, a number
// itself, any other name 0 (the walk only asks whether a tensor holds
// strings).
func (t *transcoder) emitDataType(f *textField, textOff int) error {
	start := t.pos
	var v uint64
	switch b := t.src[t.pos]; {
	case isIdentStart(b):
		name, _ := t.ident()
		if string(name) == dtStringName {
			v = dtString
		}
	case isDigit(b):
		n, ok := t.number()
		if !ok {
			return t.malformed(start, "field %q: %q is not an enum value", f.name, n)
		}
		v = parseUint(n)
	default:
		return t.malformed(start, "field %q: expected an enum value, found %s", f.name, t.describe())
	}
	t.tag(f.num, protowire.VarintType, textOff)
	t.out = protowire.AppendVarint(t.out, v)
	return nil
}

// tag appends a field tag and returns the offset just after it. On the
// locating pass it records textOff, where the field starts in the text
// (its name, or its element of a list), at the tag's offset.
func (t *transcoder) tag(num protowire.Number, typ protowire.Type, textOff int) int {
	if t.want != nil {
		if _, ok := t.want[int64(len(t.out))]; ok {
			t.want[int64(len(t.out))] = int64(textOff)
		}
	}
	t.out = protowire.AppendTag(t.out, num, typ)
	return len(t.out)
}

// patchLen writes the length of the payload that follows the lenWidth
// bytes at lp.
func (t *transcoder) patchLen(lp int) error {
	n := len(t.out) - lp - lenWidth
	if n > maxLen {
		return t.malformed(t.pos, "a message is longer than %d bytes", maxLen)
	}
	for i := range lenWidth - 1 {
		t.out[lp+i] = byte(n>>(7*i)) | 0x80
	}
	t.out[lp+lenWidth-1] = byte(n >> (7 * (lenWidth - 1)))
	return nil
}

// scalar parses, without emitting it, a string, number or identifier,
// optionally signed ("-inf", "-1.5").
func (t *transcoder) scalar() error {
	b := t.src[t.pos]
	switch {
	case b == '"' || b == '\'':
		return t.strings(false)
	case b == '-':
		t.pos++
		b, ok := t.peek()
		switch {
		case !ok:
			return t.endOfText("a value")
		case isIdentStart(b):
			t.ident()
			return nil
		case isDigit(b) || b == '.':
			if n, ok := t.number(); !ok {
				return t.malformed(t.pos-len(n), "%q is not a number", n)
			}
			return nil
		}
	case isIdentStart(b):
		t.ident()
		return nil
	case isDigit(b) || b == '.':
		if n, ok := t.number(); !ok {
			return t.malformed(t.pos-len(n), "%q is not a number", n)
		}
		return nil
	}
	return t.malformed(t.pos, "expected a value, found %s", t.describe())
}

// number reads a numeric literal (decimal, octal, hex or float, with an
// optional f suffix) and reports whether it has a digit (a hex digit after
// 0x). Stray letters are accepted: the value of a number is only used for
// a DataType, which then is not DT_STRING.
func (t *transcoder) number() ([]byte, bool) {
	start := t.pos
	hex := t.pos+1 < len(t.src) && t.src[t.pos] == '0' && t.src[t.pos+1]|0x20 == 'x'
	if hex {
		t.pos += 2
	}
	digits := false
	for t.pos < len(t.src) {
		b := t.src[t.pos]
		_, isHex := hexValue(b)
		switch {
		case isDigit(b) || hex && isHex:
			digits = true
		case isIdentByte(b) || b == '.':
		case (b == '+' || b == '-') && !hex && t.src[t.pos-1]|0x20 == 'e':
		default:
			return t.src[start:t.pos], digits
		}
		t.pos++
	}
	return t.src[start:t.pos], digits
}

// parseUint parses a decimal, octal or hex integer literal, saturating;
// anything else (a float) yields 0.
func parseUint(n []byte) uint64 {
	base, digits := uint64(10), n
	switch {
	case len(n) > 2 && n[0] == '0' && n[1]|0x20 == 'x':
		base, digits = 16, n[2:]
	case len(n) > 1 && n[0] == '0':
		base, digits = 8, n[1:]
	}
	var v uint64
	for _, b := range digits {
		d, ok := hexValue(b)
		if !ok || uint64(d) >= base {
			return 0
		}
		if v > (1<<64-1-uint64(d))/base {
			return 1<<64 - 1
		}
		v = v*base + uint64(d)
	}
	return v
}

func hexValue(b byte) (byte, bool) {
	switch {
	case isDigit(b):
		return b - '0', true
	case b|0x20 >= 'a' && b|0x20 <= 'f':
		return (b | 0x20) - 'a' + 10, true
	}
	return 0, false
}

// strings reads one or more adjacent string literals at pos, appending
// their unescaped bytes to out when emit is set.
func (t *transcoder) strings(emit bool) error {
	for n := 0; ; n++ {
		if t.pos >= len(t.src) || (t.src[t.pos] != '"' && t.src[t.pos] != '\'') {
			if n == 0 {
				return t.malformed(t.pos, "expected a string, found %s", t.describe())
			}
			return nil
		}
		if err := t.stringLit(emit); err != nil {
			return err
		}
		t.skipSpace()
	}
}

// stringLit reads one quoted string with C escapes.
func (t *transcoder) stringLit(emit bool) error {
	q := t.src[t.pos]
	t.pos++
	for {
		if t.pos >= len(t.src) {
			return t.endOfText("a string")
		}
		b := t.src[t.pos]
		switch {
		case b == q:
			t.pos++
			return nil
		case b == '\n':
			return t.malformed(t.pos, "a string runs past the end of its line")
		case b == '\\':
			if err := t.escape(emit); err != nil {
				return err
			}
		default:
			// Copy the run of plain bytes at once.
			end := t.pos + 1
			for end < len(t.src) && t.src[end] != q && t.src[end] != '\\' && t.src[end] != '\n' {
				end++
			}
			if emit {
				t.out = append(t.out, t.src[t.pos:end]...)
			}
			t.pos = end
		}
	}
}

// simpleEscapes maps the letter of a one-character escape to its byte.
var simpleEscapes = [256]byte{
	'a': '\a', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t', 'v': '\v',
	'\\': '\\', '\'': '\'', '"': '"', '?': '?',
}

// escape reads one escape sequence at pos (at the backslash).
func (t *transcoder) escape(emit bool) error {
	start := t.pos
	t.pos++
	if t.pos >= len(t.src) {
		return t.endOfText("a string")
	}
	c := t.src[t.pos]
	t.pos++
	put := func(b ...byte) {
		if emit {
			t.out = append(t.out, b...)
		}
	}
	switch {
	case simpleEscapes[c] != 0:
		put(simpleEscapes[c])
	case c >= '0' && c <= '7':
		// Up to three octal digits; like protobuf's C++ tokenizer, the
		// value keeps its low byte.
		v := int(c - '0')
		for i := 0; i < 2 && t.pos < len(t.src) && t.src[t.pos] >= '0' && t.src[t.pos] <= '7'; i++ {
			v = v*8 + int(t.src[t.pos]-'0')
			t.pos++
		}
		put(byte(v))
	case c == 'x' || c == 'X':
		v, n := t.hexDigits(2)
		if n == 0 {
			if t.pos >= len(t.src) && t.cut {
				return errCut
			}
			return t.malformed(start, "\\x escape without hex digits")
		}
		put(byte(v))
	case c == 'u' || c == 'U':
		want := 4
		if c == 'U' {
			want = 8
		}
		v, n := t.hexDigits(want)
		if n < want {
			if t.pos >= len(t.src) && t.cut {
				return errCut
			}
			return t.malformed(start, "\\%c escape needs %d hex digits", c, want)
		}
		// A surrogate pair written as two \u escapes is one code point.
		if v >= 0xd800 && v < 0xdc00 && t.pos+6 <= len(t.src) && t.src[t.pos] == '\\' && t.src[t.pos+1] == 'u' {
			save := t.pos
			t.pos += 2
			if lo, n := t.hexDigits(4); n == 4 && lo >= 0xdc00 && lo < 0xe000 {
				v = 0x10000 + (v-0xd800)<<10 + (lo - 0xdc00)
			} else {
				t.pos = save
			}
		}
		if v > utf8.MaxRune {
			return t.malformed(start, "\\%c escape U+%X is beyond Unicode", c, v)
		}
		if emit {
			t.out = utf8.AppendRune(t.out, rune(v)) // a lone surrogate becomes U+FFFD
		}
	case c == '\n':
		return t.malformed(start, "a string runs past the end of its line")
	default:
		return t.malformed(start, "invalid escape sequence \\%s in a string", printable(c))
	}
	return nil
}

// hexDigits reads up to limit hex digits.
func (t *transcoder) hexDigits(limit int) (uint32, int) {
	var v uint32
	n := 0
	for n < limit && t.pos < len(t.src) {
		d, ok := hexValue(t.src[t.pos])
		if !ok {
			break
		}
		v = v<<4 | uint32(d)
		t.pos++
		n++
	}
	return v, n
}

// describe names the token at pos for an error message.
func (t *transcoder) describe() string {
	if t.pos >= len(t.src) {
		return "the end of the text"
	}
	return printable(t.src[t.pos])
}

func printable(b byte) string {
	if b >= 0x20 && b < 0x7f {
		return fmt.Sprintf("%q", string(rune(b)))
	}
	return fmt.Sprintf("byte 0x%02x", b)
}

// looksLikeText reports whether an object not named for either form opens
// like a text-format SavedModel: after space and comments, a SavedModel
// field name and then ':' or a message.
func looksLikeText(r io.ReaderAt, size int64) bool {
	head := make([]byte, min(size, sniffBytes))
	n, err := r.ReadAt(head, 0)
	if n < len(head) && err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	t := &transcoder{src: head[:n]}
	t.skipSpace()
	name, ok := t.ident()
	if !ok || (string(name) != "meta_graphs" && string(name) != "saved_model_schema_version") {
		return false
	}
	b, ok := t.peek()
	return ok && (b == ':' || b == '{' || b == '<')
}

// textSource is a transcoded text-format SavedModel: what the binary walk
// reads in its place, and how to take its findings back to the text.
type textSource struct {
	t     *transcoder
	fault *scan.Finding // where the text is malformed, at a text offset
}

// relocate turns the offsets of findings from the transcoded wire format
// back into offsets in the text, by transcoding the text again and noting
// the text offset of each field emitted at a finding's offset. An offset
// that is not a field's (none is expected) becomes -1.
func (ts *textSource) relocate(fs []scan.Finding) {
	want := map[int64]int64{}
	for _, f := range fs {
		if f.Offset >= 0 {
			want[f.Offset] = -1
		}
	}
	if len(want) == 0 {
		return
	}
	ts.t.want = want
	_ = ts.t.run() // deterministic: same output, same fault as the first pass
	ts.t.want = nil
	for i := range fs {
		if fs[i].Offset >= 0 {
			fs[i].Offset = want[fs[i].Offset]
		}
	}
}

// scanText analyses a text-format SavedModel: up to MaxHeaderBytes of
// text are read into memory, transcoded and walked like saved_model.pb.
// Findings before a fault in the text are kept, and the fault is reported
// (fail closed); text past the size limit is not analysed and the scan
// ends with an error, which the engine reports as incomplete.
func scanText(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	limit := sess.Limits().MaxHeaderBytes
	n := max(min(obj.Size, limit), 0)
	src := make([]byte, n)
	if got, err := obj.R.ReadAt(src, 0); int64(got) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("read %s: %w", obj.Name, err)
	}
	t := &transcoder{ctx: ctx, src: src, cut: obj.Size > n}
	err := t.run()
	var me *protowalk.MalformedError
	if err != nil && !errors.As(err, &me) {
		return fmt.Errorf("read %s: %w", obj.Name, err)
	}
	if obj.Tentative && !t.recognised {
		return nil
	}
	ts := &textSource{t: t}
	if me != nil {
		f := RuleMalformed.Finding(
			fmt.Sprintf("%s is not well-formed protobuf text format at offset %d (line %d): %s; nothing after that point was analysed",
				obj.Name, me.Offset, 1+bytes.Count(src[:me.Offset], []byte{'\n'}), me.Reason),
			me.Reason)
		f.Offset, f.Pointer = me.Offset, me.Pointer
		ts.fault = &f
	}
	bin := slices.Clip(t.out)
	wire := obj
	wire.R, wire.Size = bytes.NewReader(bin), int64(len(bin))
	st := newState(ctx, wire, sess)
	st.text = ts
	if err := st.run((*state).savedModel); err != nil {
		return err
	}
	if t.cut {
		return fmt.Errorf("%s is %d bytes, over the %d-byte header limit; only the first %d bytes were analysed", obj.Name, obj.Size, limit, n)
	}
	return nil
}
