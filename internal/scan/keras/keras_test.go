package keras

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/testutil"
)

// lambdaCode is the Python 3.11 bytecode of
// `lambda x: __import__('os').system('echo palisade-test') and x`, as
// stored in the corpus file mal_keras_lambda.keras.
const lambdaCode = "YwEAAAAAAAAAAAAAAAMAAAADAAAA81YAAACXAHQBAAAAAAAAAAAAAGQBpgEAAKsBAAAAAAAAAACgAQAAAAAAAAAAAAAAAAAAAAAAAAAAZAKmAQAAqwEAAAAAAAAAAHwAZgJkAxkAAAAAAAAAAABTACkETtoCb3N6EmVjaG8gcGFsaXNhZGUtdGVzdOkBAAAAKQLaCl9faW1wb3J0X1/aBnN5c3RlbSkB2gF4cwEAAAAg+gg8bGFtYmRhPvoIPGxhbWJkYT5yBwAAAAEAAABzJwAAAIAAjTqQZNELG9QLG9cLItILItAjN9ELONQLOLgh0Ao8uFHUCj+AAPMAAAAA"

// lambdaCodeNested is the Python 3.11 bytecode of
// `lambda x: [__import__('subprocess').check_output(c) for c in ('id',)]`:
// the call sits in a nested code object (the list comprehension).
const lambdaCodeNested = "4wEAAAAAAAAAAAAAAAIAAAADAAAA8xoAAACXAGQBhABkAkQApgAAAKsAAAAAAAAAAABTACkDTmMBAAAAAAAAAAAAAAAFAAAAEwAAAPNSAAAAlwBnAHwAXSR9AXQBAAAAAAAAAAAAAGQApgEAAKsBAAAAAAAAAACgAQAAAAAAAAAAAAAAAAAAAAAAAAAAfAGmAQAAqwEAAAAAAAAAAJECjCVTACkB2gpzdWJwcm9jZXNzKQLaCl9faW1wb3J0X1/aDGNoZWNrX291dHB1dCkC2gIuMNoBY3MCAAAAICD6CDxzdHJpbmc++go8bGlzdGNvbXA+ehw8bGFtYmRhPi48bG9jYWxzPi48bGlzdGNvbXA+AwAAAHMuAAAAgADQDEfQDEfQDEe4IY1amAzRDSXUDSXXDTLSDTKwMdENNdQNNdAMR9AMR9AMR/MAAAAAqQHaAmlkqQCpAdoBeHMBAAAAIHIIAAAA+gg8bGFtYmRhPnIQAAAAAwAAAHMVAAAAgADQDEfQDEe4d9AMR9EMR9QMR4AAcgoAAAA="

// lambdaCodeKeras2 is `lambda x: eval('1+1')` as tf.keras 2 stores it:
// base64 wrapped at 76 columns with a trailing newline.
const lambdaCodeKeras2 = "4wEAAAAAAAAAAAAAAAMAAAADAAAA8yAAAACXAHQBAAAAAAAAAAAAAGQBpgEAAKsBAAAAAAAAAABT\nACkCTvoDMSsxKQHaBGV2YWypAdoBeHMBAAAAIPoIPHN0cmluZz76CDxsYW1iZGE+cgcAAAAGAAAA\ncwwAAACAAI1EkBWJS4xLgADzAAAAAA==\n"

// handOver plays the archive scanner: it hands everything after the zip
// magic to the scanner of format as a member named name, the way a .keras
// zip hands over config.json.
type handOver struct {
	name   string
	format scan.Format
}

func (h handOver) Rules() []scan.Rule { return nil }

func (h handOver) Scan(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	n := obj.Size - 4
	return sess.Nested(ctx, h.name, io.NewSectionReader(obj.R, 4, n), n, h.format)
}

// scanMember scans data as a member of the given format, as if the
// archive scanner handed it over.
func scanMember(t testing.TB, name string, format scan.Format, data []byte, limits scan.Limits) []scan.Finding {
	t.Helper()
	eng := scan.NewEngine(scan.Options{
		Limits: limits,
		Scanners: map[scan.Format]scan.Scanner{
			scan.FormatZip:         handOver{name: name, format: format},
			scan.FormatKerasConfig: New(),
			scan.FormatHDF5:        New(),
		},
	})
	in := append([]byte("PK\x03\x04"), data...)
	fs, err := eng.ScanReader(t.Context(), "model.keras", bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatalf("ScanReader: %v", err)
	}
	return fs
}

// scanConfigJSON scans a config.json handed over by the archive scanner.
func scanConfigJSON(t testing.TB, cfg string) []scan.Finding {
	t.Helper()
	return scanMember(t, "config.json", scan.FormatKerasConfig, []byte(cfg), scan.Limits{})
}

