package pickle

import (
	"strconv"
	"strings"
	"testing"
)

// opcodeCase builds a pickle body (no PROTO, no STOP) and the value it
// leaves on the stack.
type opcodeCase struct {
	name  string
	proto int // newest protocol among the opcodes used
	build func(a *asm)
	want  string // the result, rendered
}

var opcodeCases = []opcodeCase{
	{"NONE", 0, func(a *asm) { a.none() }, "None"},
	{"NEWTRUE NEWFALSE TUPLE2", 2, func(a *asm) { a.op(opNewTrue).op(opNewFalse).op(opTuple2) }, "(True, False)"},
	{"INT", 0, func(a *asm) { a.mark().op(opInt).line("42").op(opInt).line("-7").op(opInt).line("0x10").tuple() }, "(42, -7, 16)"},
	{"INT I01 I00", 0, func(a *asm) { a.mark().op(opInt).line("01").op(opInt).line("00").tuple() }, "(True, False)"},
	{"LONG", 0, func(a *asm) { a.op(opLong).line("123456789012345678901234567890L") }, "123456789012345678901234567890"},
	{"BININT", 1, func(a *asm) { a.op(opBinInt, le32(uint32(0xfffffffb))...) }, "-5"},
	{"BININT1 BININT2", 1, func(a *asm) { a.mark().op(opBinInt1, 200).op(opBinInt2, 0x60, 0xea).tuple() }, "(200, 60000)"},
	{"LONG1", 2, func(a *asm) { a.mark().long1(-129).long1(1<<40).op(opLong1, 0).tuple() }, "(-129, 1099511627776, 0)"},
	{"LONG4", 2, func(a *asm) {
		a.op(opLong4, le32(10)...).raw(0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19)
	}, legacyTorchMagic},
	{"FLOAT BINFLOAT", 1, func(a *asm) {
		a.mark().op(opFloat).line("1.5").op(opBinFloat).raw(0x3f, 0xb9, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9a).tuple()
	}, "(1.5, 0.1)"},
	{"STRING", 0, func(a *asm) { a.string0("a\nb'c") }, `"a\nb'c"`},
	{"BINSTRING SHORT_BINSTRING", 1, func(a *asm) { a.mark().binString("os").shortBinString("\xe9").tuple() }, "('os', 'é')"},
	{"UNICODE", 0, func(a *asm) { a.unicode0("café \u4e2d\\") }, `'café 中\\'`},
	{"BINUNICODE", 1, func(a *asm) { a.binUnicode("système") }, "'système'"},
	{"SHORT_BINUNICODE BINUNICODE8", 4, func(a *asm) { a.mark().shortBinUnicode("a").binUnicode8("b").tuple() }, "('a', 'b')"},
	{"BINBYTES SHORT_BINBYTES", 3, func(a *asm) { a.mark().binBytes("\x00\xff").shortBinBytes("ab").tuple() }, `(b'\x00\xff', b'ab')`},
	{"BINBYTES8", 4, func(a *asm) { a.binBytes8("xyz") }, "b'xyz'"},
	{"BYTEARRAY8", 5, func(a *asm) { a.byteArray8("xyz") }, "bytearray(b'xyz')"},
	{"NEXT_BUFFER READONLY_BUFFER", 5, func(a *asm) { a.op(opNextBuffer).op(opReadonlyBuffer) }, "next_buffer()"},
	{"EMPTY_TUPLE TUPLE1 TUPLE3", 2, func(a *asm) { a.emptyTuple().tuple1().int(1).int(2).op(opTuple3) }, "(((),), 1, 2)"},
	{"TUPLE", 0, func(a *asm) { a.mark().none().none().tuple() }, "(None, None)"},
	{"EMPTY_LIST APPEND APPENDS", 1, func(a *asm) { a.emptyList().int(1).op(opAppend).mark().int(2).int(3).op(opAppends) }, "[1, 2, 3]"},
	{"LIST", 0, func(a *asm) { a.mark().int(1).op(opList) }, "[1]"},
	{"EMPTY_DICT SETITEM SETITEMS", 1, func(a *asm) {
		a.emptyDict().binUnicode("a").int(1).op(opSetItem).mark().binUnicode("b").int(2).binUnicode("c").int(3).op(opSetItems)
	}, "{'a': 1, 'b': 2, 'c': 3}"},
	{"DICT", 0, func(a *asm) { a.mark().unicode0("k").none().op(opDict) }, "{'k': None}"},
	{"EMPTY_SET ADDITEMS", 4, func(a *asm) { a.op(opEmptySet).mark().int(1).int(2).op(opAddItems) }, "{1, 2}"},
	{"FROZENSET", 4, func(a *asm) { a.mark().int(1).op(opFrozenSet) }, "frozenset({1})"},
	{"POP_MARK", 1, func(a *asm) { a.int(9).mark().int(1).int(2).op(opPopMark) }, "9"},
	{"POP", 0, func(a *asm) { a.int(1).int(2).op(opPop) }, "1"},
	{"POP of an empty mark", 0, func(a *asm) { a.int(1).mark().op(opPop) }, "1"},
	{"DUP", 0, func(a *asm) { a.mark().int(5).op(opDup).tuple() }, "(5, 5)"},
	{"PUT GET", 0, func(a *asm) { a.int(7).put(3).op(opPop).get(3) }, "7"},
	{"GET with a padded index", 0, func(a *asm) {
		a.mark().int(7).put(3).int(8).put(0).op(opGet).line(" " + strings.Repeat("0", 100000) + "3").tuple()
	}, "(7, 8, 7)"},
	{"INT as C strtol reads it", 0, func(a *asm) {
		a.mark().op(opInt).line("010").op(opInt).line("0x1F").op(opInt).line(" -0001").op(opInt).line("1_000").tuple()
	}, "(8, 31, -1, 1000)"},
	{"LONG as int(text, 0) reads it", 0, func(a *asm) {
		a.mark().op(opLong).line("0x10L").op(opLong).line("0o17").op(opLong).line("-0b11L").op(opLong).line("000").tuple()
	}, "(16, 15, -3, 0)"},
	{"INT text CPython rejects", 0, func(a *asm) { a.op(opInt).line("09") }, `int("09")`},
	{"BINPUT BINGET", 1, func(a *asm) { a.int(7).binput(3).op(opPop).binget(3) }, "7"},
	{"LONG_BINPUT LONG_BINGET", 1, func(a *asm) { a.int(7).longBinput(70000).op(opPop).longBinget(70000) }, "7"},
	{"MEMOIZE", 4, func(a *asm) { a.int(7).memoize().op(opPop).binget(0) }, "7"},
	{"MEMOIZE stores at len(memo), not after the last PUT", 4, func(a *asm) {
		a.mark().int(1).binput(5).int(2).memoize().binget(1).binget(5).tuple()
	}, "(1, 2, 2, 1)"},
	{"MEMOIZE overwrites an index PUT filled", 4, func(a *asm) {
		a.mark().int(1).binput(1).int(2).memoize().binget(1).tuple()
	}, "(1, 2, 2)"},
	{"PERSID", 0, func(a *asm) { a.op(opPersID).line("storage0") }, "persistent_load('storage0')"},
	{"BINPERSID", 1, func(a *asm) { a.binUnicode("k").op(opBinPersID) }, "persistent_load('k')"},
	{"GLOBAL REDUCE", 0, func(a *asm) { a.global("m", "f").mark().int(1).tuple().reduce() }, "m.f(1)"},
	{"STACK_GLOBAL", 4, func(a *asm) { a.str("m").str("f.g").stackGlobal() }, "m.f.g"},
	{"INST", 0, func(a *asm) { a.mark().int(1).inst("m", "C") }, "m.C(1)"},
	{"OBJ", 1, func(a *asm) { a.mark().global("m", "C").int(1).op(opObj) }, "m.C(1)"},
	{"NEWOBJ", 2, func(a *asm) { a.global("m", "C").int(1).tuple1().op(opNewObj) }, "m.C.__new__(m.C, 1)"},
	{"NEWOBJ_EX", 4, func(a *asm) {
		a.global("m", "C").emptyTuple().emptyDict().str("k").int(2).op(opSetItem).op(opNewObjEx)
	}, "m.C.__new__(m.C, k=2)"},
	{"BUILD", 0, func(a *asm) { a.global("m", "C").emptyTuple().reduce().emptyDict().build() }, "m.C()"},
	{"EXT1 EXT2 EXT4", 2, func(a *asm) {
		a.mark().op(opExt1, 1).op(opExt2, 0x34, 0x12).op(opExt4, le32(0x10000)...).tuple()
	}, "(copyreg._inverted_registry[1], copyreg._inverted_registry[4660], copyreg._inverted_registry[65536])"},
	{"FRAME", 4, func(a *asm) { a.frame(2).int(3) }, "3"},
}

