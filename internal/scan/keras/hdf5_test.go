package keras

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/scan"
)

// noise returns n deterministic pseudo-random bytes standing in for
// weights, with JSON-like traps: stray '{', `{"` followed by binary, and
// `{"k":` openings that never close.
func noise(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	for i := 0; i+16 < n; i += 4096 + int(r.UintN(512)) {
		copy(b[i:], []byte(`{"w":`))
		b[i+5] = 0x01
	}
	return b
}

// h5 builds an HDF5-shaped file: the signature, a superblock-sized gap,
// then the given parts.
func h5(parts ...[]byte) []byte {
	out := append([]byte(nil), hdf5Signature...)
	out = append(out, make([]byte, 88)...)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// attr renders an attribute message holding text: the name, NUL padding
// and a few datatype and dataspace bytes, as h5py lays out a fixed-length
// string attribute.
func attr(name, text string) []byte {
	b := []byte(name + "\x00\x00\x00\x00")
	b = append(b, 0x13, 0x00, 0x00, 0x00, byte(len(text)), byte(len(text)>>8), byte(len(text)>>16), 0x00)
	b = append(b, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00)
	return append(b, text...)
}

func scanH5(t testing.TB, data []byte, limits scan.Limits) []scan.Finding {
	t.Helper()
	eng := scan.NewEngine(scan.Options{Limits: limits, Scanners: map[scan.Format]scan.Scanner{scan.FormatHDF5: New()}})
	fs, err := eng.ScanReader(t.Context(), "model.h5", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("ScanReader: %v", err)
	}
	return fs
}

func TestHDF5(t *testing.T) {
	t.Parallel()
	lambdaModel := sequential(dense, keras3Lambda(lambdaCode))
	// Place a config so that its '{' is the last byte of the first search
	// chunk.
	straddle := func(text string) []byte {
		head := h5()
		pad := searchChunk - 1 - len(head) - len(attr("model_config", ""))
		return h5(noise(pad, 7), attr("model_config", text), noise(4096, 8))
	}
	training := `{"loss": {"module": "my_losses", "class_name": "function", "config": "focal", "registered_name": null}, "metrics": null, ` +
		`"optimizer_config": {"class_name": "Adam", "config": {"learning_rate": 0.001}}}`
	tests := []struct {
		name   string
		data   []byte
		limits scan.Limits
		want   []string
		where  string // expected in every message
	}{
		{"plain weights file", h5(noise(3<<20, 1)), scan.Limits{}, nil, ""},
		{"benign model config", h5(noise(1000, 2), attr("model_config", sequential(dense)), noise(5000, 3)), scan.Limits{}, nil, ""},
		{"lambda in model_config", h5(noise(1000, 2), attr("model_config", lambdaModel), noise(5000, 3)), scan.Limits{},
			[]string{"KER001 high config.layers[1].config.function"}, "model_config attribute"},
		{"config across a chunk boundary", straddle(lambdaModel), scan.Limits{},
			[]string{"KER001 high config.layers[1].config.function"}, "model_config attribute"},
		{"training config custom loss", h5(attr("model_config", sequential(dense)), noise(300, 4), attr("training_config", training)), scan.Limits{},
			[]string{"KER003 medium loss"}, "training_config attribute"},
		{"keys reordered", h5(attr("model_config", `{"config": {"layers": [`+keras3Lambda(lambdaCode)+`]}, "class_name": "Sequential"}`)), scan.Limits{},
			[]string{"KER001 high config.layers[0].config.function"}, "model_config"},
		{"pretty-printed", h5(attr("model_config", "{\n  \"class_name\": \"Sequential\",\n  \"config\": "+sequential(denseWith(ref("os", "system")))+"}")), scan.Limits{},
			[]string{"KER002 high config.config.layers[0].config.activation"}, "model_config"},
		{"unclosed outer object", h5(attr("model_config", `{"class_name": "Sequential", "config": {"layers": [`+keras3Lambda(lambdaCode)), noise(2000, 5)), scan.Limits{},
			[]string{"KER001 high config.function"}, "model_config"},
		{"config over the header limit", h5(attr("model_config", lambdaModel), noise(100, 6)), scan.Limits{MaxHeaderBytes: 600},
			[]string{"KER005 medium ", "KER001 high config.function"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := scanH5(t, tt.data, tt.limits)
			if got := summary(fs); !slices.Equal(got, tt.want) {
				t.Fatalf("findings = %q, want %q", got, tt.want)
			}
			for _, f := range fs {
				if !strings.Contains(f.Message, tt.where) {
					t.Errorf("message %q does not name %q", f.Message, tt.where)
				}
				if f.RuleID != "KER005" && (f.Offset < 0 || f.Offset >= int64(len(tt.data)) || tt.data[f.Offset] != '{') {
					t.Errorf("offset %d does not point at a JSON object", f.Offset)
				}
			}
		})
	}
}

// TestHDF5RealFiles scans files written by h5py 3.7, whose model_config
// is a variable-length string stored in the global heap, far from the
// attribute name.
func TestHDF5RealFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		want     []string
		evidence string
	}{
		{"keras_dense.h5", nil, ""},
		{"mal_keras_lambda.h5", []string{"KER001 high config.layers[0].config"}, `references __import__, system; strings "os", "echo palisade-fixture"`},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			fs := scanH5(t, data, scan.Limits{})
			if got := summary(fs); !slices.Equal(got, tt.want) {
				t.Fatalf("findings = %q, want %q", got, tt.want)
			}
			if tt.evidence != "" && !strings.Contains(fs[0].Evidence, tt.evidence) {
				t.Errorf("evidence %q lacks %q", fs[0].Evidence, tt.evidence)
			}
		})
	}
}

