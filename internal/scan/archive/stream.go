package archive

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"

	"github.com/palisade-sec/palisade/internal/scan"
)

// tentativeMinOutput is how many bytes a stream routed by a weak guess
// (zlib, lzma: no real magic number) must decode to before a decoding
// failure is reported: random data that happens to start like a zlib
// header decodes a few bytes at most before it fails.
const tentativeMinOutput = 256

// streamExts maps the extensions of compressed files to what the
// decompressed file is called ("" drops the extension).
var streamExts = map[string]string{
	".gz": "", ".gzip": "", ".tgz": ".tar", ".bz2": "", ".bzip2": "", ".tbz": ".tar", ".tbz2": ".tar",
	".xz": "", ".txz": ".tar", ".lzma": "", ".tlz": ".tar", ".lz4": "", ".z": "", ".zz": "", ".zlib": "",
}

// decompressedName names the content of the compressed object name: the
// name without its compression extension, or the name itself when it has
// none (a compressed joblib file keeps its .joblib name, which the engine
// uses to probe for a pickle).
func decompressedName(name string) string {
	ext := path.Ext(name)
	if repl, ok := streamExts[strings.ToLower(ext)]; ok && len(name) > len(ext) {
		return name[:len(name)-len(ext)] + repl
	}
	return name
}

// streamProblem is a stream that must not be decoded, with the rule to
// report.
type streamProblem struct {
	rule scan.Rule
	msg  string
}

func (p *streamProblem) Error() string { return p.msg }

// scanStream decompresses a compressed stream through Session.Expand and
// scans the result, which the engine recognises again (a tar inside a
// gzip, a pickle inside a zlib-compressed joblib file).
func scanStream(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	name := decompressedName(obj.Name)
	dec, closeDec, err := newDecoder(func() (io.Reader, func(), error) { return streamDecoder(obj) })
	if err != nil {
		var ioe *ioError
		if errors.As(err, &ioe) {
			return err
		}
		// A header that declares an oversized dictionary is reported even
		// for a tentative match: the header parsed, and staying silent
		// would let a large dictionary hide a payload.
		var p *streamProblem
		if errors.As(err, &p) {
			report(sess, p.rule, 0, "", p.msg, "")
			return nil
		}
		if obj.Tentative {
			return nil // not this format after all
		}
		report(sess, RuleUnreadable, 0, "",
			fmt.Sprintf("the %s stream cannot be read (%v); its content was not analysed", obj.Format, err), err.Error())
		return nil
	}
	decoded, decErr, fatal := expandMember(ctx, sess, name, dec, obj.Size)
	closeDec()
	if fatal != nil {
		return fatal
	}
	switch {
	case decErr == nil:
	case obj.Tentative && decoded < tentativeMinOutput:
		// The weak guess was wrong: not a stream of this format.
	case decoded == 0:
		report(sess, RuleUnreadable, 0, "",
			fmt.Sprintf("the %s stream cannot be decompressed (%v); its content was not analysed", obj.Format, decErr), decErr.Error())
	default:
		report(sess, RuleMemberUnreadable, -1, "",
			fmt.Sprintf("the %s stream is corrupt after %d decompressed bytes (%v); those bytes were scanned, the rest was not analysed", obj.Format, decoded, decErr),
			decErr.Error())
	}
	return nil
}

// streamDecoder returns a decompressing reader for obj and a function that
// releases it.
func streamDecoder(obj scan.Object) (io.Reader, func(), error) {
	src := io.NewSectionReader(obj.R, 0, obj.Size)
	nop := func() {}
	switch obj.Format {
	case scan.FormatGzip:
		g, err := newGzipStream(src)
		if err != nil {
			return nil, nil, err
		}
		return g, func() { _ = g.zr.Close() }, nil
	case scan.FormatBzip2:
		return bzip2.NewReader(src), nop, nil
	case scan.FormatXz:
		d, err := xzMaxDict(obj.R, obj.Size)
		if err != nil {
			return nil, nil, err
		}
		if d > maxDictBytes {
			return nil, nil, &streamProblem{rule: RuleMemberUnreadable,
				msg: fmt.Sprintf("the xz stream declares a %d-byte dictionary, more than the %d-byte limit; it was not decompressed", d, maxDictBytes)}
		}
		// DictCap is a floor here: the reader allocates the larger of it
		// and each block's own dictionary size.
		r, err := xz.ReaderConfig{DictCap: lzma.MinDictCap}.NewReader(src)
		if err != nil {
			return nil, nil, err
		}
		return r, nop, nil
	case scan.FormatLzma:
		r, err := lzma.ReaderConfig{DictCap: maxDictBytes}.NewReader(src)
		if err != nil {
			var de *lzma.ErrDictSize
			if errors.As(err, &de) {
				return nil, nil, &streamProblem{rule: RuleMemberUnreadable,
					msg: fmt.Sprintf("the lzma stream declares a %d-byte dictionary, more than the %d-byte limit; it was not decompressed", de.HeaderDictSize, maxDictBytes)}
			}
			return nil, nil, err
		}
		return r, nop, nil
	case scan.FormatZlib:
		r, err := zlib.NewReader(src)
		if err != nil {
			return nil, nil, err
		}
		return r, func() { _ = r.Close() }, nil
	case scan.FormatLz4:
		return lz4.NewReader(src), nop, nil
	}
	return nil, nil, fmt.Errorf("format %q is not a compressed stream", obj.Format)
}

