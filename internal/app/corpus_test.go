package app

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/scan"
)

// manifestEntry is one line of a corpus MANIFEST.tsv.
type manifestEntry struct {
	file     string
	unsafe   bool
	severity scan.Severity // unsafe: expected; safe: highest allowed
	what     string
}

func readManifest(t *testing.T, path string, verdictCol, severityCol int) []manifestEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []manifestEntry
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) <= severityCol {
			continue
		}
		sev, err := scan.ParseSeverity(cols[severityCol])
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, manifestEntry{file: cols[0], unsafe: cols[verdictCol] == "unsafe", severity: sev, what: cols[len(cols)-1]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func maxSeverity(fs []scan.Finding) scan.Severity {
	m := scan.SeverityNone
	for _, f := range fs {
		m = max(m, f.Severity)
	}
	return m
}

func describe(fs []scan.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("\n    " + f.Severity.String() + " " + f.RuleID + " " + f.Where() + " " + f.Location() + ": " + f.Message + " [" + f.Evidence + "]")
	}
	return b.String()
}

// checkCorpus scans every manifest entry through the fully wired engine.
// Unsafe files must reach exactly the expected severity (a higher one
// would also be wrong: it means a rule is miscalibrated); safe files must
// stay at or below the allowed severity.
func checkCorpus(t *testing.T, dir string, entries []manifestEntry) {
	t.Helper()
	if len(entries) < 20 {
		t.Fatalf("%s: only %d manifest entries", dir, len(entries))
	}
	eng, _, err := New().ScanEngine(t.Context(), scan.Options{TempDir: t.TempDir()}, config.Repository{AdvisoryDB: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Run(e.file, func(t *testing.T) {
			t.Parallel()
			res, err := eng.ScanPaths(t.Context(), []string{filepath.Join(dir, e.file)})
			if err != nil {
				t.Fatalf("ScanPaths: %v", err)
			}
			if len(res.Errors) > 0 {
				t.Fatalf("read errors: %v", res.Errors)
			}
			got := maxSeverity(res.Findings)
			switch {
			case e.unsafe && got != e.severity:
				t.Errorf("%s (%s): highest severity %s, want %s; findings:%s", e.file, e.what, got, e.severity, describe(res.Findings))
			case !e.unsafe && got > e.severity:
				t.Errorf("%s (%s) is safe: highest severity %s, allowed %s; findings:%s", e.file, e.what, got, e.severity, describe(res.Findings))
			}
		})
	}
}

func TestSharedCorpus(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "models")
	entries := readManifest(t, filepath.Join(dir, "MANIFEST.tsv"), 2, 3)
	// Benign files of the shared corpus may carry low "review" findings at
	// most: the manifest's "none" means nothing worth failing a build on.
	for i := range entries {
		if !entries[i].unsafe {
			entries[i].severity = scan.SeverityLow
		}
	}
	checkCorpus(t, dir, entries)
}

func TestRealSerializerCorpus(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "real")
	checkCorpus(t, dir, readManifest(t, filepath.Join(dir, "MANIFEST.tsv"), 1, 2))
}

// TestEvasionCorpus holds the scanner to the misses and false positives an
// adversarial review found: each sample once passed the default gate (or,
// for the fp_ files, once failed it).
func TestEvasionCorpus(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "evasions")
	checkCorpus(t, dir, readManifest(t, filepath.Join(dir, "MANIFEST.tsv"), 1, 2))
}
