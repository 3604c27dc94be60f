package gguf

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// bufSize is the read-ahead window; header fields and most strings are
// served from it without further reads or allocations.
const bufSize = 64 << 10

var (
	// errTruncated: the file ends before a field it must hold.
	errTruncated = errors.New("unexpected end of file")
	// errLimit: the header runs past Limits.MaxHeaderBytes.
	errLimit = errors.New("header size limit reached")
)

// reader reads header fields sequentially through a window over a
// ReaderAt. Every read is checked against the file size and the header
// limit before any byte is read or allocated.
type reader struct {
	r      io.ReaderAt
	size   int64
	limit  int64 // the header may not extend past this offset
	order  binary.ByteOrder
	buf    []byte
	bufOff int64 // file offset of buf[0]
	pos    int64
}

func newReader(r io.ReaderAt, size, limit int64) *reader {
	return &reader{r: r, size: size, limit: min(size, limit), order: binary.LittleEndian, buf: make([]byte, 0, bufSize)}
}

// left returns how many bytes of the file follow the current position.
func (rd *reader) left() uint64 { return uint64(rd.size - rd.pos) }

// need checks that n more bytes exist and stay inside the header limit.
func (rd *reader) need(n uint64) error {
	if n > uint64(rd.size-rd.pos) {
		return errTruncated
	}
	if n > uint64(rd.limit-rd.pos) {
		return errLimit
	}
	return nil
}

// window returns n bytes (n <= bufSize) at off without moving; the slice
// is valid until the next read.
func (rd *reader) window(off int64, n int) ([]byte, error) {
	if off >= rd.bufOff && off+int64(n) <= rd.bufOff+int64(len(rd.buf)) {
		i := off - rd.bufOff
		return rd.buf[i : i+int64(n)], nil
	}
	m := min(int64(cap(rd.buf)), rd.size-off)
	if m < int64(n) {
		return nil, errTruncated
	}
	rd.buf = rd.buf[:m]
	k, err := rd.r.ReadAt(rd.buf, off)
	if k < n {
		rd.buf = rd.buf[:0]
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("read at offset %d: %w", off, err)
	}
	rd.buf, rd.bufOff = rd.buf[:k], off
	return rd.buf[:n], nil
}

// next returns the n bytes at the position and moves past them.
func (rd *reader) next(n int) ([]byte, error) {
	if err := rd.need(uint64(n)); err != nil {
		return nil, err
	}
	b, err := rd.window(rd.pos, n)
	if err != nil {
		return nil, err
	}
	rd.pos += int64(n)
	return b, nil
}

func (rd *reader) u32() (uint32, error) {
	b, err := rd.next(4)
	if err != nil {
		return 0, err
	}
	return rd.order.Uint32(b), nil
}

func (rd *reader) u64() (uint64, error) {
	b, err := rd.next(8)
	if err != nil {
		return 0, err
	}
	return rd.order.Uint64(b), nil
}

// skip moves past n bytes without reading them.
func (rd *reader) skip(n uint64) error {
	if err := rd.need(n); err != nil {
		return err
	}
	rd.pos += int64(n)
	return nil
}

// readAt fills p from the underlying reader at off; callers have already
// checked the range with need.
func (rd *reader) readAt(p []byte, off int64) error {
	n, err := rd.r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("read %d bytes at offset %d: %w", len(p), off, err)
}
