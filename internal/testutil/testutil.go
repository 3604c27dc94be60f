package testutil

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// ErrDisk is the error FailingReaderAt returns.
var ErrDisk = errors.New("disk on fire")

// FailingReaderAt serves the first N bytes of Data and fails every read
// that reaches past them with ErrDisk, to test that a scanner reports an
// object it could not read to its end instead of calling it clean.
type FailingReaderAt struct {
	Data []byte
	N    int64
}

// ReadAt implements io.ReaderAt.
func (r FailingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) > r.N {
		return 0, ErrDisk
	}
	return copy(p, r.Data[off:]), nil
}

// ReadZipMember returns the content of member in the zip file at path.
func ReadZipMember(t testing.TB, path, member string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer zr.Close()
	f, err := zr.Open(member)
	if err != nil {
		t.Fatalf("open %s in %s: %v", member, path, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s in %s: %v", member, path, err)
	}
	return b
}

// Cat concatenates byte slices.
func Cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// PBVarint encodes protobuf field num as a varint.
func PBVarint(num protowire.Number, v uint64) []byte {
	return protowire.AppendVarint(protowire.AppendTag(nil, num, protowire.VarintType), v)
}

// PBBytes encodes protobuf field num as length-delimited bytes.
func PBBytes(num protowire.Number, b []byte) []byte {
	return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), b)
}

// PBString encodes protobuf field num as a string.
func PBString(num protowire.Number, s string) []byte { return PBBytes(num, []byte(s)) }

// PBMessage encodes protobuf field num as a message made of parts.
func PBMessage(num protowire.Number, parts ...[]byte) []byte { return PBBytes(num, Cat(parts...)) }
