package archive

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/bits"

	"github.com/ulikunitz/xz/lzma"

	"github.com/palisade-sec/palisade/internal/scan"
)

// The 7z header validator. github.com/bodgit/sevenzip allocates slices
// sized by counts it reads from the header (files, folders, streams, coder
// streams), each bounded only by 2^32: a 40-byte archive can make it
// allocate hundreds of gigabytes and kill the process. check7z walks the
// same header grammar first, with the same quirks as that library (so both
// read the same values), and rejects any count that exceeds the bytes
// left in the header, the scan's entry limit or 7-Zip's own per-folder
// limits. The encoded (compressed) header that 7-Zip writes by default is
// decoded here too, with the header size limit, so its counts are checked
// as well. Dictionary and model sizes of every coder are checked against
// maxDictBytes.

// Property IDs (7zFormat.txt).
const (
	szEnd              = 0x00
	szHeader           = 0x01
	szArchiveProps     = 0x02
	szAdditional       = 0x03
	szMainStreams      = 0x04
	szFilesInfo        = 0x05
	szPackInfo         = 0x06
	szUnpackInfo       = 0x07
	szSubStreams       = 0x08
	szSize             = 0x09
	szCRC              = 0x0a
	szFolderID         = 0x0b
	szCodersUnpackSize = 0x0c
	szNumUnpackStream  = 0x0d
	szEncodedHeader    = 0x17

	szStartLen = 32
	// szMaxFolderStreams is 7-Zip's limit on coders and on coder streams
	// in one folder.
	szMaxFolderStreams = 64
)

// Coder IDs the validator interprets; szKnownCoders lists every coder
// github.com/bodgit/sevenzip can decode.
const (
	szCopy  = "00"
	szLZMA  = "030101"
	szLZMA2 = "21"
	szPPMd  = "030401"
	szAES   = "06f10701"
)

var szKnownCoders = map[string]string{
	szCopy: "copy", "03": "delta", szLZMA: "LZMA", "03030103": "BCJ", "0303011b": "BCJ2",
	"03030205": "PPC", "03030501": "ARM", "03030805": "SPARC", "040108": "deflate",
	"040202": "bzip2", "04f71101": "zstd", "04f71102": "brotli", "04f71104": "LZ4",
	szAES: "AES", "0a": "ARM64", szLZMA2: "LZMA2", szPPMd: "PPMd",
}

// szCoder is one coder of a folder.
type szCoder struct {
	id      string // hex
	props   []byte
	in, out uint64
	unpack  uint64 // size of the coder's (first) output stream
}

// szFolder is one 7z folder (a chain of coders producing one stream) and
// what the scanner must know before opening it.
type szFolder struct {
	coders      []szCoder
	encrypted   bool
	unsupported string // the coder ID Palisade cannot decode, if any
	reject      string // why the folder must not be decoded, if it must not
}

// szStreams is a parsed StreamsInfo.
type szStreams struct {
	packPos   uint64
	packSizes []uint64
	folders   []szFolder
}

// szInfo is what the validator learnt from a header that passed.
type szInfo struct {
	empty   bool // no header at all: an empty archive
	folders []szFolder
	files   uint64
}

// szProblem is a header the scanner must not hand to the library; rule
// and message say what to report.
type szProblem struct {
	rule scan.Rule
	msg  string
}

func (p *szProblem) Error() string { return p.msg }

func szCorrupt(format string, args ...any) error {
	return &szProblem{rule: RuleUnreadable, msg: fmt.Sprintf(format, args...)}
}

// szReader reads header fields from an in-memory header.
type szReader struct {
	b     []byte
	i     int
	limit scan.Limits
}

var errSzShort = errors.New("7z header ends inside a field")

func (r *szReader) remaining() uint64 { return uint64(len(r.b) - r.i) }

func (r *szReader) byte() (byte, error) {
	if r.i >= len(r.b) {
		return 0, errSzShort
	}
	c := r.b[r.i]
	r.i++
	return c, nil
}

func (r *szReader) bytes(n uint64) ([]byte, error) {
	if n > r.remaining() {
		return nil, errSzShort
	}
	s := r.b[r.i : r.i+int(n)]
	r.i += int(n)
	return s, nil
}

