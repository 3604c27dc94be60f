package gguf

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/scan"
)

// Scanner validates GGUF headers and analyses their chat templates. It is
// stateless and safe for concurrent use.
type Scanner struct{}

var _ scan.Scanner = (*Scanner)(nil)

// New returns a GGUF scanner for scan.FormatGGUF.
func New() *Scanner { return &Scanner{} }

const (
	magic            = "GGUF"
	minKV            = 8 + 4 + 1     // empty key, value type, one-byte value
	minTensorInfo    = 8 + 4 + 4 + 8 // empty name, no dimensions, type, offset
	minArray         = 4 + 8         // element type and count of an empty array
	maxKeyLen        = 1<<16 - 1
	maxNameLen       = 63 // GGML_MAX_NAME less the terminating NUL
	maxDims          = 4  // GGML_MAX_DIMS
	maxArrayDepth    = 8
	defaultAlignment = 32
	maxNested        = 8       // unclaimed regions handed to Session.Nested
	ctxEvery         = 1 << 14 // elements between context checks
	nameClip         = 120     // bytes of a key or name quoted in a message
)

// parseError is a structural problem that stops the parse; it becomes a
// finding.
type parseError struct {
	rule     scan.Rule
	off      int64
	ptr      string
	msg      string
	evidence string
}

func (e *parseError) Error() string { return e.msg }

// errStop ends the parse after a problem that has been reported.
var errStop = errors.New("parse stopped")

// tensorInfo is one tensor description.
type tensorInfo struct {
	name   string
	off    int64 // file offset of the description
	offset uint64
	size   uint64
	sizeOK bool
}

// parser holds the state of one scan.
type parser struct {
	ctx       context.Context
	rd        *reader
	rep       *scan.Capped
	keys      map[string]int64
	names     map[string]int64
	alignment uint64
	ticks     int
}

// Scan validates obj's header and analyses its templates. It reads the
// header only.
func (s *Scanner) Scan(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	return s.scan(ctx, obj, sess)
}

func (s *Scanner) scan(ctx context.Context, obj scan.Object, sess session) error {
	rep := scan.NewCapped(sess, maxPerRule)
	defer rep.Flush()

	limit := sess.Limits().MaxHeaderBytes
	if limit <= 0 {
		limit = scan.DefaultLimits().MaxHeaderBytes
	}
	p := &parser{
		ctx: ctx, rd: newReader(obj.R, obj.Size, limit), rep: rep,
		keys: map[string]int64{}, names: map[string]int64{}, alignment: defaultAlignment,
	}
	head, err := p.rd.next(len(magic))
	if err != nil || string(head) != magic {
		if obj.Tentative {
			return nil
		}
		if err != nil && !errors.Is(err, errTruncated) && !errors.Is(err, errLimit) {
			return fmt.Errorf("read magic: %w", err)
		}
		rep.Add(RuleHeaderInvalid, 0, "", "file does not start with the GGUF magic", scan.Quote(string(head), 8))
		return nil
	}
	tensors, err := p.header()
	if err != nil {
		return p.fail(err, limit)
	}
	regions, err := p.layout(tensors, obj.Size)
	if err != nil {
		return err
	}
	for i, r := range regions {
		if i == maxNested {
			break
		}
		if err := sess.Nested(ctx, r.name, io.NewSectionReader(obj.R, r.start, r.len), r.len, ""); err != nil {
			return err
		}
	}
	return nil
}

// fail turns a parse error into a finding; errors that are not about the
// content (I/O, cancellation) are returned.
func (p *parser) fail(err error, limit int64) error {
	var pe *parseError
	switch {
	case errors.As(err, &pe):
		p.rep.Add(pe.rule, pe.off, pe.ptr, pe.msg, pe.evidence)
	case errors.Is(err, errStop):
	case errors.Is(err, errTruncated):
		p.rep.Add(RuleHeaderInvalid, p.rd.pos, "", fmt.Sprintf("file ends inside the GGUF header (%v)", err), "")
	case errors.Is(err, errLimit):
		p.rep.Add(RuleHeaderLimit, p.rd.pos, "",
			fmt.Sprintf("the GGUF header runs past the %d-byte header limit (%v); the rest was not analysed", limit, err), "")
	default:
		return err
	}
	return nil
}

