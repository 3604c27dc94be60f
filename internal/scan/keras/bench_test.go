package keras

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// largeConfig builds a Functional model of n Dense layers with the
// inbound-node bookkeeping real configs carry, split across nested
// sub-models of 100 layers.
func largeConfig(n int) string {
	var subs []string
	for s := 0; s < n; s += 100 {
		var layers []string
		for i := s; i < min(s+100, n); i++ {
			layers = append(layers, fmt.Sprintf(`{"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense_%d", "trainable": true, `+
				`"dtype": {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": null}, `+
				`"units": 64, "activation": "relu", "use_bias": true, "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", `+
				`"config": {"seed": null}, "registered_name": null}, "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}, "registered_name": null}}, `+
				`"registered_name": null, "build_config": {"input_shape": [null, 64]}, "name": "dense_%d", "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__", `+
				`"config": {"shape": [null, 64], "dtype": "float32", "keras_history": ["dense_%d", 0, 0]}}], "kwargs": {}}]}`, i, i, i-1))
		}
		subs = append(subs, sequential(layers...))
	}
	return `{"module": "keras", "class_name": "Functional", "config": {"name": "big", "layers": [` + strings.Join(subs, ", ") + `]}, "registered_name": null}`
}

func BenchmarkKerasConfig(b *testing.B) {
	cfg := []byte(largeConfig(5000))
	eng := scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatKerasConfig: New()}})
	b.SetBytes(int64(len(cfg)))
	b.ReportAllocs()
	for b.Loop() {
		fs, err := eng.ScanReader(b.Context(), "config.json", bytes.NewReader(cfg), int64(len(cfg)))
		if err != nil || len(fs) != 0 {
			b.Fatalf("ScanReader = %d findings, %v", len(fs), err)
		}
	}
}

func BenchmarkHDF5Search(b *testing.B) {
	// 64 MiB of weights with a config attribute near the start.
	data := h5(attr("model_config", largeConfig(200)), noise(64<<20, 1))
	eng := scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatHDF5: New()}})
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		fs, err := eng.ScanReader(b.Context(), "model.h5", bytes.NewReader(data), int64(len(data)))
		if err != nil || len(fs) != 0 {
			b.Fatalf("ScanReader = %d findings, %v", len(fs), err)
		}
	}
}
