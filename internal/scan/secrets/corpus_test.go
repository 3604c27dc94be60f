package secrets

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// label is one expected or reported finding: file, line and rule, with
// the gitleaks rule for SEC001.
type label struct {
	File string
	Line int
	Rule string
}

func (l label) String() string { return fmt.Sprintf("%s:%d %s", l.File, l.Line, l.Rule) }

// readManifest reads testdata/MANIFEST.
func readManifest(t testing.TB) []label {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "MANIFEST"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []label
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Fields(line)
		if len(parts) != 3 {
			t.Fatalf("MANIFEST line %q: want file line rule", line)
		}
		n, err := strconv.Atoi(parts[1])
		if err != nil {
			t.Fatalf("MANIFEST line %q: %v", line, err)
		}
		out = append(out, label{parts[0], n, parts[2]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// labelOf turns a finding into a label; SEC001 carries its gitleaks rule,
// read from the message.
func labelOf(root string, f scan.Finding) label {
	rel, _ := filepath.Rel(root, f.Path)
	rule := f.RuleID
	if f.RuleID == RuleGitleaks.ID {
		if i := strings.LastIndex(f.Message, "(gitleaks rule "); i >= 0 {
			rule += ":" + strings.TrimSuffix(f.Message[i+len("(gitleaks rule "):], ")")
		}
	}
	return label{filepath.ToSlash(rel), f.Line, rule}
}

// scanCorpus scans testdata/corpus through a real engine.
func scanCorpus(t testing.TB, s *Scanner) []scan.Finding {
	t.Helper()
	eng := scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatText: s, scan.FormatNotebook: s}, Workers: 2})
	res, err := eng.ScanPaths(t.Context(), []string{filepath.Join("testdata", "corpus")})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("scan errors: %v", res.Errors)
	}
	return res.Findings
}

// TestCorpus measures recall and precision against the MANIFEST and
// requires both to be 1: every planted secret found at its line by its
// rule, nothing else reported (look-alikes included).
func TestCorpus(t *testing.T) {
	t.Parallel()
	s := newTestScanner(t, Options{})
	want := readManifest(t)
	var got []label
	for _, f := range scanCorpus(t, s) {
		got = append(got, labelOf(filepath.Join("testdata", "corpus"), f))
	}
	wantSet := map[label]bool{}
	for _, l := range want {
		wantSet[l] = true
	}
	gotSet := map[label]bool{}
	tp := 0
	for _, l := range got {
		if gotSet[l] {
			t.Errorf("duplicate finding %s", l)
			continue
		}
		gotSet[l] = true
		if wantSet[l] {
			tp++
		} else {
			t.Errorf("unexpected finding %s", l)
		}
	}
	for _, l := range want {
		if !gotSet[l] {
			t.Errorf("missed %s", l)
		}
	}
	recall := float64(tp) / float64(len(want))
	precision := float64(tp) / float64(max(1, len(gotSet)))
	t.Logf("corpus: %d expected, %d reported, recall %.3f, precision %.3f", len(want), len(got), recall, precision)
	if recall != 1 || precision != 1 {
		t.Errorf("recall %.3f, precision %.3f; want 1 and 1", recall, precision)
	}
	// Every rule of the scanner but SEC003 (user rules) is exercised.
	seen := map[string]bool{}
	for _, l := range want {
		seen[strings.SplitN(l.Rule, ":", 2)[0]] = true
	}
	for _, r := range s.Rules() {
		if r.ID != RuleCustom.ID && !seen[r.ID] {
			t.Errorf("rule %s has no planted secret in the corpus", r.ID)
		}
	}
}

// TestNoSecretInFindings checks that no field of any finding holds a
// planted secret or a long piece of one.
func TestNoSecretInFindings(t *testing.T) {
	t.Parallel()
	s := newTestScanner(t, Options{})
	fs := scanCorpus(t, s)
	if len(fs) == 0 {
		t.Fatal("no findings")
	}
	for _, f := range fs {
		for _, field := range []string{f.Message, f.Evidence, f.Pointer, f.Remediation, strings.Join(f.Inner, "/")} {
			// Every planted secret holds one of these markers past its
			// first four characters.
			for _, mark := range []string{"FAKE0000", "Zq0000", "AKIAFAKE", "dapi0000", "0000a", "0000b", "0000c", "0000d", "0000e", "0000f"} {
				if strings.Contains(field, mark) {
					t.Errorf("%s:%d %s: field %q reveals the secret", f.Path, f.Line, f.RuleID, field)
				}
			}
		}
		prefix, _, ok := strings.Cut(f.Evidence, "… sha256:")
		if !ok || len(prefix) > 4 {
			t.Errorf("%s:%d evidence %q is not a masked prefix and a fingerprint", f.Path, f.Line, f.Evidence)
		}
	}
}

func newTestScanner(t testing.TB, opts Options) *Scanner {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
