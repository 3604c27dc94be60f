package secrets

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/scan"
)

// errNotNotebook reports content that cannot be decoded as a notebook
// within the limits; the caller scans it as plain text.
var errNotNotebook = errors.New("not a decodable notebook")

// segment is one decoded string field of a notebook (a cell's source, an
// output's text): its text, the notebook file line of each of its lines,
// and where it sits.
type segment struct {
	text      []byte
	fileLines []int // fileLines[i] is the file line of text line i+1
	cell      int   // 1-based cell number; 0 outside cells
	output    int   // 1-based output number within the cell; 0 for the source
	field     string
	atLine    bool // the next appended string starts a new line
}

// pointer renders where line n of the segment is, for Finding.Pointer.
func (sg *segment) pointer(n int) string {
	switch {
	case sg.cell > 0 && sg.output > 0:
		return fmt.Sprintf("cell %d, output %d, line %d", sg.cell, sg.output, n)
	case sg.cell > 0 && sg.field == "source":
		return fmt.Sprintf("cell %d, line %d", sg.cell, n)
	case sg.cell > 0:
		return fmt.Sprintf("cell %d, %s, line %d", sg.cell, sg.field, n)
	}
	return fmt.Sprintf("%s, line %d", sg.field, n)
}

// add appends a decoded string found on file line fl. Strings of one
// list are joined as nbformat joins them; a line continued in the next
// string keeps the file line where it started.
func (sg *segment) add(s string, fl int) {
	if sg.atLine || len(sg.fileLines) == 0 {
		sg.fileLines = append(sg.fileLines, fl)
	}
	for i := 0; i < len(s)-1; i++ {
		if s[i] == '\n' {
			sg.fileLines = append(sg.fileLines, fl)
		}
	}
	sg.text = append(sg.text, s...)
	sg.atLine = strings.HasSuffix(s, "\n")
	if sg.field == "traceback" && !sg.atLine {
		// Jupyter joins traceback entries with newlines.
		sg.text = append(sg.text, '\n')
		sg.atLine = true
	}
}

// nbDecoder walks a notebook's JSON and collects its string fields.
type nbDecoder struct {
	data     []byte
	dec      *json.Decoder
	maxDepth int
	lastOff  int
	lastLine int // number of newlines before lastOff
	segs     []*segment
}

// decodeNotebook returns the scannable string fields of a notebook, or
// errNotNotebook.
func decodeNotebook(data []byte, maxDepth int) ([]*segment, error) {
	d := &nbDecoder{data: data, dec: json.NewDecoder(bytes.NewReader(data)), maxDepth: maxDepth}
	d.dec.UseNumber()
	tok, err := d.dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, errNotNotebook
	}
	if err := d.object(nil, 1); err != nil {
		return nil, err
	}
	if _, err := d.dec.Token(); err != io.EOF {
		return nil, errNotNotebook
	}
	return d.segs, nil
}

// line returns the 1-based file line of the token just read. JSON strings
// hold no raw newline, so a string ends on the line it starts on.
func (d *nbDecoder) line() int {
	off := int(d.dec.InputOffset())
	if off > len(d.data) {
		off = len(d.data)
	}
	if off > d.lastOff {
		d.lastLine += bytes.Count(d.data[d.lastOff:off], []byte{'\n'})
		d.lastOff = off
	}
	return d.lastLine + 1
}

// object reads the members of an object whose '{' was consumed; path is
// the keys and indexes leading to it.
func (d *nbDecoder) object(path []string, depth int) error {
	if depth > d.maxDepth {
		return errNotNotebook
	}
	for {
		tok, err := d.dec.Token()
		if err != nil {
			return errNotNotebook
		}
		if tok == json.Delim('}') {
			return nil
		}
		key, ok := tok.(string)
		if !ok {
			return errNotNotebook
		}
		if err := d.value(append(path, key), depth); err != nil {
			return err
		}
	}
}

