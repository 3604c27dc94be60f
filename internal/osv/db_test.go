package osv

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var fixedNow = time.Date(2099, 6, 1, 12, 0, 0, 0, time.UTC)

// importAt builds a database from src into a new temporary directory.
func importAt(t testing.TB, src string) (string, ImportStats) {
	t.Helper()
	dir := t.TempDir()
	im := Importer{Now: func() time.Time { return fixedNow }}
	st, err := im.Import(context.Background(), src, dir)
	if err != nil {
		t.Fatalf("Import(%s): %v", src, err)
	}
	return dir, st
}

var (
	testDBOnce sync.Once
	testDBDir  string
	testDBErr  error
)

// testDB opens one shared database of everything in testdata/ (the PyPA
// subset and the synthetic records), built once per test binary.
func testDB(t *testing.T) *DB {
	t.Helper()
	testDBOnce.Do(func() {
		dir, err := os.MkdirTemp("", "osv-testdb-")
		if err != nil {
			testDBErr = err
			return
		}
		testDBDir = dir
		im := Importer{Now: func() time.Time { return fixedNow }}
		_, testDBErr = im.Import(context.Background(), "testdata", dir)
	})
	if testDBErr != nil {
		t.Fatalf("build test database: %v", testDBErr)
	}
	db, err := Open(testDBDir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func TestMain(m *testing.M) {
	code := m.Run()
	if testDBDir != "" {
		os.RemoveAll(testDBDir)
	}
	os.Exit(code)
}

func ids(vs []Vuln) []string {
	out := []string{}
	for _, v := range vs {
		out = append(out, v.ID)
	}
	return out
}

func TestImportStats(t *testing.T) {
	t.Parallel()
	_, st := importAt(t, "testdata")
	st.Duration = 0
	st.Errors = nil // messages come from encoding/json
	want := ImportStats{
		Source:      mustAbs(t, "testdata"),
		Documents:   369,                                      // 359 PyPA + 10 synthetic .json files
		Advisories:  map[string]int{Go: 2, Npm: 1, PyPI: 358}, // PyPI: 359 - 3 withdrawn - steam + 3 synthetic
		Packages:    map[string]int{Go: 1, Npm: 1, PyPI: 23},
		Withdrawn:   4,
		Invalid:     3,
		Unsupported: map[string]int{"Maven": 1},
		GitRanges:   st.GitRanges,
		Unusable:    1, // steam: fixed "2019-09-12" is not a PEP 440 version
		Legacy:      st.Legacy,
	}
	if diff := cmp.Diff(st, want); diff != "" {
		t.Errorf("stats (-got +want):\n%s", diff)
	}
	if st.GitRanges == 0 || st.Legacy == 0 {
		t.Errorf("GitRanges = %d, Legacy = %d; the PyPA subset has both", st.GitRanges, st.Legacy)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestSpecCases covers the matching rules of the dependency-scanning spec
// against the real PyPA records in testdata/pypa.
func TestSpecCases(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	tests := []struct {
		name, pkg, version string
		want               []string
	}{
		{"reopened range: fixed in 7.16.3", "ipython", "7.16.3", []string{"PYSEC-2023-17"}},
		{"reopened range: affected again 7.17.0-7.31.0", "ipython", "7.31.0", []string{"PYSEC-2022-12", "PYSEC-2023-17"}},
		{"reopened range: 7.17.0", "ipython", "7.17.0", []string{"PYSEC-2022-12", "PYSEC-2023-17"}},
		{"reopened range: fixed 7.31.1", "ipython", "7.31.1", []string{"PYSEC-2023-17"}},
		{"reopened range: 8.0.0 affected", "ipython", "8.0.0", []string{"PYSEC-2022-12", "PYSEC-2023-17"}},
		{"reopened range: 8.0.1 fixed", "ipython", "8.0.1", []string{"PYSEC-2023-17"}},
		{"reopened range: 6.0.0rc1 is a fix", "ipython", "6.0.0rc1", []string{"PYSEC-2023-17"}},
		{"last_affected inclusive", "py", "1.11.0", []string{"PYSEC-2022-42969"}},
		{"last_affected: above", "py", "1.11.1", nil},
		{"introduced 0 only: any version", "paddlepaddle", "2.6.0", []string{"PYSEC-2022-43063"}},
		{"introduced 0 only: huge version", "paddlepaddle", "9999!1.0", []string{"PYSEC-2022-43063"}},
		{"withdrawn ignored", "aiohttp", "3.8.1", nil},
		{"local version inside range", "torch", "1.13.0+cu117", []string{"PYSEC-2022-43015"}},
		{"local version rocm", "torch", "1.13.0+rocm5.2", []string{"PYSEC-2022-43015"}},
		{"fixed is exclusive", "torch", "1.13.1", nil},
		{"pre-release above pre-release fix", "nbconvert", "6.3.0b1", nil},
		{"below pre-release fix", "nbconvert", "6.2.0", []string{"PYSEC-2022-249"}},
		{"dev-release fix bound", "scikit-learn", "0.24.dev0", nil},
		{"below dev-release fix bound", "scikit-learn", "0.23.2", []string{"PYSEC-2020-108"}},
		{"name normalisation: Pillow", "Pillow", "9.0.0", []string{"PYSEC-2022-168", "PYSEC-2022-42979", "PYSEC-2023-175", "PYSEC-2023-227"}},
		{"name normalisation: jupyter_server", "jupyter_server", "1.15.0", []string{"PYSEC-2022-179", "PYSEC-2022-211", "PYSEC-2023-155", "PYSEC-2023-157"}},
		{"name normalisation: PyYAML", "PyYAML", "5.3.1", []string{"PYSEC-2021-142"}},
		{"dotted advisory name", "JW_Util", "1.0", []string{"PYSEC-2020-341"}},
		{"per-variant ID: tensorflow-cpu", "tensorflow-cpu", "2.3.0", []string{"PYSEC-2021-591"}},
		{"per-variant ID: tensorflow-gpu", "tensorflow_gpu", "2.4.0", []string{"PYSEC-2021-789"}},
		{"union: listed outside the range", "gevent", "23.9.0", []string{"PYSEC-2023-177"}},
		{"union: listed post-release", "gevent", "23.9.0.post1", []string{"PYSEC-2023-177"}},
		{"union: not listed, above fix", "gevent", "23.9.1", nil},
		{"versions-only advisory", "gratient", "0.5", []string{"PYSEC-2024-1"}},
		{"versions-only: equal spelling", "gratient", "0.5.0", []string{"PYSEC-2024-1"}},
		{"versions-only: other version", "gratient", "0.6", nil},
		{"union: listed pre-releases", "django", "4.2b1", []string{"PYSEC-2023-61"}},
		{"unknown package", "no-such-package", "1.0", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vs, err := db.Query(PyPI, tt.pkg, tt.version)
			if err != nil {
				t.Fatalf("Query(%s %s): %v", tt.pkg, tt.version, err)
			}
			got := ids(vs)
			if diff := cmp.Diff(got, append([]string{}, tt.want...)); diff != "" {
				t.Errorf("Query(%s %s) IDs (-got +want):\n%s", tt.pkg, tt.version, diff)
			}
		})
	}
}

// TestTensorflowPrerelease: PYSEC-2021-189 has pre-release fixed bounds
// and several pairs.
func TestTensorflowPrerelease(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	for v, want := range map[string]bool{"2.2.0rc2": false, "2.2.0": true, "2.3.0rc0": false, "2.3.3": true, "2.3.4": false, "2.4.2": true, "2.4.3": false} {
		vs, err := db.Query(PyPI, "tensorflow", v)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Contains(ids(vs), "PYSEC-2021-189"); got != want {
			t.Errorf("tensorflow %s affected by PYSEC-2021-189 = %v, want %v", v, got, want)
		}
	}
}

// TestMLLockfile matches a realistic ML lockfile. The expected IDs were
// derived independently of this package: for each pin, the advisories of
// testdata/pypa whose enumerated versions list contains the exact pin.
func TestMLLockfile(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	tf := []string{}
	for _, n := range []int{389, 390, 391, 392, 393, 394, 395, 396, 397, 398, 399, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415, 416, 417, 418, 419, 420, 842, 843} {
		tf = append(tf, fmt.Sprintf("PYSEC-2021-%d", n))
	}
	lock := []struct {
		name, version string
		want          []string
	}{
		{"torch", "1.13.0", []string{"PYSEC-2022-43015"}},
		{"transformers", "4.30.0", nil}, // GHSA-only advisories: not in this snapshot
		{"mlflow", "2.1.1", []string{"PYSEC-2023-252", "PYSEC-2023-253", "PYSEC-2023-260", "PYSEC-2023-28", "PYSEC-2023-29", "PYSEC-2023-68", "PYSEC-2023-69", "PYSEC-2024-51"}},
		{"tensorflow", "2.6.0", tf},
		{"Pillow", "9.0.0", []string{"PYSEC-2022-168", "PYSEC-2022-42979", "PYSEC-2023-175", "PYSEC-2023-227"}},
		{"Jinja2", "2.11.2", []string{"PYSEC-2021-66"}},
		{"numpy", "1.16.0", []string{"PYSEC-2019-108", "PYSEC-2021-856", "PYSEC-2021-857"}},
		{"PyYAML", "5.3.1", []string{"PYSEC-2021-142"}},
		{"numpy", "1.21.0", nil},
	}
	pkgs := make([]PackageVersion, len(lock))
	for i, l := range lock {
		pkgs[i] = PackageVersion{Ecosystem: "pypi", Name: l.name, Version: l.version}
	}
	res, err := db.QueryMany(t.Context(), pkgs)
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range lock {
		if res[i].Err != nil {
			t.Errorf("%s %s: %v", l.name, l.version, res[i].Err)
			continue
		}
		got := ids(res[i].Vulns)
		want := append([]string{}, l.want...)
		slices.Sort(want)
		if diff := cmp.Diff(got, want); diff != "" {
			t.Errorf("%s %s (-got +want):\n%s", l.name, l.version, diff)
		}
	}
}

// TestEnumeratedVersionsCovered: every parseable version that a PyPA
// record lists reports that record (the import drops enumerated versions
// its ranges cover, so this checks the range logic against PyPA's own
// enumeration).
func TestEnumeratedVersionsCovered(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	files, err := filepath.Glob(filepath.Join("testdata", "pypa", "PyPI", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no PyPA fixtures: %v", err)
	}
	type pin struct{ name, version string }
	listedBy := map[pin][]string{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := DecodeRecord(data, 0)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if rec.IsWithdrawn() || rec.ID == "PYSEC-2019-125" { // steam: unusable range, no versions
			continue
		}
		for _, a := range rec.Affected {
			for _, v := range a.Versions {
				p := pin{NormalizeName(PyPI, a.Package.Name), v}
				listedBy[p] = append(listedBy[p], rec.ID)
			}
		}
	}
	checked := 0
	for p, want := range listedBy {
		vs, err := db.Query(PyPI, p.name, p.version)
		if errors.Is(err, ErrInvalidVersion) {
			continue // legacy version string
		}
		if err != nil {
			t.Fatalf("%s %s: %v", p.name, p.version, err)
		}
		for _, id := range want {
			checked++
			if !slices.ContainsFunc(vs, func(x Vuln) bool { return x.ID == id || slices.Contains(x.Aliases, id) }) {
				t.Errorf("%s %s: %s lists it but Query returns %v", p.name, p.version, id, ids(vs))
			}
		}
	}
	if checked < 10000 {
		t.Errorf("checked only %d listed versions", checked)
	}
}

// TestAliasMerge: PYSEC-2099-1 and its GitHub copy share CVE-2099-3001
// and become one Vuln under the PYSEC ID; the unrelated GHSA stays apart;
// the withdrawn PYSEC-2099-2 never appears.
func TestAliasMerge(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	vs, err := db.Query(PyPI, "fake.demo_pkg", "1.2")
	if err != nil {
		t.Fatal(err)
	}
	want := []Vuln{
		{
			ID:       "GHSA-0000-py00-0002",
			Aliases:  []string{"CVE-2099-3002"},
			Summary:  "An unrelated second vulnerability",
			Modified: time.Date(2099, 3, 2, 0, 0, 0, 0, time.UTC),
		},
		{
			ID:       "PYSEC-2099-1",
			Aliases:  []string{"CVE-2099-3001", "GHSA-0000-py00-0001"},
			Summary:  "A synthetic PyPI advisory.",
			Modified: time.Date(2099, 3, 5, 0, 0, 0, 0, time.UTC),
			Severity: []Severity{
				{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:L/I:L/A:N"},
				{Type: "CVSS_V3", Score: "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"},
			},
			Level:   LevelCritical,
			Score:   10,
			FixedIn: "1.5.1", // both must be fixed: the later of 1.5.0 and 1.5.1
			Fixed:   []string{"1.5.0", "1.5.1"},
			References: []Reference{
				{Type: "WEB", URL: "https://example.invalid/PYSEC-2099-1"},
				{Type: "ADVISORY", URL: "https://example.invalid/GHSA-0000-py00-0001"},
			},
		},
	}
	if diff := cmp.Diff(vs, want); diff != "" {
		t.Errorf("Query (-got +want):\n%s", diff)
	}
	// Above 1.2 the last_affected advisory no longer applies; 1.5.0 is
	// fixed for PYSEC-2099-1 but not for its GitHub copy.
	vs, err = db.Query(PyPI, "fake-demo-pkg", "1.5.0")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ids(vs), []string{"GHSA-0000-py00-0001"}); diff != "" {
		t.Errorf("1.5.0 (-got +want):\n%s", diff)
	}
}

func TestFixedSuggestion(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	tests := []struct {
		pkg, version, id, fixedIn string
	}{
		{"ipython", "7.20.0", "PYSEC-2022-12", "7.31.1"},
		{"ipython", "5.0.0", "PYSEC-2022-12", "6.0.0rc1"},
		{"tensorflow", "2.3.1", "PYSEC-2021-189", "2.3.4"},
		{"torch", "1.13.0+cu117", "PYSEC-2022-43015", "1.13.1"},
		{"py", "1.0.0", "PYSEC-2022-42969", ""},
		{"paddlepaddle", "2.6.0", "PYSEC-2022-43063", ""},
	}
	for _, tt := range tests {
		vs, err := db.Query(PyPI, tt.pkg, tt.version)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(vs, func(v Vuln) bool { return v.ID == tt.id })
		if i < 0 {
			t.Errorf("%s %s: %s not reported", tt.pkg, tt.version, tt.id)
			continue
		}
		if vs[i].FixedIn != tt.fixedIn {
			t.Errorf("%s %s: %s FixedIn = %q, want %q (all fixes %v)", tt.pkg, tt.version, tt.id, vs[i].FixedIn, tt.fixedIn, vs[i].Fixed)
		}
	}
	vs, _ := db.Query(PyPI, "ipython", "7.20.0")
	i := slices.IndexFunc(vs, func(v Vuln) bool { return v.ID == "PYSEC-2022-12" })
	if diff := cmp.Diff(vs[i].Fixed, []string{"6.0.0rc1", "7.16.3", "7.31.1", "8.0.1"}); diff != "" {
		t.Errorf("ipython fixes (-got +want):\n%s", diff)
	}
	if !strings.HasPrefix(vs[i].Summary, "IPython (Interactive Python) is a command shell") || len(vs[i].Aliases) == 0 {
		t.Errorf("PYSEC-2022-12 summary %q, aliases %v", vs[i].Summary, vs[i].Aliases)
	}
}

func TestGoAndNpm(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	tests := []struct {
		eco, name, version string
		want               []string
		fixedIn            string
	}{
		{Go, "example.com/fake/mod", "v1.2.2", []string{"GO-2099-0001"}, "1.2.3"},
		{Go, "example.com/fake/mod", "v0.0.0-20190101000000-aaaaaaaaaaaa", []string{"GO-2099-0001"}, "1.2.3"},
		{Go, "example.com/fake/mod", "v1.2.3", nil, ""},
		{Go, "example.com/fake/mod", "v2.0.0+incompatible", []string{"GO-2099-0001"}, "2.0.1"},
		{Go, "example.com/fake/mod", "v2.0.1", nil, ""},
		{Go, "Example.com/fake/mod", "v1.0.0", nil, ""}, // Go module paths are case-sensitive
		{Npm, "@fake/left-pad", "1.0.0-beta.1", nil, ""},
		{Npm, "@fake/left-pad", "1.0.0-beta.2", []string{"GHSA-0000-npm0-0001"}, "1.3.0-rc.1"},
		{Npm, "@fake/left-pad", "1.3.0-beta", []string{"GHSA-0000-npm0-0001"}, "1.3.0-rc.1"},
		{Npm, "@fake/left-pad", "1.3.0-rc.1", nil, ""},
		{Npm, "@fake/left-pad", "0.9.0", []string{"GHSA-0000-npm0-0001"}, "1.3.0-rc.1"},
	}
	for _, tt := range tests {
		vs, err := db.Query(tt.eco, tt.name, tt.version)
		if err != nil {
			t.Errorf("%s %s %s: %v", tt.eco, tt.name, tt.version, err)
			continue
		}
		if diff := cmp.Diff(ids(vs), append([]string{}, tt.want...)); diff != "" {
			t.Errorf("%s %s %s (-got +want):\n%s", tt.eco, tt.name, tt.version, diff)
		}
		if len(vs) == 1 && vs[0].FixedIn != tt.fixedIn {
			t.Errorf("%s %s %s: FixedIn %q, want %q", tt.eco, tt.name, tt.version, vs[0].FixedIn, tt.fixedIn)
		}
	}
	// The Go advisory and its GitHub copy are one vulnerability.
	vs, _ := db.Query("go", "example.com/fake/mod", "v1.0.0")
	if len(vs) != 1 || !slices.Equal(vs[0].Aliases, []string{"CVE-2099-1001", "GHSA-0000-go00-0001"}) || vs[0].Level != LevelHigh {
		t.Errorf("merged Go vuln = %+v", vs)
	}
	vs, _ = db.Query(Npm, "@fake/left-pad", "1.1.0")
	if len(vs) != 1 || vs[0].Level != LevelCritical || vs[0].Score != 9.8 {
		t.Errorf("npm vuln level/score = %+v", vs)
	}
}

func TestQueryErrors(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	_, err := db.Query("Maven", "org.example:fake", "1.0")
	if !errors.Is(err, ErrUnsupportedEcosystem) {
		t.Errorf("Maven: %v, want ErrUnsupportedEcosystem", err)
	}
	_, err = db.Query(PyPI, "torch", "not.a.version!")
	var ve *VersionError
	if !errors.Is(err, ErrInvalidVersion) || !errors.As(err, &ve) || ve.Name != "torch" {
		t.Errorf("invalid version: %v, want a *VersionError", err)
	}
	// A name with no advisory does not need a valid version.
	if vs, err := db.Query(PyPI, "unknown-package", "whatever"); err != nil || vs != nil {
		t.Errorf("unknown package: %v, %v", vs, err)
	}
	// An ecosystem missing from the database is an error, not "no findings".
	dir, _ := importAt(t, filepath.Join("testdata", "pypa"))
	pyOnly, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = pyOnly.Query(Npm, "left-pad", "1.0.0")
	if !errors.Is(err, ErrNoEcosystem) || !strings.Contains(err.Error(), "palisade db import npm/all.zip") {
		t.Errorf("missing ecosystem: %v", err)
	}
	res, err := pyOnly.QueryMany(t.Context(), []PackageVersion{{PyPI, "torch", "1.13.0"}, {Npm, "x", "1.0.0"}, {PyPI, "torch", "bad!"}})
	if err != nil || res[0].Err != nil || len(res[0].Vulns) != 1 || !errors.Is(res[1].Err, ErrNoEcosystem) || !errors.Is(res[2].Err, ErrInvalidVersion) {
		t.Errorf("QueryMany = %+v, %v", res, err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := pyOnly.QueryMany(ctx, []PackageVersion{{PyPI, "torch", "1.13.0"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("QueryMany with cancelled context: %v", err)
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	db := testDB(t)
	src := mustAbs(t, "testdata")
	newestPyPI := time.Date(2099, 3, 5, 0, 0, 0, 0, time.UTC)
	want := Status{
		Dir:    testDBDir,
		Format: FormatVersion,
		Ecosystems: []EcosystemStatus{
			{Name: Go, Advisories: 2, Packages: 1, Newest: time.Date(2099, 1, 3, 0, 0, 0, 0, time.UTC), Imported: fixedNow, Source: src},
			{Name: PyPI, Advisories: 358, Packages: 23, Withdrawn: 4, Newest: newestPyPI, Imported: fixedNow, Source: src},
			{Name: Npm, Advisories: 1, Packages: 1, Newest: time.Date(2099, 2, 1, 0, 0, 0, 0, time.UTC), Imported: fixedNow, Source: src},
		},
		Newest:   newestPyPI,
		Imported: fixedNow,
	}
	if diff := cmp.Diff(db.Status(), want); diff != "" {
		t.Errorf("Status (-got +want):\n%s", diff)
	}
	if db.Status().OlderThan(newestPyPI.Add(24*time.Hour), 48*time.Hour) || !db.Status().OlderThan(newestPyPI.Add(72*time.Hour), 48*time.Hour) {
		t.Error("OlderThan wrong")
	}
}

// writeZip packs the .json files under dir into an all.zip-style archive
// (flat entry names) at path.
func writeZip(t testing.TB, dir, path string, extra map[string][]byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		w, err := zw.Create(filepath.Base(p))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range extra {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestImportZip(t *testing.T) {
	t.Parallel()
	zipPath := filepath.Join(t.TempDir(), "all.zip")
	writeZip(t, filepath.Join("testdata", "pypa", "PyPI"), zipPath, nil)
	zdir, zst := importAt(t, zipPath)
	ddir, dst := importAt(t, filepath.Join("testdata", "pypa", "PyPI"))
	if zst.Documents != dst.Documents || !cmp.Equal(zst.Advisories, dst.Advisories) || zst.Documents != 359 {
		t.Errorf("zip import %+v differs from directory import %+v", zst, dst)
	}
	zdb, err := Open(zdir)
	if err != nil {
		t.Fatal(err)
	}
	ddb, err := Open(ddir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][2]string{{"ipython", "7.31.0"}, {"tensorflow", "2.4.0"}, {"pillow", "8.0.0"}} {
		a, err1 := zdb.Query(PyPI, p[0], p[1])
		b, err2 := ddb.Query(PyPI, p[0], p[1])
		if err1 != nil || err2 != nil || len(a) == 0 {
			t.Fatalf("%v: %v, %v, %d vulns", p, err1, err2, len(a))
		}
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("%v: zip and directory databases differ (-zip +dir):\n%s", p, diff)
		}
	}
	// A zip whose extension is missing is recognised by its magic.
	noExt := filepath.Join(t.TempDir(), "export")
	writeZip(t, filepath.Join("testdata", "synthetic"), noExt, nil)
	if _, st := importAt(t, noExt); st.Advisories[Go] != 2 {
		t.Errorf("zip without extension: %+v", st)
	}
	// One JSON file is a source too.
	if _, st := importAt(t, filepath.Join("testdata", "synthetic", "GO-2099-0001.json")); st.Advisories[Go] != 1 {
		t.Errorf("single file: %+v", st)
	}
}

func TestImportLimits(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	// A highly compressible entry trips the ratio limit.
	bomb := filepath.Join(tmp, "bomb.zip")
	writeZip(t, filepath.Join("testdata", "synthetic"), bomb, map[string][]byte{"big.json": []byte(`{"id":"X","details":"` + strings.Repeat("A", 4<<20) + `"}`)})
	_, err := Import(t.Context(), bomb, filepath.Join(tmp, "db1"))
	if !errors.Is(err, ErrLimit) {
		t.Errorf("ratio: %v, want ErrLimit", err)
	}
	// Too many documents.
	im := Importer{Limits: Limits{MaxRecords: 3}}
	if _, err := im.Import(t.Context(), filepath.Join("testdata", "synthetic"), filepath.Join(tmp, "db2")); !errors.Is(err, ErrLimit) {
		t.Errorf("record count: %v, want ErrLimit", err)
	}
	im = Importer{Limits: Limits{MaxRecords: 3}}
	if _, err := im.Import(t.Context(), bomb, filepath.Join(tmp, "db3")); !errors.Is(err, ErrLimit) {
		t.Errorf("zip entry count: %v, want ErrLimit", err)
	}
	// Total size.
	im = Importer{Limits: Limits{MaxTotalBytes: 2000}}
	if _, err := im.Import(t.Context(), filepath.Join("testdata", "synthetic"), filepath.Join(tmp, "db4")); !errors.Is(err, ErrLimit) {
		t.Errorf("total size: %v, want ErrLimit", err)
	}
	// An oversized record is skipped and counted, not fatal.
	im = Importer{Limits: Limits{MaxRecordBytes: 600}}
	st, err := im.Import(t.Context(), filepath.Join("testdata", "synthetic"), filepath.Join(tmp, "db5"))
	if err != nil || st.Invalid <= 3 {
		t.Errorf("record size: %+v, %v", st, err)
	}
	// A cancelled import writes nothing.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Import(ctx, "testdata", filepath.Join(tmp, "db6")); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if _, err := Open(filepath.Join(tmp, "db6")); !errors.Is(err, ErrNoDatabase) {
		t.Errorf("Open after cancelled import: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	_, err := Open(empty)
	if !errors.Is(err, ErrNoDatabase) || !strings.Contains(err.Error(), "palisade db import FILE|DIR") || !strings.Contains(err.Error(), empty) {
		t.Errorf("empty dir: %v", err)
	}
	// A database written in another format is refused with a re-import hint.
	dir, _ := importAt(t, filepath.Join("testdata", "synthetic"))
	gen, err := readCurrent(dir)
	if err != nil {
		t.Fatal(err)
	}
	mpath := filepath.Join(gen, manifestFile)
	data, err := os.ReadFile(mpath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mpath, []byte(strings.Replace(string(data), `"format": 1`, `"format": 99`, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir)
	if !errors.Is(err, ErrIncompatible) || !strings.Contains(err.Error(), "re-import") {
		t.Errorf("format 99: %v", err)
	}
	// CURRENT may not point outside the database.
	if err := os.WriteFile(filepath.Join(dir, currentFile), []byte("../../etc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrCorrupt) {
		t.Errorf("CURRENT traversal: %v", err)
	}
	// A damaged index fails at first query, naming the fix.
	dir, _ = importAt(t, filepath.Join("testdata", "synthetic"))
	gen, _ = readCurrent(dir)
	if err := os.WriteFile(filepath.Join(gen, "eco-1.gob"), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Query(Go, "example.com/fake/mod", "v1.0.0"); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "palisade db import") {
		t.Errorf("damaged index: %v", err)
	}
}

// TestAtomicReplace: a failed import leaves the previous database usable,
// a reader opened before a successful import keeps its snapshot, and
// ecosystems missing from the new source are carried over.
func TestAtomicReplace(t *testing.T) {
	t.Parallel()
	dir, _ := importAt(t, filepath.Join("testdata", "pypa"))
	before, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	check := func(db *DB, what string) {
		t.Helper()
		vs, err := db.Query(PyPI, "torch", "1.13.0")
		if err != nil || len(vs) != 1 {
			t.Errorf("%s: torch 1.13.0 = %v, %v", what, ids(vs), err)
		}
	}
	// Failures: nothing usable, a broken zip, a missing source.
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "x.json"), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Import(t.Context(), bad, dir); !errors.Is(err, ErrEmptyImport) {
		t.Errorf("empty import: %v", err)
	}
	broken := filepath.Join(bad, "broken.zip")
	if err := os.WriteFile(broken, []byte("PK\x03\x04 not really a zip"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Import(t.Context(), broken, dir); err == nil {
		t.Error("broken zip imported")
	}
	if _, err := Import(t.Context(), filepath.Join(bad, "missing"), dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing source: %v", err)
	}
	after, err := Open(dir)
	if err != nil {
		t.Fatalf("Open after failed imports: %v", err)
	}
	check(after, "after failed imports")
	if diff := cmp.Diff(after.Status(), before.Status()); diff != "" {
		t.Errorf("status changed by failed imports:\n%s", diff)
	}
	// A successful import of Go/npm only: PyPI is carried over.
	im := Importer{Now: func() time.Time { return fixedNow.Add(time.Hour) }}
	st, err := im.Import(t.Context(), filepath.Join("testdata", "synthetic"), dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Carried, nil) {
		// synthetic holds PyPI records too, so nothing is carried.
		t.Errorf("carried %v", st.Carried)
	}
	goOnly := t.TempDir()
	for _, f := range []string{"GO-2099-0001.json", "GHSA-0000-go00-0001.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "synthetic", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(goOnly, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dir2, _ := importAt(t, filepath.Join("testdata", "pypa"))
	st, err = im.Import(t.Context(), goOnly, dir2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(st.Carried, []string{PyPI}) {
		t.Errorf("carried %v, want [PyPI]", st.Carried)
	}
	merged, err := Open(dir2)
	if err != nil {
		t.Fatal(err)
	}
	check(merged, "carried over")
	if vs, err := merged.Query(Go, "example.com/fake/mod", "v1.0.0"); err != nil || len(vs) != 1 {
		t.Errorf("Go after merge: %v, %v", ids(vs), err)
	}
	// The reader opened first still answers from its generation, whose
	// PyPI index had not been loaded yet.
	check(before, "reader opened before the re-import")
	// Only the live and the previous generation remain.
	gens, _ := filepath.Glob(filepath.Join(dir, genPrefix+"*"))
	if len(gens) != 2 {
		t.Errorf("generations left: %v", gens)
	}
}

func TestImportLock(t *testing.T) {
	t.Parallel()
	dir, _ := importAt(t, filepath.Join("testdata", "synthetic"))
	if err := os.WriteFile(filepath.Join(dir, lockFile), []byte("pid 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Import(t.Context(), filepath.Join("testdata", "synthetic"), dir)
	if !errors.Is(err, ErrImportRunning) || !strings.Contains(err.Error(), lockFile) {
		t.Errorf("locked: %v", err)
	}
	if _, err := Open(dir); err != nil {
		t.Errorf("Open while locked: %v", err)
	}
}

// TestConcurrentQueries exercises lazy loading from many goroutines (run
// with -race).
func TestConcurrentQueries(t *testing.T) {
	t.Parallel()
	dir, _ := importAt(t, "testdata")
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			eco, name, v := PyPI, "ipython", "7.31.0"
			if i%2 == 1 {
				eco, name, v = Go, "example.com/fake/mod", "v1.0.0"
			}
			for range 20 {
				if vs, err := db.Query(eco, name, v); err != nil || len(vs) == 0 {
					t.Errorf("%s %s: %v, %v", name, v, ids(vs), err)
					return
				}
			}
		})
	}
	wg.Wait()
}
