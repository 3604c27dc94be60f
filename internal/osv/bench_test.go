package osv

import (
	"archive/zip"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// snapshotDir returns the OSV snapshot to benchmark with: $PALISADE_OSV_DIR,
// else ../../../shared/data/osv (the workspace's PyPA snapshot) when
// present; otherwise the benchmark is skipped with the reason.
func snapshotDir(b *testing.B) string {
	b.Helper()
	if d := os.Getenv("PALISADE_OSV_DIR"); d != "" {
		return d
	}
	d := filepath.Join("..", "..", "..", "shared", "data", "osv")
	if _, err := os.Stat(d); err != nil {
		b.Skipf("no OSV snapshot: set PALISADE_OSV_DIR to a directory of OSV JSON files or an all.zip (%v)", err)
	}
	return d
}

// BenchmarkImport imports the whole snapshot (2,661 PyPA advisories in
// the workspace copy) into a fresh database per iteration.
func BenchmarkImport(b *testing.B) {
	src := snapshotDir(b)
	b.ReportAllocs()
	var st ImportStats
	for b.Loop() {
		dir := b.TempDir()
		var err error
		st, err = Import(b.Context(), src, dir)
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(st.Documents), "docs")
}

// lockfiles builds n lockfiles of size packages from the snapshot: for
// each package with advisories, versions taken from its records' lists
// (so most pins are affected, several by hundreds of advisories), plus
// one package in five that has no advisory.
func lockfiles(b *testing.B, src string, n, size int) [][]PackageVersion {
	b.Helper()
	versions := map[string][]string{}
	collect := func(data []byte) {
		r, err := DecodeRecord(data, 0)
		if err != nil {
			return
		}
		for _, a := range r.Affected {
			if a.Package.Ecosystem == PyPI && len(a.Versions) > 0 {
				versions[a.Package.Name] = append(versions[a.Package.Name], a.Versions...)
			}
		}
	}
	var err error
	if info, statErr := os.Stat(src); statErr == nil && !info.IsDir() {
		err = readZipRecords(src, collect)
	} else {
		err = filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || filepath.Ext(p) != ".json" {
				return err
			}
			data, err := os.ReadFile(p)
			if err == nil {
				collect(data)
			}
			return err
		})
	}
	if err != nil {
		b.Fatal(err)
	}
	names := make([]string, 0, len(versions))
	for name := range versions {
		names = append(names, name)
	}
	slices.Sort(names)
	// Always include the heavy ML packages.
	heavy := []string{"tensorflow", "tensorflow-gpu", "pillow", "mlflow", "torch", "jinja2", "numpy", "ipython"}
	out := make([][]PackageVersion, n)
	for i := range out {
		for j := range size {
			var name string
			switch {
			case j%5 == 4:
				out[i] = append(out[i], PackageVersion{PyPI, "clean-package-" + string(rune('a'+j%26)), "1.0.0"})
				continue
			case j < len(heavy):
				name = heavy[j]
			default:
				name = names[(i*size+j*7919)%len(names)]
			}
			vs := versions[name]
			if len(vs) == 0 {
				out[i] = append(out[i], PackageVersion{PyPI, name, "1.0.0"})
				continue
			}
			out[i] = append(out[i], PackageVersion{PyPI, name, vs[(i*31+j)%len(vs)]})
		}
	}
	return out
}

// BenchmarkQuery matches 100 lockfiles of 50 packages (one op = all
// 5,000 pins) against an opened, loaded database.
func BenchmarkQuery(b *testing.B) {
	src := snapshotDir(b)
	dir := b.TempDir()
	if _, err := Import(b.Context(), src, dir); err != nil {
		b.Fatal(err)
	}
	db, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	locks := lockfiles(b, src, 100, 50)
	if _, err := db.Query(PyPI, "torch", "1.0.0"); err != nil { // load the index
		b.Fatal(err)
	}
	b.ReportAllocs()
	vulns := 0
	for b.Loop() {
		vulns = 0
		for _, lock := range locks {
			res, err := db.QueryMany(b.Context(), lock)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range res {
				vulns += len(r.Vulns)
			}
		}
	}
	b.ReportMetric(float64(vulns), "vulns/op")
	b.ReportMetric(float64(100*50)*float64(b.N)/b.Elapsed().Seconds(), "pins/s")
}

// BenchmarkOpenFirstQuery measures Open plus the first query, which loads
// the ecosystem's index.
func BenchmarkOpenFirstQuery(b *testing.B) {
	src := snapshotDir(b)
	dir := b.TempDir()
	if _, err := Import(b.Context(), src, dir); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		db, err := Open(dir)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := db.Query(PyPI, "torch", "1.13.0"); err != nil {
			b.Fatal(err)
		}
	}
}

// readZipRecords calls fn with each .json entry of an all.zip export.
func readZipRecords(path string, fn func([]byte)) error {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return err
	}
	defer zr.Close()
	for _, f := range zr.File {
		if filepath.Ext(f.Name) != ".json" {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(io.LimitReader(rc, DefaultMaxRecordBytes))
		rc.Close()
		if err != nil {
			return err
		}
		fn(data)
	}
	return nil
}