// gzipStream decodes every member of a gzip file, skipping the zero
// padding some writers append (as Python's gzip module does); other data
// after a member must be another member.
type gzipStream struct {
	br *bufio.Reader
	zr *gzip.Reader
}

func newGzipStream(src io.Reader) (*gzipStream, error) {
	br := bufio.NewReader(src)
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	return &gzipStream{br: br, zr: zr}, nil
}

func (g *gzipStream) Read(p []byte) (int, error) {
	for {
		n, err := g.zr.Read(p)
		if err != io.EOF {
			return n, err
		}
		if n > 0 {
			return n, nil
		}
		for {
			b, err := g.br.ReadByte()
			if err == io.EOF {
				return 0, io.EOF
			}
			if err != nil {
				return 0, err
			}
			if b != 0 {
				_ = g.br.UnreadByte()
				break
			}
		}
		if err := g.zr.Reset(g.br); err != nil {
			return 0, fmt.Errorf("read the next gzip member: %w", err)
		}
		g.zr.Multistream(false)
	}
}

// xz container constants (xz-file-format-1.2.0).
const (
	xzHeaderLen   = 12
	xzFooterLen   = 12
	xzFilterLZMA2 = 0x21
	// xzMaxIndex bounds the index of one xz stream read into memory; an
	// index takes a few bytes per block, so this allows millions of blocks.
	xzMaxIndex = 16 << 20
)

var xzMagic = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}

// xzMaxDict returns the largest LZMA2 dictionary any block of the xz file
// declares, before a decoder allocates it. It walks the streams from the
// end (footer, index, then each block's header). When that structure is
// damaged it falls back to the first block's header: the decoder then
// fails at the damage and the failure is reported.
func xzMaxDict(r io.ReaderAt, size int64) (uint64, error) {
	d, err := xzWalk(r, size)
	if err == nil {
		return d, nil
	}
	var ioe *ioError
	if errors.As(err, &ioe) {
		return 0, err
	}
	d, err = xzBlockDict(r, size, xzHeaderLen)
	if err != nil {
		var ioe *ioError
		if errors.As(err, &ioe) {
			return 0, err
		}
		return 0, nil // the decoder reports the damage
	}
	return d, nil
}

// xzWalk walks every stream of an xz file from its end.
func xzWalk(r io.ReaderAt, size int64) (uint64, error) {
	var maxDict uint64
	pos := size
	for pos > 0 {
		z, err := trailingZeros(r, pos)
		if err != nil {
			return 0, err
		}
		pos -= z - z%4 // stream padding comes in multiples of four bytes
		if pos == 0 {
			break
		}
		if pos < xzHeaderLen+xzFooterLen {
			return 0, errors.New("xz stream too short")
		}
		foot := make([]byte, xzFooterLen)
		if err := readFull(r, foot, pos-xzFooterLen); err != nil {
			return 0, err
		}
		if foot[10] != 'Y' || foot[11] != 'Z' {
			return 0, errors.New("no xz stream footer")
		}
		indexSize := (int64(le.Uint32(foot[4:])) + 1) * 4
		if indexSize > xzMaxIndex || indexSize > pos-xzHeaderLen-xzFooterLen {
			return 0, errors.New("xz index size out of range")
		}
		indexPos := pos - xzFooterLen - indexSize
		index := make([]byte, indexSize)
		if err := readFull(r, index, indexPos); err != nil {
			return 0, err
		}
		blocks, err := xzIndexBlocks(index)
		if err != nil {
			return 0, err
		}
		var total int64
		for _, b := range blocks {
			if b > uint64(indexPos) {
				return 0, errors.New("xz block size out of range")
			}
			total += int64(b+3) &^ 3
			if total > indexPos {
				return 0, errors.New("xz blocks exceed the stream")
			}
		}
		start := indexPos - total - xzHeaderLen
		if start < 0 {
			return 0, errors.New("xz blocks exceed the stream")
		}
		head := make([]byte, len(xzMagic))
		if err := readFull(r, head, start); err != nil {
			return 0, err
		}
		if !bytes.Equal(head, xzMagic) {
			return 0, errors.New("no xz stream header where the index places it")
		}
		bpos := start + xzHeaderLen
		for _, b := range blocks {
			d, err := xzBlockDict(r, size, bpos)
			if err != nil {
				return 0, err
			}
			maxDict = max(maxDict, d)
			bpos += int64(b+3) &^ 3
		}
		pos = start
	}
	return maxDict, nil
}