// number reads a 7z variable-length integer, exactly as the library does.
func (r *szReader) number() (uint64, error) {
	b, err := r.byte()
	if err != nil {
		return 0, err
	}
	l := bits.LeadingZeros8(^b)
	var v uint64
	if l < 7 {
		v |= uint64(b&((1<<(8-l))-1)) << (8 * l)
	}
	for i := range l {
		c, err := r.byte()
		if err != nil {
			return 0, err
		}
		v |= uint64(c) << (8 * i)
	}
	return v, nil
}

// count reads a number the library allocates from. It must be non-zero
// when nonZero is set (the library rejects zero), at most max, and at most
// the bytes left in the header (each item takes at least one byte in any
// archive a real writer produces). A count over max is reported as the
// entry limit when entries is set, as corruption otherwise.
func (r *szReader) count(what string, nonZero bool, max uint64, entries bool) (uint64, error) {
	v, err := r.number()
	if err != nil {
		return 0, err
	}
	switch {
	case nonZero && v == 0:
		return 0, szCorrupt("the 7z header declares zero %s", what)
	case v > max && entries:
		return 0, &szProblem{rule: scan.RuleTooManyEntries,
			msg: fmt.Sprintf("the 7z header declares %d %s, more than the entry limit of %d; the archive was not analysed", v, what, max)}
	case v > max:
		return 0, szCorrupt("the 7z header declares %d %s, more than the %d 7-Zip allows", v, what, max)
	case v > r.remaining():
		return 0, szCorrupt("the 7z header declares %d %s but only %d header bytes remain", v, what, r.remaining())
	}
	return v, nil
}

// expect reads one property ID and checks it.
func (r *szReader) expect(id byte, where string) error {
	got, err := r.byte()
	if err != nil {
		return err
	}
	if got != id {
		return szCorrupt("unexpected property 0x%02x in the 7z %s", got, where)
	}
	return nil
}

// digests skips a digest list of count entries.
func (r *szReader) digests(count uint64) error {
	if count == 0 {
		return szCorrupt("the 7z header declares a digest list with no entries")
	}
	all, err := r.byte()
	if err != nil {
		return err
	}
	defined := count
	if all == 0 {
		if (count+7)/8 > r.remaining() {
			return errSzShort
		}
		bits, _ := r.bytes((count + 7) / 8)
		defined = 0
		for i := range count {
			if bits[i/8]&(0x80>>(i%8)) != 0 {
				defined++
			}
		}
	}
	if defined > r.remaining()/4 {
		return errSzShort
	}
	_, err = r.bytes(4 * defined)
	return err
}

func (r *szReader) maxItems() uint64 { return uint64(r.limit.MaxEntries) }

func (r *szReader) packInfo(s *szStreams) error {
	var err error
	if s.packPos, err = r.number(); err != nil {
		return err
	}
	streams, err := r.count("pack streams", true, r.maxItems(), true)
	if err != nil {
		return err
	}
	id, err := r.byte()
	if err != nil {
		return err
	}
	if id == szSize {
		s.packSizes = make([]uint64, 0, streams)
		for range streams {
			v, err := r.number()
			if err != nil {
				return err
			}
			s.packSizes = append(s.packSizes, v)
		}
		if id, err = r.byte(); err != nil {
			return err
		}
	}
	if id == szCRC {
		if err := r.digests(streams); err != nil {
			return err
		}
		if id, err = r.byte(); err != nil {
			return err
		}
	}
	if id != szEnd {
		return szCorrupt("unexpected property 0x%02x in the 7z pack info", id)
	}
	return nil
}