// TestOpcodes runs every opcode under every declared protocol: the
// unpickler does not enforce the protocol, so neither may the scanner, but
// an opcode newer than the declared protocol is a protocol anomaly.
func TestOpcodes(t *testing.T) {
	t.Parallel()
	t.Run("cases", func(t *testing.T) {
		for _, tc := range opcodeCases {
			for declared := -1; declared <= highestProtocol; declared++ {
				t.Run(tc.name+"/proto"+strconv.Itoa(declared), func(t *testing.T) {
					t.Parallel()
					a := newAsm()
					if declared >= 0 {
						a.proto(byte(declared))
					}
					tc.build(a)
					a.stop()
					rec := run(t, a.bytes(), nil)
					if len(rec.segs) != 1 || rec.segs[0].err != nil {
						t.Fatalf("segments = %+v, want one complete pickle", rec.segs)
					}
					if got := wide.render(rec.segs[0].result); got != tc.want {
						t.Errorf("result = %s, want %s", got, tc.want)
					}
					if got := rec.segs[0].proto; got != declared {
						t.Errorf("declared protocol = %d, want %d", got, declared)
					}
					wantTamper := tc.proto >= 2 && tc.proto > declared
					if got := len(rec.tampers()) > 0; got != wantTamper {
						t.Errorf("protocol anomaly reported = %v (%q), want %v", got, rec.tampers(), wantTamper)
					}
				})
			}
		}
	})
	// Every opcode of protocols 0-5 must be exercised by the cases above.
	var emitted [256]bool
	for _, tc := range opcodeCases {
		a := newAsm()
		tc.build(a)
		for op, ok := range a.emitted {
			emitted[op] = emitted[op] || ok
		}
	}
	for op, info := range opcodes {
		if info.proto >= 0 && !emitted[op] && byte(op) != opStop && byte(op) != opProto {
			t.Errorf("opcode %s is not exercised", info.name)
		}
	}
}

