package keras

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/palisade-sec/palisade/internal/scan"
)

// Content-search parameters for HDF5 files.
const (
	searchChunk = 1 << 20 // bytes read per step of the search
	labelWindow = 512     // bytes before a JSON object searched for the attribute name
	// maxPending bounds the balanced objects held back while an enclosing
	// object may still supersede them.
	maxPending = 1 << 20
)

// hdf5Signature starts an HDF5 superblock, at offset 0 or after a user
// block of 512, 1024, 2048, ... bytes.
var hdf5Signature = []byte("\x89HDF\r\n\x1a\n")

// hasHDF5Signature reports whether r holds an HDF5 superblock signature at
// one of the offsets the format allows.
func hasHDF5Signature(r io.ReaderAt, size int64) bool {
	sig := make([]byte, len(hdf5Signature))
	for off := int64(0); off+int64(len(sig)) <= size; {
		if n, _ := r.ReadAt(sig, off); n == len(sig) && bytes.Equal(sig, hdf5Signature) {
			return true
		}
		if off == 0 {
			off = 512
		} else {
			off *= 2
		}
	}
	return false
}

// jsonOutside marks the bytes that may appear in JSON outside strings.
var jsonOutside = func() (t [256]bool) {
	for _, c := range []byte(" \t\r\n{}[],:0123456789+-.eEtruefalsnNIiy") {
		t[c] = true
	}
	return t
}()

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// span is a balanced JSON object [start, end) in the file.
type span struct{ start, end int64 }

// entry is an open container on a track's stack.
type entry struct {
	off       int64
	obj       bool // '{' rather than '['
	cand      bool // an object whose first token is a string key
	noTry     bool // never analysed as a whole (see track.overflow)
	level     int  // nesting level on the track when opened
	maxLevel  int  // deepest level reached while open
	pendStart int  // absolute index into the pending list when opened
}

// track lexes the file under one assumption about which quotes open
// strings. It needs no grammar: it follows strings, escapes and brackets,
// and dies on a byte JSON cannot hold at that point. Balanced objects are
// held as pending until it is known whether an enclosing object that fits
// the limits supersedes them.
type track struct {
	live, inStr, esc bool
	opened           bool // the top entry is a '{' whose first token is not seen yet
	stack            []entry
	lo               int // stack[lo:] is live; entries below were dropped as too deep
	lost             int // dropped entries still open
	pend             []span
	pendBase         int // absolute index of pend[0]
}

func (t *track) depth() int { return len(t.stack) - t.lo }

// search is the state of one HDF5 content search. The file is read once,
// in order, by two tracks of opposite string parity: a JSON object's '{'
// is outside a string for any track alive at it, or starts a new track
// when no live track is outside a string there. Two live tracks always
// disagree about being inside a string (any byte on which they would
// diverge, such as a backslash outside a string, kills one), so no prefix,
// stray quote included, can make the search read a later config as string
// content. Only maximal balanced objects within the size and depth limits
// are parsed, and each track's are disjoint, so parsing reads each byte at
// most twice.
type search struct {
	ctx    context.Context
	r      io.ReaderAt
	size   int64
	limit  int64 // largest JSON object analysed
	budget int64 // bytes the parser may still read: a backstop, never reached by construction
	sess   *scan.Session
	tracks [2]track
	buf    []byte // parse buffer

	stopped      bool  // the budget is spent
	reportedDeep bool  // a too-deeply nested object was reported
	bigFrom      int64 // start of the last object reported as too large, -1 if none
	overflowed   bool  // maxPending was reached
}

// scanHDF5 searches an HDF5 file for JSON configs (the model_config and
// training_config attributes) and analyses each one.
func scanHDF5(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	if obj.Tentative && !hasHDF5Signature(obj.R, obj.Size) {
		return nil
	}
	s := &search{
		ctx: ctx, r: obj.R, size: obj.Size, limit: sess.Limits().MaxHeaderBytes, sess: sess,
		budget:  4*obj.Size + 1<<20,
		bigFrom: -1,
	}
	return s.run()
}

// run lexes the whole file.
func (s *search) run() error {
	buf := make([]byte, min(s.size, searchChunk))
	for pos := int64(0); pos < s.size && !s.stopped; {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		n := int(min(int64(len(buf)), s.size-pos))
		got, err := s.r.ReadAt(buf[:n], pos)
		if got < n {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("read hdf5 at offset %d: %w", pos, err)
		}
		if err := s.lex(buf[:n], pos); err != nil {
			return err
		}
		pos += int64(n)
	}
	for i := range s.tracks {
		if err := s.kill(&s.tracks[i]); err != nil {
			return err
		}
	}
	return nil
}

