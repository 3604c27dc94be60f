package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/palisade-sec/palisade/internal/scan"
)

// maxJSONDepth bounds the nesting of the header. A valid header nests three
// levels (object, tensor entry, shape array); anything far deeper is an
// attack on recursive parsers.
const maxJSONDepth = 64

// nameClip is how many bytes of a tensor name or key a message quotes.
const nameClip = 120

// dtypeBits maps every dtype the safetensors format defines to its element
// size in bits (sub-byte float formats included).
var dtypeBits = map[string]uint64{
	"BOOL": 8, "U8": 8, "I8": 8,
	"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
	"F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8,
	"I16": 16, "U16": 16, "F16": 16, "BF16": 16,
	"I32": 32, "U32": 32, "F32": 32,
	"I64": 64, "U64": 64, "F64": 64, "C64": 64,
}

// tensor is one header entry as far as it could be read.
type tensor struct {
	name       string
	off        int64 // file offset of the entry's key
	dtype      string
	bits       uint64 // element size; 0 when the dtype is unusable
	shape      []uint64
	shapeOK    bool
	begin, end uint64
	offsetsOK  bool
}

// errTooDeep stops a header nested beyond maxJSONDepth.
var errTooDeep = errors.New("header nests deeper than the limit")

// headerParser walks the JSON header token by token, reporting schema
// problems as it goes.
type headerParser struct {
	raw  []byte
	base int64 // file offset of raw[0]
	dec  *json.Decoder
	rep  *scan.Capped
}

// parseHeader validates raw (the header bytes, found at file offset base)
// and returns the tensor entries. ok is false when the header could not be
// read to its end; the problem has then been reported.
func parseHeader(raw []byte, base int64, rep *scan.Capped) (tensors []tensor, ok bool) {
	if !utf8.Valid(raw) {
		bad := len(raw)
		for i := 0; i < len(raw); {
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size <= 1 {
				bad = i
				break
			}
			i += size
		}
		rep.Add(RuleHeaderInvalid, base+int64(bad), "",
			fmt.Sprintf("header is not valid UTF-8 (first bad byte at header offset %d)", bad),
			fmt.Sprintf("%q", raw[bad:min(bad+16, len(raw))]))
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	p := &headerParser{raw: raw, base: base, dec: dec, rep: rep}
	tensors, err := p.top()
	if err != nil {
		p.syntax(err)
		return tensors, false
	}
	return tensors, true
}

// syntax reports a JSON error that stopped the walk.
func (p *headerParser) syntax(err error) {
	off := p.dec.InputOffset()
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off = se.Offset
	}
	msg := fmt.Sprintf("header is not valid JSON: %v", err)
	if errors.Is(err, errTooDeep) {
		msg = fmt.Sprintf("header nests JSON more than %d levels deep; the rest was not analysed", maxJSONDepth)
	}
	start := max(0, min(int(off), len(p.raw))-16)
	end := min(len(p.raw), start+48)
	p.rep.Add(RuleHeaderInvalid, p.base+off, "", msg, scan.Quote(string(p.raw[start:end]), 64))
}

// next returns the file offset where the next token starts.
func (p *headerParser) next() int64 {
	i := int(p.dec.InputOffset())
	for i < len(p.raw) {
		switch p.raw[i] {
		case ' ', '\t', '\r', '\n', ',', ':':
			i++
			continue
		}
		break
	}
	return p.base + int64(i)
}

// top walks the outer object.
func (p *headerParser) top() ([]tensor, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		p.rep.Add(RuleHeaderInvalid, p.base, "",
			fmt.Sprintf("header is a JSON %s, not an object of tensor entries", kind(tok)), "")
		if ok {
			if err := p.skip(1); err != nil {
				return nil, err
			}
		}
		return nil, p.rest()
	}
	var tensors []tensor
	seen := map[string]int64{}
	for p.dec.More() {
		off := p.next()
		tok, err := p.dec.Token()
		if err != nil {
			return tensors, err
		}
		key, _ := tok.(string)
		if first, dup := seen[key]; dup {
			p.rep.Add(RuleDuplicateKey, off, key,
				fmt.Sprintf("header key %s appears more than once (first at byte %d); parsers that keep the first and the last entry disagree", scan.Quote(key, nameClip), first),
				scan.Quote(key, nameClip))
		} else {
			seen[key] = off
		}
		if key == "__metadata__" {
			if err := p.metadata(); err != nil {
				return tensors, err
			}
			continue
		}
		t, err := p.tensor(key, off)
		if err != nil {
			return tensors, err
		}
		if t != nil {
			tensors = append(tensors, *t)
		}
	}
	if _, err := p.dec.Token(); err != nil { // the closing brace
		return tensors, err
	}
	return tensors, p.rest()
}

