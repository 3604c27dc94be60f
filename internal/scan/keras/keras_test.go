package keras

import (
	"archive/zip"
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

// readZipMember extracts one member of a zip file in testdata.
func readZipMember(t testing.TB, file, member string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(filepath.Join("testdata", file))
	if err != nil {
		t.Fatalf("open %s: %v", file, err)
	}
	defer zr.Close()
	f, err := zr.Open(member)
	if err != nil {
		t.Fatalf("open %s in %s: %v", member, file, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatalf("read %s in %s: %v", member, file, err)
	}
	return b
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
			cfg := readZipMember(t, tt.file, "config.json")
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
			fs := scanConfigJSON(t, string(readZipMember(t, tt.file, "config.json")))
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

func TestEncodings(t *testing.T) {
	t.Parallel()
	cfg := sequential(keras3Lambda(lambdaCode))
	utf16le := func(s string, bom bool) []byte {
		var out []byte
		if bom {
			out = []byte{0xff, 0xfe}
		}
		for _, u := range utf16.Encode([]rune(s)) {
			out = binary.LittleEndian.AppendUint16(out, u)
		}
		return out
	}
	utf32be := func(s string) []byte {
		var out []byte
		for _, r := range s {
			out = binary.BigEndian.AppendUint32(out, uint32(r))
		}
		return out
	}
	tests := []struct {
		name       string
		data       []byte
		want       []string
		wantOffset bool
	}{
		{"utf-8 BOM", append([]byte("\xef\xbb\xbf"), cfg...), []string{"KER001 high config.layers[0].config.function"}, true},
		{"utf-16le with BOM", utf16le(cfg, true), []string{"KER001 high config.layers[0].config.function"}, false},
		{"utf-16le without BOM", utf16le(cfg, false), []string{"KER001 high config.layers[0].config.function"}, false},
		{"utf-32be", utf32be(cfg), []string{"KER001 high config.layers[0].config.function"}, false},
		{"broken utf-16", []byte("{\x00\"\x00\x00\xd8"), []string{"KER004 medium "}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := scanMember(t, "config.json", scan.FormatKerasConfig, tt.data, scan.Limits{})
			if got := summary(fs); !slices.Equal(got, tt.want) {
				t.Fatalf("findings = %q, want %q", got, tt.want)
			}
			if tt.wantOffset != (fs[0].Offset >= 0) {
				t.Errorf("Offset = %d, want known=%v", fs[0].Offset, tt.wantOffset)
			}
			if off := fs[0].Offset; off >= 0 && (off >= int64(len(tt.data)) || tt.data[off] != '{') {
				t.Errorf("Offset = %d does not point at a JSON object", off)
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
	tests := []struct {
		name string
		data string
		want []string
	}{
		// Sniff routes JSON naming class_name and config tentatively
		// unless the file is called config.json.
		{"broken JSON is not ours", `{"class_name": "x", "config": {"a": [1, 2`, nil},
		{"valid config is scanned", sequential(keras3Lambda(lambdaCode)), []string{"KER001 high config.layers[0].config.function"}},
		{"broken after a lambda", `{"class_name": "x", "config": [` + keras3Lambda(lambdaCode) + `, {`, []string{"KER001 high config[0].config.function", "KER004 medium "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs, err := eng.ScanReader(t.Context(), "notes.json", strings.NewReader(tt.data), int64(len(tt.data)))
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