// TestMalformed checks that each way CPython's unpickler rejects a stream
// ends the pickle with a parse error at the right opcode.
func TestMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		data  []byte
		off   int64
		error string
	}{
		{"unknown opcode", newAsm().proto(2).raw(0xff).bytes(), 2, "unknown opcode 0xff"},
		{"ends before STOP", newAsm().proto(2).none().bytes(), 3, "ended before STOP"},
		{"truncated length", newAsm().proto(2).op(opBinUnicode, le32(100)...).text("abc").bytes(), 2, "truncated"},
		{"truncated GLOBAL line", newAsm().text("cos\nsys").bytes(), 0, "truncated"},
		{"empty GLOBAL module", newAsm().text("c\nsystem\n.").bytes(), 0, "truncated"},
		{"stack underflow", newAsm().proto(2).reduce().bytes(), 2, "unpickling stack underflow"},
		{"pop below a mark", newAsm().proto(2).int(1).mark().reduce().bytes(), 5, "unexpected MARK found"},
		{"APPEND below a mark", newAsm().proto(2).emptyList().mark().int(1).op(opAppend).bytes(), 6, "unexpected MARK found"},
		{"BUILD below a mark", newAsm().proto(2).emptyDict().mark().emptyDict().build().bytes(), 5, "unexpected MARK found"},
		{"no MARK", newAsm().proto(2).int(1).tuple().bytes(), 4, "could not find MARK"},
		{"memo miss", newAsm().proto(2).binget(5).bytes(), 2, "Memo value not found at index 5"},
		{"bad memo key", newAsm().text("gx\n").bytes(), 0, "invalid memo index"},
		{"memo key too large", newAsm().text("g99999999999999999999\n").bytes(), 0, "memo index too large"},
		{"negative PUT", newAsm().none().text("p-1\n").bytes(), 1, "negative PUT argument"},
		{"odd DICT", newAsm().mark().int(1).op(opDict).bytes(), 3, "odd number of items for DICT"},
		{"odd SETITEMS", newAsm().emptyDict().mark().int(1).op(opSetItems).bytes(), 4, "odd number of items for SETITEMS"},
		{"STOP on an empty stack", newAsm().proto(2).stop().bytes(), 2, "unpickling stack underflow"},
		{"STOP on a mark", newAsm().proto(2).mark().stop().bytes(), 3, "unexpected MARK found"},
		{"unsupported protocol", newAsm().proto(6).bytes(), 0, "unsupported pickle protocol: 6"},
		{"EXT code zero", newAsm().proto(2).op(opExt1, 0).bytes(), 2, "EXT specifies code <= 0"},
		{"negative LONG4", newAsm().proto(2).op(opLong4, le32(0xffffffff)...).bytes(), 2, "negative byte count"},
		{"negative BINSTRING", newAsm().op(opBinString, le32(0xfffffff0)...).bytes(), 0, "negative byte count"},
		{"BINBYTES8 over the maximum", newAsm().proto(4).op(opBinBytes8, le64(1<<63)...).bytes(), 2, "maximum size"},
		{"OBJ without a class", newAsm().proto(2).mark().op(opObj).bytes(), 3, "unpickling stack underflow"},
		{"INST without MARK", newAsm().inst("os", "system").bytes(), 0, "could not find MARK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := run(t, tt.data, nil)
			if len(rec.segs) != 1 || rec.segs[0].err == nil {
				t.Fatalf("segments = %+v, want one broken pickle", rec.segs)
			}
			e := rec.segs[0].err
			if !strings.Contains(e.msg, tt.error) || e.off != tt.off {
				t.Errorf("error = %q at %d, want %q at %d", e.msg, e.off, tt.error, tt.off)
			}
		})
	}
}

