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
	searchChunk   = 1 << 20 // bytes read per step of the search
	extractChunk  = 64 << 10
	candidatePeek = 256 // bytes needed to recognise `{ "key" :`
	labelWindow   = 512 // bytes before a JSON object searched for the attribute name
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

// search is the state of one HDF5 content search.
type search struct {
	r      io.ReaderAt
	size   int64
	limit  int64 // largest JSON object extracted
	budget int64 // bytes the extractor may still read
	sess   *scan.Session
	peek   []byte
	buf    []byte // extraction read buffer
	// bigUntil is the end of the last object reported as too large;
	// objects starting inside it are part of it and not reported again.
	bigUntil int64
}

// scanHDF5 searches an HDF5 file for JSON configs (the model_config and
// training_config attributes) and analyses each one.
func scanHDF5(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	if obj.Tentative && !hasHDF5Signature(obj.R, obj.Size) {
		return nil
	}
	limit := sess.Limits().MaxHeaderBytes
	s := &search{
		r: obj.R, size: obj.Size, limit: limit, sess: sess,
		// Extraction reads each byte a handful of times at most unless
		// the file is built to defeat the search.
		budget: 4*min(obj.Size, limit) + 1<<20,
		peek:   make([]byte, candidatePeek),
		buf:    make([]byte, min(obj.Size, extractChunk)),
	}
	buf := make([]byte, min(obj.Size, searchChunk))
	for pos := int64(0); pos < obj.Size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int(min(int64(len(buf)), obj.Size-pos))
		got, err := obj.R.ReadAt(buf[:n], pos)
		if got < n {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("read hdf5 at offset %d: %w", pos, err)
		}
		chunk := buf[:n]
		next := pos + int64(n)
		for i := 0; i < len(chunk); {
			j := bytes.IndexByte(chunk[i:], '{')
			if j < 0 {
				break
			}
			i += j
			at := pos + int64(i)
			if i+1 < len(chunk) && !isJSONSpace(chunk[i+1]) && chunk[i+1] != '"' {
				i++
				continue
			}
			if !s.isCandidate(chunk[i:], at) {
				i++
				continue
			}
			end, done, err := s.try(at)
			if err != nil {
				return err
			}
			if done {
				return nil
			}
			if end > at {
				// Resume after the analysed object.
				if end >= next {
					next = end
					break
				}
				i = int(end - pos)
				continue
			}
			i++
		}
		pos = next
	}
	return nil
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isCandidate reports whether the bytes at offset at open a JSON object
// with a string key: '{', optional whitespace, '"', key, '"', optional
// whitespace, ':'. head holds the bytes at at that were already read. A
// key running past the bytes examined counts as a candidate.
func (s *search) isCandidate(head []byte, at int64) bool {
	if len(head) < candidatePeek && at+int64(len(head)) < s.size {
		n, _ := s.r.ReadAt(s.peek, at)
		head = s.peek[:n]
	}
	i := 1
	for i < len(head) && isJSONSpace(head[i]) {
		i++
	}
	if i >= len(head) || head[i] != '"' {
		return false
	}
	for i++; i < len(head); i++ {
		c := head[i]
		if c == '\\' {
			i++
			continue
		}
		if c < 0x20 {
			return false
		}
		if c == '"' {
			break
		}
	}
	if i >= len(head) {
		// A key longer than the peek: let the extractor decide.
		return true
	}
	for i++; i < len(head) && isJSONSpace(head[i]); i++ {
	}
	return i >= len(head) || head[i] == ':'
}

// try extracts the JSON object starting at at and analyses it. It returns
// the offset just after the object when it was analysed (0 otherwise) and
// done when the search must stop.
func (s *search) try(at int64) (end int64, done bool, err error) {
	data, status, err := s.extract(at)
	if err != nil {
		return 0, false, err
	}
	switch status {
	case extractOK:
	case extractTooLarge:
		if at < s.bigUntil {
			return 0, false, nil
		}
		s.bigUntil = at + s.limit
		f := RuleConfigLimit.Finding(
			fmt.Sprintf("a JSON object in the HDF5 file is larger than the %d-byte header limit and was not analysed", s.limit),
			s.label(at))
		f.Offset = at
		s.sess.Report(f)
		return 0, false, nil
	case extractBudget:
		f := RuleConfigLimit.Finding(
			"the HDF5 content search read too many candidate JSON objects; the rest of the file was not searched",
			fmt.Sprintf("stopped at offset %d", at))
		f.Offset = at
		s.sess.Report(f)
		return 0, true, nil
	default:
		return 0, false, nil
	}
	hits, truncated, err := analyzeJSON(data)
	var se *syntaxError
	if errors.As(err, &se) {
		// Not JSON after all; inner objects get their own chance.
		return 0, false, nil
	}
	where := s.label(at)
	reportHits(s.sess, hits, func(off int) int64 { return at + int64(off) }, where)
	if errors.Is(err, errTooDeep) {
		f := RuleConfigLimit.Finding(
			fmt.Sprintf("a JSON config in the HDF5 file nests containers more than %d levels deep; the rest was not analysed", maxJSONDepth),
			where)
		f.Offset = at
		s.sess.Report(f)
	}
	if truncated {
		f := RuleConfigLimit.Finding(fmt.Sprintf("a JSON config in the HDF5 file produced more than %d findings; the rest were not reported", maxHits), where)
		f.Offset = at
		s.sess.Report(f)
	}
	return at + int64(len(data)), false, nil
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

type extractStatus uint8

const (
	extractOK       extractStatus = iota
	extractInvalid                // a byte JSON cannot hold, or the end of file before the object closed
	extractTooLarge               // the object grew past the limit
	extractBudget                 // the search budget is spent
)

// extract reads the balanced JSON object starting at at: braces and
// brackets are counted outside strings, strings honour escapes, and any
// byte JSON cannot contain ends the attempt. Reads start small and grow,
// and only the bytes examined are charged to the budget, so the many
// false starts in binary data stay cheap.
func (s *search) extract(at int64) ([]byte, extractStatus, error) {
	var (
		out      []byte
		depth    int
		inString bool
		escaped  bool
		step     = 256
		buf      = s.buf
	)
	for pos := at; pos < s.size; {
		if s.budget <= 0 {
			return nil, extractBudget, nil
		}
		n := int(min(int64(step), s.size-pos, int64(len(buf))))
		step = min(2*step, extractChunk)
		got, err := s.r.ReadAt(buf[:n], pos)
		if got < n {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, 0, fmt.Errorf("read hdf5 at offset %d: %w", pos, err)
		}
		for i, c := range buf[:n] {
			switch {
			case inString:
				switch {
				case escaped:
					escaped = false
				case c == '\\':
					escaped = true
				case c == '"':
					inString = false
				case c < 0x20:
					s.budget -= int64(i + 1)
					return nil, extractInvalid, nil
				}
				continue
			case !jsonOutside[c] && c != '"':
				s.budget -= int64(i + 1)
				return nil, extractInvalid, nil
			case c == '"':
				inString = true
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
			}
			if depth == 0 {
				s.budget -= int64(i + 1)
				if int64(len(out))+int64(i)+1 > s.limit {
					return nil, extractTooLarge, nil
				}
				return append(out, buf[:i+1]...), extractOK, nil
			}
		}
		s.budget -= int64(n)
		if int64(len(out))+int64(n) > s.limit {
			return nil, extractTooLarge, nil
		}
		out = append(out, buf[:n]...)
		pos += int64(n)
	}
	return nil, extractInvalid, nil
}
