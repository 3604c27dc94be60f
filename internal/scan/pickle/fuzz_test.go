package pickle

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzPickle runs the scanner and Explain on arbitrary bytes. Neither may
// panic, hang or fail on well-formed reads, whatever the input.
func FuzzPickle(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, path := range files {
		if strings.HasSuffix(path, ".golden") || strings.HasSuffix(path, ".tsv") || strings.HasSuffix(path, "README") {
			continue
		}
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	f.Add(joblibFile(jarray{shape: []int64{2}, desc: "f8", elsize: -1, align: 16, pad: true, data: make([]byte, 16)}))
	f.Add(joblibFile(jarray{shape: []int64{1}, desc: "O8", elsize: -1, data: osSystem}))
	f.Add(newAsm().proto(4).frame(3).str("os").memoize().str("system").stackGlobal().stop().bytes())
	f.Add(newAsm().proto(2).global("pickle", "loads").global("_codecs", "encode").str(string(osSystem)).str("latin1").op(opTuple2).reduce().tuple1().reduce().stop().bytes())
	eng := engine(nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, err := eng.ScanReader(t.Context(), "fuzz.pkl", bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatalf("ScanReader: %v", err)
		}
		if err := Explain(t.Context(), bytes.NewReader(data), int64(len(data)), io.Discard); err != nil {
			t.Fatalf("Explain: %v", err)
		}
	})
}