// trailingZeros counts the zero bytes that end r[:pos].
func trailingZeros(r io.ReaderAt, pos int64) (int64, error) {
	buf := make([]byte, 64<<10)
	var n int64
	for pos > 0 {
		c := min(int64(len(buf)), pos)
		if err := readFull(r, buf[:c], pos-c); err != nil {
			return 0, err
		}
		i := len(bytes.TrimRight(buf[:c], "\x00"))
		n += c - int64(i)
		if i > 0 {
			break
		}
		pos -= c
	}
	return n, nil
}

// xzIndexBlocks returns the unpadded size of every block an xz index
// lists.
func xzIndexBlocks(index []byte) ([]uint64, error) {
	if len(index) == 0 || index[0] != 0 {
		return nil, errors.New("no xz index indicator")
	}
	p := 1
	n, err := xzVarint(index, &p)
	if err != nil {
		return nil, err
	}
	if n > uint64(len(index))/2 {
		return nil, errors.New("xz index record count out of range")
	}
	blocks := make([]uint64, 0, n)
	for range n {
		unpadded, err := xzVarint(index, &p)
		if err != nil {
			return nil, err
		}
		if _, err := xzVarint(index, &p); err != nil {
			return nil, err
		}
		if unpadded == 0 {
			return nil, errors.New("xz index lists an empty block")
		}
		blocks = append(blocks, unpadded)
	}
	return blocks, nil
}

// xzVarint decodes an xz multibyte integer at b[*p].
func xzVarint(b []byte, p *int) (uint64, error) {
	var v uint64
	for i := 0; i < 9; i++ {
		if *p >= len(b) {
			return 0, errShort
		}
		c := b[*p]
		*p++
		v |= uint64(c&0x7f) << (7 * i)
		if c&0x80 == 0 {
			return v, nil
		}
	}
	return 0, errors.New("xz integer too long")
}

// xzBlockDict returns the LZMA2 dictionary size the block header at pos
// declares, 0 if it has no LZMA2 filter.
func xzBlockDict(r io.ReaderAt, size, pos int64) (uint64, error) {
	b := make([]byte, 1)
	if err := readFull(r, b, pos); err != nil {
		return 0, err
	}
	if b[0] == 0 {
		return 0, errors.New("no xz block header")
	}
	n := (int64(b[0]) + 1) * 4
	if n > size-pos {
		return 0, errShort
	}
	h := make([]byte, n)
	if err := readFull(r, h, pos); err != nil {
		return 0, err
	}
	flags := h[1]
	p := 2
	for _, bit := range []byte{0x40, 0x80} {
		if flags&bit != 0 {
			if _, err := xzVarint(h, &p); err != nil {
				return 0, err
			}
		}
	}
	var dict uint64
	for range int(flags&3) + 1 {
		id, err := xzVarint(h, &p)
		if err != nil {
			return 0, err
		}
		ps, err := xzVarint(h, &p)
		if err != nil {
			return 0, err
		}
		if ps > uint64(len(h)-p) {
			return 0, errShort
		}
		props := h[p : p+int(ps)]
		p += int(ps)
		if id == xzFilterLZMA2 && len(props) == 1 && props[0] <= 40 {
			d := uint64(props[0])
			dict = max(dict, (2|(d&1))<<(d/2+11))
		}
	}
	return dict, nil
}