// rest reports bytes after the top-level value other than the space padding
// writers add.
func (p *headerParser) rest() error {
	i := int(p.dec.InputOffset())
	for j := i; j < len(p.raw); j++ {
		switch p.raw[j] {
		case ' ', '\t', '\r', '\n':
			continue
		}
		p.rep.Add(RuleHeaderInvalid, p.base+int64(j), "",
			fmt.Sprintf("%d bytes that are not whitespace padding follow the JSON object in the header", len(p.raw)-j),
			scan.Quote(string(p.raw[j:]), 64))
		return nil
	}
	return nil
}

// metadata validates the __metadata__ value: null or a string map.
func (p *headerParser) metadata() error {
	off := p.next()
	tok, err := p.dec.Token()
	if err != nil {
		return err
	}
	if tok == nil {
		return nil
	}
	d, ok := tok.(json.Delim)
	if !ok || d != '{' {
		p.rep.Add(RuleMetadataInvalid, off, "__metadata__",
			fmt.Sprintf("__metadata__ is a JSON %s, not a map of strings", kind(tok)), "")
		if ok {
			return p.skip(2)
		}
		return nil
	}
	seen := map[string]bool{}
	for p.dec.More() {
		koff := p.next()
		tok, err := p.dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		ptr := "__metadata__." + key
		if seen[key] {
			p.rep.Add(RuleDuplicateKey, koff, ptr,
				fmt.Sprintf("__metadata__ key %s appears more than once", scan.Quote(key, nameClip)), scan.Quote(key, nameClip))
		}
		seen[key] = true
		voff := p.next()
		val, err := p.dec.Token()
		if err != nil {
			return err
		}
		if _, isStr := val.(string); isStr {
			continue
		}
		p.rep.Add(RuleMetadataInvalid, voff, ptr,
			fmt.Sprintf("__metadata__ value for %s is a JSON %s, not a string", scan.Quote(key, nameClip), kind(val)), "")
		if _, isDelim := val.(json.Delim); isDelim {
			if err := p.skip(3); err != nil {
				return err
			}
		}
	}
	_, err = p.dec.Token()
	return err
}

// tensor reads one tensor entry. It returns nil when the entry is not an
// object (already reported).
func (p *headerParser) tensor(name string, off int64) (*tensor, error) {
	tok, err := p.dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		p.rep.Add(RuleHeaderInvalid, off, name,
			fmt.Sprintf("entry %s is a JSON %s, not a tensor description", scan.Quote(name, nameClip), kind(tok)), "")
		if ok {
			return nil, p.skip(2)
		}
		return nil, nil
	}
	t := &tensor{name: name, off: off}
	seen := map[string]bool{}
	for p.dec.More() {
		foff := p.next()
		tok, err := p.dec.Token()
		if err != nil {
			return nil, err
		}
		field, _ := tok.(string)
		if seen[field] {
			p.rep.Add(RuleDuplicateKey, foff, name+"."+field,
				fmt.Sprintf("tensor %s repeats the field %s; parsers disagree on which value counts", scan.Quote(name, nameClip), scan.Quote(field, 40)),
				scan.Quote(field, 40))
		}
		seen[field] = true
		switch field {
		case "dtype":
			err = p.dtype(t)
		case "shape":
			err = p.shape(t)
		case "data_offsets":
			err = p.offsets(t)
		default:
			err = p.skipValue(3)
		}
		if err != nil {
			return nil, err
		}
	}
	if _, err := p.dec.Token(); err != nil {
		return nil, err
	}
	if !seen["dtype"] {
		p.rep.Add(RuleDtypeInvalid, off, name, fmt.Sprintf("tensor %s has no dtype", scan.Quote(name, nameClip)), "")
	}
	if !seen["shape"] {
		p.rep.Add(RuleShapeInvalid, off, name, fmt.Sprintf("tensor %s has no shape", scan.Quote(name, nameClip)), "")
	}
	if !seen["data_offsets"] {
		p.rep.Add(RuleOffsetsInvalid, off, name, fmt.Sprintf("tensor %s has no data_offsets", scan.Quote(name, nameClip)), "")
	}
	return t, nil
}

func (p *headerParser) dtype(t *tensor) error {
	off := p.next()
	tok, err := p.dec.Token()
	if err != nil {
		return err
	}
	t.bits = 0
	s, ok := tok.(string)
	if !ok {
		p.rep.Add(RuleDtypeInvalid, off, t.name+".dtype",
			fmt.Sprintf("dtype of tensor %s is a JSON %s, not a string", scan.Quote(t.name, nameClip), kind(tok)), "")
		if _, isDelim := tok.(json.Delim); isDelim {
			return p.skip(3)
		}
		return nil
	}
	t.dtype = s
	bits, known := dtypeBits[s]
	if !known {
		p.rep.Add(RuleDtypeInvalid, off, t.name+".dtype",
			fmt.Sprintf("tensor %s has dtype %s, which the safetensors format does not define", scan.Quote(t.name, nameClip), scan.Quote(s, 40)),
			scan.Quote(s, 40))
		return nil
	}
	t.bits = bits
	return nil
}

