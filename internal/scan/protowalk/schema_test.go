package protowalk

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/protowire"
)

var testSpec = NewMessage("Test", Fields{
	1: Singular("count", Varint),
	2: Repeated("floats", Fixed32),
	3: Repeated("doubles", Fixed64),
	4: Repeated("ints", Varint),
	5: Singular("name", Bytes),
	6: Repeated("children", Bytes),
	8: Singular("scale", Fixed32),
})

func TestMessageCheck(t *testing.T) {
	t.Parallel()
	tag := protowire.AppendTag
	varint := func(num protowire.Number, v uint64) []byte {
		return protowire.AppendVarint(tag(nil, num, protowire.VarintType), v)
	}
	payload := func(num protowire.Number, b []byte) []byte {
		return protowire.AppendBytes(tag(nil, num, protowire.BytesType), b)
	}
	tests := []struct {
		name       string
		field      []byte
		wantReason string // "" for no error
	}{
		{"known field", varint(1, 3), ""},
		{"unknown field in a gap", varint(7, 3), ""},
		{"unknown field past the table", payload(100, []byte("x")), ""},
		{"singular varint as bytes", payload(1, []byte{1}), "Test.count (field 1) has wire type length-delimited, want varint"},
		{"bytes as varint", varint(5, 1), "Test.name (field 5) has wire type varint, want length-delimited"},
		{"repeated bytes as fixed64", protowire.AppendFixed64(tag(nil, 6, protowire.Fixed64Type), 1), "Test.children (field 6) has wire type fixed64, want length-delimited"},
		{"singular fixed32 is never packed", payload(8, make([]byte, 4)), "Test.scale (field 8) has wire type length-delimited, want fixed32"},
		{"group on a known field", append(tag(nil, 5, protowire.StartGroupType), tag(nil, 5, protowire.EndGroupType)...), "Test.name (field 5) has wire type start-group, want length-delimited"},
		{"repeated fixed32 unpacked", protowire.AppendFixed32(tag(nil, 2, protowire.Fixed32Type), 1), ""},
		{"packed fixed32", payload(2, make([]byte, 8)), ""},
		{"packed fixed32 of 5 bytes", payload(2, make([]byte, 5)), "Test.floats (field 2): packed payload of 5 bytes is not a whole number of 4-byte values"},
		{"packed fixed64", payload(3, make([]byte, 16)), ""},
		{"packed fixed64 of 12 bytes", payload(3, make([]byte, 12)), "Test.doubles (field 3): packed payload of 12 bytes is not a whole number of 8-byte values"},
		{"packed varints", payload(4, protowire.AppendVarint([]byte{1}, 300)), ""},
		{"packed varints, empty", payload(4, nil), ""},
		{"packed varints ending inside a varint", payload(4, []byte{1, 0x80}), "Test.ints (field 4): packed payload of 2 bytes ends inside a varint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			msg := append([]byte{0x08, 0x01}, tt.field...) // a field before, so offsets are not zero
			r := NewReader(t.Context(), bytes.NewReader(msg), int64(len(msg)))
			f, err := r.Next(2, int64(len(msg)))
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			err = testSpec.Check(r, f)
			if tt.wantReason == "" {
				if err != nil {
					t.Errorf("Check: %v, want nil", err)
				}
				return
			}
			var me *MalformedError
			if !errors.As(err, &me) {
				t.Fatalf("Check: %v, want a *MalformedError", err)
			}
			if me.Offset != 2 || me.Reason != tt.wantReason {
				t.Errorf("Check: offset %d, %q, want offset 2, %q", me.Offset, me.Reason, tt.wantReason)
			}
		})
	}
}

func TestWalk(t *testing.T) {
	t.Parallel()
	child := protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 7)
	msg := protowire.AppendBytes(protowire.AppendTag(nil, 6, protowire.BytesType), child)
	msg = protowire.AppendVarint(protowire.AppendTag(msg, 9, protowire.VarintType), 1) // unknown
	msg = protowire.AppendVarint(protowire.AppendTag(msg, 5, protowire.VarintType), 1) // wrong wire type
	msg = protowire.AppendVarint(protowire.AppendTag(msg, 1, protowire.VarintType), 2) // never reached
	r := NewReader(t.Context(), bytes.NewReader(msg), int64(len(msg)))
	var got []protowire.Number
	err := r.Walk(testSpec, 0, int64(len(msg)), func(f Field) error {
		got = append(got, f.Num)
		if f.Num != 6 {
			return nil
		}
		return r.Walk(testSpec, f.Start, f.End, func(f Field) error {
			got = append(got, 100+f.Num)
			return nil
		})
	})
	var me *MalformedError
	if !errors.As(err, &me) || me.Reason != "Test.name (field 5) has wire type varint, want length-delimited" {
		t.Errorf("Walk: %v, want the wire-type error of field 5", err)
	}
	if diff := cmp.Diff(got, []protowire.Number{6, 101, 9}); diff != "" {
		t.Errorf("fields handed to fn (-got +want):\n%s", diff)
	}

	stop := errors.New("stop")
	got = nil
	err = r.Walk(testSpec, 0, int64(len(msg)), func(f Field) error {
		got = append(got, f.Num)
		return stop
	})
	if !errors.Is(err, stop) {
		t.Errorf("Walk with fn failing: %v, want %v", err, stop)
	}
	if diff := cmp.Diff(got, []protowire.Number{6}); diff != "" {
		t.Errorf("fields handed to a failing fn (-got +want):\n%s", diff)
	}
}

func TestMalformedErrorLocate(t *testing.T) {
	t.Parallel()
	calls := 0
	pointer := func(p string) func() string {
		return func() string { calls++; return p }
	}
	e := &MalformedError{Offset: 3, Reason: "bad"}
	e.Locate(pointer("graph.node[2]")) // innermost message, on the way out
	e.Locate(pointer("graph"))
	e.Locate(pointer(""))
	if e.Pointer != "graph.node[2]" || calls != 1 {
		t.Errorf("Pointer = %q after %d renderings, want %q after 1", e.Pointer, calls, "graph.node[2]")
	}
	if got, want := e.Error(), "offset 3: bad"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
