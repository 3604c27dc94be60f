package pickle

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// BenchmarkScanLargePickle scans a 512 MiB protocol-4 pickle shaped like a
// tensor checkpoint: a dict of 1 MiB BINBYTES8 payloads. The file is
// written once, outside the timed loop.
func BenchmarkScanLargePickle(b *testing.B) {
	if testing.Short() {
		b.Skip("writes 512 MiB")
	}
	const payloads, payloadSize = 512, 1 << 20
	path := filepath.Join(b.TempDir(), "large.pkl")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	zeros := make([]byte, payloadSize)
	head := newAsm().proto(4).emptyDict().mark()
	_, _ = w.Write(head.bytes())
	for i := range payloads {
		a := newAsm().str("layer."+string(rune('a'+i%26))+".weight").op(opBinBytes8, le64(payloadSize)...)
		_, _ = w.Write(a.bytes())
		_, _ = w.Write(zeros)
	}
	_, _ = w.Write(newAsm().op(opSetItems).stop().bytes())
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	info, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	eng := engine(nil)
	b.SetBytes(info.Size())
	b.ReportAllocs()
	for b.Loop() {
		fs, err := eng.ScanReader(b.Context(), "large.pkl", f, info.Size())
		if err != nil || len(fs) != 0 {
			b.Fatalf("ScanReader = %v, %v", fs, err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkScanSmallPickle scans a state-dict-like protocol-2 pickle of
// 200 tensors (OrderedDict, _rebuild_tensor_v2, persistent ids), the shape
// of every data.pkl in a PyTorch zip.
func BenchmarkScanSmallPickle(b *testing.B) {
	// Like the pickler, import each global once and fetch it from the memo
	// afterwards.
	a := newAsm().proto(2).global("collections", "OrderedDict").binput(0).emptyTuple().reduce().mark()
	a.global("torch._utils", "_rebuild_tensor_v2").binput(1).op(opPop)
	a.global("torch", "FloatStorage").binput(2).op(opPop)
	for i := range 200 {
		a.binUnicode("layers." + string(rune('a'+i%26)) + ".weight")
		a.binget(1).mark()
		a.mark().binUnicode("storage").binget(2).binUnicode("0").binUnicode("cpu").int(4096).tuple().op(opBinPersID)
		a.int(0).int(64).int(64).op(opTuple2).int(64).int(1).op(opTuple2).op(opNewFalse)
		a.binget(0).emptyTuple().reduce().tuple().reduce()
	}
	data := a.op(opSetItems).stop().bytes()
	eng := engine(nil)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		fs, err := eng.ScanReader(b.Context(), "data.pkl", bytes.NewReader(data), int64(len(data)))
		if err != nil || maxSeverity(fs) > scan.SeverityNone {
			b.Fatalf("ScanReader = %v, %v", fs, err)
		}
	}
}

// BenchmarkScanManyOpcodes measures opcode throughput: a protocol-2 list of
// a million floats.
func BenchmarkScanManyOpcodes(b *testing.B) {
	a := newAsm().proto(2).emptyList()
	for range 1000 {
		a.mark()
		for range 1000 {
			a.op(opBinFloat, 0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a)
		}
		a.op(opAppends)
	}
	data := a.stop().bytes()
	eng := engine(nil)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eng.ScanReader(b.Context(), "floats.pkl", bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}