// TestProtocolAnomalies checks the tampering signs.
func TestProtocolAnomalies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"STACK_GLOBAL under PROTO 2", newAsm().proto(2).binUnicode("m").binUnicode("f").stackGlobal().stop().bytes(), "STACK_GLOBAL (protocol 4) appears in a stream that declares protocol 2"},
		{"duplicate PROTO", newAsm().proto(2).proto(2).none().stop().bytes(), "a second PROTO"},
		{"misplaced PROTO", newAsm().none().proto(2).stop().bytes(), "is not the first opcode"},
		{"FRAME too long", newAsm().proto(4).frame(1000).none().stop().bytes(), "declares 1000 bytes but only 2 remain"},
		{"opcode crossing a FRAME", newAsm().proto(4).frame(2).str("abc").stop().bytes(), "crosses the end of its FRAME"},
		{"FRAME inside a FRAME", newAsm().proto(4).frame(20).frame(1).none().stop().bytes(), "starts before the previous frame ends"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := run(t, tt.data, nil)
			got := strings.Join(rec.tampers(), "\n")
			if !strings.Contains(got, tt.want) {
				t.Errorf("anomalies = %q, want one containing %q", got, tt.want)
			}
		})
	}
}

// TestStackGlobalSources checks that STACK_GLOBAL resolves its arguments
// from every string opcode and from the memo, exactly as the memo holds
// them.
func TestStackGlobalSources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		build func(a *asm)
		want  string
	}{
		{"STRING", func(a *asm) { a.string0("os").string0("system") }, "os.system"},
		{"BINSTRING", func(a *asm) { a.binString("os").binString("system") }, "os.system"},
		{"SHORT_BINSTRING", func(a *asm) { a.shortBinString("os").shortBinString("system") }, "os.system"},
		{"UNICODE", func(a *asm) { a.unicode0("os").unicode0("system") }, "os.system"},
		{"BINUNICODE", func(a *asm) { a.binUnicode("os").binUnicode("system") }, "os.system"},
		{"SHORT_BINUNICODE", func(a *asm) { a.shortBinUnicode("os").shortBinUnicode("system") }, "os.system"},
		{"BINUNICODE8", func(a *asm) { a.binUnicode8("os").binUnicode8("system") }, "os.system"},
		{"BINBYTES", func(a *asm) { a.binBytes("os").shortBinBytes("system") }, "os.system"},
		{"GET", func(a *asm) { a.str("os").put(0).op(opPop).str("system").put(1).op(opPop).get(0).get(1) }, "os.system"},
		{"BINGET", func(a *asm) { a.str("os").binput(0).op(opPop).str("system").binput(1).op(opPop).binget(0).binget(1) }, "os.system"},
		{"LONG_BINGET", func(a *asm) {
			a.str("os").longBinput(9).op(opPop).str("system").longBinput(8).op(opPop).longBinget(9).longBinget(8)
		}, "os.system"},
		{"name longer than the kept prefix", func(a *asm) { a.str("os").str(strings.Repeat("path.os.", 200) + "system") },
			"os." + strings.Repeat("path.os.", 200) + "system"},
		{"escaped name longer than the kept prefix", func(a *asm) { a.unicode0("os").unicode0(strings.Repeat("path.os.", 200) + "system") },
			"os." + strings.Repeat("path.os.", 200) + "system"},
		{"memo confusion", func(a *asm) {
			// picklescan #14: indices written with BINPUT, then MEMOIZE.
			a.str("os").binput(0).str("system").binput(1).str("torch._utils").memoize().str("_rebuild_tensor_v2").memoize().
				binget(0).binget(1)
		}, "os.system"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := newAsm().proto(4)
			tt.build(a)
			a.stackGlobal().stop()
			rec := run(t, a.bytes(), nil)
			var got string
			for _, e := range rec.events {
				if e.kind == evImport && e.v.flags&(fDynamic|fTrunc) == 0 {
					got = e.v.module() + "." + e.v.name()
				}
			}
			if got != tt.want {
				t.Errorf("import = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestStacked checks stacked pickles and what follows the last one.
func TestStacked(t *testing.T) {
	t.Parallel()
	benign := newAsm().proto(2).emptyDict().stop().bytes()
	legacy := append(newAsm().proto(2).op(opLong1, 10).raw(0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19).stop().bytes(),
		newAsm().proto(2).int(1001).stop().bytes()...)
	for range 3 {
		legacy = append(legacy, benign...)
	}
	tests := []struct {
		name     string
		data     []byte
		segs     int
		trailing string
	}{
		{"two pickles", append(append([]byte(nil), benign...), benign...), 2, ""},
		{"garbage after STOP", append(append([]byte(nil), benign...), "\x00\x01garbage"...), 1, "4+9 kind=0 "},
		{"zip after STOP", append(append([]byte(nil), benign...), "PK\x03\x04rest"...), 1, "4+8 kind=1 a zip archive"},
		{"legacy PyTorch raw storages", append(legacy, 0x80, 0x02, 'c', 'o', 's'), 5, "kind=2 legacy PyTorch storage data"},
		{"a broken second pickle with PROTO is kept", append(append([]byte(nil), benign...), 0x80, 0x02, 0xff), 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := run(t, tt.data, nil)
			if len(rec.segs) < tt.segs {
				t.Errorf("got %d pickles, want %d", len(rec.segs), tt.segs)
			}
			got := strings.Join(rec.trails, ";")
			if tt.trailing == "" && got != "" || !strings.Contains(got, tt.trailing) {
				t.Errorf("trailing = %q, want %q", got, tt.trailing)
			}
		})
	}
}

// TestLimits checks that each limit stops the stream with a limit error.
func TestLimits(t *testing.T) {
	t.Parallel()
	small := defaultLimits
	small.maxStack, small.maxMarks, small.maxMemo, small.maxOps = 100, 10, 50, 1000
	deep := newAsm().proto(2)
	for range 200 {
		deep.none()
	}
	marks := newAsm().proto(2)
	for range 20 {
		marks.mark()
	}
	memoB := newAsm().proto(4).none()
	for range 60 {
		memoB.memoize()
	}
	ops := newAsm().proto(2).none()
	for range 2000 {
		ops.op(opDup).op(opPop)
	}
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"stack", deep.stop().bytes(), "stack depth exceeds the limit of 100"},
		{"marks", marks.stop().bytes(), "MARK depth exceeds the limit of 10"},
		{"memo", memoB.stop().bytes(), "memo size exceeds the limit of 50"},
		{"opcodes", ops.stop().bytes(), "more than 1000 opcodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := run(t, tt.data, &small)
			if len(rec.segs) == 0 || rec.segs[0].err == nil || !rec.segs[0].err.limit {
				t.Fatalf("segments = %+v, want a limit error", rec.segs)
			}
			if !strings.Contains(rec.segs[0].err.msg, tt.want) {
				t.Errorf("error = %q, want %q", rec.segs[0].err.msg, tt.want)
			}
		})
	}
}

