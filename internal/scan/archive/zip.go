package archive

import (
	"archive/zip"
	"bufio"
	"bytes"
	"cmp"
	"compress/bzip2"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz/lzma"

	"github.com/palisade-sec/palisade/internal/scan"
)

// Zip record signatures and fixed lengths (APPNOTE.TXT 4.3).
const (
	zipLocalSig   = 0x04034b50
	zipCentralSig = 0x02014b50
	zipEndSig     = 0x06054b50
	zip64EndSig   = 0x06064b50
	zip64LocSig   = 0x07064b50

	zipLocalLen   = 30
	zipCentralLen = 46
	zipEndLen     = 22
	zip64EndLen   = 56
	zip64LocLen   = 20
	zipMaxComment = 65535

	// zipMaxEndCandidates bounds how many end-of-central-directory
	// signatures are tried, newest first, so a tail full of fake
	// signatures cannot make the scan quadratic.
	zipMaxEndCandidates = 8
)

// General-purpose flag bits that matter to a scanner.
const (
	zipFlagEncrypted  = 0x1  // traditional PKWARE encryption
	zipFlagDescriptor = 0x8  // sizes follow the data in a data descriptor
	zipFlagPatched    = 0x20 // compressed patched data
	zipFlagStrongEnc  = 0x40 // strong encryption
)

// Compression methods.
const (
	zipStore   = 0
	zipDeflate = 8
	zipBzip2   = 12
	zipLZMA    = 14
	zipZstd    = 93
	zipAES     = 99 // WinZip AES: the content is encrypted
)

var zipMethodNames = map[uint16]string{
	1: "shrink", 2: "reduce", 3: "reduce", 4: "reduce", 5: "reduce", 6: "implode",
	9: "deflate64", 10: "PKWARE implode", 18: "IBM TERSE", 19: "IBM LZ77", 95: "xz",
	96: "JPEG", 97: "WavPack", 98: "PPMd", zipAES: "WinZip AES encryption",
}

// zipEntry is one member as the central directory (or, for a zip without
// one, its local header) describes it.
type zipEntry struct {
	name     string
	flags    uint16
	method   uint16
	compSize uint64
	size     uint64
	localOff uint64 // local header offset, relative to the archive start
}

// isDir reports whether e is a directory entry with no content.
func (e *zipEntry) isDir() bool {
	return strings.HasSuffix(e.name, "/") && e.size == 0 && e.compSize == 0
}

// zipNote is an irregularity of the archive as a whole (rule ARC009).
type zipNote struct {
	off      int64
	msg      string
	evidence string
}

// zipDir is a parsed central directory.
type zipDir struct {
	base    int64 // bytes before the archive (a polyglot prefix or SFX stub)
	endPos  int64 // position of the end-of-central-directory record
	entries []zipEntry
	notes   []zipNote
	// stopped is set when collection stopped early (entry or size limit);
	// stopReason says why when the header size limit stopped it; tooMany
	// is set when the entry limit did.
	stopped    bool
	stopReason string
	tooMany    bool
}

// ioError marks a failure of the underlying reader, as opposed to
// malformed content: the scan cannot go on and the engine reports it.
type ioError struct{ err error }

func (e *ioError) Error() string { return "read archive: " + e.err.Error() }
func (e *ioError) Unwrap() error { return e.err }

// errShort reports content that ends inside a record.
var errShort = errors.New("unexpected end of data")

// readFull reads len(buf) bytes at off.
func readFull(r io.ReaderAt, buf []byte, off int64) error {
	if off < 0 {
		return errShort
	}
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || err == io.EOF {
		return errShort
	}
	return &ioError{err}
}

var le = binary.LittleEndian

