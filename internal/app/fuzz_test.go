package app

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/scan"
)

// FuzzScan feeds arbitrary bytes, under every name the sniffer cares
// about, through the fully wired engine: whatever the format mix, a scan
// must finish without a panic and report findings that name a rule the
// engine declares.
func FuzzScan(f *testing.F) {
	for _, dir := range []string{"models", "real"} {
		entries, err := os.ReadDir(filepath.Join("testdata", dir))
		if err != nil {
			f.Fatal(err)
		}
		for _, e := range entries {
			if e.IsDir() || e.Name() == "MANIFEST.tsv" {
				continue
			}
			data, err := os.ReadFile(filepath.Join("testdata", dir, e.Name()))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(e.Name(), data)
		}
	}
	eng, _, err := New().ScanEngine(f.Context(), scan.Options{Limits: scan.Limits{MaxExpandedBytes: 64 << 20, MaxEntries: 1000}, TempDir: f.TempDir()},
		config.Repository{AdvisoryDB: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	known := map[string]bool{}
	for _, r := range eng.Rules() {
		known[r.ID] = true
	}
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		findings, err := eng.ScanReader(t.Context(), name, bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("ScanReader: %v", err)
		}
		for _, fd := range findings {
			if !known[fd.RuleID] {
				t.Errorf("finding with undeclared rule %q: %+v", fd.RuleID, fd)
			}
		}
	})
}