// TestHDF5HostileRuns checks that no run of JSON-like bytes before a
// config hides it or makes the search slow: the search is linear, so the
// config after the run is always analysed.
func TestHDF5HostileRuns(t *testing.T) {
	t.Parallel()
	lambdaModel := sequential(dense, keras3Lambda(lambdaCode))
	lambdaHit := "KER001 high config.layers[1].config.function"
	tests := []struct {
		name   string
		data   []byte
		limits scan.Limits
		want   []string
	}{
		{
			// h5_search_budget.py: an earlier attribute of unterminated
			// objects, then the model config.
			"2000 unterminated objects before the config",
			h5(attr("aaa_notes", strings.Repeat(`{"a":`, 2000)), attr("model_config", lambdaModel)),
			scan.Limits{}, []string{lambdaHit},
		},
		{
			"4 MiB of unterminated objects before the config",
			h5(attr("aaa_notes", strings.Repeat(`{"a": `, 700_000)), noise(1000, 1), attr("model_config", lambdaModel)),
			scan.Limits{}, []string{lambdaHit},
		},
		{
			"unterminated objects run straight into the config",
			h5(attr("aaa_notes", strings.Repeat(`{"a": `, 50_000)+lambdaModel), noise(100, 2)),
			scan.Limits{MaxHeaderBytes: 64 << 10}, []string{lambdaHit},
		},
		{
			"unterminated string before the config",
			h5(attr("aaa_notes", `{"a": "x `), []byte(" "), attr("model_config", lambdaModel)),
			scan.Limits{}, []string{lambdaHit},
		},
		{
			"stray quotes and escapes before the config",
			h5([]byte(`"\" "{" {"\u12": "`), []byte(lambdaModel), noise(100, 3)),
			scan.Limits{}, []string{lambdaHit},
		},
		{
			// The largest object that is shallow enough is analysed (its
			// pointer starts with "a.a.a...").
			"balanced junk too deep around the config",
			h5(attr("aaa_notes", strings.Repeat(`{"a": `, 1200)+lambdaModel+strings.Repeat("}", 1200)), noise(100, 4)),
			scan.Limits{}, []string{"KER005 medium ", "KER001 high " + strings.Repeat("a.", maxJSONDepth-7) + "config.layers[1].config.function"},
		},
		{
			"too deep object, then the config",
			h5(attr("aaa_notes", strings.Repeat(`{"a": `, 1500)+"1"+strings.Repeat("}", 1500)), noise(100, 5), attr("model_config", lambdaModel)),
			scan.Limits{}, []string{"KER005 medium ", lambdaHit},
		},
		{
			"invalid JSON around the config",
			h5(attr("aaa_notes", `{"a" 1, "b": `+lambdaModel+`, "c": }`), noise(100, 6)),
			scan.Limits{}, []string{lambdaHit},
		},
		{
			"config after a syntax error inside a balanced object",
			h5(attr("aaa_notes", `{"a": tru, "b": `+lambdaModel+`}`), noise(100, 7)),
			scan.Limits{}, []string{lambdaHit},
		},
		{
			"config after a bad escape inside a balanced object",
			h5(attr("aaa_notes", `{"a": "\q{", "b": `+lambdaModel+`}`), noise(100, 8)),
			scan.Limits{}, []string{lambdaHit},
		},
		{
			"mismatched brackets before the config",
			h5(attr("aaa_notes", `{"a": [}]`), attr("model_config", lambdaModel)),
			scan.Limits{}, []string{lambdaHit},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			fs := scanH5(t, tt.data, tt.limits)
			if got := summary(fs); !slices.Equal(got, tt.want) {
				t.Fatalf("findings = %q, want %q", got, tt.want)
			}
			for _, f := range fs {
				if f.Offset < 0 || f.Offset >= int64(len(tt.data)) || tt.data[f.Offset] != '{' {
					t.Errorf("%s offset %d does not point at a JSON object", f.RuleID, f.Offset)
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("scan took %v", d)
			}
		})
	}
}

