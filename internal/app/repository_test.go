package app

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/osv"
	"github.com/palisade-sec/palisade/internal/scan"
)

// TestVulnerableLockfiles scans an ML project whose requirements and
// poetry.lock pin vulnerable versions against a database imported from
// real PyPA advisories. The expected IDs were worked out separately, in
// Python with the packaging library, from the same records: every
// advisory whose ranges or versions list covers the pin.
func TestVulnerableLockfiles(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "osv")
	if _, err := osv.Import(t.Context(), "testdata/osv", db); err != nil {
		t.Fatalf("import: %v", err)
	}
	project := t.TempDir()
	files := map[string]string{
		"requirements.txt": "torch==1.13.0+cu117\nmlflow==2.2.0\n",
		"poetry.lock": `[[package]]
name = "jinja2"
version = "2.11.2"
description = "templates"
optional = false
python-versions = ">=3.6"

[[package]]
name = "Pillow"
version = "9.0.0"
description = "images"
optional = false
python-versions = ">=3.7"

[metadata]
lock-version = "2.0"
python-versions = "^3.10"
content-hash = "0000"
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(project, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu       sync.Mutex
		warnings []string
	)
	repo := config.Repository{AdvisoryDB: db, AdvisoryMaxAge: 1 << 62, Warn: func(s string) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, s)
	}}
	eng, startWarnings, err := New().ScanEngine(t.Context(), scan.Options{}, repo)
	if err != nil {
		t.Fatal(err)
	}
	if len(startWarnings) != 0 {
		t.Errorf("warnings before the scan: %q", startWarnings)
	}
	res, err := eng.ScanPaths(t.Context(), []string{project})
	if err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`affected by (PYSEC-\d+-\d+)`)
	got := map[string][]string{}
	for _, f := range res.Findings {
		if f.RuleID != "DEP001" {
			continue
		}
		m := id.FindStringSubmatch(f.Message)
		if m == nil {
			t.Errorf("DEP001 message names no advisory: %q", f.Message)
			continue
		}
		pkg := strings.ToLower(strings.Fields(f.Message)[0]) // as written in the file
		got[pkg] = append(got[pkg], m[1])
	}
	for _, ids := range got {
		slices.Sort(ids)
	}
	want := map[string][]string{
		"torch":  {"PYSEC-2022-43015"},
		"mlflow": {"PYSEC-2023-252", "PYSEC-2023-253", "PYSEC-2023-260", "PYSEC-2023-28", "PYSEC-2023-29", "PYSEC-2023-68", "PYSEC-2023-69", "PYSEC-2024-51"},
		"jinja2": {"PYSEC-2021-66"},
		"pillow": {"PYSEC-2022-168", "PYSEC-2022-42979", "PYSEC-2023-175", "PYSEC-2023-227"},
	}
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("advisories per package (-got +want):\n%s", diff)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings during the scan: %q", warnings)
	}
}
