package protowalk

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
)

// WindowSize is how many bytes of the object a Reader holds at a time.
// Fields are decoded from this window; payloads the scanner does not need
// are skipped by offset and never read, so memory stays flat whatever the
// size of the object.
const WindowSize = 64 << 10

// ContextCheckInterval is how many fields a Reader decodes between checks
// of its context, so that cancelling a scan of a huge object takes effect
// promptly without paying for a check on every field.
const ContextCheckInterval = 4096

// maxGroupDepth bounds the nesting of (deprecated) protobuf groups skipped
// inside unknown fields.
const maxGroupDepth = 64

// MalformedError reports content that is not valid protobuf wire format,
// or that breaks the schema of a field the scanner knows.
type MalformedError struct {
	// Offset is the byte offset of the offending tag or value.
	Offset int64
	// Reason says what is wrong.
	Reason string
	// Pointer names the innermost message being read when the error was
	// found, as Path renders it; see Locate.
	Pointer string

	located bool
}

// Error returns the offset and the reason; Pointer is left to the scanner
// to report.
func (e *MalformedError) Error() string { return fmt.Sprintf("offset %d: %s", e.Offset, e.Reason) }

// Locate sets Pointer to pointer() unless an earlier call already did.
// Path.Descend calls it on the way out of every nested message, so the
// innermost message wins and pointer is rendered only once.
func (e *MalformedError) Locate(pointer func() string) {
	if !e.located {
		e.Pointer, e.located = pointer(), true
	}
}

// Field is one decoded protobuf field. All offsets are absolute offsets
// in the object.
type Field struct {
	Num    protowire.Number // field number, within the valid range
	Type   protowire.Type   // wire type, never an end-group
	Offset int64            // offset of the tag
	Start  int64            // offset of the value; for length-delimited fields, of the payload
	Value  uint64           // value of varint and fixed-width fields
	Len    int64            // payload length of length-delimited fields (and of a group's body)
	End    int64            // offset just after the field
}

// Reader decodes protobuf fields from an io.ReaderAt through a bounded
// window of WindowSize bytes. It is not safe for concurrent use.
type Reader struct {
	ctx    context.Context // checked every ContextCheckInterval fields
	src    io.ReaderAt
	size   int64
	win    []byte
	winOff int64
	winLen int
	count  int
}

// NewReader returns a Reader for the first size bytes of src. Its decoding stops
// with ctx's error once ctx is done; the window is allocated here, at most
// WindowSize bytes and never more than size.
func NewReader(ctx context.Context, src io.ReaderAt, size int64) *Reader {
	n := int64(WindowSize)
	if size < n {
		n = size
	}
	return &Reader{ctx: ctx, src: src, size: size, win: make([]byte, max(n, 0)), winOff: -1}
}

// At returns up to n bytes at off (fewer at the end of the object). n must
// not exceed WindowSize. The slice aliases the window: it is valid only
// until the next call on the Reader and must not be modified.
func (r *Reader) At(off int64, n int) ([]byte, error) {
	if off < 0 || off > r.size {
		return nil, &MalformedError{Offset: off, Reason: "offset outside the object"}
	}
	if rest := r.size - off; int64(n) > rest {
		n = int(rest)
	}
	if r.winOff >= 0 && off >= r.winOff && off+int64(n) <= r.winOff+int64(r.winLen) {
		i := int(off - r.winOff)
		return r.win[i : i+n], nil
	}
	fill := len(r.win)
	if rest := r.size - off; int64(fill) > rest {
		fill = int(rest)
	}
	got, err := r.src.ReadAt(r.win[:fill], off)
	if got < fill {
		r.winOff = -1
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read at offset %d: %w", off, err)
	}
	r.winOff, r.winLen = off, fill
	return r.win[:n], nil
}

// varint decodes a varint at off that must end before end.
func (r *Reader) varint(off, end int64) (uint64, int64, error) {
	b, err := r.At(off, int(min(int64(binary.MaxVarintLen64), end-off)))
	if err != nil {
		return 0, 0, err
	}
	v, n := protowire.ConsumeVarint(b)
	if n < 0 {
		return 0, 0, &MalformedError{Offset: off, Reason: varintProblem(n, end-off)}
	}
	return v, int64(n), nil
}

func varintProblem(code int, left int64) string {
	if errors.Is(protowire.ParseError(code), io.ErrUnexpectedEOF) {
		return fmt.Sprintf("truncated varint (%d bytes left in the enclosing message)", left)
	}
	return "invalid varint (longer than 10 bytes or over 64 bits)"
}