func (r *szReader) folder() (szFolder, error) {
	var f szFolder
	n, err := r.count("coders in a folder", true, szMaxFolderStreams, false)
	if err != nil {
		return f, err
	}
	var in, out uint64
	for range n {
		flag, err := r.byte()
		if err != nil {
			return f, err
		}
		id, err := r.bytes(uint64(flag & 0x0f))
		if err != nil {
			return f, err
		}
		c := szCoder{id: hex.EncodeToString(id), in: 1, out: 1}
		if flag&0x10 != 0 {
			if c.in, err = r.count("coder input streams", true, szMaxFolderStreams, false); err != nil {
				return f, err
			}
			if c.out, err = r.count("coder output streams", true, szMaxFolderStreams, false); err != nil {
				return f, err
			}
		}
		if flag&0x20 != 0 {
			size, err := r.count("coder property bytes", true, math.MaxUint32, false)
			if err != nil {
				return f, err
			}
			if c.props, err = r.bytes(size); err != nil {
				return f, err
			}
		}
		in += c.in
		out += c.out
		f.coders = append(f.coders, c)
	}
	if in > szMaxFolderStreams || out > szMaxFolderStreams {
		return f, szCorrupt("a 7z folder has %d input and %d output streams, more than 7-Zip allows", in, out)
	}
	if in < out {
		return f, szCorrupt("a 7z folder has fewer input streams (%d) than output streams (%d)", in, out)
	}
	pairs := out - 1
	for range pairs {
		a, err := r.number()
		if err != nil {
			return f, err
		}
		b, err := r.number()
		if err != nil {
			return f, err
		}
		if a >= in || b >= out {
			return f, szCorrupt("a 7z folder binds stream %d to %d, outside its %d inputs and %d outputs", a, b, in, out)
		}
	}
	if packed := in - pairs; packed != 1 {
		for range packed {
			v, err := r.number()
			if err != nil {
				return f, err
			}
			if v >= in {
				return f, szCorrupt("a 7z folder reads packed stream %d of %d", v, in)
			}
		}
	}
	return f, nil
}

func (r *szReader) unpackInfo(s *szStreams) error {
	if err := r.expect(szFolderID, "unpack info"); err != nil {
		return err
	}
	n, err := r.count("folders", true, r.maxItems(), true)
	if err != nil {
		return err
	}
	external, err := r.byte()
	if err != nil {
		return err
	}
	if external != 0 {
		return szCorrupt("the 7z header stores its folders externally, which is not supported")
	}
	s.folders = make([]szFolder, 0, n)
	for range n {
		f, err := r.folder()
		if err != nil {
			return err
		}
		s.folders = append(s.folders, f)
	}
	if err := r.expect(szCodersUnpackSize, "unpack info"); err != nil {
		return err
	}
	for i := range s.folders {
		for j := range s.folders[i].coders {
			c := &s.folders[i].coders[j]
			for k := range c.out {
				v, err := r.number()
				if err != nil {
					return err
				}
				if k == 0 {
					c.unpack = v
				}
			}
		}
	}
	id, err := r.byte()
	if err != nil {
		return err
	}
	if id == szCRC {
		if err := r.digests(n); err != nil {
			return err
		}
		if id, err = r.byte(); err != nil {
			return err
		}
	}
	if id != szEnd {
		return szCorrupt("unexpected property 0x%02x in the 7z unpack info", id)
	}
	return nil
}

func (r *szReader) subStreams(s *szStreams) error {
	id, err := r.byte()
	if err != nil {
		return err
	}
	streams := make([]uint64, len(s.folders))
	var files uint64
	if id == szNumUnpackStream {
		for i := range streams {
			if streams[i], err = r.number(); err != nil {
				return err
			}
			if streams[i] > r.maxItems() || files+streams[i] > r.maxItems() {
				return &szProblem{rule: scan.RuleTooManyEntries,
					msg: fmt.Sprintf("the 7z header declares more than %d streams; the archive was not analysed", r.maxItems())}
			}
			files += streams[i]
		}
		if id, err = r.byte(); err != nil {
			return err
		}
	} else {
		for i := range streams {
			streams[i] = 1
		}
		files = uint64(len(streams))
	}
	if files > r.remaining()+uint64(len(streams)) {
		return szCorrupt("the 7z header declares %d streams but only %d header bytes remain", files, r.remaining())
	}
	if id == szSize {
		for _, n := range streams {
			for j := uint64(1); j < n; j++ {
				if _, err := r.number(); err != nil {
					return err
				}
			}
		}
		if id, err = r.byte(); err != nil {
			return err
		}
	}
	if id == szCRC {
		if err := r.digests(files); err != nil {
			return err
		}
		if id, err = r.byte(); err != nil {
			return err
		}
	}
	if id != szEnd {
		return szCorrupt("unexpected property 0x%02x in the 7z substreams info", id)
	}
	return nil
}

