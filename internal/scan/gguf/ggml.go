package gguf

import "strconv"

// ggmlType describes how a ggml tensor type lays out its elements: blocks
// of blockSize elements stored in typeSize bytes.
type ggmlType struct {
	name      string
	blockSize uint64
	typeSize  uint64
	removed   bool // once defined, no longer accepted in GGUF files
}

// qkK is the super-block size of the k-quants.
const qkK = 256

// ggmlTypes lists the tensor types of ggml, indexed by their GGUF id
// (ggml.h; sizes as in gguf-py's GGML_QUANT_SIZES).
var ggmlTypes = map[uint32]ggmlType{
	0:  {"F32", 1, 4, false},
	1:  {"F16", 1, 2, false},
	2:  {"Q4_0", 32, 2 + 16, false},
	3:  {"Q4_1", 32, 2 + 2 + 16, false},
	4:  {"Q4_2", 32, 0, true},
	5:  {"Q4_3", 32, 0, true},
	6:  {"Q5_0", 32, 2 + 4 + 16, false},
	7:  {"Q5_1", 32, 2 + 2 + 4 + 16, false},
	8:  {"Q8_0", 32, 2 + 32, false},
	9:  {"Q8_1", 32, 4 + 4 + 32, false},
	10: {"Q2_K", qkK, 2 + 2 + qkK/16 + qkK/4, false},
	11: {"Q3_K", qkK, 2 + qkK/4 + qkK/8 + 12, false},
	12: {"Q4_K", qkK, 2 + 2 + qkK/2 + 12, false},
	13: {"Q5_K", qkK, 2 + 2 + qkK/2 + qkK/8 + 12, false},
	14: {"Q6_K", qkK, 2 + qkK/2 + qkK/4 + qkK/16, false},
	15: {"Q8_K", qkK, 4 + qkK + qkK/8, false},
	16: {"IQ2_XXS", qkK, 2 + qkK/4, false},
	17: {"IQ2_XS", qkK, 2 + qkK/4 + qkK/32, false},
	18: {"IQ3_XXS", qkK, 2 + qkK/4 + qkK/8, false},
	19: {"IQ1_S", qkK, 2 + qkK/8 + qkK/16, false},
	20: {"IQ4_NL", 32, 2 + 16, false},
	21: {"IQ3_S", qkK, 2 + qkK/4 + qkK/8 + qkK/32 + 4, false},
	22: {"IQ2_S", qkK, 2 + qkK/4 + qkK/16, false},
	23: {"IQ4_XS", qkK, 2 + 2 + qkK/2 + qkK/64, false},
	24: {"I8", 1, 1, false},
	25: {"I16", 1, 2, false},
	26: {"I32", 1, 4, false},
	27: {"I64", 1, 8, false},
	28: {"F64", 1, 8, false},
	29: {"IQ1_M", qkK, qkK/8 + qkK/16 + qkK/32, false},
	30: {"BF16", 1, 2, false},
	31: {"Q4_0_4_4", 32, 2 + 16, true},
	32: {"Q4_0_4_8", 32, 2 + 16, true},
	33: {"Q4_0_8_8", 32, 2 + 16, true},
	34: {"TQ1_0", qkK, 2 + 4*13, false},
	35: {"TQ2_0", qkK, 2 + 64, false},
	36: {"IQ4_NL_4_4", 32, 2 + 16, true},
	37: {"IQ4_NL_4_8", 32, 2 + 16, true},
	38: {"IQ4_NL_8_8", 32, 2 + 16, true},
	39: {"MXFP4", 32, 1 + 16, false},
	40: {"NVFP4", 64, 4 + 32, false},
	41: {"Q1_0", 128, 2 + 16, false},
}

// GGUF metadata value types.
const (
	typeU8 uint32 = iota
	typeI8
	typeU16
	typeI16
	typeU32
	typeI32
	typeF32
	typeBool
	typeString
	typeArray
	typeU64
	typeI64
	typeF64
	numValueTypes
)

// valueSize is the encoded size of each fixed-size value type (0 for
// string and array).
var valueSize = [numValueTypes]uint64{1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8}

var valueNames = [numValueTypes]string{"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"}

// typeName names a value type, known or not.
func typeName(t uint32) string {
	if t < numValueTypes {
		return valueNames[t]
	}
	return "type " + strconv.FormatUint(uint64(t), 10)
}

// isInteger reports whether t is an integer value type.
func isInteger(t uint32) bool {
	switch t {
	case typeU8, typeI8, typeU16, typeI16, typeU32, typeI32, typeU64, typeI64:
		return true
	}
	return false
}
