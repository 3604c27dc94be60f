package testutil

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func TestFailingReaderAt(t *testing.T) {
	t.Parallel()
	r := FailingReaderAt{Data: []byte("abcdef"), N: 4}
	p := make([]byte, 4)
	if n, err := r.ReadAt(p, 0); n != 4 || err != nil || string(p) != "abcd" {
		t.Errorf("ReadAt(0) = %d, %v, %q; want 4, nil, abcd", n, err, p)
	}
	if _, err := r.ReadAt(p, 1); !errors.Is(err, ErrDisk) {
		t.Errorf("ReadAt past N: error %v, want ErrDisk", err)
	}
}

func TestReadZipMember(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("dir/config.json")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(`{"a": 1}`))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "m.keras")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := ReadZipMember(t, path, "dir/config.json"); string(got) != `{"a": 1}` {
		t.Errorf("ReadZipMember = %q", got)
	}
}

func TestProtobufBuilders(t *testing.T) {
	t.Parallel()
	msg := PBMessage(7, PBVarint(1, 300), PBString(2, "hi"))
	num, typ, n := protowire.ConsumeTag(msg)
	if num != 7 || typ != protowire.BytesType || n != 1 {
		t.Fatalf("outer tag = %d/%d", num, typ)
	}
	body, _ := protowire.ConsumeBytes(msg[n:])
	want := Cat([]byte{0x08, 0xac, 0x02}, []byte{0x12, 2, 'h', 'i'})
	if !bytes.Equal(body, want) {
		t.Errorf("message body = %x, want %x", body, want)
	}
}