func (r *szReader) streamsInfo() (*szStreams, error) {
	s := &szStreams{}
	id, err := r.byte()
	if err != nil {
		return nil, err
	}
	if id == szPackInfo {
		if err := r.packInfo(s); err != nil {
			return nil, err
		}
		if id, err = r.byte(); err != nil {
			return nil, err
		}
	}
	unpack := false
	if id == szUnpackInfo {
		if err := r.unpackInfo(s); err != nil {
			return nil, err
		}
		unpack = true
		if id, err = r.byte(); err != nil {
			return nil, err
		}
	}
	if id == szSubStreams {
		if !unpack {
			return nil, szCorrupt("the 7z header has substreams but no folders")
		}
		if err := r.subStreams(s); err != nil {
			return nil, err
		}
		if id, err = r.byte(); err != nil {
			return nil, err
		}
	}
	if id != szEnd {
		return nil, szCorrupt("unexpected property 0x%02x in the 7z streams info", id)
	}
	return s, nil
}

// header parses a plain header (after its kHeader ID).
func (r *szReader) header() (*szInfo, error) {
	info := &szInfo{}
	id, err := r.byte()
	if err != nil {
		return nil, err
	}
	switch id {
	case szArchiveProps, szAdditional:
		return nil, szCorrupt("the 7z header uses archive properties or additional streams, which Palisade's 7z reader does not support")
	case szMainStreams:
		s, err := r.streamsInfo()
		if err != nil {
			return nil, err
		}
		info.folders = s.folders
		if id, err = r.byte(); err != nil {
			return nil, err
		}
	}
	if id == szFilesInfo {
		// Everything the library allocates in the files info is sized
		// by the file count, so bounding it bounds the rest.
		n, err := r.count("files", true, r.maxItems(), true)
		if err != nil {
			return nil, err
		}
		info.files = n
	} else if id != szEnd {
		return nil, szCorrupt("unexpected property 0x%02x in the 7z header", id)
	}
	for i := range info.folders {
		vetFolder(&info.folders[i])
	}
	return info, nil
}

// vetFolder records whether a folder can be decoded safely.
func vetFolder(f *szFolder) {
	for _, c := range f.coders {
		name, known := szKnownCoders[c.id]
		switch {
		case !known:
			if f.unsupported == "" {
				f.unsupported = c.id
			}
		case c.id == szAES:
			f.encrypted = true
		default:
			if need, ok := coderMemory(c); ok && need > maxDictBytes {
				f.reject = fmt.Sprintf("its %s coder needs %d bytes of memory, more than the %d-byte limit", name, need, maxDictBytes)
			}
		}
	}
}

// coderMemory returns the dictionary or model size a coder allocates, as
// the library's decoders compute it, when its properties declare one.
func coderMemory(c szCoder) (uint64, bool) {
	switch c.id {
	case szLZMA:
		if len(c.props) < 5 {
			return 0, false
		}
		return min(uint64(le.Uint32(c.props[1:])), c.unpack), true
	case szLZMA2:
		if len(c.props) < 1 || c.props[0] > 40 {
			return 0, false
		}
		p := uint64(c.props[0])
		return (2 | (p & 1)) << (p/2 + 11), true
	case szPPMd:
		if len(c.props) < 5 {
			return 0, false
		}
		return uint64(le.Uint32(c.props[1:])), true
	}
	return 0, false
}