// TestHDF5SearchLinear checks that the bytes parsed stay within twice the
// file size for inputs built to make a search quadratic.
func TestHDF5SearchLinear(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
	}{
		{"unterminated objects", h5(bytes.Repeat([]byte(`{"a": `), 200_000))},
		{"nested objects failing at the end", h5([]byte(strings.Repeat(`{"a": `, 900) + "1" + strings.Repeat(` ,}`, 900)))},
		{"nested objects failing at the start", h5([]byte(strings.Repeat(`{"a" `, 900) + "1" + strings.Repeat(`}`, 900)))},
		{"quotes of both parities", h5(bytes.Repeat([]byte(`{"{": "{", "{": {"`), 20_000))},
		{"many small objects", h5(bytes.Repeat([]byte(`{"a": {"b": 1}, "c": [{"d": 2}]} `), 50_000))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			size := int64(len(tt.data))
			budget := 2*size + 1
			eng := scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatHDF5: scanFunc(func(ctx context.Context, obj scan.Object, sess *scan.Session) error {
				s := &search{ctx: ctx, r: obj.R, size: obj.Size, limit: sess.Limits().MaxHeaderBytes, sess: sess, budget: budget, bigFrom: -1}
				return s.run()
			})}})
			fs, err := eng.ScanReader(t.Context(), "model.h5", bytes.NewReader(tt.data), size)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range fs {
				if strings.Contains(f.Message, "search read too many") {
					t.Fatalf("parsing read more than %d bytes for a %d-byte file", budget, size)
				}
			}
		})
	}
}

// TestHDF5Budget checks the backstop: a spent budget stops the search with
// a finding.
func TestHDF5Budget(t *testing.T) {
	t.Parallel()
	data := h5(attr("model_config", sequential(dense)), attr("training_config", `{"loss": "mse"}`))
	eng := scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatHDF5: scanFunc(func(ctx context.Context, obj scan.Object, sess *scan.Session) error {
		s := &search{ctx: ctx, r: obj.R, size: obj.Size, limit: sess.Limits().MaxHeaderBytes, sess: sess, budget: int64(len(sequential(dense))), bigFrom: -1}
		return s.run()
	})}})
	fs, err := eng.ScanReader(t.Context(), "model.h5", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(fs); !slices.Equal(got, []string{"KER005 medium "}) || !strings.Contains(fs[0].Message, "search") {
		t.Fatalf("findings = %q, want one KER005 for the search budget", got)
	}
}

// scanFunc adapts a function to scan.Scanner.
type scanFunc func(ctx context.Context, obj scan.Object, sess *scan.Session) error

func (f scanFunc) Rules() []scan.Rule { return allRules }

func (f scanFunc) Scan(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	return f(ctx, obj, sess)
}

func TestHasHDF5Signature(t *testing.T) {
	t.Parallel()
	userBlock := append(make([]byte, 1024), hdf5Signature...)
	tests := []struct {
		name string
		data []byte
		want bool
	}{
		{"at offset 0", h5(), true},
		{"after a 1024-byte user block", userBlock, true},
		{"at an offset the format does not allow", append(make([]byte, 100), hdf5Signature...), false},
		{"none", []byte("{}"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := hasHDF5Signature(bytes.NewReader(tt.data), int64(len(tt.data))); got != tt.want {
				t.Errorf("hasHDF5Signature = %v, want %v", got, tt.want)
			}
		})
	}
}
