package numpy

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/palisade-sec/palisade/internal/scan"
)

const (
	// numpyMaxHeader is numpy.lib.format's default max_header_size: longer
	// headers load only with allow_pickle=True or a larger limit.
	numpyMaxHeader = 10_000
	// headerCap is the longest header the scanner parses (also bounded by
	// Limits.MaxHeaderBytes). Real headers are a few hundred bytes; wide
	// structured dtypes reach tens of kilobytes.
	headerCap = 1 << 20
)

// Names under which payloads are handed to Session.Nested.
const (
	objectPayloadName   = "object array payload"
	trailingPayloadName = "trailing data"
	unknownPayloadName  = "array payload"
)

var magic = []byte("\x93NUMPY")

// Scanner analyses .npy arrays.
type Scanner struct{}

var _ scan.Scanner = (*Scanner)(nil)

// New returns a NumPy scanner for scan.FormatNumpy.
func New() *Scanner { return &Scanner{} }

// Rules lists every rule the scanner may report.
func (s *Scanner) Rules() []scan.Rule { return slices.Clone(allRules) }

// header is a parsed .npy preamble.
type header struct {
	major, minor byte
	textStart    int64 // offset of the header text
	dataStart    int64 // offset of the array data
}

// Scan analyses one .npy object.
func (s *Scanner) Scan(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	pre := make([]byte, 12)
	n, err := obj.R.ReadAt(pre, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read npy preamble: %w", err)
	}
	pre = pre[:n]
	if !bytes.HasPrefix(pre, magic) {
		if obj.Tentative {
			return nil
		}
		malformed(sess, 0, "the file does not start with the .npy magic \\x93NUMPY", fmt.Sprintf("%q", pre))
		return nil
	}
	if len(pre) < 8 {
		malformed(sess, 0, "the .npy preamble is truncated before the version", fmt.Sprintf("%q", pre))
		return nil
	}
	h := header{major: pre[6], minor: pre[7]}
	var lenSize int64
	switch {
	case h.major == 1 && h.minor == 0:
		lenSize = 2
	case (h.major == 2 || h.major == 3) && h.minor == 0:
		lenSize = 4
	default:
		malformed(sess, 6, fmt.Sprintf("unsupported .npy format version %d.%d (numpy reads 1.0, 2.0 and 3.0)", h.major, h.minor),
			fmt.Sprintf("version %d.%d", h.major, h.minor))
		return nil
	}
	if int64(len(pre)) < 8+lenSize {
		malformed(sess, 8, "the .npy preamble is truncated in the header length", fmt.Sprintf("%q", pre))
		return nil
	}
	var hlen int64
	if lenSize == 2 {
		hlen = int64(binary.LittleEndian.Uint16(pre[8:]))
	} else {
		hlen = int64(binary.LittleEndian.Uint32(pre[8:]))
	}
	h.textStart = 8 + lenSize
	h.dataStart = h.textStart + hlen
	if h.dataStart > obj.Size {
		malformed(sess, 8, fmt.Sprintf("the header length %d runs past the end of the %d-byte file", hlen, obj.Size),
			fmt.Sprintf("header length %d", hlen))
		return nil
	}
	limit := min(int64(headerCap), sess.Limits().MaxHeaderBytes)
	if hlen > limit {
		f := RuleOversizedHeader.Finding(
			fmt.Sprintf("the .npy header is %d bytes, over the scanner's %d-byte limit; it was not analysed", hlen, limit),
			fmt.Sprintf("header length %d", hlen))
		f.Severity = scan.SeverityMedium
		f.Offset = 8
		sess.Report(f)
		return offerPayload(ctx, obj, sess, h.dataStart)
	}
	if hlen > numpyMaxHeader {
		f := RuleOversizedHeader.Finding(
			fmt.Sprintf("the .npy header is %d bytes; numpy refuses headers over %d bytes unless allow_pickle=True or max_header_size is raised", hlen, numpyMaxHeader),
			fmt.Sprintf("header length %d", hlen))
		f.Offset = 8
		sess.Report(f)
	}
	text := make([]byte, hlen)
	if got, err := obj.R.ReadAt(text, h.textStart); int64(got) < hlen {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("read npy header: %w", err)
	}
	return analyzeHeader(ctx, obj, sess, h, text)
}

// analyzeHeader parses and checks the header dict and acts on the dtype.
func analyzeHeader(ctx context.Context, obj scan.Object, sess *scan.Session, h header, text []byte) error {
	v, err := parseLiteral(text, h.major < 3, h.major < 3)
	if err != nil {
		off := h.textStart
		var le *literalError
		if errors.As(err, &le) {
			off += int64(le.Offset)
		}
		malformed(sess, off, fmt.Sprintf("the .npy header is not a Python literal numpy accepts: %v", err), headerEvidence(text))
		return offerPayload(ctx, obj, sess, h.dataStart)
	}
	d, err := checkHeaderDict(v)
	if err != nil {
		malformed(sess, h.textStart, fmt.Sprintf("the .npy header is invalid: %v", err), headerEvidence(text))
		return offerPayload(ctx, obj, sess, h.dataStart)
	}
	info, err := analyzeDescr(d.descr, "descr", 0)
	var de *dtypeError
	switch {
	case errors.As(err, &de):
		malformed(sess, h.textStart, fmt.Sprintf("the .npy header's descr is not a valid dtype: %v", err), "descr "+scan.Clip(d.descr.repr(), 120))
		return offerPayload(ctx, obj, sess, h.dataStart)
	case err != nil:
		malformed(sess, h.textStart, fmt.Sprintf("the .npy dtype is impossibly large: %v", err), "descr "+scan.Clip(d.descr.repr(), 120))
		return offerPayload(ctx, obj, sess, h.dataStart)
	}

	dataLen := obj.Size - h.dataStart
	if info.object != "" {
		f := RuleObjectArray.Finding(
			"object array: loading needs allow_pickle=True, and the data is a pickle that runs when loaded",
			scan.Clip(info.object, 160))
		f.Offset = h.dataStart
		sess.Report(f)
		if dataLen == 0 {
			return nil
		}
		return sess.Nested(ctx, objectPayloadName, io.NewSectionReader(obj.R, h.dataStart, dataLen), dataLen, scan.FormatPickle)
	}
	if info.unknown != "" {
		f := RuleUnknownDtype.Finding(
			"the .npy header declares a dtype the scanner does not recognise; the data size and the absence of objects were not verified",
			scan.Clip(info.unknown, 160))
		f.Offset = h.textStart
		sess.Report(f)
		return offerPayload(ctx, obj, sess, h.dataStart)
	}
	return checkSize(ctx, obj, sess, h, d.count, info.size)
}

