package pickle

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/testutil"
)

func TestReader(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 3*bufSize)
	data := []byte("ab\n" + long + "\nend")
	rd := newReader(bytes.NewReader(data), int64(len(data)))
	p, n, err := rd.readLine(10)
	if err != nil || string(p) != "ab" || n != 2 {
		t.Fatalf("readLine = %q, %d, %v", p, n, err)
	}
	p, n, err = rd.readLine(10)
	if err != nil || string(p) != "xxxxxxxxxx" || n != int64(len(long)) {
		t.Fatalf("long readLine = %q, %d, %v", p, n, err)
	}
	if got, err := rd.peek(10); err != nil || string(got) != "end" {
		t.Fatalf("peek = %q, %v", got, err)
	}
	if _, _, err := rd.readLine(10); !errors.Is(err, errTruncated) {
		t.Fatalf("readLine without a newline = %v, want errTruncated", err)
	}
	rd = newReader(bytes.NewReader(data), int64(len(data)))
	if err := rd.skip(int64(len(data)) + 1); !errors.Is(err, errTruncated) {
		t.Errorf("skip past the end = %v, want errTruncated", err)
	}
	if err := rd.skip(int64(len(data)) - 3); err != nil || rd.remaining() != 3 {
		t.Errorf("skip = %v, remaining %d", err, rd.remaining())
	}
	if got, err := rd.next(3); err != nil || string(got) != "end" {
		t.Errorf("next = %q, %v", got, err)
	}
	if _, err := rd.readByte(); !errors.Is(err, errTruncated) {
		t.Errorf("readByte at the end = %v, want errTruncated", err)
	}
}

// TestReadError checks that an I/O error stops the scan with an error
// (the engine then reports SCN001) and keeps the findings before it.
func TestReadError(t *testing.T) {
	t.Parallel()
	// A long UNICODE line makes the reader go past the failing offset.
	data := append(newAsm().proto(2).call("os", "system", "id").op(opUnicode).bytes(), bytes.Repeat([]byte("x"), 1<<20)...)
	r := testutil.FailingReaderAt{Data: data, N: 8 << 10}
	fs, err := engine(nil).ScanReader(t.Context(), "x.pkl", r, int64(len(data)))
	if err != nil {
		t.Fatalf("ScanReader: %v", err)
	}
	checkFindings(t, fs, []want{{"PKL001", crit, "", ""}, {"PKL002", crit, "", ""}, {"SCN001", scan.SeverityHigh, "", ""}})
	if !strings.Contains(dump(fs), "disk on fire") {
		t.Errorf("SCN001 does not name the read error:%s", dump(fs))
	}
}

func TestCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	data := osSystem
	err := New().Scan(ctx, scan.Object{Name: "x", R: bytes.NewReader(data), Size: int64(len(data))}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Scan with a cancelled context = %v, want context.Canceled", err)
	}
}

// TestPayloadByReference checks that a large nested payload is handed on
// as a region of the object, not copied, and scanned there.
func TestPayloadByReference(t *testing.T) {
	t.Parallel()
	inner := newAsm().proto(4).binBytes8(strings.Repeat("\x00", 2<<20)).op(opPop).call("os", "system", "id").stop().bytes()
	outer := newAsm().proto(4).global("pickle", "loads").binBytes8(string(inner)).tuple1().reduce().stop().bytes()
	rec := run(t, outer, nil)
	var arg *value
	for _, e := range rec.events {
		if e.kind == evCall {
			arg = e.v.arg(0)
		}
	}
	p, ok := openPayload(bytes.NewReader(outer), arg, 0)
	if !ok {
		t.Fatal("openPayload failed")
	}
	if _, isSection := p.ra.(*io.SectionReader); !isSection || p.size != int64(len(inner)) {
		t.Errorf("payload = %T of %d bytes, want a section of %d", p.ra, p.size, len(inner))
	}
	checkFindings(t, scanBytes(t, nil, "x.pkl", outer), []want{
		{"PKL002", crit, "pickle.loads(b'\\x80\\x04", ""},
		{"PKL002", crit, "os.system('id')", "pickle.loads argument"},
	})
}
