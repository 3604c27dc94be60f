package pickle

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

const (
	// bufSize is the reader's buffer: the longest run read at once and the
	// longest prefix next and peek return.
	bufSize = 64 << 10
	// minChunk is the first read after a seek; sequential reads double it
	// up to bufSize, so skipping a large payload costs one small read.
	minChunk = 4 << 10
)

// errTruncated reports that the stream ended inside an opcode or its
// argument.
var errTruncated = errors.New("pickle data was truncated")

// ioError is a read failure of the underlying object (not a malformed
// stream): the scan cannot finish and says so.
type ioError struct{ err error }

func (e *ioError) Error() string { return fmt.Sprintf("read pickle data: %v", e.err) }
func (e *ioError) Unwrap() error { return e.err }

// reader is a buffered reader over an io.ReaderAt that can skip payload
// bytes by advancing its offset, without reading or copying them.
type reader struct {
	ra    io.ReaderAt
	size  int64
	buf   []byte
	base  int64 // object offset of buf[0]
	r, w  int   // unread bytes are buf[r:w]
	chunk int   // size of the next refill
	line  []byte
}

func newReader(ra io.ReaderAt, size int64) *reader {
	return &reader{ra: ra, size: size, buf: make([]byte, bufSize), chunk: minChunk}
}

// offset returns the object offset of the next unread byte.
func (b *reader) offset() int64 { return b.base + int64(b.r) }

// remaining returns how many bytes are left in the object.
func (b *reader) remaining() int64 { return b.size - b.offset() }

// fill makes at least n (at most bufSize) unread bytes available.
func (b *reader) fill(n int) error {
	if b.w-b.r >= n {
		return nil
	}
	if int64(n) > b.remaining() {
		return errTruncated
	}
	if b.r > 0 {
		copy(b.buf, b.buf[b.r:b.w])
		b.base += int64(b.r)
		b.w -= b.r
		b.r = 0
	}
	want := max(n, b.chunk)
	if left := b.size - b.base; int64(want) > left {
		want = int(left)
	}
	for b.w < n {
		got, err := b.ra.ReadAt(b.buf[b.w:want], b.base+int64(b.w))
		b.w += got
		if b.w >= n {
			break
		}
		switch {
		case err == io.EOF, err == nil && got == 0:
			// The object is shorter than its declared size.
			return errTruncated
		case err != nil:
			return &ioError{err}
		}
	}
	b.chunk = min(b.chunk*2, bufSize)
	return nil
}

// readByte returns the next byte.
func (b *reader) readByte() (byte, error) {
	if b.r < b.w {
		c := b.buf[b.r]
		b.r++
		return c, nil
	}
	if err := b.fill(1); err != nil {
		return 0, err
	}
	c := b.buf[b.r]
	b.r++
	return c, nil
}

// next returns the next n bytes (n <= bufSize). The slice is valid until the
// next call on b.
func (b *reader) next(n int) ([]byte, error) {
	if err := b.fill(n); err != nil {
		return nil, err
	}
	p := b.buf[b.r : b.r+n]
	b.r += n
	return p, nil
}

// peek returns up to n (at most bufSize) upcoming bytes without consuming
// them; fewer at the end of the object.
func (b *reader) peek(n int) ([]byte, error) {
	if left := b.remaining(); int64(n) > left {
		n = int(left)
	}
	if err := b.fill(n); err != nil {
		return nil, err
	}
	return b.buf[b.r : b.r+n], nil
}

// skip advances over n bytes without reading them.
func (b *reader) skip(n int64) error {
	if n < 0 || n > b.remaining() {
		return errTruncated
	}
	if n <= int64(b.w-b.r) {
		b.r += int(n)
		return nil
	}
	b.base = b.offset() + n
	b.r, b.w = 0, 0
	b.chunk = minChunk
	return nil
}

// readLine reads through the next newline. It returns at most keep bytes of
// the line (without the newline) and the line's full length; a longer line
// is streamed through, not held. The prefix is valid until the next call on
// b. A stream that ends before the newline is truncated.
func (b *reader) readLine(keep int) (prefix []byte, total int64, err error) {
	if i := bytes.IndexByte(b.buf[b.r:b.w], '\n'); i >= 0 {
		p := b.buf[b.r : b.r+i]
		b.r += i + 1
		if len(p) > keep {
			p = p[:keep]
		}
		return p, int64(i), nil
	}
	b.line = b.line[:0]
	for {
		if b.r == b.w {
			if err := b.fill(1); err != nil {
				return nil, 0, err
			}
		}
		chunk := b.buf[b.r:b.w]
		i := bytes.IndexByte(chunk, '\n')
		if i >= 0 {
			chunk = chunk[:i]
		}
		if room := keep - len(b.line); room > 0 {
			b.line = append(b.line, chunk[:min(room, len(chunk))]...)
		}
		total += int64(len(chunk))
		if i >= 0 {
			b.r += i + 1
			return b.line, total, nil
		}
		b.r = b.w
	}
}
