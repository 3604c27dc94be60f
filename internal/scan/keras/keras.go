package keras

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/palisade-sec/palisade/internal/scan"
)

// Scanner analyses Keras JSON configs and legacy HDF5 models.
type Scanner struct{}

var _ scan.Scanner = (*Scanner)(nil)

// New returns a Keras scanner for scan.FormatKerasConfig and
// scan.FormatHDF5.
func New() *Scanner { return &Scanner{} }

// Rules lists every rule the scanner may report.
func (s *Scanner) Rules() []scan.Rule { return append([]scan.Rule(nil), allRules...) }

// Scan analyses obj according to the format it was routed as.
func (s *Scanner) Scan(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	switch obj.Format {
	case scan.FormatHDF5:
		return scanHDF5(ctx, obj, sess)
	default:
		return scanConfig(obj, sess)
	}
}

// readAll reads the first n bytes of r.
func readAll(r io.ReaderAt, n int64) ([]byte, error) {
	buf := make([]byte, n)
	got, err := r.ReadAt(buf, 0)
	if int64(got) == n {
		return buf, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return buf[:got], nil
	}
	return nil, err
}

// scanConfig analyses a whole object as one JSON config.
func scanConfig(obj scan.Object, sess *scan.Session) error {
	limit := sess.Limits().MaxHeaderBytes
	n, tooLarge := obj.Size, false
	if n > limit {
		n, tooLarge = limit, true
	}
	if n < 0 {
		n = 0
	}
	raw, err := readAll(obj.R, n)
	if err != nil {
		return fmt.Errorf("read keras config: %w", err)
	}
	data, converted, err := transcode(raw)
	if err != nil {
		if !obj.Tentative {
			f := RuleMalformedConfig.Finding(fmt.Sprintf("the Keras config is not readable text: %v", err), "")
			sess.Report(f)
		}
		return nil
	}
	hits, truncated, err := analyzeJSON(data)

	if obj.Tentative && len(hits) == 0 {
		// Routed by a weak guess: broken JSON is not our format.
		if err != nil && !errors.Is(err, errTooDeep) {
			return nil
		}
	}
	offset := func(off int) int64 {
		if converted || off < 0 {
			return -1
		}
		return int64(off)
	}
	reportHits(sess, hits, offset, "")
	if tooLarge {
		f := RuleConfigLimit.Finding(
			fmt.Sprintf("the Keras config is %d bytes, over the %d-byte header limit; only the first %d bytes were analysed", obj.Size, limit, limit),
			fmt.Sprintf("size %d", obj.Size))
		f.Offset = limit
		sess.Report(f)
	}
	var se *syntaxError
	switch {
	case errors.Is(err, errTooDeep):
		f := RuleConfigLimit.Finding(
			fmt.Sprintf("the Keras config nests containers more than %d levels deep; the rest was not analysed (Python's json.loads cannot load it either)", maxJSONDepth),
			fmt.Sprintf("depth > %d", maxJSONDepth))
		sess.Report(f)
	case errors.As(err, &se) && !tooLarge:
		f := RuleMalformedConfig.Finding(fmt.Sprintf("the Keras config is not valid JSON: %s", se.Msg), snippet(data, se.Offset))
		// An unexpected end is reported on the last byte.
		f.Offset = offset(min(se.Offset, len(data)-1))
		sess.Report(f)
	}
	if truncated {
		sess.Report(RuleConfigLimit.Finding(
			fmt.Sprintf("the Keras config produced more than %d findings; the rest were not reported", maxHits), ""))
	}
	return nil
}

// reportHits turns config hits into findings. where, when set, names the
// JSON text inside a larger object (the HDF5 attribute).
func reportHits(sess *scan.Session, hits []hit, offset func(int) int64, where string) {
	for _, h := range hits {
		msg := h.msg
		if where != "" {
			msg += " (" + where + ")"
		}
		f := h.rule.Finding(msg, h.evidence)
		f.Severity = h.severity
		f.Pointer = h.pointer
		f.Offset = offset(h.offset)
		sess.Report(f)
	}
}

// snippet renders the JSON text around off for evidence.
func snippet(data []byte, off int) string {
	start := max(off-20, 0)
	end := min(off+20, len(data))
	if start > end {
		return ""
	}
	return fmt.Sprintf("%q", data[start:end])
}