func scanZip(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	lim := sess.Limits()
	d, err := readZipDir(obj.R, obj.Size, lim)
	if err != nil {
		var ioe *ioError
		if errors.As(err, &ioe) {
			return err
		}
		head := make([]byte, 4)
		if readFull(obj.R, head, 0) != nil || le.Uint32(head) != zipLocalSig {
			report(sess, RuleUnreadable, -1, "",
				fmt.Sprintf("the zip archive cannot be read (%v); its content was not analysed", err), err.Error())
			return nil
		}
		// No usable central directory, but the file starts with a
		// member: walk the local headers so that what is there is
		// still scanned, and fail closed on the archive.
		report(sess, RuleUnreadable, -1, "",
			fmt.Sprintf("the zip archive has no usable central directory (%v); members were read from their local headers and anything after the first unreadable one was not analysed", err), err.Error())
		d, err = walkLocalHeaders(obj.R, obj.Size, lim)
		if err != nil {
			return err
		}
	} else {
		for _, n := range d.notes {
			report(sess, RuleIrregularZip, n.off, "", n.msg, n.evidence)
		}
		crossCheck(obj, d, sess)
	}
	if d.stopReason != "" {
		report(sess, RuleUnreadable, d.endPos, "", d.stopReason, "")
	}
	if n := overlapping(d.entries); n > 0 {
		report(sess, RuleIrregularZip, d.endPos, "",
			fmt.Sprintf("%d members share or overlap another member's data (the layout of overlapping-file zip bombs, or of one member hidden behind another)", n),
			fmt.Sprintf("%d overlapping members", n))
	}
	seen := names{}
	for i := range d.entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := scanZipEntry(ctx, obj, sess, d.base, &d.entries[i], seen); err != nil {
			return err
		}
	}
	if d.tooMany {
		// Reached only when Session.Nested did not already stop the scan
		// (directory entries are not handed on, so they are not charged).
		report(sess, scan.RuleTooManyEntries, d.endPos, "",
			fmt.Sprintf("the archive lists more than %d members; members after the first %d were not analysed", sess.Limits().MaxEntries, sess.Limits().MaxEntries), "")
	}
	return nil
}

