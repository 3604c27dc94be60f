package container

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// benchFile scans one fixture repeatedly with one scanner: the prepared
// queries are reused, so the figure is per-file parse plus evaluation.
func benchFile(b *testing.B, format scan.Format, path string) {
	s, err := New(b.Context(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		var buf scan.Buffer
		if err := s.scan(b.Context(), object(path, format, data), &buf); err != nil || len(buf) == 0 {
			b.Fatalf("scan: %v, %d findings", err, len(buf))
		}
	}
}

// BenchmarkDockerfile measures a multi-rule Dockerfile (ARGs, ENV, RUN
// with apt-get and pip, ADD).
func BenchmarkDockerfile(b *testing.B) {
	benchFile(b, scan.FormatDockerfile, filepath.Join("testdata", "docker", "dkr006_fail.Dockerfile"))
}

// BenchmarkKubernetes measures a List of a Pod, a CronJob and a
// NetworkPolicy plus a Deployment with findings.
func BenchmarkKubernetes(b *testing.B) {
	b.Run("deployment", func(b *testing.B) {
		benchFile(b, scan.FormatKubernetes, filepath.Join("testdata", "k8s", "k8s006_fail.yaml"))
	})
}

// BenchmarkNew measures compiling and preparing the built-in policies,
// paid once per process.
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(b.Context(), Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
