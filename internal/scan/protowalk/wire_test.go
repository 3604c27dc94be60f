package protowalk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/palisade-sec/palisade/internal/testutil"
	"google.golang.org/protobuf/encoding/protowire"
)

// TestWireReaderMatchesProtowire decodes a message several windows long,
// with fields straddling window boundaries and payloads larger than the
// window, and compares every field with protowire's in-memory decoding.
func TestWireReaderMatchesProtowire(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	var msg []byte
	for len(msg) < 5*WindowSize {
		num := protowire.Number(1 + rng.IntN(2000))
		switch rng.IntN(5) {
		case 0:
			msg = protowire.AppendVarint(protowire.AppendTag(msg, num, protowire.VarintType), rng.Uint64()>>rng.IntN(64))
		case 1:
			msg = protowire.AppendFixed32(protowire.AppendTag(msg, num, protowire.Fixed32Type), rng.Uint32())
		case 2:
			msg = protowire.AppendFixed64(protowire.AppendTag(msg, num, protowire.Fixed64Type), rng.Uint64())
		case 3:
			n := rng.IntN(100)
			if rng.IntN(20) == 0 {
				n = WindowSize + rng.IntN(WindowSize) // larger than the window
			}
			msg = protowire.AppendBytes(protowire.AppendTag(msg, num, protowire.BytesType), bytes.Repeat([]byte{byte(n)}, n))
		case 4:
			msg = protowire.AppendTag(msg, num, protowire.StartGroupType)
			msg = protowire.AppendVarint(protowire.AppendTag(msg, 1, protowire.VarintType), 1)
			msg = protowire.AppendTag(msg, num, protowire.EndGroupType)
		}
	}
	w := NewReader(t.Context(), bytes.NewReader(msg), int64(len(msg)))
	pos, rest := int64(0), msg
	for len(rest) > 0 {
		num, typ, n := protowire.ConsumeField(rest)
		if n < 0 {
			t.Fatalf("protowire: %v", protowire.ParseError(n))
		}
		f, err := w.Next(pos, int64(len(msg)))
		if err != nil {
			t.Fatalf("next at %d: %v", pos, err)
		}
		if f.Num != num || f.Type != typ || f.End != pos+int64(n) {
			t.Fatalf("field at %d = %d/%d ending at %d, want %d/%d ending at %d", pos, f.Num, f.Type, f.End, num, typ, pos+int64(n))
		}
		if typ == protowire.BytesType {
			_, _, tn := protowire.ConsumeTag(rest)
			want, _ := protowire.ConsumeBytes(rest[tn:])
			got, truncated, err := w.Bytes(f, len(want))
			if err != nil || truncated || !bytes.Equal(got, want) {
				t.Fatalf("payload at %d: got %d bytes (truncated %v, err %v), want %d", pos, len(got), truncated, err, len(want))
			}
		}
		pos += int64(n)
		rest = rest[n:]
	}
}

func TestWireReaderReadError(t *testing.T) {
	t.Parallel()
	msg := protowire.AppendBytes(protowire.AppendTag(nil, 1, protowire.BytesType), make([]byte, 3*WindowSize))
	msg = protowire.AppendVarint(protowire.AppendTag(msg, 2, protowire.VarintType), 1)
	w := NewReader(t.Context(), testutil.FailingReaderAt{Data: msg, N: WindowSize}, int64(len(msg)))
	f, err := w.Next(0, int64(len(msg)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Next(f.End, int64(len(msg))); !errors.Is(err, testutil.ErrDisk) {
		t.Errorf("next past the readable part: err = %v, want %v", err, testutil.ErrDisk)
	}
	_, _, err = w.Bytes(f, len(msg))
	if !errors.Is(err, testutil.ErrDisk) {
		t.Errorf("bytes past the readable part: err = %v, want %v", err, testutil.ErrDisk)
	}
	var me *MalformedError
	if errors.As(err, &me) {
		t.Errorf("a read error is reported as malformed content")
	}
	short := NewReader(t.Context(), bytes.NewReader(msg[:10]), int64(len(msg)))
	if _, err := short.Next(f.End, int64(len(msg))); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("object shorter than its size: err = %v, want %v", err, io.ErrUnexpectedEOF)
	}
}

func TestMalformedErrorString(t *testing.T) {
	t.Parallel()
	err := error(&MalformedError{Offset: 7, Reason: "bad"})
	if got, want := err.Error(), "offset 7: bad"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got := fmt.Sprintln(typeName(protowire.StartGroupType), typeName(protowire.EndGroupType), typeName(protowire.Fixed64Type), typeName(6)); got != "start-group end-group fixed64 6\n" {
		t.Errorf("type names = %q", got)
	}
}
