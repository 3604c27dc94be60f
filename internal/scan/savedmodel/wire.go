package savedmodel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// windowSize is how many bytes of the object the wire reader holds at a
// time. Fields are decoded from this window; payloads the scanner does not
// need (raw tensor bytes) are skipped by offset and never read, so memory
// stays flat whatever the size of the model.
const windowSize = 64 << 10

// maxGroupDepth bounds the nesting of (deprecated) protobuf groups skipped
// inside unknown fields.
const maxGroupDepth = 64

// ctxCheckEvery is how many fields are decoded between context checks.
const ctxCheckEvery = 4096

// malformedError reports content that is not valid protobuf wire format,
// or that breaks the schema of a field the scanner knows.
type malformedError struct {
	off      int64  // byte offset of the offending tag or value
	msg      string // what is wrong
	where    string // pointer to the innermost message being read
	whereSet bool
}

func (e *malformedError) Error() string { return fmt.Sprintf("offset %d: %s", e.off, e.msg) }

// field is one decoded protobuf field.
type field struct {
	num protowire.Number
	typ protowire.Type
	off int64  // offset of the tag
	val int64  // offset of the value (for length-delimited fields, of the payload)
	u   uint64 // value of varint and fixed-width fields
	n   int64  // payload length of length-delimited fields
	end int64  // offset just after the field
}

// wireReader decodes protobuf fields from an io.ReaderAt through a bounded
// window.
type wireReader struct {
	ctx    context.Context
	r      io.ReaderAt
	size   int64
	win    []byte
	winOff int64
	winLen int
	count  int
}

func newWireReader(ctx context.Context, r io.ReaderAt, size int64) *wireReader {
	n := int64(windowSize)
	if size < n {
		n = size
	}
	return &wireReader{ctx: ctx, r: r, size: size, win: make([]byte, max(n, 0)), winOff: -1}
}

// at returns up to n bytes at off (fewer at the end of the object). n must
// not exceed the window size. The slice is valid until the next call.
func (w *wireReader) at(off int64, n int) ([]byte, error) {
	if off < 0 || off > w.size {
		return nil, &malformedError{off: off, msg: "offset outside the object"}
	}
	if rest := w.size - off; int64(n) > rest {
		n = int(rest)
	}
	if w.winOff >= 0 && off >= w.winOff && off+int64(n) <= w.winOff+int64(w.winLen) {
		i := int(off - w.winOff)
		return w.win[i : i+n], nil
	}
	fill := len(w.win)
	if rest := w.size - off; int64(fill) > rest {
		fill = int(rest)
	}
	got, err := w.r.ReadAt(w.win[:fill], off)
	if got < fill {
		w.winOff = -1
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read at offset %d: %w", off, err)
	}
	w.winOff, w.winLen = off, fill
	return w.win[:n], nil
}

// varint decodes a varint at off that must end before end.
func (w *wireReader) varint(off, end int64) (uint64, int64, error) {
	b, err := w.at(off, int(min(int64(binary.MaxVarintLen64), end-off)))
	if err != nil {
		return 0, 0, err
	}
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, 0, &malformedError{off: off, msg: varintProblem(n, end-off)}
	}
	return v, int64(n), nil
}

func varintProblem(code int, left int64) string {
	if errors.Is(protowire.ParseError(code), io.ErrUnexpectedEOF) {
		return fmt.Sprintf("truncated varint (%d bytes left in the enclosing message)", left)
	}
	return "invalid varint (longer than 10 bytes or over 64 bits)"
}