// lex feeds one chunk starting at file offset base to the tracks.
func (s *search) lex(chunk []byte, base int64) error {
	for i := 0; i < len(chunk) && !s.stopped; i++ {
		a, b := &s.tracks[0], &s.tracks[1]
		if !a.live && !b.live {
			// Nothing is open: skip to the next object.
			j := bytes.IndexByte(chunk[i:], '{')
			if j < 0 {
				return nil
			}
			i += j
		}
		c := chunk[i]
		off := base + int64(i)
		container := c == '{' && (a.live && !a.inStr || b.live && !b.inStr)
		if a.live {
			if err := s.step(a, c, off); err != nil {
				return err
			}
		}
		if b.live {
			if err := s.step(b, c, off); err != nil {
				return err
			}
		}
		if c == '{' && !container {
			// No live track reads this '{' as a container; at most one
			// is alive (inside a string), so a slot is free.
			t := a
			if t.live {
				t = b
			}
			if !t.live {
				t.live = true
				if err := s.push(t, c, off); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// step advances a live track over byte c at offset off.
func (s *search) step(t *track, c byte, off int64) error {
	if t.inStr {
		switch {
		case t.esc:
			t.esc = false
		case c == '\\':
			t.esc = true
		case c == '"':
			t.inStr = false
		case c < 0x20:
			return s.kill(t)
		}
		return nil
	}
	if t.opened && !isJSONSpace(c) {
		t.stack[len(t.stack)-1].cand = c == '"'
		t.opened = false
	}
	switch c {
	case '"':
		t.inStr = true
	case '{', '[':
		return s.push(t, c, off)
	case '}', ']':
		return s.pop(t, c, off)
	default:
		if !jsonOutside[c] {
			return s.kill(t)
		}
	}
	return nil
}

// push opens a container. A stack deeper than any loadable config drops
// its bottom entry, which can then never be analysed.
func (s *search) push(t *track, c byte, off int64) error {
	if t.depth() > maxJSONDepth {
		// The bottom entry now encloses more than maxJSONDepth levels.
		// Its pending children are final.
		next := t.stack[t.lo+1].pendStart
		if err := s.flush(t, next); err != nil {
			return err
		}
		t.lo++
		t.lost++
		if t.lo > len(t.stack)/2 && t.lo > 64 {
			n := copy(t.stack, t.stack[t.lo:])
			t.stack = t.stack[:n]
			t.lo = 0
		}
	}
	level := t.lost + t.depth()
	t.stack = append(t.stack, entry{
		off: off, obj: c == '{', level: level, maxLevel: level,
		pendStart: t.pendBase + len(t.pend),
	})
	t.opened = c == '{'
	return nil
}

// pop closes the top container with c at offset off.
func (s *search) pop(t *track, c byte, off int64) error {
	t.opened = false
	if t.depth() == 0 {
		if t.lost == 0 {
			return s.kill(t)
		}
		// A dropped, too deep container closes; its children are final.
		t.lost--
		return s.flush(t, t.pendBase+len(t.pend))
	}
	e := t.stack[len(t.stack)-1]
	if e.obj != (c == '}') {
		return s.kill(t)
	}
	t.stack = t.stack[:len(t.stack)-1]
	if t.depth() > 0 {
		p := &t.stack[len(t.stack)-1]
		p.maxLevel = max(p.maxLevel, e.maxLevel)
	}
	size := off + 1 - e.off
	depth := e.maxLevel - e.level + 1
	switch {
	case size > s.limit || depth > maxJSONDepth:
		// No enclosing object fits either: what is pending is final.
		if e.cand {
			s.reportUnfit(e.off, size, depth)
		}
		return s.flush(t, t.pendBase+len(t.pend))
	case e.noTry:
		return s.flush(t, t.pendBase+len(t.pend))
	case e.cand:
		// This object supersedes the objects inside it.
		t.pend = append(t.pend[:e.pendStart-t.pendBase], span{e.off, off + 1})
		if len(t.pend) > maxPending {
			s.overflow(t)
		}
	}
	if t.depth() == 0 {
		// A top-level container closed, or its parent was dropped.
		return s.flush(t, t.pendBase+len(t.pend))
	}
	return nil
}

// overflow analyses what is pending now, so that memory stays bounded, and
// marks the open containers so that none is analysed as a whole (which
// would analyse the same objects twice).
func (s *search) overflow(t *track) {
	for i := t.lo; i < len(t.stack); i++ {
		t.stack[i].noTry = true
	}
	if !s.overflowed {
		s.overflowed = true
		f := RuleConfigLimit.Finding(
			fmt.Sprintf("a JSON object in the HDF5 file holds more than %d objects; its parts were analysed separately", maxPending),
			s.label(t.stack[t.lo].off))
		f.Offset = t.stack[t.lo].off
		s.sess.Report(f)
	}
	// The error can only be a cancelled context or a read error, which
	// the next read reports again.
	_ = s.flush(t, t.pendBase+len(t.pend))
}

// kill ends a track: its open containers are not JSON, and the objects
// pending inside them are final.
func (s *search) kill(t *track) error {
	err := s.flush(t, t.pendBase+len(t.pend))
	*t = track{stack: t.stack[:0], pend: t.pend[:0]}
	return err
}

// flush analyses the pending objects before absolute index upto.
func (s *search) flush(t *track, upto int) error {
	n := upto - t.pendBase
	if n <= 0 {
		return nil
	}
	for _, sp := range t.pend[:n] {
		if err := s.try(sp); err != nil {
			return err
		}
	}
	t.pend = t.pend[n:]
	t.pendBase += n
	if len(t.pend) == 0 {
		t.pend = t.pend[:0:0]
	}
	return nil
}

// reportUnfit reports a balanced object over the size or depth limit, once
// for a chain of nested ones.
func (s *search) reportUnfit(off, size int64, depth int) {
	if depth > maxJSONDepth {
		if s.reportedDeep {
			return
		}
		s.reportedDeep = true
		f := RuleConfigLimit.Finding(
			fmt.Sprintf("a JSON object in the HDF5 file nests containers more than %d levels deep; it was not analysed as a whole (Python's json.loads cannot load it either)", maxJSONDepth),
			s.label(off))
		f.Offset = off
		s.sess.Report(f)
		return
	}
	if s.bigFrom >= 0 && off <= s.bigFrom {
		return // it encloses the object already reported
	}
	s.bigFrom = off
	f := RuleConfigLimit.Finding(
		fmt.Sprintf("a JSON object in the HDF5 file is %d bytes, larger than the %d-byte header limit, and was not analysed as a whole", size, s.limit),
		s.label(off))
	f.Offset = off
	s.sess.Report(f)
}

// try reads one balanced object and analyses it.
func (s *search) try(sp span) error {
	if s.stopped {
		return nil
	}
	n := sp.end - sp.start
	if s.budget < n {
		s.stopped = true
		f := RuleConfigLimit.Finding(
			"the HDF5 content search read too many candidate JSON objects; the rest of the file was not searched",
			fmt.Sprintf("stopped at offset %d", sp.start))
		f.Offset = sp.start
		s.sess.Report(f)
		return nil
	}
	s.budget -= n
	if int64(cap(s.buf)) < n {
		s.buf = make([]byte, n)
	}
	data := s.buf[:n]
	got, err := s.r.ReadAt(data, sp.start)
	if int64(got) < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("read hdf5 at offset %d: %w", sp.start, err)
	}
	hits, truncated := analyzeObjects(data)
	if len(hits) == 0 && !truncated {
		return nil
	}
	where := s.label(sp.start)
	reportHits(s.sess, hits, func(off int) int64 { return sp.start + int64(off) }, where)
	if truncated {
		f := RuleConfigLimit.Finding(fmt.Sprintf("a JSON config in the HDF5 file produced more than %d findings; the rest were not reported", maxHits), where)
		f.Offset = sp.start
		s.sess.Report(f)
	}
	return nil
}

// analyzeObjects analyses a balanced object found by the search. If it is
// not valid JSON, the objects that closed before the error keep their
// findings (they parse the same on their own) and parsing starts afresh
// at the next object after the error, so every byte is parsed once.
func analyzeObjects(data []byte) ([]hit, bool) {
	var (
		hits      []hit
		truncated bool
	)
	for pos := 0; pos < len(data); {
		w := &walker{data: data, pos: pos, prefix: true}
		err := w.parse()
		hits = append(hits, w.hits...)
		truncated = truncated || w.truncated
		if len(hits) > maxHits {
			hits, truncated = hits[:maxHits], true
		}
		next := w.pos
		var se *syntaxError
		if errors.As(err, &se) {
			next = se.Offset
			if se.InString {
				next = skipString(data, next)
			}
		}
		pos = nextObject(data, max(next, pos+1))
	}
	return hits, truncated
}

// skipString returns the offset after the string that holds offset i.
func skipString(data []byte, i int) int {
	for ; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

// nextObject returns the offset of the next '{' outside strings at or
// after i, or len(data).
func nextObject(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case '{':
			return i
		case '"':
			i = skipString(data, i+1)
		default:
			i++
		}
	}
	return len(data)
}

// label names the HDF5 attribute a JSON object most likely belongs to,
// from the attribute name stored shortly before it.
func (s *search) label(at int64) string {
	start := max(at-labelWindow, 0)
	buf := make([]byte, at-start)
	n, _ := s.r.ReadAt(buf, start)
	buf = buf[:n]
	mi := bytes.LastIndex(buf, []byte("model_config"))
	ti := bytes.LastIndex(buf, []byte("training_config"))
	switch {
	case mi < 0 && ti < 0:
		return fmt.Sprintf("JSON at offset %d", at)
	case mi > ti:
		return fmt.Sprintf("model_config attribute, JSON at offset %d", at)
	default:
		return fmt.Sprintf("training_config attribute, JSON at offset %d", at)
	}
}
