package protowalk

import (
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// Kind is the protobuf type class of a known field, which fixes its wire
// type.
type Kind uint8

// The kinds of field a schema declares.
const (
	Varint  Kind = iota + 1 // int32, int64, uint64, enum, bool
	Fixed32                 // float
	Fixed64                 // double
	Bytes                   // string, bytes, message
)

func (k Kind) wireType() protowire.Type {
	switch k {
	case Fixed32:
		return protowire.Fixed32Type
	case Fixed64:
		return protowire.Fixed64Type
	case Bytes:
		return protowire.BytesType
	default:
		return protowire.VarintType
	}
}

// FieldSpec describes one field of a message as its .proto file declares
// it. Build one with Singular or Repeated.
type FieldSpec struct {
	name     string
	kind     Kind
	repeated bool // a repeated scalar may also arrive packed (length-delimited)
}

// Singular declares a non-repeated field called name.
func Singular(name string, k Kind) FieldSpec { return FieldSpec{name: name, kind: k} }

// Repeated declares a repeated field called name. A repeated scalar is
// also accepted packed, as one length-delimited field.
func Repeated(name string, k Kind) FieldSpec {
	return FieldSpec{name: name, kind: k, repeated: true}
}

// Fields are the known fields of a message by field number.
type Fields map[protowire.Number]FieldSpec

// Message is the schema of one message: its known fields by number. Fields
// not listed are skipped (forward compatibility), but a known field with
// the wrong wire type is malformed.
type Message struct {
	name   string
	fields []FieldSpec // indexed by field number; a zero FieldSpec is unknown
}

// NewMessage returns the schema of the message called name (as error
// messages show it) with the given known fields. Schemas are built once,
// from tables in the scanner, so field numbers are small.
func NewMessage(name string, fields Fields) *Message {
	hi := protowire.Number(0)
	for n := range fields {
		hi = max(hi, n)
	}
	m := &Message{name: name, fields: make([]FieldSpec, hi+1)}
	for n, f := range fields {
		m.fields[n] = f
	}
	return m
}

// Check validates f's wire type against the schema. A packed repeated
// scalar has its framing checked without its payload being read.
func (m *Message) Check(r *Reader, f Field) error {
	if int(f.Num) >= len(m.fields) || m.fields[f.Num].kind == 0 {
		return nil
	}
	fs := m.fields[f.Num]
	want := fs.kind.wireType()
	if f.Type == want {
		return nil
	}
	if fs.repeated && fs.kind != Bytes && f.Type == protowire.BytesType {
		return checkPacked(r, m, fs, f)
	}
	return &MalformedError{Offset: f.Offset, Reason: fmt.Sprintf("%s.%s (field %d) has wire type %s, want %s",
		m.name, fs.name, f.Num, typeName(f.Type), typeName(want))}
}

// checkPacked validates the framing of a packed repeated scalar without
// reading its (possibly huge) payload: fixed-width elements must fill it
// exactly and the last varint must be complete.
func checkPacked(r *Reader, m *Message, fs FieldSpec, f Field) error {
	bad := func(what string) error {
		return &MalformedError{Offset: f.Offset, Reason: fmt.Sprintf("%s.%s (field %d): packed payload of %d bytes %s", m.name, fs.name, f.Num, f.Len, what)}
	}
	switch fs.kind {
	case Fixed32:
		if f.Len%4 != 0 {
			return bad("is not a whole number of 4-byte values")
		}
	case Fixed64:
		if f.Len%8 != 0 {
			return bad("is not a whole number of 8-byte values")
		}
	default:
		if f.Len == 0 {
			return nil
		}
		b, err := r.At(f.End-1, 1)
		if err != nil {
			return err
		}
		if b[0]&0x80 != 0 {
			return bad("ends inside a varint")
		}
	}
	return nil
}

func typeName(t protowire.Type) string {
	switch t {
	case protowire.VarintType:
		return "varint"
	case protowire.Fixed32Type:
		return "fixed32"
	case protowire.Fixed64Type:
		return "fixed64"
	case protowire.BytesType:
		return "length-delimited"
	case protowire.StartGroupType:
		return "start-group"
	case protowire.EndGroupType:
		return "end-group"
	}
	return fmt.Sprintf("%d", t)
}

// Walk decodes the fields of one message of schema m in [start, end),
// checks each against m and hands it to fn, stopping at the first error.
// fn descends into a sub-message by calling Walk on [f.Start, f.End).
func (r *Reader) Walk(m *Message, start, end int64, fn func(f Field) error) error {
	for pos := start; pos < end; {
		f, err := r.Next(pos, end)
		if err != nil {
			return err
		}
		if err := m.Check(r, f); err != nil {
			return err
		}
		if err := fn(f); err != nil {
			return err
		}
		pos = f.End
	}
	return nil
}

// Validate walks the message held by the length-delimited field f,
// checking each of its fields against m, and looks at nothing else: for
// sub-messages a scanner needs well-formed but does not analyse.
func (r *Reader) Validate(m *Message, f Field) error {
	return r.Walk(m, f.Start, f.End, func(Field) error { return nil })
}