// next decodes the field that starts at pos and must end by end.
func (w *wireReader) next(pos, end int64) (field, error) {
	w.count++
	if w.count%ctxCheckEvery == 0 {
		if err := w.ctx.Err(); err != nil {
			return field{}, err
		}
	}
	tag, tn, err := w.varint(pos, end)
	if err != nil {
		return field{}, err
	}
	num, typ := protowire.DecodeTag(tag)
	if num < protowire.MinValidNumber || num > protowire.MaxValidNumber {
		return field{}, &malformedError{off: pos, msg: fmt.Sprintf("invalid field number %d", tag>>3)}
	}
	f := field{num: num, typ: typ, off: pos, val: pos + tn}
	switch typ {
	case protowire.VarintType:
		v, n, err := w.varint(f.val, end)
		if err != nil {
			return field{}, err
		}
		f.u, f.end = v, f.val+n
	case protowire.Fixed32Type, protowire.Fixed64Type:
		size := 4
		if typ == protowire.Fixed64Type {
			size = 8
		}
		if end-f.val < int64(size) {
			return field{}, &malformedError{off: pos, msg: fmt.Sprintf("field %d: truncated %d-byte value", num, size)}
		}
		b, err := w.at(f.val, size)
		if err != nil {
			return field{}, err
		}
		if size == 4 {
			v, _ := protowire.ConsumeFixed32(b)
			f.u = uint64(v)
		} else {
			f.u, _ = protowire.ConsumeFixed64(b)
		}
		f.end = f.val + int64(size)
	case protowire.BytesType:
		v, n, err := w.varint(f.val, end)
		if err != nil {
			return field{}, err
		}
		f.val += n
		if left := end - f.val; v > uint64(left) {
			return field{}, &malformedError{off: pos, msg: fmt.Sprintf("field %d: length %d runs past the end of the enclosing message (%d bytes left)", num, v, left)}
		}
		f.n = int64(v)
		f.end = f.val + f.n
	case protowire.StartGroupType:
		groupEnd, err := w.skipGroup(num, f.val, end)
		if err != nil {
			return field{}, err
		}
		f.n = groupEnd - f.val
		f.end = groupEnd
	case protowire.EndGroupType:
		return field{}, &malformedError{off: pos, msg: fmt.Sprintf("field %d: end-group tag without a start-group tag", num)}
	default:
		return field{}, &malformedError{off: pos, msg: fmt.Sprintf("field %d: invalid wire type %d", num, typ)}
	}
	return f, nil
}

// skipGroup skips the body of a group opened by field num at pos and
// returns the offset just after its end-group tag.
func (w *wireReader) skipGroup(num protowire.Number, pos, end int64) (int64, error) {
	open := []protowire.Number{num}
	for pos < end {
		tag, tn, err := w.varint(pos, end)
		if err != nil {
			return 0, err
		}
		n, typ := protowire.DecodeTag(tag)
		if n < protowire.MinValidNumber || n > protowire.MaxValidNumber {
			return 0, &malformedError{off: pos, msg: fmt.Sprintf("invalid field number %d", tag>>3)}
		}
		switch typ {
		case protowire.StartGroupType:
			if len(open) >= maxGroupDepth {
				return 0, &malformedError{off: pos, msg: fmt.Sprintf("groups nested deeper than %d levels", maxGroupDepth)}
			}
			open = append(open, n)
			pos += tn
		case protowire.EndGroupType:
			if n != open[len(open)-1] {
				return 0, &malformedError{off: pos, msg: fmt.Sprintf("end-group tag %d does not close group %d", n, open[len(open)-1])}
			}
			open = open[:len(open)-1]
			pos += tn
			if len(open) == 0 {
				return pos, nil
			}
		default:
			f, err := w.next(pos, end)
			if err != nil {
				return 0, err
			}
			pos = f.end
		}
	}
	return 0, &malformedError{off: pos, msg: fmt.Sprintf("group %d is not closed before the end of the enclosing message", num)}
}

// bytes returns up to limit bytes of a length-delimited field's payload,
// and whether the payload was longer.
func (w *wireReader) bytes(f field, limit int) ([]byte, bool, error) {
	n := f.n
	truncated := false
	if n > int64(limit) {
		n, truncated = int64(limit), true
	}
	out := make([]byte, n)
	if n == 0 {
		return out, truncated, nil
	}
	if n <= int64(len(w.win)) {
		b, err := w.at(f.val, int(n))
		if err != nil {
			return nil, false, err
		}
		copy(out, b)
		return out, truncated, nil
	}
	got, err := w.r.ReadAt(out, f.val)
	if int64(got) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, false, fmt.Errorf("read at offset %d: %w", f.val, err)
	}
	return out, truncated, nil
}

// str returns a length-delimited field as a string of at most limit bytes;
// a longer payload is cut and marked with "...".
func (w *wireReader) str(f field, limit int) (string, error) {
	b, truncated, err := w.bytes(f, limit)
	if err != nil {
		return "", err
	}
	if truncated {
		return string(b) + "...", nil
	}
	return string(b), nil
}

// equal reports whether a length-delimited field's payload is exactly s,
// without allocating.
func (w *wireReader) equal(f field, s string) (bool, error) {
	if f.n != int64(len(s)) || len(s) > len(w.win) {
		return false, nil
	}
	b, err := w.at(f.val, len(s))
	if err != nil {
		return false, err
	}
	return string(b) == s, nil
}
