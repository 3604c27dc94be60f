package pickle

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files")

// TestExplainGolden compares Explain's listing of fixtures with
// testdata/<fixture>.golden; run go test -update to rewrite them.
func TestExplainGolden(t *testing.T) {
	t.Parallel()
	fixtures := []string{
		"mal_os_system_p2_global.pkl",
		"mal_posix_system_p0_global.pkl",
		"mal_getattr_import_chain_p2.pkl",
		"mal_nested_pickle_loads_p3.pkl",
		"mal_truncated_after_payload.pkl",
		"mal_stacked_benign_then_malicious.pkl",
		"mal_polyglot_pickle_then_zip.pkl",
		"mal_ext1_extension_registry.pkl",
		"mal_memo_confusion_p4.pkl",
		"benign_sklearn_like.joblib",
		"benign_pytorch_legacy.pt",
		"benign_dict_p0.pkl",
	}
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := Explain(t.Context(), bytes.NewReader(data), int64(len(data)), &got); err != nil {
				t.Fatalf("Explain: %v", err)
			}
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden file (run go test -update): %v", err)
			}
			if got.String() != string(want) {
				t.Errorf("Explain(%s) =\n%s\nwant\n%s", name, got.String(), want)
			}
		})
	}
}

// TestExplain checks listings of streams built in the test.
func TestExplain(t *testing.T) {
	t.Parallel()
	inner := newAsm().proto(2).call("os", "system", "id").stop().bytes()
	tests := []struct {
		name string
		data []byte
		want []string // lines that must appear, in order
	}{
		{"system call", inner, []string{"# pickle 1 at offset 0, protocol 2", "from os import system", "_var0 = system('id')", "result = _var0"}},
		{"name clash", newAsm().proto(2).mark().global("a", "f").global("b", "f").tuple().stop().bytes(),
			[]string{"from a import f", "from b import f as f_1", "result = (f, f_1)"}},
		{"dotted name", newAsm().proto(4).str("gzip").str("os.system").stackGlobal().stop().bytes(),
			[]string{"from gzip import os", "result = os.system"}},
		{"odd name", newAsm().proto(4).str("a b").str("c").stackGlobal().stop().bytes(),
			[]string{"_var0 = find_class('a b', 'c')", "result = _var0"}},
		{"base64 nested payload", newAsm().proto(2).global("pickle", "loads").global("base64", "b64decode").
			str("gAJjb3MKc3lzdGVtClgCAAAAaWSFUi4=").tuple1().reduce().tuple1().reduce().stop().bytes(),
			[]string{"_var1 = loads(_var0)", "# the 23-byte argument of pickle.loads, after base64 decoding, which it deserializes:", "#   from os import system", "#   _var0 = system('id')"}},
		{"mutation of a call result", newAsm().proto(2).global("m", "C").emptyTuple().reduce().str("k").int(1).op(opSetItem).int(2).op(opAppend).stop().bytes(),
			[]string{"_var0 = C()", "_var0['k'] = 1", "_var0.append(2)", "result = _var0"}},
		{"empty input", nil, []string{"# empty input: no pickle"}},
		{"not a pickle", []byte("hello"), []string{"# the stream breaks at offset 0: Memo value not found at index 101"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := Explain(t.Context(), bytes.NewReader(tt.data), int64(len(tt.data)), &b); err != nil {
				t.Fatalf("Explain: %v", err)
			}
			got := b.String()
			rest := got
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("listing lacks %q (in order):\n%s", w, got)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}
