package safetensors

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"strings"

	"github.com/palisade-sec/palisade/internal/scan"
)

// Scanner validates safetensors headers. It is stateless and safe for
// concurrent use.
type Scanner struct{}

var _ scan.Scanner = (*Scanner)(nil)

// New returns a safetensors scanner for scan.FormatSafetensors.
func New() *Scanner { return &Scanner{} }

// lengthSize is the size of the little-endian header length.
const lengthSize = 8

// maxNested bounds how many unclaimed regions of one file are handed to
// Session.Nested.
const maxNested = 8

// Scan validates obj's header and tensor layout. It reads the header only.
func (s *Scanner) Scan(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	return s.scan(ctx, obj, sess)
}

func (s *Scanner) scan(ctx context.Context, obj scan.Object, sess session) error {
	rep := scan.NewCapped(sess, maxPerRule)
	defer rep.Flush()

	if obj.Size < lengthSize+2 {
		if obj.Tentative {
			return nil
		}
		rep.Add(RuleHeaderLength, 0, "",
			fmt.Sprintf("file is %d bytes, too short for an 8-byte header length and a JSON header", obj.Size), "")
		return nil
	}
	var head [lengthSize + 1]byte
	if err := readAt(obj.R, head[:], 0); err != nil {
		return fmt.Errorf("read header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(head[:lengthSize])
	if obj.Tentative && head[lengthSize] != '{' {
		return nil // not a safetensors file
	}
	avail := uint64(obj.Size - lengthSize)
	limit := sess.Limits().MaxHeaderBytes
	evidence := fmt.Sprintf("header length %d (bytes % x)", n, head[:lengthSize])
	switch {
	case n > avail:
		rep.Add(RuleHeaderLength, 0, "",
			fmt.Sprintf("header length field declares %d bytes but only %d bytes follow it; the file is truncated or the length is hostile", n, avail),
			evidence)
		return nil
	case limit > 0 && n > uint64(limit):
		rep.Add(RuleHeaderLength, 0, "",
			fmt.Sprintf("header length %d exceeds the %d-byte header limit; the header was not parsed", n, limit),
			evidence)
		return nil
	case n < 2:
		rep.Add(RuleHeaderLength, 0, "",
			fmt.Sprintf("header length %d is too small for a JSON object", n), evidence)
		return nil
	}

	raw := make([]byte, n)
	if err := readAt(obj.R, raw, lengthSize); err != nil {
		return fmt.Errorf("read %d-byte header: %w", n, err)
	}
	tensors, ok := parseHeader(raw, lengthSize, rep)
	if !ok {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dataStart := int64(lengthSize) + int64(n)
	checkSizes(tensors, rep)
	regions := checkLayout(tensors, uint64(obj.Size-dataStart), dataStart, rep)
	return scanRegions(ctx, obj, regions, sess)
}

// checkSizes compares each tensor's shape x dtype size with its byte range.
func checkSizes(tensors []tensor, rep *scan.Capped) {
	for i := range tensors {
		t := &tensors[i]
		if t.bits == 0 || !t.shapeOK || !t.offsetsOK {
			continue
		}
		nelem, ok := product(t.shape)
		hi, nbits := bits.Mul64(nelem, t.bits)
		if !ok || hi != 0 {
			rep.Add(RuleShapeInvalid, t.off, t.name+".shape",
				fmt.Sprintf("shape %s of tensor %s has more elements than 64-bit arithmetic can size", fmtUints(t.shape), scan.Quote(t.name, nameClip)),
				fmtUints(t.shape))
			continue
		}
		span := t.end - t.begin
		if nbits%8 != 0 {
			rep.Add(RuleSizeMismatch, t.off, t.name,
				fmt.Sprintf("tensor %s holds %d elements of %d-bit %s, which is not a whole number of bytes", scan.Quote(t.name, nameClip), nelem, t.bits, t.dtype),
				fmt.Sprintf("%s %s", t.dtype, fmtUints(t.shape)))
			continue
		}
		if nbits/8 != span {
			rep.Add(RuleSizeMismatch, t.off, t.name,
				fmt.Sprintf("tensor %s needs %d bytes (%s %s) but its data_offsets [%d, %d] span %d bytes", scan.Quote(t.name, nameClip), nbits/8, t.dtype, fmtUints(t.shape), t.begin, t.end, span),
				fmt.Sprintf("%s %s = %d bytes; data_offsets [%d, %d] = %d bytes", t.dtype, fmtUints(t.shape), nbits/8, t.begin, t.end, span))
		}
	}
}

// product multiplies dims, reporting overflow like the reference loader
// (which fails on overflow even when a later dimension is zero).
func product(dims []uint64) (uint64, bool) {
	n := uint64(1)
	for _, d := range dims {
		hi, lo := bits.Mul64(n, d)
		if hi != 0 {
			return 0, false
		}
		n = lo
	}
	return n, true
}

// region is a byte range of the file that no tensor claims.
type region struct {
	name       string
	start, len int64
}

// checkLayout checks the tensors' byte ranges against each other and the
// data section (dataLen bytes at file offset dataStart) and returns the
// unclaimed regions.
func checkLayout(tensors []tensor, dataLen uint64, dataStart int64, rep *scan.Capped) []region {
	var placed []*tensor
	for i := range tensors {
		t := &tensors[i]
		if !t.offsetsOK {
			continue
		}
		if t.end > dataLen {
			rep.Add(RuleOutOfBounds, t.off, t.name+".data_offsets",
				fmt.Sprintf("tensor %s occupies bytes [%d, %d) of the data section, which is only %d bytes long", scan.Quote(t.name, nameClip), t.begin, t.end, dataLen),
				fmt.Sprintf("data_offsets [%d, %d]; data section %d bytes", t.begin, t.end, dataLen))
		}
		placed = append(placed, t)
	}
	slices.SortStableFunc(placed, func(a, b *tensor) int {
		if a.begin != b.begin {
			if a.begin < b.begin {
				return -1
			}
			return 1
		}
		switch {
		case a.end < b.end:
			return -1
		case a.end > b.end:
			return 1
		}
		return 0
	})

	var regions []region
	var cursor uint64 // end of the bytes claimed so far
	var owner *tensor // the tensor that reaches cursor
	for _, t := range placed {
		switch {
		case t.begin > cursor && cursor < dataLen:
			end := min(t.begin, dataLen)
			rep.Add(RuleUnreferenced, dataStart+int64(cursor), "",
				fmt.Sprintf("%d bytes of the data section, [%d, %d), before tensor %s belong to no tensor", end-cursor, cursor, end, scan.Quote(t.name, nameClip)),
				fmt.Sprintf("data section bytes [%d, %d)", cursor, end))
			regions = append(regions, region{
				name:  fmt.Sprintf("unreferenced-bytes@%d", dataStart+int64(cursor)),
				start: dataStart + int64(cursor), len: int64(end - cursor),
			})
		case t.begin < cursor && t.end > t.begin && owner != nil:
			overlap := min(cursor, t.end) - t.begin
			rep.Add(RuleOverlap, dataStart+int64(min(t.begin, dataLen)), t.name,
				fmt.Sprintf("tensor %s [%d, %d) overlaps tensor %s [%d, %d) by %d bytes", scan.Quote(t.name, nameClip), t.begin, t.end, scan.Quote(owner.name, nameClip), owner.begin, owner.end, overlap),
				fmt.Sprintf("%s [%d, %d) and %s [%d, %d)", scan.Quote(owner.name, 60), owner.begin, owner.end, scan.Quote(t.name, 60), t.begin, t.end))
		}
		if t.end > cursor {
			cursor, owner = t.end, t
		}
	}
	if cursor < dataLen {
		what := "after the last tensor"
		if len(placed) == 0 {
			what = "in a file that declares no tensor"
		}
		rep.Add(RuleTrailingData, dataStart+int64(cursor), "",
			fmt.Sprintf("%d bytes %s, from file offset %d to the end, belong to no tensor", dataLen-cursor, what, dataStart+int64(cursor)),
			fmt.Sprintf("data section bytes [%d, %d)", cursor, dataLen))
		regions = append(regions, region{
			name:  fmt.Sprintf("trailing-data@%d", dataStart+int64(cursor)),
			start: dataStart + int64(cursor), len: int64(dataLen - cursor),
		})
	}
	return regions
}

// zeroWindow bounds how far into an unclaimed region the scanner looks for
// the first non-zero byte, where an appended payload would start.
const zeroWindow = 64 << 10

// scanRegions hands unclaimed regions to the engine, which recognises their
// content (an appended pickle or zip) and scans it. Leading zero bytes are
// skipped so that zero padding in front of a payload does not hide it from
// content sniffing.
func scanRegions(ctx context.Context, obj scan.Object, regions []region, sess session) error {
	for i, r := range regions {
		if i == maxNested {
			break
		}
		buf := make([]byte, min(r.len, zeroWindow))
		if err := readAt(obj.R, buf, r.start); err != nil {
			return fmt.Errorf("read %s: %w", r.name, err)
		}
		for k, c := range buf {
			if c != 0 {
				r.start += int64(k)
				r.len -= int64(k)
				r.name = fmt.Sprintf("%s@%d", r.name[:strings.IndexByte(r.name, '@')], r.start)
				break
			}
		}
		if err := sess.Nested(ctx, r.name, io.NewSectionReader(obj.R, r.start, r.len), r.len, ""); err != nil {
			return err
		}
	}
	return nil
}

// readAt fills p from r at off.
func readAt(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