// value reads one value at path.
func (d *nbDecoder) value(path []string, depth int) error {
	tok, err := d.dec.Token()
	if err != nil {
		return errNotNotebook
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return d.object(path, depth+1)
		case '[':
			return d.array(path, depth+1)
		}
		return errNotNotebook
	case string:
		if !binaryField(path) {
			sg := d.newSegment(path)
			sg.add(t, d.line())
		}
	}
	return nil
}

// array reads the elements of an array whose '[' was consumed. Its
// strings form one segment (a cell source or an output text is a list of
// lines); other elements are walked with their index in the path.
func (d *nbDecoder) array(path []string, depth int) error {
	if depth > d.maxDepth {
		return errNotNotebook
	}
	var sg *segment
	for i := 0; ; i++ {
		tok, err := d.dec.Token()
		if err != nil {
			return errNotNotebook
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case ']':
				return nil
			case '{':
				err = d.object(append(path, strconv.Itoa(i)), depth+1)
			case '[':
				err = d.array(append(path, strconv.Itoa(i)), depth+1)
			default:
				return errNotNotebook
			}
			if err != nil {
				return err
			}
		case string:
			if binaryField(path) {
				continue
			}
			if sg == nil {
				sg = d.newSegment(path)
			}
			sg.add(t, d.line())
		}
	}
}

// newSegment starts a segment for the field at path, locating it by cell
// and output.
func (d *nbDecoder) newSegment(path []string) *segment {
	sg := &segment{field: strings.Join(path, ".")}
	if len(path) >= 2 && path[0] == "cells" {
		if n, err := strconv.Atoi(path[1]); err == nil {
			sg.cell = n + 1
			sg.field = strings.Join(path[2:], ".")
			if len(path) >= 4 && path[2] == "outputs" {
				if k, err := strconv.Atoi(path[3]); err == nil {
					sg.output = k + 1
					sg.field = strings.Join(path[4:], ".")
				}
			}
		}
	}
	d.segs = append(d.segs, sg)
	return sg
}

// binaryField reports whether the field at path holds encoded binary
// data (a base64 image, audio or video output, a PDF, an attachment),
// which is not scanned.
func binaryField(path []string) bool {
	for _, k := range path {
		k = strings.ToLower(k)
		switch {
		case strings.HasPrefix(k, "image/"), strings.HasPrefix(k, "audio/"), strings.HasPrefix(k, "video/"),
			k == "application/pdf", k == "application/octet-stream", k == "application/zip":
			return true
		}
	}
	return false
}

// scanNotebook decodes a notebook and scans its string fields, reporting
// each finding at its line in the notebook file. A notebook that is too
// large, too deep or malformed is scanned as plain text.
func (s *Scanner) scanNotebook(ctx context.Context, m *matcher, obj scan.Object, path string, report func(scan.Finding)) error {
	if obj.Size > s.opts.MaxNotebookBytes {
		return s.scanText(ctx, m, io.NewSectionReader(obj.R, 0, obj.Size), obj.Size, path, report)
	}
	data := make([]byte, obj.Size)
	if _, err := obj.R.ReadAt(data, 0); err != nil && err != io.EOF {
		return fmt.Errorf("read notebook %s: %w", path, err)
	}
	segs, err := decodeNotebook(data, s.opts.MaxNotebookDepth)
	if err != nil {
		return s.scanText(ctx, m, bytes.NewReader(data), int64(len(data)), path, report)
	}
	ls := newLineScanner(m, path)
	ls.pathHits()
	s.emit(ls.out, report)
	ls.base = -1
	for _, sg := range segs {
		if err := ctx.Err(); err != nil {
			return err
		}
		ls.reset()
		ls.block(sg.text, 1)
		ls.finishKey()
		for _, h := range ls.out {
			f := s.finding(h, sg.pointer(h.line))
			if h.line >= 1 && h.line <= len(sg.fileLines) {
				f.Line = sg.fileLines[h.line-1]
			}
			report(f)
		}
	}
	return nil
}