func (p *headerParser) shape(t *tensor) error {
	off := p.next()
	t.shape, t.shapeOK = nil, false
	vals, bad, err := p.uintArray()
	if err != nil {
		return err
	}
	if bad != "" {
		p.rep.Add(RuleShapeInvalid, off, t.name+".shape",
			fmt.Sprintf("shape of tensor %s is not an array of non-negative integers: %s", scan.Quote(t.name, nameClip), bad), bad)
		return nil
	}
	t.shape, t.shapeOK = vals, true
	return nil
}

func (p *headerParser) offsets(t *tensor) error {
	off := p.next()
	t.offsetsOK = false
	vals, bad, err := p.uintArray()
	if err != nil {
		return err
	}
	switch {
	case bad != "":
		p.rep.Add(RuleOffsetsInvalid, off, t.name+".data_offsets",
			fmt.Sprintf("data_offsets of tensor %s are not non-negative integers: %s", scan.Quote(t.name, nameClip), bad), bad)
	case len(vals) != 2:
		p.rep.Add(RuleOffsetsInvalid, off, t.name+".data_offsets",
			fmt.Sprintf("data_offsets of tensor %s has %d elements, not 2", scan.Quote(t.name, nameClip), len(vals)), fmtUints(vals))
	case vals[0] > vals[1]:
		p.rep.Add(RuleOffsetsInvalid, off, t.name+".data_offsets",
			fmt.Sprintf("data_offsets of tensor %s begin at %d, after they end at %d", scan.Quote(t.name, nameClip), vals[0], vals[1]), fmtUints(vals))
	default:
		t.begin, t.end, t.offsetsOK = vals[0], vals[1], true
	}
	return nil
}

// uintArray reads a JSON value that should be an array of non-negative
// integers. bad describes the first problem ("" when there is none); the
// value is consumed either way.
func (p *headerParser) uintArray() (vals []uint64, bad string, err error) {
	tok, err := p.dec.Token()
	if err != nil {
		return nil, "", err
	}
	d, ok := tok.(json.Delim)
	if !ok || d != '[' {
		bad = "it is a JSON " + kind(tok)
		if ok {
			return nil, bad, p.skip(3)
		}
		return nil, bad, nil
	}
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return nil, "", err
		}
		if num, isNum := tok.(json.Number); isNum {
			v, perr := strconv.ParseUint(string(num), 10, 64)
			if perr == nil {
				vals = append(vals, v)
				continue
			}
			if bad == "" {
				bad = fmt.Sprintf("element %d is %s", len(vals), scan.Quote(string(num), 40))
			}
			continue
		}
		if bad == "" {
			bad = fmt.Sprintf("element %d is a JSON %s", len(vals), kind(tok))
		}
		if _, isDelim := tok.(json.Delim); isDelim {
			if err := p.skip(4); err != nil {
				return nil, "", err
			}
		}
	}
	if _, err := p.dec.Token(); err != nil {
		return nil, "", err
	}
	return vals, bad, nil
}

// skipValue consumes one value at nesting depth.
func (p *headerParser) skipValue(depth int) error {
	tok, err := p.dec.Token()
	if err != nil {
		return err
	}
	if _, ok := tok.(json.Delim); ok {
		return p.skip(depth)
	}
	return nil
}

// skip consumes the rest of a container whose opening delimiter, at nesting
// depth, has just been read. It stops at maxJSONDepth without recursing.
func (p *headerParser) skip(depth int) error {
	if depth > maxJSONDepth {
		return errTooDeep
	}
	for level := 1; level > 0; {
		tok, err := p.dec.Token()
		if err != nil {
			return err
		}
		d, ok := tok.(json.Delim)
		if !ok {
			continue
		}
		switch d {
		case '{', '[':
			level++
			if depth+level-1 > maxJSONDepth {
				return errTooDeep
			}
		default:
			level--
		}
	}
	return nil
}

// kind names the JSON type of a token.
func kind(tok any) string {
	switch v := tok.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		return "number"
	case json.Delim:
		if v == '{' {
			return "object"
		}
		return "array"
	}
	return "value"
}

// fmtUints renders a short list of integers as JSON.
func fmtUints(vs []uint64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range vs {
		if i == 8 {
			b.WriteString(", ...")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatUint(v, 10))
	}
	b.WriteByte(']')
	return b.String()
}