// header parses the version, counts, metadata and tensor descriptions.
func (p *parser) header() ([]tensorInfo, error) {
	rd := p.rd
	vb, err := rd.next(4)
	if err != nil {
		return nil, fmt.Errorf("version: %w", err)
	}
	version := binary.LittleEndian.Uint32(vb)
	if swapped := bits.ReverseBytes32(version); version > 0xffff && swapped >= 1 && swapped <= 3 {
		// A big-endian file (GGUF v3 allows either byte order).
		version, rd.order = swapped, binary.BigEndian
	}
	switch version {
	case 2, 3:
	case 1:
		p.rep.Add(RuleVersionUnsupported, 4, "",
			"file is GGUF version 1, which current loaders reject; its metadata was not analysed", "version 1")
		return nil, errStop
	default:
		return nil, &parseError{rule: RuleHeaderInvalid, off: 4,
			msg:      fmt.Sprintf("unknown GGUF version %d (supported: 2 and 3)", version),
			evidence: fmt.Sprintf("version bytes % x", vb)}
	}
	nTensors, err := rd.u64()
	if err != nil {
		return nil, fmt.Errorf("tensor count: %w", err)
	}
	nKV, err := rd.u64()
	if err != nil {
		return nil, fmt.Errorf("metadata count: %w", err)
	}
	if nKV > rd.left()/minKV {
		return nil, &parseError{rule: RuleCountExceedsFile, off: 16,
			msg:      fmt.Sprintf("header declares %d metadata entries but the %d bytes that follow hold at most %d", nKV, rd.left(), rd.left()/minKV),
			evidence: fmt.Sprintf("metadata count %d (%#x)", nKV, nKV)}
	}
	if err := p.checkTensorCount(nTensors); err != nil {
		return nil, err
	}
	for i := range nKV {
		if err := p.kv(i); err != nil {
			return nil, err
		}
	}
	if err := p.checkTensorCount(nTensors); err != nil {
		return nil, err
	}
	tensors := make([]tensorInfo, 0, min(nTensors, 1<<12))
	for i := range nTensors {
		if err := p.tick(); err != nil {
			return nil, err
		}
		t, err := p.tensorInfo(i)
		if err != nil {
			return nil, fmt.Errorf("tensor %d: %w", i, err)
		}
		tensors = append(tensors, t)
	}
	return tensors, nil
}

func (p *parser) checkTensorCount(n uint64) error {
	if left := p.rd.left(); n > left/minTensorInfo {
		return &parseError{rule: RuleCountExceedsFile, off: 8,
			msg:      fmt.Sprintf("header declares %d tensors but the %d bytes left after the metadata hold at most %d tensor descriptions", n, left, left/minTensorInfo),
			evidence: fmt.Sprintf("tensor count %d (%#x)", n, n)}
	}
	return nil
}

// tick checks for cancellation every ctxEvery elements.
func (p *parser) tick() error {
	p.ticks++
	if p.ticks%ctxEvery == 0 {
		return p.ctx.Err()
	}
	return nil
}

// kv parses metadata entry i.
func (p *parser) kv(i uint64) error {
	rd := p.rd
	off := rd.pos
	if err := p.tick(); err != nil {
		return err
	}
	key, err := p.key(i, off)
	if err != nil {
		return fmt.Errorf("metadata key %d: %w", i, err)
	}
	if first, dup := p.keys[key]; dup {
		p.rep.Add(RuleDuplicateKey, off, key,
			fmt.Sprintf("metadata key %s appears more than once (first at byte %d); llama.cpp rejects the file and other loaders keep one of the values", scan.Quote(key, nameClip), first),
			scan.Quote(key, nameClip))
	} else {
		p.keys[key] = off
	}
	typ, err := rd.u32()
	if err != nil {
		return fmt.Errorf("metadata key %s: value type: %w", scan.Quote(key, nameClip), err)
	}
	if typ >= numValueTypes {
		return &parseError{rule: RuleMetadataInvalid, off: rd.pos - 4, ptr: key,
			msg:      fmt.Sprintf("metadata key %s has unknown value type %d; the rest of the header cannot be parsed", scan.Quote(key, nameClip), typ),
			evidence: fmt.Sprintf("value type %d", typ)}
	}
	if key == "general.alignment" {
		err = p.alignmentValue(typ, off)
	} else {
		err = p.value(typ, key, key, 0, isTemplateKey(key))
	}
	if err != nil {
		return fmt.Errorf("metadata key %s: %w", scan.Quote(key, nameClip), err)
	}
	return nil
}

