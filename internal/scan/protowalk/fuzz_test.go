package protowalk

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// fuzzSpec declares fields 1-6 with every kind, so that Check runs on
// whatever wire types the fuzzer produces, packed payloads included.
var fuzzSpec = NewMessage("Fuzz", Fields{
	1: Singular("v", Varint),
	2: Repeated("f32", Fixed32),
	3: Repeated("f64", Fixed64),
	4: Repeated("vs", Varint),
	5: Singular("msg", Bytes),
	6: Repeated("strs", Bytes),
})

// FuzzWireReader decodes arbitrary bytes as a message, descending into
// every length-delimited payload as if it were a sub-message, and checks
// that whatever the Reader accepts protowire decodes the same way, and
// that whatever it rejects is rejected with a *MalformedError inside the
// enclosing message, never with a panic or a read error.
func FuzzWireReader(f *testing.F) {
	tag := protowire.AppendTag
	var scalars []byte
	scalars = protowire.AppendVarint(tag(scalars, 1, protowire.VarintType), 150)
	scalars = protowire.AppendFixed32(tag(scalars, 2, protowire.Fixed32Type), 0x3f800000)
	scalars = protowire.AppendFixed64(tag(scalars, 3, protowire.Fixed64Type), 1<<63)
	scalars = protowire.AppendString(tag(scalars, 6, protowire.BytesType), "location")
	packed := protowire.AppendBytes(tag(nil, 4, protowire.BytesType), protowire.AppendVarint(protowire.AppendVarint(nil, 1), 300))
	packed = protowire.AppendBytes(tag(packed, 2, protowire.BytesType), make([]byte, 8))
	nested := protowire.AppendBytes(tag(nil, 5, protowire.BytesType), protowire.AppendBytes(tag(nil, 5, protowire.BytesType), packed))
	group := tag(nil, 30, protowire.StartGroupType)
	group = protowire.AppendVarint(tag(group, 1, protowire.VarintType), 5)
	group = tag(tag(group, 31, protowire.StartGroupType), 31, protowire.EndGroupType)
	group = tag(group, 30, protowire.EndGroupType)
	for _, seed := range [][]byte{
		nil,
		scalars,
		append(scalars, nested...),
		append(group, packed...),
		protowire.AppendVarint(tag(nil, 5, protowire.BytesType), 100), // length past the end
		{0x08, 0x80},             // truncated varint
		{0x00},                   // field number zero
		{0x0b, 0x14, 0x1c, 0x0c}, // mismatched end-group
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(t.Context(), bytes.NewReader(data), int64(len(data)))
		if err := checkMessage(r, data, 0, int64(len(data)), 0); err != nil {
			t.Fatal(err)
		}
	})
}

// checkMessage decodes data[start:end] as a message with r and compares
// every field with protowire's in-memory decoding. It returns an error
// rather than failing a test so that it can recurse cheaply.
func checkMessage(r *Reader, data []byte, start, end int64, depth int) error {
	for pos := start; pos < end; {
		f, err := r.Next(pos, end)
		if err != nil {
			var me *MalformedError
			if !errors.As(err, &me) {
				return fmt.Errorf("Next(%d, %d): %w, want a *MalformedError", pos, end, err)
			}
			if me.Offset < start || me.Offset > end {
				return fmt.Errorf("Next(%d, %d): error offset %d outside the message", pos, end, me.Offset)
			}
			return nil
		}
		rest := data[pos:end]
		num, typ, n := protowire.ConsumeField(rest)
		if n < 0 {
			return fmt.Errorf("Next(%d, %d) accepted a field protowire rejects: %w", pos, end, protowire.ParseError(n))
		}
		if f.Num != num || f.Type != typ || f.Offset != pos || f.End != pos+int64(n) {
			return fmt.Errorf("field at %d = %d/%d ending at %d, want %d/%d ending at %d", pos, f.Num, f.Type, f.End, num, typ, pos+int64(n))
		}
		_, _, tn := protowire.ConsumeTag(rest)
		switch typ {
		case protowire.VarintType:
			if v, _ := protowire.ConsumeVarint(rest[tn:]); f.Value != v {
				return fmt.Errorf("varint at %d = %d, want %d", pos, f.Value, v)
			}
		case protowire.Fixed32Type:
			if v, _ := protowire.ConsumeFixed32(rest[tn:]); f.Value != uint64(v) {
				return fmt.Errorf("fixed32 at %d = %d, want %d", pos, f.Value, v)
			}
		case protowire.Fixed64Type:
			if v, _ := protowire.ConsumeFixed64(rest[tn:]); f.Value != v {
				return fmt.Errorf("fixed64 at %d = %d, want %d", pos, f.Value, v)
			}
		case protowire.BytesType:
			if err := checkPayload(r, f, rest[tn:]); err != nil {
				return err
			}
			if depth < 8 {
				if err := checkMessage(r, data, f.Start, f.End, depth+1); err != nil {
					return err
				}
			}
		}
		if err := fuzzSpec.Check(r, f); err != nil {
			var me *MalformedError
			if !errors.As(err, &me) || me.Offset != pos {
				return fmt.Errorf("Check(field at %d): %w, want a *MalformedError at the field", pos, err)
			}
		}
		pos = f.End
	}
	return nil
}

// checkPayload compares what Bytes, Text and Equal return for a
// length-delimited field with the payload protowire decodes from b. Equal
// only compares strings that fit the window.
func checkPayload(r *Reader, f Field, b []byte) error {
	want, _ := protowire.ConsumeBytes(b)
	if f.Len != int64(len(want)) {
		return fmt.Errorf("payload at %d: length %d, want %d", f.Offset, f.Len, len(want))
	}
	got, truncated, err := r.Bytes(f, len(want))
	if err != nil || truncated || !bytes.Equal(got, want) {
		return fmt.Errorf("Bytes(field at %d): got %q (truncated %v, err %v), want %q", f.Offset, got, truncated, err, want)
	}
	if len(want) > 0 {
		s, err := r.Text(f, len(want)-1)
		if wantS := string(want[:len(want)-1]) + "..."; err != nil || s != wantS {
			return fmt.Errorf("Text(field at %d, %d) = %q, %v, want %q", f.Offset, len(want)-1, s, err, wantS)
		}
	}
	if eq, err := r.Equal(f, string(want)); err != nil || eq != (len(want) <= WindowSize) {
		return fmt.Errorf("Equal(field at %d, its own payload) = %v, %v", f.Offset, eq, err)
	}
	if eq, err := r.Equal(f, string(want)+"x"); err != nil || eq {
		return fmt.Errorf("Equal(field at %d, a longer string) = %v, %v", f.Offset, eq, err)
	}
	return nil
}
