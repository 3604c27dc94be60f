package osv

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestManifestGolden pins the on-disk manifest (format version, field
// names, per-ecosystem status) of a database built from testdata/synthetic.
func TestManifestGolden(t *testing.T) {
	t.Parallel()
	dir, _ := importAt(t, filepath.Join("testdata", "synthetic"))
	gen, err := readCurrent(dir)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(gen, manifestFile))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(string(data), mustAbs(t, filepath.Join("testdata", "synthetic")), "SOURCE")
	golden := filepath.Join("testdata", "manifest.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if diff := cmp.Diff(got, string(want)); diff != "" {
		t.Errorf("manifest (-got +want):\n%s", diff)
	}
}