// key reads a metadata key. Empty and over-long keys are reported and
// parsing goes on.
func (p *parser) key(i uint64, off int64) (string, error) {
	rd := p.rd
	n, err := rd.u64()
	if err != nil {
		return "", err
	}
	if n > rd.left() {
		return "", &parseError{rule: RuleCountExceedsFile, off: off,
			msg:      fmt.Sprintf("metadata key %d declares a %d-byte name but only %d bytes follow", i, n, rd.left()),
			evidence: fmt.Sprintf("key length %d (%#x)", n, n)}
	}
	switch {
	case n == 0:
		p.rep.Add(RuleMetadataInvalid, off, "", fmt.Sprintf("metadata key %d is empty; loaders reject the file", i), "")
		return "", nil
	case n > maxKeyLen:
		p.rep.Add(RuleMetadataInvalid, off, "",
			fmt.Sprintf("metadata key %d is %d bytes long; GGUF keys are at most %d bytes", i, n, maxKeyLen), "")
		if err := rd.skip(n); err != nil {
			return "", err
		}
		return fmt.Sprintf("<%d-byte key at offset %d>", n, off), nil
	}
	b, err := rd.next(int(n))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// isTemplateKey reports whether key holds a chat template.
func isTemplateKey(key string) bool {
	return key == "tokenizer.chat_template" || strings.HasPrefix(key, "tokenizer.chat_template.")
}

// value parses (or skips) a value of type typ. key is the metadata key, ptr
// the position inside it; tmpl forces template analysis of strings.
func (p *parser) value(typ uint32, key, ptr string, depth int, tmpl bool) error {
	switch typ {
	case typeString:
		return p.str(key, ptr, -1, tmpl)
	case typeArray:
		return p.array(key, ptr, depth+1, tmpl)
	default:
		return p.rd.skip(valueSize[typ])
	}
}

// elemPtr renders the pointer of element idx of ptr (idx < 0: ptr itself).
func elemPtr(ptr string, idx int64) string {
	if idx < 0 {
		return ptr
	}
	return ptr + "[" + strconv.FormatInt(idx, 10) + "]"
}

// str reads a string value (element idx of ptr when idx >= 0) and analyses
// it when it is a template or looks like one. Strings are streamed through
// the read window; only those analysed are copied.
func (p *parser) str(key, ptr string, idx int64, tmpl bool) error {
	rd := p.rd
	off := rd.pos
	n, err := rd.u64()
	if err != nil {
		return err
	}
	if n > rd.left() {
		return &parseError{rule: RuleCountExceedsFile, off: off, ptr: elemPtr(ptr, idx),
			msg:      fmt.Sprintf("string %s declares %d bytes but only %d bytes follow", scan.Quote(elemPtr(ptr, idx), nameClip), n, rd.left()),
			evidence: fmt.Sprintf("string length %d (%#x)", n, n)}
	}
	if err := rd.need(n); err != nil {
		return err
	}
	valOff := rd.pos
	if n <= bufSize {
		b, err := rd.window(valOff, int(n))
		if err != nil {
			return err
		}
		if tmpl || hasMarker(b) {
			p.template(key, elemPtr(ptr, idx), valOff, string(b))
		}
		rd.pos += int64(n)
		return nil
	}
	found := tmpl
	for done := uint64(0); !found && done < n; {
		m := min(bufSize, n-done)
		b, err := rd.window(valOff+int64(done), int(m))
		if err != nil {
			return err
		}
		found = hasMarker(b)
		done += m
		if !found && b[len(b)-1] == '{' && done < n {
			nb, err := rd.window(valOff+int64(done), 1)
			if err != nil {
				return err
			}
			found = nb[0] == '{' || nb[0] == '%'
		}
	}
	if found {
		buf := make([]byte, n)
		if err := rd.readAt(buf, valOff); err != nil {
			return err
		}
		p.template(key, elemPtr(ptr, idx), valOff, string(buf))
	}
	rd.pos += int64(n)
	return nil
}

// template analyses a string that is, or looks like, a Jinja template and
// reports what it finds at the value's offset.
func (p *parser) template(key, ptr string, off int64, src string) {
	v := analyzeTemplate(src)
	rule := RuleTemplateSuspicious
	switch v.severity {
	case scan.SeverityNone:
		return
	case scan.SeverityCritical:
		rule = RuleTemplateExec
	case scan.SeverityHigh:
		rule = RuleTemplateDunder
	}
	what := "chat template"
	if !isTemplateKey(key) {
		what = "metadata string"
	}
	reasons, more := v.reasons, ""
	if len(reasons) > 6 {
		more = fmt.Sprintf(", and %d more", len(reasons)-6)
		reasons = reasons[:6]
	}
	p.rep.Add(rule, off, ptr,
		fmt.Sprintf("%s %s %s: %s%s (snippet at byte %d of the value)", what, scan.Quote(ptr, nameClip), v.summary, strings.Join(reasons, ", "), more, v.at),
		v.snippet)
}

// hasMarker reports whether b contains "{{" or "{%".
func hasMarker(b []byte) bool {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '{')
		if j < 0 || i+j+1 >= len(b) {
			return false
		}
		i += j + 1
		if c := b[i]; c == '{' || c == '%' {
			return true
		}
	}
}