// overlapping counts the members whose data range (local header through
// compressed data) starts inside an earlier member's.
func overlapping(entries []zipEntry) int {
	type span struct{ start, end uint64 }
	spans := make([]span, 0, len(entries))
	for _, e := range entries {
		if e.isDir() {
			continue
		}
		end := e.localOff + zipLocalLen + e.compSize
		if end < e.localOff {
			end = math.MaxUint64
		}
		spans = append(spans, span{e.localOff, end})
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	n := 0
	var reach uint64
	for i, s := range spans {
		if i > 0 && s.start < reach {
			n++
		}
		reach = max(reach, s.end)
	}
	return n
}

// readZipDir locates and parses the central directory the way PyTorch's
// reader does: from the last end-of-central-directory record, allowing
// data before the archive and ZIP64 records.
func readZipDir(r io.ReaderAt, size int64, lim scan.Limits) (*zipDir, error) {
	if size < zipEndLen {
		return nil, errors.New("too small to hold an end-of-central-directory record")
	}
	n := min(size, zipEndLen+zipMaxComment)
	tail := make([]byte, n)
	if err := readFull(r, tail, size-n); err != nil {
		return nil, err
	}
	sig := []byte("PK\x05\x06")
	var firstErr error
	end := len(tail) - zipEndLen + len(sig)
	for tries := 0; tries < zipMaxEndCandidates; tries++ {
		i := bytes.LastIndex(tail[:end], sig)
		if i < 0 {
			break
		}
		end = i + len(sig) - 1
		d, err := parseZipDir(r, size, size-n+int64(i), tail[i:i+zipEndLen], lim)
		if err == nil {
			return d, nil
		}
		var ioe *ioError
		if errors.As(err, &ioe) {
			return nil, err
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = errors.New("no end-of-central-directory record")
	}
	return nil, firstErr
}

// parseZipDir parses the directory that the end record rec at endPos
// describes.
func parseZipDir(r io.ReaderAt, size, endPos int64, rec []byte, lim scan.Limits) (*zipDir, error) {
	d := &zipDir{endPos: endPos}
	entries := uint64(le.Uint16(rec[10:]))
	cdSize := uint64(le.Uint32(rec[12:]))
	cdOff := uint64(le.Uint32(rec[16:]))
	if after := size - (endPos + zipEndLen + int64(le.Uint16(rec[20:]))); after != 0 {
		d.notes = append(d.notes, zipNote{off: endPos,
			msg:      fmt.Sprintf("the archive comment length disagrees with the file size by %d bytes (data after the archive, or a truncated comment)", after),
			evidence: fmt.Sprintf("%d bytes", after)})
	}

	dirEnd := endPos
	if endPos >= zip64LocLen {
		loc := make([]byte, zip64LocLen)
		if err := readFull(r, loc, endPos-zip64LocLen); err != nil {
			return nil, err
		}
		if le.Uint32(loc) == zip64LocSig {
			rec64, pos, err := findZip64End(r, endPos-zip64LocLen, le.Uint64(loc[8:]))
			if err != nil {
				return nil, err
			}
			if rec64 != nil {
				entries = le.Uint64(rec64[32:])
				cdSize = le.Uint64(rec64[40:])
				cdOff = le.Uint64(rec64[48:])
				dirEnd = pos
			} else if entries == 0xffff || cdSize == 0xffffffff || cdOff == 0xffffffff {
				return nil, errors.New("ZIP64 end-of-central-directory record not found")
			}
		}
	}
	if cdSize > uint64(dirEnd) {
		return nil, fmt.Errorf("central directory size %d exceeds the %d bytes before its end record", cdSize, dirEnd)
	}
	if cdOff > uint64(dirEnd) {
		return nil, fmt.Errorf("central directory offset %d lies beyond its end record at %d", cdOff, dirEnd)
	}

	// The directory's recorded offset is relative to the archive start,
	// which is not the file start when data was prepended; try the base
	// the end record implies, then zero (as archive/zip does).
	implied := dirEnd - int64(cdSize) - int64(cdOff)
	pos := int64(-1)
	for _, base := range []int64{implied, 0} {
		if base < 0 {
			continue
		}
		p := base + int64(cdOff)
		if p > dirEnd {
			continue
		}
		if entries == 0 && p == dirEnd {
			pos, d.base = p, base
			break
		}
		s := make([]byte, 4)
		if p+4 <= dirEnd {
			if err := readFull(r, s, p); err != nil {
				return nil, err
			}
			if le.Uint32(s) == zipCentralSig {
				pos, d.base = p, base
				break
			}
		}
	}
	if pos < 0 {
		return nil, fmt.Errorf("no central directory entry at offset %d", cdOff)
	}
	if d.base > 0 {
		d.notes = append(d.notes, zipNote{off: 0,
			msg:      fmt.Sprintf("%d bytes of other data precede the zip archive (a polyglot or self-extracting file); loaders that read the front of the file see that data, not the archive", d.base),
			evidence: fmt.Sprintf("archive starts at offset %d", d.base)})
	}
	if d.base != implied && implied >= 0 {
		d.notes = append(d.notes, zipNote{off: endPos,
			msg:      fmt.Sprintf("the end record's directory size and offset are inconsistent (the directory was found at offset %d)", pos),
			evidence: fmt.Sprintf("size %d, offset %d", cdSize, cdOff)})
	}

	count, err := d.readEntries(r, pos, dirEnd, lim)
	if err != nil {
		return nil, err
	}
	if count == 0 && entries > 0 {
		return nil, fmt.Errorf("central directory at offset %d holds no readable entry", pos)
	}
	if !d.stopped && count != entries {
		d.notes = append(d.notes, zipNote{off: endPos,
			msg:      fmt.Sprintf("the end record declares %d members but the central directory holds %d; all %d were scanned", entries, count, count),
			evidence: fmt.Sprintf("declared %d, found %d", entries, count)})
	}
	return d, nil
}

// findZip64End returns the ZIP64 end record that the locator at locPos
// points to (off, relative to the archive start), or nil if there is none.
func findZip64End(r io.ReaderAt, locPos int64, off uint64) ([]byte, int64, error) {
	rec := make([]byte, zip64EndLen)
	var cands []int64
	if off <= uint64(locPos) {
		cands = append(cands, int64(off))
	}
	// With data prepended, the record sits right before the locator.
	cands = append(cands, locPos-zip64EndLen)
	for _, c := range cands {
		if c < 0 || c+zip64EndLen > locPos {
			continue
		}
		if err := readFull(r, rec, c); err != nil {
			return nil, 0, err
		}
		if le.Uint32(rec) == zip64EndSig {
			return rec, c, nil
		}
	}
	return nil, 0, nil
}

// readEntries parses central directory entries from pos while their
// signature matches, up to dirEnd. It keeps at most MaxEntries+1 file
// entries (one more than the limit, so that Session.Nested reports the
// limit) and at most MaxHeaderBytes of names and extra fields.
func (d *zipDir) readEntries(r io.ReaderAt, pos, dirEnd int64, lim scan.Limits) (uint64, error) {
	br := bufio.NewReaderSize(io.NewSectionReader(r, pos, dirEnd-pos), 64<<10)
	hdr := make([]byte, zipCentralLen)
	var (
		count uint64
		meta  int64
	)
	for {
		if _, err := io.ReadFull(br, hdr); err != nil {
			return count, ioErrOnly(err)
		}
		if le.Uint32(hdr) != zipCentralSig {
			return count, nil
		}
		nameLen, extraLen, commentLen := int(le.Uint16(hdr[28:])), int(le.Uint16(hdr[30:])), int(le.Uint16(hdr[32:]))
		meta += int64(zipCentralLen + nameLen + extraLen)
		if meta > lim.MaxHeaderBytes {
			d.stopped = true
			d.stopReason = fmt.Sprintf("the central directory exceeds the %d-byte header limit; members after the first %d were not analysed", lim.MaxHeaderBytes, count)
			return count, nil
		}
		buf := make([]byte, nameLen+extraLen)
		if _, err := io.ReadFull(br, buf); err != nil {
			return count, ioErrOnly(err)
		}
		if _, err := br.Discard(commentLen); err != nil {
			return count, ioErrOnly(err)
		}
		e := zipEntry{
			name:     string(buf[:nameLen]),
			flags:    le.Uint16(hdr[8:]),
			method:   le.Uint16(hdr[10:]),
			compSize: uint64(le.Uint32(hdr[20:])),
			size:     uint64(le.Uint32(hdr[24:])),
			localOff: uint64(le.Uint32(hdr[42:])),
		}
		applyZip64(&e, buf[nameLen:])
		count++
		d.entries = append(d.entries, e)
		if len(d.entries) > lim.MaxEntries {
			d.stopped, d.tooMany = true, true
			return count, nil
		}
	}
}

// ioErrOnly passes on reader failures and drops the end of data, which
// just ends a sequence of records.
func ioErrOnly(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return nil
	}
	return &ioError{err}
}

// applyZip64 replaces the saturated 32-bit fields of e with the values of
// its ZIP64 extended information extra field.
func applyZip64(e *zipEntry, extra []byte) {
	needSize, needComp, needOff := e.size == 0xffffffff, e.compSize == 0xffffffff, e.localOff == 0xffffffff
	if !needSize && !needComp && !needOff {
		return
	}
	for len(extra) >= 4 {
		id, n := le.Uint16(extra), int(le.Uint16(extra[2:]))
		extra = extra[4:]
		if n > len(extra) {
			return
		}
		field := extra[:n]
		extra = extra[n:]
		if id != 0x0001 {
			continue
		}
		for _, f := range []struct {
			need bool
			dst  *uint64
		}{{needSize, &e.size}, {needComp, &e.compSize}, {needOff, &e.localOff}} {
			if !f.need {
				continue
			}
			if len(field) < 8 {
				return
			}
			*f.dst = le.Uint64(field)
			field = field[8:]
		}
		return
	}
}

// walkLocalHeaders lists the members of a zip without a usable central
// directory from its local headers, stopping at the first member whose
// size is not in its header.
func walkLocalHeaders(r io.ReaderAt, size int64, lim scan.Limits) (*zipDir, error) {
	d := &zipDir{endPos: -1}
	hdr := make([]byte, zipLocalLen)
	for pos := int64(0); pos+zipLocalLen <= size; {
		if err := readFull(r, hdr, pos); err != nil {
			return d, ioErrOnly(err)
		}
		if le.Uint32(hdr) != zipLocalSig {
			break
		}
		nameLen, extraLen := int64(le.Uint16(hdr[26:])), int64(le.Uint16(hdr[28:]))
		buf := make([]byte, nameLen+extraLen)
		if err := readFull(r, buf, pos+zipLocalLen); err != nil {
			if errors.Is(err, errShort) {
				break
			}
			return d, err
		}
		e := zipEntry{
			name:     string(buf[:nameLen]),
			flags:    le.Uint16(hdr[6:]),
			method:   le.Uint16(hdr[8:]),
			compSize: uint64(le.Uint32(hdr[18:])),
			size:     uint64(le.Uint32(hdr[22:])),
			localOff: uint64(pos),
		}
		applyZip64(&e, buf[nameLen:])
		d.entries = append(d.entries, e)
		if len(d.entries) > lim.MaxEntries {
			d.stopped, d.tooMany = true, true
			break
		}
		if e.flags&zipFlagDescriptor != 0 && e.compSize == 0 {
			break // the size is only after the data: the next header cannot be found
		}
		next := pos + zipLocalLen + nameLen + extraLen
		if e.compSize > uint64(size-next) {
			break
		}
		pos = next + int64(e.compSize)
	}
	return d, nil
}

// crossCheck compares the lenient reading with Go's strict archive/zip:
// an archive that strict readers reject or list differently can evade
// scanners built on them while PyTorch still loads it.
func crossCheck(obj scan.Object, d *zipDir, sess *scan.Session) {
	zr, err := zip.NewReader(obj.R, obj.Size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// An irregularity already reported usually explains the refusal.
		if len(d.notes) == 0 {
			report(sess, RuleIrregularZip, d.endPos, "",
				fmt.Sprintf("strict zip readers reject this archive (%v); Palisade read it leniently, as PyTorch does", err), err.Error())
		}
		return
	}
	if d.stopped {
		return
	}
	strict := make([]string, 0, len(zr.File))
	for _, f := range zr.File {
		strict = append(strict, f.Name)
	}
	lenient := make([]string, 0, len(d.entries))
	for _, e := range d.entries {
		lenient = append(lenient, e.name)
	}
	slices.Sort(strict)
	slices.Sort(lenient)
	if !slices.Equal(strict, lenient) {
		report(sess, RuleIrregularZip, d.endPos, "",
			fmt.Sprintf("strict zip readers list %d members where the central directory PyTorch reads lists %d", len(strict), len(lenient)),
			"only in one listing: "+strings.Join(symmetricDiff(strict, lenient, 10), ", "))
	}
}

// symmetricDiff returns up to limit names that occur in only one of the
// sorted lists a and b (counting repeats).
func symmetricDiff(a, b []string, limit int) []string {
	var out []string
	i, j := 0, 0
	for (i < len(a) || j < len(b)) && len(out) < limit {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			i++
			j++
		}
	}
	return out
}

