package numpy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseLiteral(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		latin1  bool
		allowL  bool
		want    string // repr of the value
		wantErr string // substring of the error
	}{
		{"numpy header", "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }          \n", true, true, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4)}", ""},
		{"one-tuple and parentheses", "((1,), (2), ())", true, false, "((1,), 2, ())", ""},
		{"list, set, None", "[None, {1, 2}, True]", true, false, "[None, {1, 2}, True]", ""},
		{"ints", "(0, 00, 0x1F, 0o17, 0b101, 1_000, -5, + 7)", true, false, "(0, 0, 31, 15, 5, 1000, -5, 7)", ""},
		{"big int", "99999999999999999999", true, false, "<int out of range>", ""},
		{"string prefixes", `(r'\n', b'x', u'y', Rb'\x', br"z")`, true, false, `('\\n', b'x', 'y', b'\\x', b'z')`, ""},
		{"escapes", `'\x41\101\u0042\U00000043\t\'\"\q'`, false, false, `'AABC\t'"\\q'`, ""},
		{"triple quotes", "'''a\nb'''", true, false, `'a\nb'`, ""},
		{"implicit concatenation", "'a' \"b\" '''c'''", true, false, "'abc'", ""},
		{"latin-1 string", "'\xe9'", true, false, "'é'", ""},
		{"comment and continuation", "(1, # one\n 2) \\\n", true, false, "(1, 2)", ""},
		{"duplicate keys keep the last value", "{'a': 1, 'a': 2, 1: 3, True: 4}", true, false, "{'a': 2, 1: 4}", ""},
		{"L suffix allowed", "(3L,)", true, true, "(3,)", ""},

		{"L suffix refused", "(3L,)", true, false, "", "invalid number"},
		{"float", "1.5", true, false, "", "float"},
		{"leading dot float", ".5", true, false, "", "float"},
		{"exponent", "1e5", true, false, "", "float"},
		{"complex", "2j", true, false, "", "complex"},
		{"leading zeros", "012", true, false, "", "leading zeros"},
		{"double underscore", "1__0", true, false, "", "invalid number"},
		{"call", "eval('1')", true, false, "", "not a literal"},
		{"attribute", "os.system", true, false, "", "not a literal"},
		{"f-string", "f'{x}'", true, false, "", "f-strings"},
		{"ur prefix", "ur'x'", true, false, "", "invalid string prefix"},
		{"mixed bytes and str", "b'a' 'b'", true, false, "", "mix bytes"},
		{"non-ASCII bytes literal", "b'\xe9'", true, false, "", "non-ASCII"},
		{"unterminated string", "'abc", true, false, "", "unterminated"},
		{"newline in string", "'a\nb'", true, false, "", "line break"},
		{"bad hex escape", `'\x4'`, true, false, "", "escape"},
		{"named escape", `'\N{DIGIT ONE}'`, false, false, "", `\N{...}`},
		{"unhashable key", "{[1]: 2}", true, false, "", "unhashable"},
		{"unhashable set item", "{{}}", true, false, "", "unhashable"},
		{"mixed dict and set", "{1: 2, 3}", true, false, "", "mixed dict and set"},
		{"missing comma", "(1 2)", true, false, "", "expected ','"},
		{"unclosed", "{'a': 1", true, false, "", "unterminated"},
		{"trailing data", "{} {}", true, false, "", "after the header value"},
		{"double sign", "--1", true, false, "", "sign"},
		{"signed bool", "-True", true, false, "", "sign"},
		{"too deep", strings.Repeat("(", maxLiteralDepth+1) + strings.Repeat(")", maxLiteralDepth+1), true, false, "", "levels deep"},
		{"invalid utf-8", "'\xff'", false, false, "", "UTF-8"},
		{"empty", "", true, false, "", "end of header"},
		{"NUL byte", "'a\x00'", true, false, "", "NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := parseLiteral([]byte(tt.in), tt.latin1, tt.allowL)
			if tt.wantErr != "" {
				var le *literalError
				if !errors.As(err, &le) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseLiteral(%q) = %s, %v; want a literalError containing %q", tt.in, v.repr(), err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseLiteral(%q): %v", tt.in, err)
			}
			if got := v.repr(); got != tt.want {
				t.Errorf("parseLiteral(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestDtypeString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		size     uint64
		object   bool
		unknown  bool
		overflow bool
	}{
		{in: "<f8", size: 8},
		{in: "|b1", size: 1},
		{in: "<i2", size: 2},
		{in: ">u4", size: 4},
		{in: "<c16", size: 16},
		{in: "<f16", size: 16},
		{in: "|S7", size: 7},
		{in: "<U3", size: 12},
		{in: "|V16", size: 16},
		{in: "<M8[ns]", size: 8},
		{in: "<m8", size: 8},
		{in: "float32", size: 4},
		{in: "d", size: 8},
		{in: "?", size: 1},
		{in: "=H", size: 2},
		{in: "3i4", size: 12},
		{in: "(2,3)f8", size: 48},
		{in: "i4, f8,", size: 12},
		{in: "i4, (2,)f4, u1", size: 13},
		{in: "|O", object: true},
		{in: "O", object: true},
		{in: "<O8", object: true},
		{in: "object", object: true},
		{in: "Object_", object: true},
		{in: "f8, O", object: true},
		{in: "2O", object: true},
		{in: "<i3", unknown: true},
		{in: "<b2", unknown: true},
		{in: "T", unknown: true},
		{in: "<x9", unknown: true},
		{in: "", unknown: true},
		{in: "<U99999999999999999999", overflow: true},
		{in: "<U4611686018427387904", overflow: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			info, err := dtypeString(tt.in)
			if tt.overflow {
				if err == nil {
					t.Fatalf("dtypeString(%q) = %+v, want an overflow error", tt.in, info)
				}
				return
			}
			if err != nil {
				t.Fatalf("dtypeString(%q): %v", tt.in, err)
			}
			if (info.object != "") != tt.object || (info.unknown != "") != tt.unknown {
				t.Fatalf("dtypeString(%q) = %+v, want object=%v unknown=%v", tt.in, info, tt.object, tt.unknown)
			}
			if !tt.object && !tt.unknown && info.size != tt.size {
				t.Errorf("dtypeString(%q) size = %d, want %d", tt.in, info.size, tt.size)
			}
		})
	}
}
