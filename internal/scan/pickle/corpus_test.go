package pickle

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// corpusEntry is one line of testdata/MANIFEST.tsv (a copy of the shared
// corpus manifest).
type corpusEntry struct {
	file, format, verdict string
	severity              scan.Severity
	construct             string
}

func readManifest(t *testing.T) map[string]corpusEntry {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "MANIFEST.tsv"))
	if err != nil {
		t.Fatalf("open manifest: %v", err)
	}
	defer f.Close()
	out := map[string]corpusEntry{}
	sc := bufio.NewScanner(f)
	for first := true; sc.Scan(); first = false {
		if first {
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 5 {
			continue
		}
		sev, err := scan.ParseSeverity(cols[3])
		if err != nil {
			t.Fatalf("manifest line %q: %v", sc.Text(), err)
		}
		out[cols[0]] = corpusEntry{file: cols[0], format: cols[1], verdict: cols[2], severity: sev, construct: cols[4]}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read manifest: %v", err)
	}
	return out
}

// TestCorpus scans every pickle-family file of the shared corpus and holds
// it to the manifest: unsafe files at exactly the expected severity, safe
// files with nothing above low.
func TestCorpus(t *testing.T) {
	t.Parallel()
	manifest := readManifest(t)
	files, err := filepath.Glob(filepath.Join("testdata", "*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, path := range files {
		name := filepath.Base(path)
		e, ok := manifest[name]
		if !ok {
			continue
		}
		n++
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			fs := scanBytes(t, nil, name, data)
			got := maxSeverity(fs)
			switch e.verdict {
			case "safe":
				if got > scan.SeverityLow {
					t.Errorf("safe file (%s) has a %s finding:%s", e.construct, got, dump(fs))
				}
			default:
				if got != e.severity {
					t.Errorf("unsafe file (%s): max severity %s, want %s:%s", e.construct, got, e.severity, dump(fs))
				}
			}
		})
	}
	if n < 38 {
		t.Errorf("only %d corpus files found in testdata", n)
	}
}

// TestCorpusDetails pins what the scanner must say about the files whose
// evasion is subtle.
func TestCorpusDetails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file  string
		wants []want
	}{
		{"mal_nested_pickle_loads_p3.pkl", []want{
			{"PKL002", crit, "pickle.loads(b'\\x80\\x02cos\\nsystem", ""},
			{"PKL002", crit, "os.system('echo palisade-test')", "pickle.loads argument"}}},
		{"mal_truncated_after_payload.pkl", []want{
			{"PKL001", crit, "os.system", ""}, {"PKL002", crit, "os.system('echo palisade-test')", ""}, {"PKL007", med, "", ""}}},
		{"mal_memo_confusion_p4.pkl", []want{{"PKL001", crit, "os.system", ""}, {"PKL002", crit, "os.system('echo palisade-test')", ""}}},
		{"mal_ext1_extension_registry.pkl", []want{{"PKL005", med, "EXT1 1", ""}, {"PKL012", med, "", ""}}},
		{"mal_polyglot_pickle_then_zip.pkl", []want{
			{"PKL001", crit, "os.system", ""}, {"PKL002", crit, "", ""}, {"PKL008", med, "zip", ""}}},
		{"mal_operator_methodcaller_p2.pkl", []want{
			{"PKL001", crit, "operator.methodcaller", ""}, {"PKL001", crit, "builtins.__import__", ""},
			{"PKL002", crit, "os.system('echo palisade-test')  <- operator.methodcaller", ""}}},
		{"mal_functools_partial_p2.pkl", []want{{"PKL002", crit, "os.system('echo palisade-test')  <- functools.partial", ""}}},
		{"mal_getattr_import_chain_p2.pkl", []want{{"PKL002", crit, "os.system('echo palisade-test')  <- builtins.getattr", ""}}},
		{"mal_pytorch_legacy_os_system.pt", []want{{"PKL001", crit, "os.system", ""}, {"PKL002", crit, "", ""}}},
		{"benign_pytorch_legacy.pt", nil},
		{"benign_sklearn_like.joblib", nil},
		{"benign_stacked_two_pickles.pkl", nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			checkFindings(t, scanBytes(t, nil, tt.file, data), tt.wants)
		})
	}
}
