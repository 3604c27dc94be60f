package keras

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/testutil"
)

// fuzzLimits keep fuzz iterations small while still reaching the limits.
var fuzzLimits = scan.Limits{MaxHeaderBytes: 64 << 10}

func FuzzKerasConfig(f *testing.F) {
	for _, file := range []string{"benign_keras_dense.keras", "mal_keras_lambda.keras", "mal_keras_lambda_nested_submodel.keras", "mal_keras_function_ref_os_system.keras"} {
		f.Add(testutil.ReadZipMember(f, filepath.Join("testdata", file), "config.json"))
	}
	for _, s := range []string{
		sequential(keras3Lambda(lambdaCodeNested)),
		`{"class_name": "Lambda", "config": {"function": ["` + lambdaCode + `", null, null], "function_type": "lambda", "module": "__main__"}}`,
		`{"\u006dodule": "os", "class_name": "function", "config": "system", "a": [NaN, -Infinity, 1e5, "\ud83d\ude00"]}`,
		`{"class_name": "TFOpLambda", "config": {"function": "io.write_file"}}`,
		"\xff\xfe{\x00}\x00",
		`[[[[[[[[[[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := scanMember(t, "config.json", scan.FormatKerasConfig, data, fuzzLimits)
		for _, fd := range fs {
			if fd.Offset >= int64(len(data)) {
				t.Fatalf("offset %d beyond the %d-byte input", fd.Offset, len(data))
			}
			if fd.RuleID == "" || fd.Severity == scan.SeverityNone {
				t.Fatalf("finding without rule or severity: %+v", fd)
			}
		}
		// The bytecode reader sees the input as a marshalled code object.
		_ = describeBytecode(base64.StdEncoding.EncodeToString(data))
	})
}

func FuzzHDF5(f *testing.F) {
	f.Add(h5(noise(2000, 1)))
	f.Add(h5(attr("model_config", sequential(dense, keras3Lambda(lambdaCode)))))
	f.Add(h5(attr("model_config", `{"class_name": "Sequential", "config": {"layers": [`+keras3Lambda(lambdaCode)), noise(200, 2)))
	f.Add(h5(attr("training_config", `{"loss": {"module": "x", "class_name": "function", "config": "y"}}`)))
	f.Add([]byte(`{"a": {"b": {"c": "\"}"}}}`))
	for _, name := range []string{"mal_keras_lambda.keras", "keras_dense.h5", "mal_keras_lambda.h5"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b) // the .keras zip holds config.json's text uncompressed
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := scanMember(t, "model.h5", scan.FormatHDF5, data, fuzzLimits)
		for _, fd := range fs {
			if fd.Offset >= int64(len(data)) {
				t.Fatalf("offset %d beyond the %d-byte input", fd.Offset, len(data))
			}
			if fd.RuleID != "KER005" && (fd.Offset < 0 || data[fd.Offset] != '{') {
				t.Fatalf("finding %s offset %d does not point at a JSON object", fd.RuleID, fd.Offset)
			}
		}
	})
}