// array parses an array value at nesting depth (1 for a top-level array).
func (p *parser) array(key, ptr string, depth int, tmpl bool) error {
	rd := p.rd
	off := rd.pos
	et, err := rd.u32()
	if err != nil {
		return err
	}
	count, err := rd.u64()
	if err != nil {
		return err
	}
	if et >= numValueTypes {
		return &parseError{rule: RuleMetadataInvalid, off: off, ptr: ptr,
			msg:      fmt.Sprintf("array %s has unknown element type %d; the rest of the header cannot be parsed", scan.Quote(ptr, nameClip), et),
			evidence: fmt.Sprintf("element type %d", et)}
	}
	if et == typeArray && depth >= maxArrayDepth {
		return &parseError{rule: RuleHeaderLimit, off: off, ptr: ptr,
			msg: fmt.Sprintf("arrays nest more than %d levels deep at %s; the rest of the header was not analysed", maxArrayDepth, scan.Quote(ptr, nameClip))}
	}
	elem := valueSize[et]
	switch et {
	case typeString:
		elem = 8
	case typeArray:
		elem = minArray
	}
	if count > rd.left()/elem {
		return &parseError{rule: RuleCountExceedsFile, off: off, ptr: ptr,
			msg:      fmt.Sprintf("array %s declares %d %s elements but the %d bytes that follow hold at most %d", scan.Quote(ptr, nameClip), count, typeName(et), rd.left(), rd.left()/elem),
			evidence: fmt.Sprintf("element count %d (%#x)", count, count)}
	}
	switch et {
	case typeString:
		for i := range count {
			if err := p.tick(); err != nil {
				return err
			}
			if err := p.str(key, ptr, int64(i), tmpl); err != nil {
				return err
			}
		}
		return nil
	case typeArray:
		for i := range count {
			if err := p.tick(); err != nil {
				return err
			}
			if err := p.array(key, elemPtr(ptr, int64(i)), depth+1, tmpl); err != nil {
				return err
			}
		}
		return nil
	default:
		return rd.skip(count * elem)
	}
}