// headerDict is a validated header.
type headerDict struct {
	descr pyValue
	count uint64 // elements, from shape
}

// checkHeaderDict applies numpy's checks: a dict with exactly the keys
// descr, fortran_order and shape, a bool fortran_order and a tuple of ints
// as shape.
func checkHeaderDict(v pyValue) (headerDict, error) {
	if v.kind != pyDict {
		return headerDict{}, fmt.Errorf("the header is a %s, not a dict", v.kind)
	}
	var keys []string
	for _, k := range v.items {
		keys = append(keys, scan.Clip(k.repr(), 40))
	}
	slices.Sort(keys)
	if want := []string{"'descr'", "'fortran_order'", "'shape'"}; !slices.Equal(keys, want) {
		return headerDict{}, fmt.Errorf("the header keys are %s, want %s", strings.Join(keys, ", "), strings.Join(want, ", "))
	}
	descr, _ := v.lookup("descr")
	fortran, _ := v.lookup("fortran_order")
	shape, _ := v.lookup("shape")
	if fortran.kind != pyBool {
		return headerDict{}, fmt.Errorf("fortran_order is %s, not a bool", scan.Clip(fortran.repr(), 40))
	}
	if shape.kind != pyTuple {
		return headerDict{}, fmt.Errorf("shape is %s, not a tuple of ints", scan.Clip(shape.repr(), 60))
	}
	count, ok, err := shapeCount(shape)
	switch {
	case !ok:
		return headerDict{}, fmt.Errorf("shape %s is not a tuple of ints", scan.Clip(shape.repr(), 60))
	case errors.Is(err, errOverflow):
		return headerDict{}, fmt.Errorf("shape %s has more elements than fit in 64 bits", scan.Clip(shape.repr(), 60))
	case err != nil:
		return headerDict{}, fmt.Errorf("shape %s: %w", scan.Clip(shape.repr(), 60), err)
	}
	return headerDict{descr: descr, count: count}, nil
}

// checkSize compares the data after the header with shape times item
// size, without reading it.
func checkSize(ctx context.Context, obj scan.Object, sess *scan.Session, h header, count, itemsize uint64) error {
	dataLen := uint64(obj.Size - h.dataStart)
	want, err := mulSize(count, itemsize)
	if err != nil {
		f := RuleSizeMismatch.Finding(
			fmt.Sprintf("the header declares %d elements of %d bytes, more than 2^64 bytes; the file holds %d bytes of data", count, itemsize, dataLen),
			fmt.Sprintf("%d x %d bytes", count, itemsize))
		f.Offset = h.dataStart
		sess.Report(f)
		return nil
	}
	switch {
	case want > dataLen:
		f := RuleSizeMismatch.Finding(
			fmt.Sprintf("the array data is truncated: the header declares %d bytes (%d elements of %d bytes) but the file holds %d", want, count, itemsize, dataLen),
			fmt.Sprintf("declared %d bytes, present %d", want, dataLen))
		f.Offset = h.dataStart
		sess.Report(f)
	case want < dataLen:
		extra := int64(dataLen - want)
		at := h.dataStart + int64(want)
		f := RuleSizeMismatch.Finding(
			fmt.Sprintf("%d bytes follow the array data (the header declares %d bytes); loaders ignore them but they can hide a payload", extra, want),
			fmt.Sprintf("declared %d bytes, present %d", want, dataLen))
		f.Offset = at
		sess.Report(f)
		return sess.Nested(ctx, trailingPayloadName, io.NewSectionReader(obj.R, at, extra), extra, "")
	}
	return nil
}

// offerPayload hands the data after an unanalysed header to the engine
// for recognition by content, so a pickle behind an odd header is still
// scanned.
func offerPayload(ctx context.Context, obj scan.Object, sess *scan.Session, dataStart int64) error {
	n := obj.Size - dataStart
	if n <= 0 {
		return nil
	}
	return sess.Nested(ctx, unknownPayloadName, io.NewSectionReader(obj.R, dataStart, n), n, "")
}

func malformed(sess *scan.Session, offset int64, msg, evidence string) {
	f := RuleMalformedHeader.Finding(msg, evidence)
	f.Offset = offset
	sess.Report(f)
}

// headerEvidence shows the start of a header.
func headerEvidence(text []byte) string {
	t := bytes.TrimRight(text, " \n")
	if len(t) > 120 {
		return fmt.Sprintf("%q...", t[:120])
	}
	return fmt.Sprintf("%q", t)
}