// summary renders findings as "RULE severity pointer" lines for
// comparison.
func summary(fs []scan.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, fmt.Sprintf("%s %s %s", f.RuleID, f.Severity, f.Pointer))
	}
	return out
}

func maxSeverity(fs []scan.Finding) scan.Severity {
	s := scan.SeverityNone
	for _, f := range fs {
		s = max(s, f.Severity)
	}
	return s
}

// keras3Lambda is a Keras 3 Lambda layer with the given bytecode.
func keras3Lambda(code string) string {
	return `{"module": "keras.layers", "class_name": "Lambda", "config": {"name": "lambda", "function": ` +
		`{"class_name": "__lambda__", "config": {"code": "` + code + `", "defaults": null, "closure": null}}, ` +
		`"output_shape": null, "arguments": {}}, "registered_name": null}`
}

// sequential wraps layers in a Keras 3 Sequential model.
func sequential(layers ...string) string {
	return `{"module": "keras", "class_name": "Sequential", "config": {"name": "seq", "layers": [` +
		strings.Join(layers, ", ") + `]}, "registered_name": null}`
}

const dense = `{"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "units": 2, "activation": "relu"}, "registered_name": null}`

// ref is a Keras 3 function reference.
func ref(module, name string) string {
	return `{"module": "` + module + `", "class_name": "function", "config": "` + name + `", "registered_name": "function"}`
}

// denseWith is a Dense layer whose activation is act.
func denseWith(act string) string {
	return `{"module": "keras.layers", "class_name": "Dense", "config": {"name": "d", "activation": ` + act + `}}`
}

func TestCorpus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string
	}{
		{"benign_keras_dense.keras", nil},
		{"mal_keras_lambda.keras", []string{"KER001 high config.layers[1].config.function"}},
		{"mal_keras_lambda_nested_submodel.keras", []string{"KER001 high config.layers[1].config.layers[0].config.function"}},
		{"mal_keras_function_ref_os_system.keras", []string{"KER002 high config.layers[1].config.activation"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			cfg := testutil.ReadZipMember(t, filepath.Join("testdata", tt.file), "config.json")
			fs := scanMember(t, "config.json", scan.FormatKerasConfig, cfg, scan.Limits{})
			if got := summary(fs); !slices.Equal(got, tt.want) {
				t.Fatalf("findings = %q, want %q", got, tt.want)
			}
			// MANIFEST.tsv: benign files are safe, malicious ones high.
			wantSev := scan.SeverityNone
			if strings.HasPrefix(tt.file, "mal_") {
				wantSev = scan.SeverityHigh
			}
			if got := maxSeverity(fs); got != wantSev {
				t.Errorf("highest severity = %v, want %v", got, wantSev)
			}
			for _, f := range fs {
				if f.Offset < 0 || f.Offset >= int64(len(cfg)) || cfg[f.Offset] != '{' {
					t.Errorf("finding offset %d does not point at a JSON object", f.Offset)
				}
				if !slices.Equal(f.Inner, []string{"config.json"}) {
					t.Errorf("Inner = %q, want [config.json]", f.Inner)
				}
			}
		})
	}
}

func TestCorpusEvidence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []string
	}{
		{"mal_keras_lambda.keras", []string{"references __import__, system", `strings "os", "echo palisade-test"`}},
		{"mal_keras_function_ref_os_system.keras", []string{`module "os"`, `function "system"`}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			fs := scanConfigJSON(t, string(testutil.ReadZipMember(t, filepath.Join("testdata", tt.file), "config.json")))
			if len(fs) != 1 {
				t.Fatalf("got %d findings, want 1: %q", len(fs), summary(fs))
			}
			for _, w := range tt.want {
				if !strings.Contains(fs[0].Evidence, w) {
					t.Errorf("evidence %q lacks %q", fs[0].Evidence, w)
				}
			}
		})
	}
}