// alignmentValue reads general.alignment, which must be a u32 power of two.
func (p *parser) alignmentValue(typ uint32, off int64) error {
	const key = "general.alignment"
	if !isInteger(typ) {
		p.rep.Add(RuleMetadataInvalid, off, key,
			fmt.Sprintf("general.alignment is a %s, not a u32; loaders reject the file", typeName(typ)), typeName(typ))
		return p.value(typ, key, key, 0, false)
	}
	b, err := p.rd.next(int(valueSize[typ]))
	if err != nil {
		return err
	}
	var v uint64
	negative := false
	switch len(b) {
	case 1:
		v, negative = uint64(b[0]), typ == typeI8 && int8(b[0]) < 0
	case 2:
		x := p.rd.order.Uint16(b)
		v, negative = uint64(x), typ == typeI16 && int16(x) < 0
	case 4:
		x := p.rd.order.Uint32(b)
		v, negative = uint64(x), typ == typeI32 && int32(x) < 0
	default:
		v = p.rd.order.Uint64(b)
		negative = typ == typeI64 && int64(v) < 0
	}
	evidence := fmt.Sprintf("general.alignment = %d (%s)", v, typeName(typ))
	if typ != typeU32 {
		p.rep.Add(RuleMetadataInvalid, off, key,
			fmt.Sprintf("general.alignment is stored as %s; llama.cpp requires u32 and rejects the file", typeName(typ)), evidence)
	}
	if negative || v == 0 || v&(v-1) != 0 {
		p.rep.Add(RuleMetadataInvalid, off, key,
			fmt.Sprintf("general.alignment %d is not a power of two; loaders reject the file (offsets are checked against the default of %d)", v, defaultAlignment),
			evidence)
		return nil
	}
	p.alignment = v
	return nil
}

// tensorInfo parses tensor description i.
func (p *parser) tensorInfo(i uint64) (tensorInfo, error) {
	rd := p.rd
	off := rd.pos
	n, err := rd.u64()
	if err != nil {
		return tensorInfo{}, err
	}
	if n > rd.left() {
		return tensorInfo{}, &parseError{rule: RuleCountExceedsFile, off: off,
			msg:      fmt.Sprintf("tensor %d declares a %d-byte name but only %d bytes follow", i, n, rd.left()),
			evidence: fmt.Sprintf("name length %d (%#x)", n, n)}
	}
	if err := rd.need(n); err != nil {
		return tensorInfo{}, err
	}
	var name string
	if n <= bufSize {
		b, err := rd.next(int(n))
		if err != nil {
			return tensorInfo{}, err
		}
		name = string(b)
	} else {
		buf := make([]byte, n)
		if err := rd.readAt(buf, rd.pos); err != nil {
			return tensorInfo{}, err
		}
		rd.pos += int64(n)
		name = string(buf)
	}
	t := tensorInfo{name: name, off: off}
	qn := scan.Quote(name, nameClip)
	if n > maxNameLen {
		p.rep.Add(RuleTensorInfoInvalid, off, name,
			fmt.Sprintf("tensor %d has a %d-byte name; ggml allows at most %d and llama.cpp rejects the file", i, n, maxNameLen), qn)
	}
	if first, dup := p.names[name]; dup {
		p.rep.Add(RuleDuplicateTensor, off, name,
			fmt.Sprintf("tensor name %s appears more than once (first at byte %d); loaders disagree on which weights it names", qn, first), qn)
	} else {
		p.names[name] = off
	}

	nDims, err := rd.u32()
	if err != nil {
		return t, err
	}
	if uint64(nDims) > rd.left()/8 {
		return t, &parseError{rule: RuleCountExceedsFile, off: rd.pos - 4, ptr: name,
			msg:      fmt.Sprintf("tensor %s declares %d dimensions but only %d bytes follow", qn, nDims, rd.left()),
			evidence: fmt.Sprintf("n_dims %d (%#x)", nDims, nDims)}
	}
	valid := true
	if nDims > maxDims {
		p.rep.Add(RuleTensorInfoInvalid, off, name,
			fmt.Sprintf("tensor %s has %d dimensions; ggml supports at most %d", qn, nDims, maxDims), fmt.Sprintf("n_dims %d", nDims))
		valid = false
	}
	dims := [maxDims]uint64{1, 1, 1, 1}
	for j := range nDims {
		d, err := rd.u64()
		if err != nil {
			return t, err
		}
		if j < maxDims {
			dims[j] = d
		}
		if d >= 1<<63 && valid {
			p.rep.Add(RuleTensorInfoInvalid, off, name,
				fmt.Sprintf("dimension %d of tensor %s is %d, negative as ggml's signed element count", j, qn, d), fmt.Sprintf("ne[%d] = %d", j, d))
			valid = false
		}
	}
	typ, err := rd.u32()
	if err != nil {
		return t, err
	}
	if t.offset, err = rd.u64(); err != nil {
		return t, err
	}

	gt, known := ggmlTypes[typ]
	switch {
	case !known:
		p.rep.Add(RuleTensorInfoInvalid, off, name,
			fmt.Sprintf("tensor %s has unknown ggml type %d; its size cannot be checked", qn, typ), fmt.Sprintf("ggml type %d", typ))
	case gt.removed:
		p.rep.Add(RuleTensorInfoInvalid, off, name,
			fmt.Sprintf("tensor %s uses ggml type %d (%s), which was removed from GGUF; current loaders reject it", qn, typ, gt.name), gt.name)
	case valid:
		t.size, t.sizeOK = p.tensorSize(t, dims, gt, qn)
	}
	if t.offset%p.alignment != 0 {
		p.rep.Add(RuleTensorInfoInvalid, off, name,
			fmt.Sprintf("tensor %s has data offset %d, not a multiple of the alignment %d", qn, t.offset, p.alignment),
			fmt.Sprintf("offset %d", t.offset))
	}
	return t, nil
}

