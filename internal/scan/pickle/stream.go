package pickle

import (
	"bytes"
	"context"
	"io"
)

// legacyTorchMagic is the decimal value of the magic number
// 0x1950a86a20f9469cfc6c that the first pickle of a legacy (pre-1.6)
// torch.save file holds.
const legacyTorchMagic = "119547037146038801333356"

// legacyTorchPickles is how many pickles a legacy torch.save file holds
// (magic, protocol version, sys_info, the model, storage keys) before its
// raw storage data.
const legacyTorchPickles = 5

// trailingKind says what follows the last pickle.
type trailingKind uint8

const (
	trailingUnknown trailingKind = iota // bytes that do not parse as a pickle
	trailingFormat                      // another format's magic number (a polyglot)
	trailingTorch                       // the raw storages of a legacy PyTorch file
)

// sink receives a stream's events and its pickle boundaries.
type sink interface {
	observer
	// begin starts the pickle with index n at offset start.
	begin(n int, start int64)
	// dangerous reports whether the current pickle imported or called a
	// high or critical global.
	dangerous() bool
	// end finishes the current pickle; keep false discards what it
	// reported (bytes after a pickle that turned out not to be one).
	end(ctx context.Context, seg *segment, keep bool) error
	// trailing reports data after the last pickle; what names a format.
	trailing(off, n int64, kind trailingKind, what string)
}

// runStream runs every pickle in the object back to back and decides what
// the bytes after each one are.
func runStream(ctx context.Context, ra io.ReaderAt, size int64, lim *limits, s sink, tentative bool) error {
	rd := newReader(ra, size)
	st := &streamState{lim: lim}
	legacy := 0 // pickles run since a legacy PyTorch magic number
	for n := 0; rd.remaining() > 0; n++ {
		start := rd.offset()
		if legacy >= legacyTorchPickles {
			s.trailing(start, rd.remaining(), trailingTorch, "legacy PyTorch storage data")
			return nil
		}
		head, err := rd.peek(8)
		if err != nil {
			return err
		}
		if n > 0 {
			if what := otherFormat(head); what != "" {
				s.trailing(start, rd.remaining(), trailingFormat, what)
				return nil
			}
		}
		startsWithProto := len(head) >= 2 && head[0] == opProto && head[1] <= highestProtocol
		s.begin(n, start)
		seg, err := newMachine(rd, s, st, 0).run(ctx)
		if err != nil {
			return err
		}
		if seg.err == nil {
			if err := s.end(ctx, &seg, true); err != nil {
				return err
			}
			switch {
			case n == 0 && isLegacyMagic(seg.result):
				legacy = 1
			case legacy > 0:
				legacy++
			}
			continue
		}
		// The stream broke: keep what the pickle did unless the bytes were
		// never a pickle in the first place.
		var keep bool
		switch {
		case seg.err.limit, s.dangerous():
			keep = true
		case n == 0:
			keep = !tentative
		default:
			keep = startsWithProto
		}
		if err := s.end(ctx, &seg, keep); err != nil {
			return err
		}
		if !keep && n > 0 {
			s.trailing(start, size-start, trailingUnknown, "")
		}
		return nil
	}
	return nil
}

func isLegacyMagic(v *value) bool {
	return v != nil && v.kind == kInt && v.flags&fBig != 0 && v.s == legacyTorchMagic
}

// formatMagics are formats that may follow a pickle in a polyglot.
var formatMagics = []struct {
	magic []byte
	name  string
}{
	{[]byte("PK\x03\x04"), "a zip archive"},
	{[]byte("PK\x05\x06"), "a zip archive"},
	{[]byte("PK\x07\x08"), "a zip archive"},
	{[]byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}, "a 7z archive"},
	{[]byte{0x1f, 0x8b}, "a gzip stream"},
	{[]byte("BZh"), "a bzip2 stream"},
	{[]byte{0xfd, '7', 'z', 'X', 'Z', 0x00}, "an xz stream"},
	{[]byte{0x28, 0xb5, 0x2f, 0xfd}, "a zstd stream"},
	{[]byte("\x93NUMPY"), "a NumPy array"},
	{[]byte("GGUF"), "a GGUF model"},
	{[]byte("\x89HDF\r\n\x1a\n"), "an HDF5 file"},
	{[]byte("\x7fELF"), "an ELF executable"},
}

// otherFormat names the format whose magic number head starts with.
func otherFormat(head []byte) string {
	for _, f := range formatMagics {
		if bytes.HasPrefix(head, f.magic) {
			return f.name
		}
	}
	return ""
}
