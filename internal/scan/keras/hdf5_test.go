package keras

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

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

func TestHDF5Budget(t *testing.T) {
	t.Parallel()
	// Unclosed objects nested without end: every candidate reads to the
	// end of the file, so the search budget must stop it. The first
	// candidate is also too large; the ones inside it are not reported
	// again.
	data := h5(bytes.Repeat([]byte(`{"a": `), 50_000))
	fs := scanH5(t, data, scan.Limits{MaxHeaderBytes: 64 << 10})
	if got := summary(fs); !slices.Equal(got, []string{"KER005 medium ", "KER005 medium "}) {
		t.Fatalf("findings = %q, want two KER005", got)
	}
	if !strings.Contains(fs[0].Message, "larger than") || !strings.Contains(fs[1].Message, "search") {
		t.Errorf("messages %q, %q: want the size limit, then the search budget", fs[0].Message, fs[1].Message)
	}
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
