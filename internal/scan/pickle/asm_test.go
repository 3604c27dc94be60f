package pickle

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
)

// asm assembles pickles for tests, one opcode per method. It records which
// opcodes it emitted so a test can check that every opcode is exercised.
type asm struct {
	b       []byte
	emitted [256]bool
}

func newAsm() *asm { return &asm{} }

func (a *asm) bytes() []byte { return a.b }

func (a *asm) op(op byte, arg ...byte) *asm {
	a.emitted[op] = true
	a.b = append(a.b, op)
	a.b = append(a.b, arg...)
	return a
}

func (a *asm) raw(p ...byte) *asm { a.b = append(a.b, p...); return a }
func (a *asm) text(s string) *asm { a.b = append(a.b, s...); return a }
func (a *asm) line(s string) *asm { return a.text(s + "\n") }
func le32(n uint32) []byte        { return binary.LittleEndian.AppendUint32(nil, n) }
func le64(n uint64) []byte        { return binary.LittleEndian.AppendUint64(nil, n) }
func (a *asm) proto(n byte) *asm  { return a.op(opProto, n) }
func (a *asm) stop() *asm         { return a.op(opStop) }
func (a *asm) mark() *asm         { return a.op(opMark) }
func (a *asm) reduce() *asm       { return a.op(opReduce) }
func (a *asm) tuple1() *asm       { return a.op(opTuple1) }
func (a *asm) tuple() *asm        { return a.op(opTuple) }
func (a *asm) emptyTuple() *asm   { return a.op(opEmptyTuple) }
func (a *asm) emptyDict() *asm    { return a.op(opEmptyDict) }
func (a *asm) emptyList() *asm    { return a.op(opEmptyList) }
func (a *asm) none() *asm         { return a.op(opNone) }
func (a *asm) build() *asm        { return a.op(opBuild) }
func (a *asm) memoize() *asm      { return a.op(opMemoize) }
func (a *asm) stackGlobal() *asm  { return a.op(opStackGlobal) }
func (a *asm) binput(i byte) *asm { return a.op(opBinPut, i) }
func (a *asm) binget(i byte) *asm { return a.op(opBinGet, i) }
func (a *asm) put(i int) *asm     { return a.op(opPut).line(strconv.Itoa(i)) }
func (a *asm) get(i int) *asm     { return a.op(opGet).line(strconv.Itoa(i)) }
func (a *asm) longBinput(i uint32) *asm {
	return a.op(opLongBinPut, le32(i)...)
}
func (a *asm) longBinget(i uint32) *asm {
	return a.op(opLongBinGet, le32(i)...)
}

// global writes GLOBAL module name.
func (a *asm) global(module, name string) *asm {
	return a.op(opGlobal).line(module).line(name)
}

// inst writes INST module name (the caller wrote MARK and the arguments).
func (a *asm) inst(module, name string) *asm {
	return a.op(opInst).line(module).line(name)
}

// str writes a str with SHORT_BINUNICODE, BINUNICODE or BINUNICODE8.
func (a *asm) str(s string) *asm {
	if len(s) < 256 {
		return a.op(opShortBinUnicode, byte(len(s))).text(s)
	}
	return a.op(opBinUnicode, le32(uint32(len(s)))...).text(s)
}

func (a *asm) binUnicode(s string) *asm { return a.op(opBinUnicode, le32(uint32(len(s)))...).text(s) }
func (a *asm) binUnicode8(s string) *asm {
	return a.op(opBinUnicode8, le64(uint64(len(s)))...).text(s)
}
func (a *asm) shortBinUnicode(s string) *asm { return a.op(opShortBinUnicode, byte(len(s))).text(s) }

// unicode0 writes UNICODE with raw-unicode-escape for non-ASCII text.
func (a *asm) unicode0(s string) *asm {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\' || r == '\n' || r > 0xff:
			b.WriteString(`\u` + hexN(uint64(r), 4))
		default:
			b.WriteByte(byte(r))
		}
	}
	return a.op(opUnicode).line(b.String())
}

// string0 writes STRING with a quoted, escaped literal.
func (a *asm) string0(s string) *asm {
	return a.op(opString).line(pyBytes(s, false, 0, math.MaxInt32)[1:])
}

func (a *asm) binString(s string) *asm { return a.op(opBinString, le32(uint32(len(s)))...).text(s) }
func (a *asm) shortBinString(s string) *asm {
	return a.op(opShortBinString, byte(len(s))).text(s)
}
func (a *asm) binBytes(s string) *asm { return a.op(opBinBytes, le32(uint32(len(s)))...).text(s) }
func (a *asm) shortBinBytes(s string) *asm {
	return a.op(opShortBinBytes, byte(len(s))).text(s)
}
func (a *asm) binBytes8(s string) *asm { return a.op(opBinBytes8, le64(uint64(len(s)))...).text(s) }
func (a *asm) byteArray8(s string) *asm {
	return a.op(opByteArray8, le64(uint64(len(s)))...).text(s)
}

// int writes the smallest binary integer opcode for n.
func (a *asm) int(n int64) *asm {
	switch {
	case n >= 0 && n < 256:
		return a.op(opBinInt1, byte(n))
	case n >= 0 && n < 65536:
		return a.op(opBinInt2, byte(n), byte(n>>8))
	case n >= math.MinInt32 && n <= math.MaxInt32:
		return a.op(opBinInt, le32(uint32(int32(n)))...)
	}
	return a.long1(n)
}

// long1 writes LONG1 with n's minimal two's complement bytes.
func (a *asm) long1(n int64) *asm {
	var p []byte
	for {
		p = append(p, byte(n))
		n >>= 8
		if (n == 0 && p[len(p)-1]&0x80 == 0) || (n == -1 && p[len(p)-1]&0x80 != 0) {
			break
		}
	}
	return a.op(opLong1, byte(len(p))).raw(p...)
}

func (a *asm) frame(n uint64) *asm { return a.op(opFrame, le64(n)...) }

// call writes GLOBAL module name, one str argument and REDUCE.
func (a *asm) call(module, name, arg string) *asm {
	return a.global(module, name).str(arg).tuple1().reduce()
}