// scanZipEntry checks one member and hands its content to sess.Nested.
func scanZipEntry(ctx context.Context, obj scan.Object, sess *scan.Session, base int64, e *zipEntry, seen names) error {
	hdrPos := int64(-1)
	if e.localOff <= uint64(obj.Size) {
		hdrPos = base + int64(e.localOff)
	}
	checkName(sess, hdrPos, e.name)
	seen.check(sess, hdrPos, e.name)
	if e.isDir() {
		return nil
	}
	unreadable := func(format string, args ...any) error {
		report(sess, RuleMemberUnreadable, hdrPos, e.name, fmt.Sprintf(format, args...), e.name)
		return nil
	}
	if hdrPos < 0 || hdrPos > obj.Size-zipLocalLen {
		return unreadable("member %q: its local header offset %d lies outside the file; its content was not analysed", e.name, e.localOff)
	}
	lh := make([]byte, zipLocalLen)
	if err := readFull(obj.R, lh, hdrPos); err != nil {
		return err
	}
	if le.Uint32(lh) != zipLocalSig {
		return unreadable("member %q: no local header at offset %d; its content was not analysed", e.name, hdrPos)
	}
	nameLen, extraLen := int64(le.Uint16(lh[26:])), int64(le.Uint16(lh[28:]))
	dataOff := hdrPos + zipLocalLen + nameLen + extraLen
	if dataOff > obj.Size {
		return unreadable("member %q: its local header at offset %d runs past the end of the file; its content was not analysed", e.name, hdrPos)
	}
	local := make([]byte, nameLen)
	if err := readFull(obj.R, local, hdrPos+zipLocalLen); err != nil {
		return err
	}
	if string(local) != e.name {
		report(sess, RuleNameMismatch, hdrPos, e.name,
			fmt.Sprintf("member %q is named %q in its local header; PyTorch loads it by the central-directory name", e.name, local),
			fmt.Sprintf("central %q, local %q", e.name, local))
	}
	flags := e.flags | le.Uint16(lh[6:])
	if flags&zipFlagPatched != 0 {
		report(sess, RuleIrregularZip, hdrPos, e.name,
			fmt.Sprintf("member %q sets the 'compressed patched data' flag (0x20), which strict readers refuse and PyTorch ignores", e.name),
			fmt.Sprintf("flags 0x%04x", flags))
	}
	encrypted := flags&(zipFlagEncrypted|zipFlagStrongEnc) != 0
	avail := uint64(obj.Size - dataOff)
	flagEvidence := fmt.Sprintf("flags 0x%04x, method %d", flags, e.method)

	switch e.method {
	case zipStore:
		n := e.compSize
		if e.size != e.compSize {
			report(sess, RuleIrregularZip, hdrPos, e.name,
				fmt.Sprintf("stored member %q declares %d compressed and %d uncompressed bytes; the larger extent was scanned", e.name, e.compSize, e.size),
				fmt.Sprintf("compressed %d, uncompressed %d", e.compSize, e.size))
			n = max(e.compSize, e.size)
		}
		if n > avail {
			report(sess, RuleMemberUnreadable, hdrPos, e.name,
				fmt.Sprintf("member %q is truncated: it declares %d bytes but only %d remain in the file; the part present was scanned", e.name, n, avail),
				e.name)
			n = avail
		}
		if encrypted {
			report(sess, RuleEncrypted, hdrPos, e.name,
				fmt.Sprintf("member %q is flagged as encrypted but stored; PyTorch ignores the flag and loads it, so it was scanned as plain content", e.name),
				flagEvidence)
		}
		if n == 0 {
			return nil
		}
		return sess.Nested(ctx, e.name, io.NewSectionReader(obj.R, dataOff, int64(n)), int64(n), "")

	case zipDeflate, zipBzip2, zipLZMA, zipZstd:
		comp := e.compSize
		if comp > avail {
			comp = avail // the decoder reports the truncation
		}
		src := io.NewSectionReader(obj.R, dataOff, int64(comp))
		dec, closeDec, err := newDecoder(func() (io.Reader, func(), error) { return zipDecoder(e.method, flags, src, e.size) })
		if err != nil {
			if encrypted {
				report(sess, RuleEncrypted, hdrPos, e.name,
					fmt.Sprintf("member %q is encrypted (%v); its content could not be analysed", e.name, err), flagEvidence)
				return nil
			}
			return unreadable("member %q cannot be decompressed (%v); its content was not analysed", e.name, err)
		}
		decoded, decErr, fatal := expandMember(ctx, sess, e.name, dec, int64(comp))
		closeDec()
		if fatal != nil {
			return fatal
		}
		switch {
		case encrypted && decErr != nil && decoded == 0:
			report(sess, RuleEncrypted, hdrPos, e.name,
				fmt.Sprintf("member %q is encrypted; its content could not be decompressed or analysed", e.name), flagEvidence)
		case encrypted && decErr != nil:
			report(sess, RuleEncrypted, hdrPos, e.name,
				fmt.Sprintf("member %q is flagged as encrypted; %d bytes decompressed as plain data and were scanned, the rest failed (%v) and was not analysed", e.name, decoded, decErr), flagEvidence)
		case encrypted:
			report(sess, RuleEncrypted, hdrPos, e.name,
				fmt.Sprintf("member %q is flagged as encrypted but decompresses as plain data; it was scanned", e.name), flagEvidence)
		case decErr != nil:
			report(sess, RuleMemberUnreadable, hdrPos, e.name,
				fmt.Sprintf("member %q is corrupt after %d decompressed bytes (%v); those bytes were scanned, the rest was not analysed", e.name, decoded, decErr), e.name)
		}
		return nil

	case zipAES:
		report(sess, RuleEncrypted, hdrPos, e.name,
			fmt.Sprintf("member %q is encrypted with WinZip AES; its content could not be analysed", e.name), flagEvidence)
		return nil

	default:
		what := zipMethodNames[e.method]
		if what == "" {
			what = "unknown"
		}
		report(sess, RuleUnsupportedMethod, hdrPos, e.name,
			fmt.Sprintf("member %q uses compression method %d (%s), which Palisade cannot decompress; its content was not analysed", e.name, e.method, what),
			fmt.Sprintf("method %d", e.method))
		return nil
	}
}