// tensorSize computes a tensor's byte size with overflow checks, reporting
// shapes that ggml rejects.
func (p *parser) tensorSize(t tensorInfo, dims [maxDims]uint64, gt ggmlType, qn string) (uint64, bool) {
	shape := fmt.Sprintf("%s %v", gt.name, dims)
	if dims[0]%gt.blockSize != 0 {
		p.rep.Add(RuleTensorInfoInvalid, t.off, t.name,
			fmt.Sprintf("tensor %s has %d elements per row, not a multiple of the %s block size %d", qn, dims[0], gt.name, gt.blockSize), shape)
		return 0, false
	}
	nelem := uint64(1)
	overflow := false
	for _, d := range dims {
		hi, lo := bits.Mul64(nelem, d)
		overflow = overflow || hi != 0 || lo >= 1<<63
		nelem = lo
	}
	size := dims[0] / gt.blockSize * gt.typeSize
	for _, d := range dims[1:] {
		hi, lo := bits.Mul64(size, d)
		overflow = overflow || hi != 0
		size = lo
	}
	if overflow {
		p.rep.Add(RuleTensorInfoInvalid, t.off, t.name,
			fmt.Sprintf("tensor %s has more elements or bytes than 64-bit arithmetic can count", qn), shape)
		return 0, false
	}
	return size, true
}

// region is a byte range of the file that no tensor claims.
type region struct {
	name       string
	start, len int64
}

// alignUp rounds x up to a multiple of the power of two a.
func alignUp(x, a uint64) uint64 { return (x + a - 1) &^ (a - 1) }

// span is the part of the data section a tensor claims.
type span struct {
	t          *tensorInfo
	start, end uint64
	open       bool // size unknown: the tensor reaches the next tensor
}

// zeroWindow bounds how far into an unclaimed region the scanner looks for
// its first non-zero byte.
const zeroWindow = 64 << 10