// Next decodes the field that starts at pos and must end by end, the end
// of the enclosing message. A length-delimited field's payload is not
// read; a group (an unknown field in practice) is skipped whole.
func (r *Reader) Next(pos, end int64) (Field, error) {
	r.count++
	if r.count%ContextCheckInterval == 0 {
		if err := r.ctx.Err(); err != nil {
			return Field{}, err
		}
	}
	tag, tn, err := r.varint(pos, end)
	if err != nil {
		return Field{}, err
	}
	num, typ := protowire.DecodeTag(tag)
	if num < protowire.MinValidNumber || num > protowire.MaxValidNumber {
		return Field{}, &MalformedError{Offset: pos, Reason: fmt.Sprintf("invalid field number %d", tag>>3)}
	}
	f := Field{Num: num, Type: typ, Offset: pos, Start: pos + tn}
	switch typ {
	case protowire.VarintType:
		v, n, err := r.varint(f.Start, end)
		if err != nil {
			return Field{}, err
		}
		f.Value, f.End = v, f.Start+n
	case protowire.Fixed32Type, protowire.Fixed64Type:
		size := 4
		if typ == protowire.Fixed64Type {
			size = 8
		}
		if end-f.Start < int64(size) {
			return Field{}, &MalformedError{Offset: pos, Reason: fmt.Sprintf("field %d: truncated %d-byte value", num, size)}
		}
		b, err := r.At(f.Start, size)
		if err != nil {
			return Field{}, err
		}
		if size == 4 {
			v, _ := protowire.ConsumeFixed32(b)
			f.Value = uint64(v)
		} else {
			f.Value, _ = protowire.ConsumeFixed64(b)
		}
		f.End = f.Start + int64(size)
	case protowire.BytesType:
		v, n, err := r.varint(f.Start, end)
		if err != nil {
			return Field{}, err
		}
		f.Start += n
		if left := end - f.Start; v > uint64(left) {
			return Field{}, &MalformedError{Offset: pos, Reason: fmt.Sprintf("field %d: length %d runs past the end of the enclosing message (%d bytes left)", num, v, left)}
		}
		f.Len = int64(v)
		f.End = f.Start + f.Len
	case protowire.StartGroupType:
		groupEnd, err := r.skipGroup(num, f.Start, end)
		if err != nil {
			return Field{}, err
		}
		f.Len = groupEnd - f.Start
		f.End = groupEnd
	case protowire.EndGroupType:
		return Field{}, &MalformedError{Offset: pos, Reason: fmt.Sprintf("field %d: end-group tag without a start-group tag", num)}
	default:
		return Field{}, &MalformedError{Offset: pos, Reason: fmt.Sprintf("field %d: invalid wire type %d", num, typ)}
	}
	return f, nil
}

// skipGroup skips the body of a group opened by field num at pos and
// returns the offset just after its end-group tag.
func (r *Reader) skipGroup(num protowire.Number, pos, end int64) (int64, error) {
	open := []protowire.Number{num}
	for pos < end {
		tag, tn, err := r.varint(pos, end)
		if err != nil {
			return 0, err
		}
		n, typ := protowire.DecodeTag(tag)
		if n < protowire.MinValidNumber || n > protowire.MaxValidNumber {
			return 0, &MalformedError{Offset: pos, Reason: fmt.Sprintf("invalid field number %d", tag>>3)}
		}
		switch typ {
		case protowire.StartGroupType:
			if len(open) >= maxGroupDepth {
				return 0, &MalformedError{Offset: pos, Reason: fmt.Sprintf("groups nested deeper than %d levels", maxGroupDepth)}
			}
			open = append(open, n)
			pos += tn
		case protowire.EndGroupType:
			if n != open[len(open)-1] {
				return 0, &MalformedError{Offset: pos, Reason: fmt.Sprintf("end-group tag %d does not close group %d", n, open[len(open)-1])}
			}
			open = open[:len(open)-1]
			pos += tn
			if len(open) == 0 {
				return pos, nil
			}
		default:
			f, err := r.Next(pos, end)
			if err != nil {
				return 0, err
			}
			pos = f.End
		}
	}
	return 0, &MalformedError{Offset: pos, Reason: fmt.Sprintf("group %d is not closed before the end of the enclosing message", num)}
}

// Bytes returns a copy of up to limit bytes of a length-delimited field's
// payload, and whether the payload was longer. It allocates at most
// min(f.Len, limit) bytes; f must come from Next or Walk, which checked
// f.Len against the enclosing message.
func (r *Reader) Bytes(f Field, limit int) ([]byte, bool, error) {
	n := f.Len
	truncated := false
	if n > int64(limit) {
		n, truncated = int64(limit), true
	}
	out := make([]byte, n)
	if n == 0 {
		return out, truncated, nil
	}
	if n <= int64(len(r.win)) {
		b, err := r.At(f.Start, int(n))
		if err != nil {
			return nil, false, err
		}
		copy(out, b)
		return out, truncated, nil
	}
	got, err := r.src.ReadAt(out, f.Start)
	if int64(got) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, false, fmt.Errorf("read at offset %d: %w", f.Start, err)
	}
	return out, truncated, nil
}

// Text returns a length-delimited field's payload as a string of at most
// limit bytes; a longer payload is cut and marked with "...".
func (r *Reader) Text(f Field, limit int) (string, error) {
	b, truncated, err := r.Bytes(f, limit)
	if err != nil {
		return "", err
	}
	if truncated {
		return string(b) + "...", nil
	}
	return string(b), nil
}

// Equal reports whether a length-delimited field's payload is exactly s,
// without allocating.
func (r *Reader) Equal(f Field, s string) (bool, error) {
	if f.Len != int64(len(s)) || len(s) > len(r.win) {
		return false, nil
	}
	b, err := r.At(f.Start, len(s))
	if err != nil {
		return false, err
	}
	return string(b) == s, nil
}