// TestExpansion checks the billion-laughs detection.
func TestExpansion(t *testing.T) {
	t.Parallel()
	// Each level is a list of ten references to the previous level.
	a := newAsm().proto(2).emptyList().binput(0)
	for i := 1; i <= 8; i++ {
		a.mark()
		for range 10 {
			a.binget(byte(i - 1))
		}
		a.op(opList).binput(byte(i))
	}
	a.stop()
	rec := run(t, a.bytes(), nil)
	var msgs []string
	for _, e := range rec.events {
		if e.kind == evExpansion {
			msgs = append(msgs, e.msg)
		}
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0], " GET") {
		t.Errorf("expansion events = %q, want one mentioning the GETs", msgs)
	}
	// A list of a thousand references to one string is not an expansion.
	b := newAsm().proto(2).str("x").binput(0).mark()
	for range 1000 {
		b.binget(0)
	}
	b.op(opList).stop()
	for _, e := range run(t, b.bytes(), nil).events {
		if e.kind == evExpansion {
			t.Errorf("unexpected expansion event: %s", e.msg)
		}
	}
}

// TestLargePayloadNotKept checks that a large payload keeps only a prefix
// and remembers where the rest lies.
func TestLargePayloadNotKept(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("A", 1<<20)
	rec := run(t, newAsm().proto(4).binBytes8(big).stop().bytes(), nil)
	v := rec.segs[0].result
	if len(v.s) != defaultLimits.keepStr || v.flags&fTrunc == 0 || v.num != 1<<20 || v.aux != 11 {
		t.Errorf("value keeps %d bytes (trunc=%v), length %d at %d; want %d bytes kept of %d at 11",
			len(v.s), v.flags&fTrunc != 0, v.num, v.aux, defaultLimits.keepStr, 1<<20)
	}
}
