package gguf

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// gw writes GGUF fields in one byte order.
type gw struct {
	b     bytes.Buffer
	order binary.ByteOrder
}

func (w *gw) u8(v uint8)   { w.b.WriteByte(v) }
func (w *gw) u32(v uint32) { _ = binary.Write(&w.b, w.order, v) }
func (w *gw) u64(v uint64) { _ = binary.Write(&w.b, w.order, v) }
func (w *gw) str(s string) { w.u64(uint64(len(s))); w.b.WriteString(s) }

// kv writes one metadata entry.
type kv func(w *gw)

func kvStr(key, val string) kv {
	return func(w *gw) { w.str(key); w.u32(typeString); w.str(val) }
}

func kvU32(key string, v uint32) kv {
	return func(w *gw) { w.str(key); w.u32(typeU32); w.u32(v) }
}

func kvU64(key string, v uint64) kv {
	return func(w *gw) { w.str(key); w.u32(typeU64); w.u64(v) }
}

func kvStrs(key string, vals []string) kv {
	return func(w *gw) {
		w.str(key)
		w.u32(typeArray)
		w.u32(typeString)
		w.u64(uint64(len(vals)))
		for _, v := range vals {
			w.str(v)
		}
	}
}

// kvRaw writes a key, a value type and whatever body writes.
func kvRaw(key string, typ uint32, body func(w *gw)) kv {
	return func(w *gw) { w.str(key); w.u32(typ); body(w) }
}

// ti is one tensor description.
type ti struct {
	name   string
	dims   []uint64
	typ    uint32
	offset uint64
}

// spec describes a GGUF file to build.
type spec struct {
	order     binary.ByteOrder // nil: little-endian
	version   uint32           // 0: 3
	nTensors  *uint64          // override the counts
	nKV       *uint64
	kvs       []kv
	tensors   []ti
	infos     func(w *gw) // written after tensors, for malformed descriptions
	alignment uint64      // padding before the data section; 0: 32
	data      int         // bytes of tensor data
	tail      []byte      // appended after the data
}

func u64p(v uint64) *uint64 { return &v }

func build(s spec) []byte {
	w := &gw{order: s.order}
	if w.order == nil {
		w.order = binary.LittleEndian
	}
	if s.version == 0 {
		s.version = 3
	}
	if s.alignment == 0 {
		s.alignment = defaultAlignment
	}
	w.b.WriteString("GGUF")
	w.u32(s.version)
	nT, nKV := uint64(len(s.tensors)), uint64(len(s.kvs))
	if s.nTensors != nil {
		nT = *s.nTensors
	}
	if s.nKV != nil {
		nKV = *s.nKV
	}
	w.u64(nT)
	w.u64(nKV)
	for _, k := range s.kvs {
		k(w)
	}
	for _, t := range s.tensors {
		w.str(t.name)
		w.u32(uint32(len(t.dims)))
		for _, d := range t.dims {
			w.u64(d)
		}
		w.u32(t.typ)
		w.u64(t.offset)
	}
	if s.infos != nil {
		s.infos(w)
	}
	for uint64(w.b.Len())%s.alignment != 0 {
		w.u8(0)
	}
	w.b.Write(make([]byte, s.data))
	w.b.Write(s.tail)
	return w.b.Bytes()
}

// fakeSession records findings and nested objects so tests and the fuzz
// target can drive the scanner without content sniffing in between.
type fakeSession struct {
	findings []scan.Finding
	nested   []string
	limits   scan.Limits
}

func newFake() *fakeSession { return &fakeSession{limits: scan.DefaultLimits()} }

func (f *fakeSession) Report(x scan.Finding) { f.findings = append(f.findings, x) }
func (f *fakeSession) Limits() scan.Limits   { return f.limits }
func (f *fakeSession) Nested(_ context.Context, name string, r io.ReaderAt, size int64, _ scan.Format) error {
	buf := make([]byte, min(size, 64))
	if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
		return fmt.Errorf("read nested %s: %w", name, err)
	}
	f.nested = append(f.nested, name)
	return nil
}

func runFake(t testing.TB, data []byte, tentative bool, limits ...scan.Limits) *fakeSession {
	t.Helper()
	sess := newFake()
	if len(limits) > 0 {
		sess.limits = limits[0]
	}
	obj := scan.Object{Name: "m.gguf", R: bytes.NewReader(data), Size: int64(len(data)), Tentative: tentative}
	if err := New().scan(context.Background(), obj, sess); err != nil {
		t.Fatalf("scan: %v", err)
	}
	return sess
}

// brief is the comparable part of a finding.
type brief struct {
	Rule     string
	Severity scan.Severity
}

func briefs(fs []scan.Finding) []brief {
	out := make([]brief, 0, len(fs))
	for _, f := range fs {
		out = append(out, brief{f.RuleID, f.Severity})
	}
	slices.SortFunc(out, func(a, b brief) int { return strings.Compare(a.Rule, b.Rule) })
	return out
}

func want(ids ...string) []brief {
	sev := map[string]scan.Severity{}
	for _, r := range New().Rules() {
		sev[r.ID] = r.Severity
	}
	out := make([]brief, 0, len(ids))
	for _, id := range ids {
		out = append(out, brief{id, sev[id]})
	}
	slices.SortFunc(out, func(a, b brief) int { return strings.Compare(a.Rule, b.Rule) })
	return out
}

func dump(fs []scan.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s off=%d ptr=%q inner=%v: %s [%s]\n", f.RuleID, f.Severity, f.Offset, f.Pointer, f.Inner, f.Message, f.Evidence)
	}
	return b.String()
}