// zipDecoder returns a decompressing reader for a member's data and a
// function that releases it.
func zipDecoder(method, flags uint16, src io.Reader, size uint64) (io.Reader, func(), error) {
	switch method {
	case zipDeflate:
		fr := flate.NewReader(src)
		return fr, func() { _ = fr.Close() }, nil
	case zipBzip2:
		return bzip2.NewReader(src), func() {}, nil
	case zipLZMA:
		// APPNOTE 5.8.8: version (2 bytes), properties size (2), the
		// 5-byte LZMA properties, then the raw stream. Rebuild the
		// classic .lzma header the decoder expects.
		h := make([]byte, 4)
		if _, err := io.ReadFull(src, h); err != nil {
			return nil, nil, fmt.Errorf("read LZMA header: %w", err)
		}
		if n := le.Uint16(h[2:]); n != 5 {
			return nil, nil, fmt.Errorf("LZMA properties are %d bytes, not 5", n)
		}
		alone := make([]byte, 13)
		if _, err := io.ReadFull(src, alone[:5]); err != nil {
			return nil, nil, fmt.Errorf("read LZMA properties: %w", err)
		}
		if flags&0x2 != 0 {
			le.PutUint64(alone[5:], ^uint64(0)) // size unknown, end marker present
		} else {
			le.PutUint64(alone[5:], size)
		}
		lr, err := lzma.ReaderConfig{DictCap: maxDictBytes}.NewReader(io.MultiReader(bytes.NewReader(alone), src))
		if err != nil {
			return nil, nil, err
		}
		return lr, func() {}, nil
	case zipZstd:
		zr, err := newZstd(src)
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	}
	return nil, nil, fmt.Errorf("compression method %d is not supported", method)
}

// newZstd returns a zstd decoder that decodes on the calling goroutine and
// refuses windows above maxDictBytes.
func newZstd(src io.Reader) (*zstd.Decoder, error) {
	return zstd.NewReader(src,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(maxDictBytes))
}