func TestConfigTree(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  string
		want []string
	}{
		{"benign sequential", sequential(dense, denseWith(ref("keras.activations", "relu"))), nil},
		{"keras3 lambda", sequential(keras3Lambda(lambdaCode)), []string{"KER001 high config.layers[0].config.function"}},
		{
			"TimeDistributed wrapper",
			sequential(`{"module": "keras.layers", "class_name": "TimeDistributed", "config": {"layer": ` + keras3Lambda(lambdaCode) + `}}`),
			[]string{"KER001 high config.layers[0].config.layer.config.function"},
		},
		{
			"Bidirectional backward layer",
			sequential(`{"class_name": "Bidirectional", "config": {"layer": ` + dense + `, "backward_layer": ` + keras3Lambda(lambdaCode) + `}}`),
			[]string{"KER001 high config.layers[0].config.backward_layer.config.function"},
		},
		{
			"functional sub-model two levels down",
			`{"class_name": "Functional", "config": {"layers": [{"class_name": "Functional", "config": {"layers": [` +
				sequential(keras3Lambda(lambdaCode)) + `]}}]}}`,
			[]string{"KER001 high config.layers[0].config.layers[0].config.layers[0].config.function"},
		},
		{
			"lambda hidden in an arbitrary dict",
			`{"class_name": "Sequential", "config": {"layers": []}, "compile_config": {"loss": {"x": [1, {"class_name": "__lambda__", "config": {"code": "` + lambdaCode + `"}}]}}}`,
			[]string{"KER001 high compile_config.loss.x[1]"},
		},
		{
			"keras3 serialized lambda value list",
			`{"class_name": "Sequential", "config": {"activation": {"class_name": "__lambda__", "config": {"value": ["` + lambdaCode + `", null, null]}}}}`,
			[]string{"KER001 high config.activation"},
		},
		{
			"lambda without bytecode",
			`{"class_name": "__lambda__", "config": {}}`,
			[]string{"KER001 high "},
		},
		{
			"tf.keras 2 lambda",
			`{"class_name": "Model", "config": {"layers": [{"class_name": "Lambda", "config": {"name": "l", "function": ["` +
				strings.ReplaceAll(lambdaCodeKeras2, "\n", `\n`) + `", null, null], "function_type": "lambda", "module": "__main__"}}]}}`,
			[]string{"KER001 high config.layers[0].config"},
		},
		{
			"tf.keras 2 lambda output_shape",
			`{"class_name": "Lambda", "config": {"function": "relu", "function_type": "raw", "output_shape": ["` + lambdaCode + `", null, null], "output_shape_type": "lambda"}}`,
			[]string{"KER001 high config"},
		},
		{"os.system reference", denseWith(ref("os", "system")), []string{"KER002 high config.activation"}},
		{"posix.system reference", denseWith(ref("posix", "system")), []string{"KER002 high config.activation"}},
		{"subprocess class", `{"module": "subprocess", "class_name": "Popen", "config": {}}`, []string{"KER002 high "}},
		{"registered name only", `{"module": "subprocess", "registered_name": "Popen", "config": {}}`, []string{"KER002 high "}},
		{"builtins eval", denseWith(ref("builtins", "eval")), []string{"KER002 high config.activation"}},
		{"builtins relu is a keras builtin", denseWith(ref("builtins", "relu")), nil},
		{"dotted name walk", denseWith(ref("gzip", "os.system")), []string{"KER002 high config.activation"}},
		{"os submodule", denseWith(ref("os.path", "join")), []string{"KER002 high config.activation"}},
		{"importlib", denseWith(ref("importlib", "import_module")), []string{"KER002 high config.activation"}},
		{"enable_unsafe_deserialization", denseWith(ref("keras.config", "enable_unsafe_deserialization")), []string{"KER002 high config.activation"}},
		{"keras get_file", sequential(`{"module": "keras.layers", "class_name": "Lambda", "config": {"function": ` + ref("keras.utils", "get_file") + `, "arguments": {"origin": "http://x"}}}`), []string{"KER002 high config.layers[0].config.function"}},
		{"custom module", `{"module": "my_project.layers", "class_name": "MyLayer", "config": {}, "registered_name": "Custom>MyLayer"}`, []string{"KER003 medium "}},
		{"main module function", denseWith(ref("__main__", "my_activation")), []string{"KER003 medium config.activation"}},
		{"tensorflow type spec", `{"class_name": "__typespec__", "module": "tensorflow.python.framework.tensor_spec", "registered_name": null, "config": {}}`, nil},
		{"tf_keras namespace", `{"module": "tf_keras.layers", "class_name": "Dense", "config": {}}`, nil},
		{"tf.keras 2 function reference", `{"class_name": "Lambda", "config": {"function": "system", "function_type": "function", "module": "os"}}`, []string{"KER002 high config"}},
		{"TFOpLambda write_file", `{"class_name": "TFOpLambda", "config": {"name": "tf.io.write_file", "function": "io.write_file"}}`, []string{"KER002 high "}},
		{"TFOpLambda math", `{"class_name": "TFOpLambda", "config": {"name": "tf.math.add", "function": "math.add"}}`, nil},
		{"escaped key", `{"\u006dodule": "o\u0073", "class_name": "function", "config": "system"}`, []string{"KER002 high "}},
		{"duplicate key, last is keras", `{"module": "os", "module": "keras.layers", "class_name": "Dense"}`, nil},
		{"duplicate key, last is os", `{"module": "keras.layers", "module": "os", "class_name": "Dense"}`, []string{"KER002 high "}},
		{"module null", `{"module": null, "class_name": "Dense", "config": {}}`, nil},
		{"NaN and Infinity", `{"class_name": "Dense", "config": {"a": NaN, "b": -Infinity, "c": Infinity, "d": -1.5e-3}}`, nil},
		{"key with odd characters", `{"class_name": "X", "config": {"a.b": [` + ref("os", "system") + `]}}`, []string{`KER002 high config["a.b"][0]`}},
		{"truncated after a lambda", `{"class_name": "Sequential", "config": {"layers": [` + keras3Lambda(lambdaCode) + `, {"class_name": "Den`, []string{"KER001 high config.layers[0].config.function", "KER004 medium "}},
		{"extra data", sequential(dense) + ` {}`, []string{"KER004 medium "}},
		{"control character", "{\"class_name\": \"a\x01\", \"config\": {}}", []string{"KER004 medium "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := scanConfigJSON(t, tt.cfg)
			if got := summary(fs); !slices.Equal(got, tt.want) {
				t.Fatalf("findings = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestBytecodeEvidence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		code string
		want []string
	}{
		{"python 3.11", lambdaCode, []string{"bytecode references __import__, system;", `strings "os", "echo palisade-test"`}},
		{"nested code object", lambdaCodeNested, []string{"references __import__, check_output", `"subprocess"`, `"id"`}},
		{"tf.keras 2 line-wrapped base64", lambdaCodeKeras2, []string{"references eval", `strings "1+1"`}},
		{"python 3.8 layout", b64(code38()), []string{"references os, system", `strings "echo 38"`}},
		{"python 3.7 layout", b64(code37()), []string{"references os, popen", `strings "id"`}},
		{"truncated falls back to records", b64(code38()[:60]), []string{"could not be fully decoded", `"system"`}},
		{"not base64", "%%%", []string{"not valid base64"}},
		{"empty", "", []string{"could not be fully decoded", "no readable names"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := describeBytecode(tt.code)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("describeBytecode = %q, lacks %q", got, w)
				}
			}
		})
	}
}

// marshal builders for hand-made code objects.
func mI32(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
func mBytesObj(b string) []byte {
	return append(append([]byte{'s'}, mI32(int32(len(b)))...), b...)
}
func mShort(s string) []byte { return append([]byte{'z', byte(len(s))}, s...) }
func mTupleOf(items ...[]byte) []byte {
	out := []byte{')', byte(len(items))}
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
func b64(b []byte) string        { return base64.StdEncoding.EncodeToString(b) }

// code38 is a Python 3.8-3.10 style code object: 6 ints, then code,
// consts, names, varnames, freevars, cellvars, filename, name,
// firstlineno, lnotab.
func code38() []byte {
	return cat([]byte{'c'}, mI32(1), mI32(0), mI32(0), mI32(1), mI32(2), mI32(0x43),
		mBytesObj("\x74\x00\x64\x01"), mTupleOf([]byte{'N'}, mShort("echo 38")), mTupleOf(mShort("os"), mShort("system")),
		mTupleOf(mShort("x")), mTupleOf(), mTupleOf(), mShort("<string>"), mShort("<lambda>"), mI32(1), mBytesObj(""))
}

// code37 is a Python 3.0-3.7 style code object: 5 ints and a tuple of
// free variables as the fifth object.
func code37() []byte {
	return cat([]byte{'c'}, mI32(1), mI32(0), mI32(1), mI32(2), mI32(0x43),
		mBytesObj("\x74\x00"), mTupleOf(mShort("id")), mTupleOf(mShort("os"), mShort("popen")),
		mTupleOf(mShort("x")), mTupleOf(), mTupleOf(), mShort("<string>"), mShort("<lambda>"), mI32(1), mBytesObj(""))
}

// encode renders s as Python's str.encode would with the given codec.
func encode(s, codec string) []byte {
	var out []byte
	u16 := func(order binary.AppendByteOrder) {
		for _, u := range utf16.Encode([]rune(s)) {
			out = order.AppendUint16(out, u)
		}
	}
	u32 := func(order binary.AppendByteOrder) {
		for _, r := range s {
			out = order.AppendUint32(out, uint32(r))
		}
	}
	switch codec {
	case "utf-8-sig":
		out = append([]byte("\xef\xbb\xbf"), s...)
	case "utf-16": // a BOM, then little-endian, as CPython writes it
		out = []byte{0xff, 0xfe}
		u16(binary.LittleEndian)
	case "utf-16-bom-be":
		out = []byte{0xfe, 0xff}
		u16(binary.BigEndian)
	case "utf-16-le":
		u16(binary.LittleEndian)
	case "utf-16-be":
		u16(binary.BigEndian)
	case "utf-32":
		out = []byte{0xff, 0xfe, 0, 0}
		u32(binary.LittleEndian)
	case "utf-32-bom-be":
		out = []byte{0, 0, 0xfe, 0xff}
		u32(binary.BigEndian)
	case "utf-32-le":
		u32(binary.LittleEndian)
	case "utf-32-be":
		u32(binary.BigEndian)
	default:
		out = []byte(s)
	}
	return out
}

// TestEncodings decodes config.json as json.loads(bytes) does (checked
// against CPython): BOMs, the NUL pattern of BOM-less UTF-16 and UTF-32,
// and lone surrogates, which errors="surrogatepass" keeps. The variants
// are those of keras_config_sniff_bypass.py and more.
func TestEncodings(t *testing.T) {
	t.Parallel()
	cfg := sequential(keras3Lambda(lambdaCode))
	lambdaHit := []string{"KER001 high config.layers[0].config.function"}
	// A lone surrogate inside a string value: "\ud800" written as raw
	// UTF-16 or UTF-32 code units.
	loneSurrogate := func(codec string) []byte {
		b := encode(strings.Replace(cfg, `"name": "seq"`, `"name": "X"`, 1), codec)
		x := encode("X", strings.TrimSuffix(codec, "-sig"))
		var unit []byte
		switch codec {
		case "utf-16-le":
			unit = []byte{0x00, 0xd8}
		case "utf-32-le":
			unit = []byte{0x00, 0xd8, 0, 0}
		}
		return bytes.Replace(b, x, unit, 1)
	}
	tests := []struct {
		name       string
		data       []byte
		want       []string
		wantOffset bool
	}{
		{"utf-8", encode(cfg, "utf-8"), lambdaHit, true},
		{"utf-8 BOM (utf-8-sig)", encode(cfg, "utf-8-sig"), lambdaHit, true},
		{"utf-16 (BOM, little-endian)", encode(cfg, "utf-16"), lambdaHit, false},
		{"utf-16 BOM big-endian", encode(cfg, "utf-16-bom-be"), lambdaHit, false},
		{"utf-16-le without BOM", encode(cfg, "utf-16-le"), lambdaHit, false},
		{"utf-16-be without BOM", encode(cfg, "utf-16-be"), lambdaHit, false},
		{"utf-32 (BOM, little-endian)", encode(cfg, "utf-32"), lambdaHit, false},
		{"utf-32 BOM big-endian", encode(cfg, "utf-32-bom-be"), lambdaHit, false},
		{"utf-32-le without BOM", encode(cfg, "utf-32-le"), lambdaHit, false},
		{"utf-32-be without BOM", encode(cfg, "utf-32-be"), lambdaHit, false},
		{"leading whitespace over 4 KiB", encode(strings.Repeat(" ", 5000)+cfg, "utf-8"), lambdaHit, true},
		{"class_name after 4 KiB", encode(`{"zz_pad": "`+strings.Repeat("A", 5000)+`", `+cfg[1:], "utf-8"), lambdaHit, true},
		{"utf-16 with leading whitespace", encode(strings.Repeat(" ", 3000)+cfg, "utf-16-le"), lambdaHit, false},
		{"utf-16 lone surrogate in a string", loneSurrogate("utf-16-le"), lambdaHit, false},
		{"utf-32 surrogate code point in a string", loneSurrogate("utf-32-le"), lambdaHit, false},
		{"broken utf-16", []byte("{\x00\"\x00\x00\xd8"), []string{"KER004 medium "}, false},
		{"utf-16 of odd length", append(encode(cfg, "utf-16"), 'x'), []string{"KER004 medium "}, false},
		{"two UTF-8 BOMs", encode("\ufeff"+cfg, "utf-8-sig"), []string{"KER004 medium "}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// As a member handed over by the archive scanner, and as a
			// file called config.json routed by the engine's sniffing.
			eng := scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatKerasConfig: New()}})
			sniffed, err := eng.ScanReader(t.Context(), "config.json", bytes.NewReader(tt.data), int64(len(tt.data)))
			if err != nil {
				t.Fatal(err)
			}
			for i, fs := range [][]scan.Finding{scanMember(t, "config.json", scan.FormatKerasConfig, tt.data, scan.Limits{}), sniffed} {
				if i == 1 && len(tt.want) == 1 && tt.want[0] == "KER004 medium " && len(fs) == 0 {
					// Routed tentatively by name: text that is not
					// JSON in any encoding is not a Keras config.
					continue
				}
				if got := summary(fs); !slices.Equal(got, tt.want) {
					t.Fatalf("findings = %q, want %q", got, tt.want)
				}
				if tt.wantOffset != (fs[0].Offset >= 0) {
					t.Errorf("Offset = %d, want known=%v", fs[0].Offset, tt.wantOffset)
				}
				if off := fs[0].Offset; off >= 0 && fs[0].RuleID != "KER004" && (off >= int64(len(tt.data)) || tt.data[off] != '{') {
					t.Errorf("Offset = %d does not point at a JSON object", off)
				}
			}
		})
	}
}