// check7z validates the header of the 7z archive r before the library
// reads it.
func check7z(r io.ReaderAt, size int64, lim scan.Limits) (*szInfo, error) {
	sh := make([]byte, szStartLen)
	if err := readFull(r, sh, 0); err != nil {
		if errors.Is(err, errShort) {
			return nil, szCorrupt("the 7z archive is shorter than its 32-byte signature header")
		}
		return nil, err
	}
	if crc32.ChecksumIEEE(sh[12:32]) != le.Uint32(sh[8:]) {
		return nil, szCorrupt("the 7z start header fails its checksum")
	}
	off, n := le.Uint64(sh[12:]), le.Uint64(sh[20:])
	avail := uint64(size - szStartLen)
	if off > avail || n > avail-off {
		return nil, szCorrupt("the 7z header (%d bytes at offset %d) lies outside the file", n, off)
	}
	if n == 0 {
		return &szInfo{empty: true}, nil
	}
	if n > uint64(lim.MaxHeaderBytes) {
		return nil, szCorrupt("the 7z header is %d bytes, more than the %d-byte header limit", n, lim.MaxHeaderBytes)
	}
	hdr := make([]byte, n)
	if err := readFull(r, hdr, szStartLen+int64(off)); err != nil {
		return nil, err
	}
	info, err := parse7zHeader(r, size, hdr, lim)
	if errors.Is(err, errSzShort) {
		return nil, szCorrupt("the 7z header is truncated")
	}
	return info, err
}

// parse7zHeader parses a plain or encoded header.
func parse7zHeader(r io.ReaderAt, size int64, hdr []byte, lim scan.Limits) (*szInfo, error) {
	hr := &szReader{b: hdr, limit: lim}
	id, err := hr.byte()
	if err != nil {
		return nil, err
	}
	switch id {
	case szHeader:
		return hr.header()
	case szEncodedHeader:
	default:
		return nil, szCorrupt("unexpected 7z header type 0x%02x", id)
	}
	s, err := hr.streamsInfo()
	if err != nil {
		return nil, err
	}
	if len(s.folders) != 1 || len(s.packSizes) == 0 {
		return nil, szCorrupt("the 7z encoded header does not describe exactly one packed stream")
	}
	f := s.folders[0]
	for _, c := range f.coders {
		if c.id == szAES {
			return nil, &szProblem{rule: RuleEncrypted,
				msg: "the 7z archive encrypts its header: member names and content could not be analysed"}
		}
	}
	if len(f.coders) != 1 {
		return nil, szCorrupt("the 7z header is packed with a chain of %d coders, which Palisade does not decode", len(f.coders))
	}
	c := f.coders[0]
	if c.unpack > uint64(lim.MaxHeaderBytes) {
		return nil, szCorrupt("the 7z header unpacks to %d bytes, more than the %d-byte header limit", c.unpack, lim.MaxHeaderBytes)
	}
	pos, psize := s.packPos, s.packSizes[0]
	avail := uint64(size - szStartLen)
	if pos > avail || psize > avail-pos {
		return nil, szCorrupt("the 7z encoded header lies outside the file")
	}
	src := io.NewSectionReader(r, szStartLen+int64(pos), int64(psize))
	var dec io.Reader
	switch c.id {
	case szCopy:
		dec = src
	case szLZMA:
		if len(c.props) != 5 {
			return nil, szCorrupt("the 7z header's LZMA properties are %d bytes, not 5", len(c.props))
		}
		alone := append(bytes.Clone(c.props), make([]byte, 8)...)
		le.PutUint64(alone[5:], c.unpack)
		lr, err := lzma.ReaderConfig{DictCap: maxDictBytes}.NewReader(io.MultiReader(bytes.NewReader(alone), src))
		if err != nil {
			return nil, szCorrupt("the 7z header cannot be decompressed: %v", err)
		}
		dec = lr
	case szLZMA2:
		need, ok := coderMemory(c)
		if !ok || need > maxDictBytes {
			return nil, szCorrupt("the 7z header's LZMA2 dictionary is invalid or larger than %d bytes", maxDictBytes)
		}
		lr, err := lzma.Reader2Config{DictCap: int(need)}.NewReader2(src)
		if err != nil {
			return nil, szCorrupt("the 7z header cannot be decompressed: %v", err)
		}
		dec = lr
	default:
		return nil, szCorrupt("the 7z header is packed with coder %s, which Palisade does not decode", c.id)
	}
	plain := make([]byte, c.unpack)
	sr := &stopReader{r: dec}
	if _, err := io.ReadFull(sr, plain); err != nil {
		if sr.err != nil {
			err = sr.err
		}
		return nil, szCorrupt("the 7z header cannot be decompressed: %v", err)
	}
	pr := &szReader{b: plain, limit: lim}
	if err := pr.expect(szHeader, "encoded header"); err != nil {
		return nil, err
	}
	return pr.header()
}
