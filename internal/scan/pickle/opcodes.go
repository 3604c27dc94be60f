package pickle

// Opcodes of pickle protocols 0 to 5, as CPython's pickletools names them.
const (
	opMark           byte = '('
	opStop           byte = '.'
	opPop            byte = '0'
	opPopMark        byte = '1'
	opDup            byte = '2'
	opFloat          byte = 'F'
	opInt            byte = 'I'
	opBinInt         byte = 'J'
	opBinInt1        byte = 'K'
	opLong           byte = 'L'
	opBinInt2        byte = 'M'
	opNone           byte = 'N'
	opPersID         byte = 'P'
	opBinPersID      byte = 'Q'
	opReduce         byte = 'R'
	opString         byte = 'S'
	opBinString      byte = 'T'
	opShortBinString byte = 'U'
	opUnicode        byte = 'V'
	opBinUnicode     byte = 'X'
	opAppend         byte = 'a'
	opBuild          byte = 'b'
	opGlobal         byte = 'c'
	opDict           byte = 'd'
	opEmptyDict      byte = '}'
	opAppends        byte = 'e'
	opGet            byte = 'g'
	opBinGet         byte = 'h'
	opInst           byte = 'i'
	opLongBinGet     byte = 'j'
	opList           byte = 'l'
	opEmptyList      byte = ']'
	opObj            byte = 'o'
	opPut            byte = 'p'
	opBinPut         byte = 'q'
	opLongBinPut     byte = 'r'
	opSetItem        byte = 's'
	opTuple          byte = 't'
	opEmptyTuple     byte = ')'
	opSetItems       byte = 'u'
	opBinFloat       byte = 'G'

	// Protocol 2.
	opProto    byte = 0x80
	opNewObj   byte = 0x81
	opExt1     byte = 0x82
	opExt2     byte = 0x83
	opExt4     byte = 0x84
	opTuple1   byte = 0x85
	opTuple2   byte = 0x86
	opTuple3   byte = 0x87
	opNewTrue  byte = 0x88
	opNewFalse byte = 0x89
	opLong1    byte = 0x8a
	opLong4    byte = 0x8b

	// Protocol 3.
	opBinBytes      byte = 'B'
	opShortBinBytes byte = 'C'

	// Protocol 4.
	opShortBinUnicode byte = 0x8c
	opBinUnicode8     byte = 0x8d
	opBinBytes8       byte = 0x8e
	opEmptySet        byte = 0x8f
	opAddItems        byte = 0x90
	opFrozenSet       byte = 0x91
	opNewObjEx        byte = 0x92
	opStackGlobal     byte = 0x93
	opMemoize         byte = 0x94
	opFrame           byte = 0x95

	// Protocol 5.
	opByteArray8     byte = 0x96
	opNextBuffer     byte = 0x97
	opReadonlyBuffer byte = 0x98
)

// highestProtocol is the newest protocol CPython's unpickler accepts; PROTO
// with a larger argument is an error.
const highestProtocol = 5

// opInfo describes one opcode.
type opInfo struct {
	name  string
	proto int8 // protocol that introduced it; -1 for bytes that are not opcodes
}

// opcodes is indexed by opcode byte.
var opcodes = func() [256]opInfo {
	var t [256]opInfo
	for i := range t {
		t[i] = opInfo{proto: -1}
	}
	set := func(op byte, name string, proto int8) { t[op] = opInfo{name: name, proto: proto} }
	set(opMark, "MARK", 0)
	set(opStop, "STOP", 0)
	set(opPop, "POP", 0)
	set(opPopMark, "POP_MARK", 1)
	set(opDup, "DUP", 0)
	set(opFloat, "FLOAT", 0)
	set(opInt, "INT", 0)
	set(opBinInt, "BININT", 1)
	set(opBinInt1, "BININT1", 1)
	set(opLong, "LONG", 0)
	set(opBinInt2, "BININT2", 1)
	set(opNone, "NONE", 0)
	set(opPersID, "PERSID", 0)
	set(opBinPersID, "BINPERSID", 1)
	set(opReduce, "REDUCE", 0)
	set(opString, "STRING", 0)
	set(opBinString, "BINSTRING", 1)
	set(opShortBinString, "SHORT_BINSTRING", 1)
	set(opUnicode, "UNICODE", 0)
	set(opBinUnicode, "BINUNICODE", 1)
	set(opAppend, "APPEND", 0)
	set(opBuild, "BUILD", 0)
	set(opGlobal, "GLOBAL", 0)
	set(opDict, "DICT", 0)
	set(opEmptyDict, "EMPTY_DICT", 1)
	set(opAppends, "APPENDS", 1)
	set(opGet, "GET", 0)
	set(opBinGet, "BINGET", 1)
	set(opInst, "INST", 0)
	set(opLongBinGet, "LONG_BINGET", 1)
	set(opList, "LIST", 0)
	set(opEmptyList, "EMPTY_LIST", 1)
	set(opObj, "OBJ", 1)
	set(opPut, "PUT", 0)
	set(opBinPut, "BINPUT", 1)
	set(opLongBinPut, "LONG_BINPUT", 1)
	set(opSetItem, "SETITEM", 0)
	set(opTuple, "TUPLE", 0)
	set(opEmptyTuple, "EMPTY_TUPLE", 1)
	set(opSetItems, "SETITEMS", 1)
	set(opBinFloat, "BINFLOAT", 1)
	set(opProto, "PROTO", 2)
	set(opNewObj, "NEWOBJ", 2)
	set(opExt1, "EXT1", 2)
	set(opExt2, "EXT2", 2)
	set(opExt4, "EXT4", 2)
	set(opTuple1, "TUPLE1", 2)
	set(opTuple2, "TUPLE2", 2)
	set(opTuple3, "TUPLE3", 2)
	set(opNewTrue, "NEWTRUE", 2)
	set(opNewFalse, "NEWFALSE", 2)
	set(opLong1, "LONG1", 2)
	set(opLong4, "LONG4", 2)
	set(opBinBytes, "BINBYTES", 3)
	set(opShortBinBytes, "SHORT_BINBYTES", 3)
	set(opShortBinUnicode, "SHORT_BINUNICODE", 4)
	set(opBinUnicode8, "BINUNICODE8", 4)
	set(opBinBytes8, "BINBYTES8", 4)
	set(opEmptySet, "EMPTY_SET", 4)
	set(opAddItems, "ADDITEMS", 4)
	set(opFrozenSet, "FROZENSET", 4)
	set(opNewObjEx, "NEWOBJ_EX", 4)
	set(opStackGlobal, "STACK_GLOBAL", 4)
	set(opMemoize, "MEMOIZE", 4)
	set(opFrame, "FRAME", 4)
	set(opByteArray8, "BYTEARRAY8", 5)
	set(opNextBuffer, "NEXT_BUFFER", 5)
	set(opReadonlyBuffer, "READONLY_BUFFER", 5)
	return t
}()

// opName returns the opcode's name, or its hex value for bytes that are not
// opcodes.
func opName(op byte) string {
	if n := opcodes[op].name; n != "" {
		return n
	}
	const hex = "0123456789abcdef"
	return "0x" + string([]byte{hex[op>>4], hex[op&15]})
}