// TestFileReads covers layers and tokenizers that load or read files named
// in their config.
func TestFileReads(t *testing.T) {
	t.Parallel()
	layer := func(module, class, config string) string {
		return `{"module": "` + module + `", "class_name": "` + class + `", "config": ` + config + `, "registered_name": null}`
	}
	tests := []struct {
		name     string
		cfg      string
		want     []string
		evidence string
	}{
		{"TFSMLayer remote", sequential(layer("keras.layers", "TFSMLayer", `{"name": "t", "filepath": "gs://attacker-bucket/model", "call_endpoint": "serve"}`)),
			[]string{"KER002 high config.layers[0]"}, `config.filepath "gs://attacker-bucket/model"`},
		{"TFSMLayer local", sequential(layer("keras.src.export.tfsm_layer", "TFSMLayer", `{"name": "t", "filepath": "/tmp/attacker_savedmodel"}`)),
			[]string{"KER002 high config.layers[0]"}, `config.filepath "/tmp/attacker_savedmodel"`},
		{"TFSMLayer relative", sequential(layer("keras.layers", "TFSMLayer", `{"filepath": "exported"}`)),
			[]string{"KER002 high config.layers[0]"}, `config.filepath "exported"`},
		{"TFSMLayer without filepath", layer("keras.layers", "TFSMLayer", `{}`), []string{"KER002 high "}, "no config.filepath"},
		{"StringLookup absolute vocabulary", sequential(layer("keras.layers", "StringLookup", `{"name": "sl", "vocabulary": "/home/user/.aws/credentials", "num_oov_indices": 1}`)),
			[]string{"KER002 high config.layers[0]"}, `class_name "StringLookup", config.vocabulary "/home/user/.aws/credentials"`},
		{"StringLookup relative vocabulary", layer("keras.layers", "StringLookup", `{"vocabulary": "vocab.txt"}`), []string{"KER002 medium "}, `config.vocabulary "vocab.txt"`},
		{"IntegerLookup URL", layer("keras.layers", "IntegerLookup", `{"vocabulary": "https://example.com/v.txt"}`), []string{"KER002 high "}, "https://example.com/v.txt"},
		{"TextVectorization traversal", layer("keras.layers", "TextVectorization", `{"vocabulary": "assets/../../../etc/passwd"}`), []string{"KER002 high "}, "../../../etc/passwd"},
		{"windows drive path", layer("keras.layers", "StringLookup", `{"vocabulary": "C:\\Users\\x\\secret"}`), []string{"KER002 high "}, "Users"},
		{"home directory", layer("keras.layers", "StringLookup", `{"vocabulary": "~/.ssh/id_rsa"}`), []string{"KER002 high "}, "id_rsa"},
		{"BytePairTokenizer file paths", layer("keras_hub.src.tokenizers.byte_pair_tokenizer", "BytePairTokenizer", `{"vocabulary": "vocab.json", "merges": "/etc/merges.txt"}`),
			[]string{"KER002 high ", "KER002 medium "}, `config.merges "/etc/merges.txt"`},
		{"SentencePieceTokenizer proto URL", layer("keras_nlp.tokenizers", "keras_nlp>SentencePieceTokenizer", `{"proto": "s3://bucket/spm.model"}`), []string{"KER002 high "}, "s3://bucket/spm.model"},
		{"unknown class, absolute filepath", layer("keras.layers", "Dense", `{"units": 2, "filepath": "/etc/shadow"}`), []string{"KER002 high "}, "/etc/shadow"},
		{"unknown class, relative filepath", layer("keras.layers", "Dense", `{"units": 2, "filepath": "weights.h5"}`), nil, ""},
		{"inline vocabulary list", layer("keras.layers", "StringLookup", `{"vocabulary": ["/a", "b", "c"]}`), nil, ""},
		{"inline tokenizer vocabulary and merges", layer("keras_hub.tokenizers", "BytePairTokenizer", `{"vocabulary": {"/a": 0, "b": 1}, "merges": ["a b"]}`), nil, ""},
		{"vocabulary null", layer("keras.layers", "StringLookup", `{"vocabulary": null, "max_tokens": 10}`), nil, ""},
		{"vocabulary empty", layer("keras.layers", "StringLookup", `{"vocabulary": ""}`), nil, ""},
		{"duplicate key, last is a list", layer("keras.layers", "StringLookup", `{"vocabulary": "/etc/passwd", "vocabulary": ["a"]}`), nil, ""},
		{"duplicate key, last is a path", layer("keras.layers", "StringLookup", `{"vocabulary": ["a"], "vocabulary": "/etc/passwd"}`), []string{"KER002 high "}, "/etc/passwd"},
		{"path outside config is not read", layer("keras.layers", "StringLookup", `{"name": "sl"}`)[:len(layer("keras.layers", "StringLookup", `{"name": "sl"}`))-1] + `, "vocabulary": "/etc/passwd"}`, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := scanConfigJSON(t, tt.cfg)
			if got := summary(fs); !slices.Equal(got, tt.want) {
				t.Fatalf("findings = %q, want %q", got, tt.want)
			}
			if tt.evidence != "" && !strings.Contains(fs[0].Evidence, tt.evidence) {
				t.Errorf("evidence %q lacks %q", fs[0].Evidence, tt.evidence)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	deep := `{"class_name": "x", "config": ` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + `}`
	manyLambdas := make([]string, maxHits+5)
	for i := range manyLambdas {
		manyLambdas[i] = `{"class_name": "__lambda__", "config": {}}`
	}
	big := sequential(keras3Lambda(lambdaCode), dense, dense, dense)
	tests := []struct {
		name   string
		cfg    string
		limits scan.Limits
		want   map[string]int // rule ID -> count
	}{
		{"100k levels deep", deep, scan.Limits{}, map[string]int{"KER005": 1}},
		{"depth at the limit", strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth), scan.Limits{}, map[string]int{}},
		{"depth over the limit", strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1), scan.Limits{}, map[string]int{"KER005": 1}},
		{"too many findings", `{"class_name": "X", "config": [` + strings.Join(manyLambdas, ",") + `]}`, scan.Limits{}, map[string]int{"KER001": maxHits, "KER005": 1}},
		{"larger than the header limit", big, scan.Limits{MaxHeaderBytes: int64(len(big) - 10)}, map[string]int{"KER001": 1, "KER005": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := scanMember(t, "config.json", scan.FormatKerasConfig, []byte(tt.cfg), tt.limits)
			got := map[string]int{}
			for _, f := range fs {
				got[f.RuleID]++
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("findings by rule = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTentative(t *testing.T) {
	t.Parallel()
	eng := scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatKerasConfig: New()}})
	late := `{"zz_pad": "` + strings.Repeat("A", 5000) + `", `
	tests := []struct {
		name, file, data string
		want             []string
	}{
		// A file called config.json is routed tentatively when its start
		// does not show class_name and config; JSON that shows them is
		// routed firmly under any name.
		{"broken JSON is not ours", "config.json", `{"a": [1, 2`, nil},
		{"valid config with a late class_name is scanned", "config.json", late + sequential(keras3Lambda(lambdaCode))[1:], []string{"KER001 high config.layers[0].config.function"}},
		{"broken after a lambda", "config.json", late + `"class_name": "x", "config": [` + keras3Lambda(lambdaCode) + `, {`, []string{"KER001 high config[0].config.function", "KER004 medium "}},
		{"sniffed config that is broken", "notes.json", `{"class_name": "x", "config": {"a": [1, 2`, []string{"KER004 medium "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs, err := eng.ScanReader(t.Context(), tt.file, strings.NewReader(tt.data), int64(len(tt.data)))
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(fs); !slices.Equal(got, tt.want) {
				t.Fatalf("findings = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestClassifyReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		module, name string
		want         scan.Severity
	}{
		{"keras.layers", "Dense", scan.SeverityNone},
		{"keras", "Sequential", scan.SeverityNone},
		{"keras_hub.src.models", "Backbone", scan.SeverityNone},
		{"tensorflow.keras.layers", "Dense", scan.SeverityNone},
		{"builtins", "tuple", scan.SeverityNone},
		{"builtins", "open", scan.SeverityHigh},
		{"__builtin__", "getattr", scan.SeverityHigh},
		{"builtins.os", "system", scan.SeverityHigh},
		{"keras.src.saving.serialization_lib", "enable_unsafe_deserialization", scan.SeverityHigh},
		{"keras.models", "load_model", scan.SeverityHigh},
		{"tensorflow.io", "write_file", scan.SeverityHigh},
		{"keras.src.utils", "os.system", scan.SeverityHigh},
		{"nt", "system", scan.SeverityHigh},
		{"runpy", "run_path", scan.SeverityHigh},
		{"socket", "create_connection", scan.SeverityHigh},
		{"webbrowser", "open", scan.SeverityHigh},
		{"pickle", "loads", scan.SeverityHigh},
		{"keras.src.utils.python_utils", "func_load", scan.SeverityHigh},
		{"keras.utils", "func_load", scan.SeverityHigh},
		{"keras.src.legacy.saving.legacy_h5_format", "load_model_from_hdf5", scan.SeverityHigh},
		{"keras.src.legacy.saving.legacy_h5_format", "load_weights_from_hdf5_group", scan.SeverityHigh},
		{"keras.src.saving.saving_lib", "_load_model_from_fileobj", scan.SeverityHigh},
		{"keras.src.saving.saving_api", "load_model", scan.SeverityHigh},
		{"keras.saving", "load_weights", scan.SeverityHigh},
		{"keras.saving", "load", scan.SeverityHigh},
		{"keras.models", "model_from_json", scan.SeverityHigh},
		{"keras.models", "model_from_config", scan.SeverityHigh},
		{"tf_keras.models", "model_from_yaml", scan.SeverityHigh},
		{"keras.src.utils.file_utils", "extract_archive", scan.SeverityHigh},
		{"keras.src.utils.file_utils", "rmtree", scan.SeverityHigh},
		{"keras.src.utils.file_utils", "copy", scan.SeverityHigh},
		{"keras.src.utils.file_utils", "get_file", scan.SeverityHigh},
		{"keras.utils", "get_file", scan.SeverityHigh},
		{"keras.src.saving.serialization_lib", "deserialize_keras_object", scan.SeverityHigh},
		{"keras", "models.load_model", scan.SeverityHigh},
		{"keras.layers", "Dense", scan.SeverityNone},
		{"keras.layers", "StringLookup", scan.SeverityNone},
		{"keras.layers", "TFSMLayer", scan.SeverityNone}, // reported from its config
		{"keras.optimizers", "Adam", scan.SeverityNone},
		{"keras.optimizers.schedules", "ExponentialDecay", scan.SeverityNone},
		{"keras.initializers", "GlorotUniform", scan.SeverityNone},
		{"keras.regularizers", "L2", scan.SeverityNone},
		{"keras.losses", "SparseCategoricalCrossentropy", scan.SeverityNone},
		{"keras.metrics", "SparseCategoricalAccuracy", scan.SeverityNone},
		{"keras.src.models.functional", "Functional", scan.SeverityNone},
		{"keras.activations", "relu", scan.SeverityNone},
		{"keras", "DTypePolicy", scan.SeverityNone},
		{"keras_hub.src.models.gpt2.gpt2_tokenizer", "GPT2Tokenizer", scan.SeverityNone},
		{"keras_nlp.tokenizers", "BytePairTokenizer", scan.SeverityNone},
		{"numpy", "tanh", scan.SeverityMedium},
		{"transformers.activations", "GELUActivation", scan.SeverityMedium},
		{"kerasx", "Dense", scan.SeverityMedium},
	}
	for _, tt := range tests {
		t.Run(tt.module+"."+tt.name, func(t *testing.T) {
			t.Parallel()
			if got := classifyReference(tt.module, tt.name).severity; got != tt.want {
				t.Errorf("classifyReference(%q, %q) = %v, want %v", tt.module, tt.name, got, tt.want)
			}
		})
	}
}

func TestRules(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range New().Rules() {
		if !strings.HasPrefix(r.ID, "KER") || len(r.ID) != 6 || seen[r.ID] {
			t.Errorf("bad or duplicate rule ID %q", r.ID)
		}
		seen[r.ID] = true
		if r.Name == "" || r.Summary == "" || r.Remediation == "" || r.Severity == scan.SeverityNone {
			t.Errorf("rule %s is incomplete: %+v", r.ID, r)
		}
	}
}

// TestFixturesListed checks that every testdata file has a README line.
func TestFixturesListed(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("testdata", "README"))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "README" {
			continue
		}
		if !strings.Contains(string(readme), e.Name()+":") {
			t.Errorf("testdata/%s is not described in testdata/README", e.Name())
		}
	}
}