// layout checks the tensors' data ranges against the data section and each
// other and returns the unclaimed regions. Alignment padding is allowed
// between tensors; after the last tensor it must be zero.
func (p *parser) layout(tensors []tensorInfo, size int64) ([]region, error) {
	a := p.alignment
	dataStart := alignUp(uint64(p.rd.pos), a)
	var dataLen uint64
	if uint64(size) > dataStart {
		dataLen = uint64(size) - dataStart
	}
	var spans []span
	for i := range tensors {
		t := &tensors[i]
		end, carry := bits.Add64(t.offset, t.size, 0)
		if t.offset > dataLen || (t.sizeOK && (carry != 0 || end > dataLen)) {
			endText := strconv.FormatUint(end, 10)
			switch {
			case !t.sizeOK:
				endText = "?"
			case carry != 0:
				endText = "2^64+" + endText
			}
			p.rep.Add(RuleOutOfBounds, t.off, t.name,
				fmt.Sprintf("tensor %s needs bytes [%d, %s) of the data section, which is only %d bytes long (data starts at file offset %d)",
					scan.Quote(t.name, nameClip), t.offset, endText, dataLen, dataStart),
				fmt.Sprintf("offset %d, size %d; data section %d bytes", t.offset, t.size, dataLen))
		}
		if t.offset > dataLen {
			continue
		}
		if carry != 0 || end > dataLen {
			end = dataLen
		}
		spans = append(spans, span{t: t, start: t.offset, end: end, open: !t.sizeOK})
	}
	slices.SortStableFunc(spans, func(x, y span) int {
		if c := cmp.Compare(x.start, y.start); c != 0 {
			return c
		}
		return cmp.Compare(x.end, y.end)
	})
	for i := range spans {
		if !spans[i].open {
			continue
		}
		spans[i].end = dataLen
		for _, next := range spans[i+1:] {
			if next.start > spans[i].start {
				spans[i].end = next.start
				break
			}
		}
	}

	var regions []region
	var cursor uint64
	var owner *span
	for i := range spans {
		sp := &spans[i]
		padded := alignUp(cursor, a)
		switch {
		case sp.start > padded:
			from := padded
			if len(regions) < maxNested {
				var err error
				if from, err = p.firstNonZero(dataStart, cursor, sp.start, padded); err != nil {
					return nil, err
				}
			}
			p.rep.Add(RuleUnreferenced, int64(dataStart+from), "",
				fmt.Sprintf("%d bytes before tensor %s, beyond alignment padding, belong to no tensor", sp.start-from, scan.Quote(sp.t.name, nameClip)),
				fmt.Sprintf("data section bytes [%d, %d)", from, sp.start))
			regions = append(regions, region{
				name:  fmt.Sprintf("unreferenced-bytes@%d", dataStart+from),
				start: int64(dataStart + from), len: int64(sp.start - from),
			})
		case sp.start < cursor && sp.end > sp.start && owner != nil && !sp.open && !owner.open:
			p.rep.Add(RuleOverlap, int64(dataStart+sp.start), sp.t.name,
				fmt.Sprintf("tensor %s [%d, %d) overlaps tensor %s [%d, %d) by %d bytes",
					scan.Quote(sp.t.name, nameClip), sp.start, sp.end, scan.Quote(owner.t.name, nameClip), owner.start, owner.end, min(cursor, sp.end)-sp.start),
				fmt.Sprintf("%s [%d, %d) and %s [%d, %d)", scan.Quote(owner.t.name, 60), owner.start, owner.end, scan.Quote(sp.t.name, 60), sp.start, sp.end))
		}
		if sp.end > cursor {
			cursor, owner = sp.end, sp
		}
	}
	if cursor < dataLen {
		padded := min(alignUp(cursor, a), dataLen)
		from, err := p.firstNonZero(dataStart, cursor, dataLen, padded)
		if err != nil {
			return nil, err
		}
		if from < padded || dataLen > padded {
			what := "after the last tensor"
			if len(spans) == 0 {
				what = "after the header"
			}
			p.rep.Add(RuleTrailingData, int64(dataStart+from), "",
				fmt.Sprintf("%d bytes %s, from file offset %d to the end, belong to no tensor", dataLen-from, what, dataStart+from),
				fmt.Sprintf("data section bytes [%d, %d)", from, dataLen))
			regions = append(regions, region{
				name:  fmt.Sprintf("trailing-data@%d", dataStart+from),
				start: int64(dataStart + from), len: int64(dataLen - from),
			})
		}
	}
	return regions, nil
}

// firstNonZero returns the data-section offset of the first non-zero byte
// in [from, to), looking at most zeroWindow bytes in; when there is none it
// returns fallback.
func (p *parser) firstNonZero(dataStart, from, to, fallback uint64) (uint64, error) {
	n := min(to-from, zeroWindow)
	if n == 0 {
		return fallback, nil
	}
	buf := make([]byte, n)
	if err := p.rd.readAt(buf, int64(dataStart+from)); err != nil {
		return 0, err
	}
	for i, c := range buf {
		if c != 0 {
			return from + uint64(i), nil
		}
	}
	return fallback, nil
}
