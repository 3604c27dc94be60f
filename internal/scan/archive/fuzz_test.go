package archive

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// fuzzLimits keep each fuzz input cheap.
var fuzzLimits = scan.Limits{
	MaxDepth:         3,
	MaxEntries:       50,
	MaxExpandedBytes: 2 << 20,
	MaxMemberBytes:   1 << 20,
	MemoryBuffer:     1 << 20,
	MaxHeaderBytes:   1 << 20,
}

// addSeeds adds the testdata files whose names contain one of subs.
func addSeeds(f *testing.F, subs ...string) {
	f.Helper()
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		for _, s := range subs {
			if !e.IsDir() && strings.Contains(e.Name(), s) {
				data, err := os.ReadFile(filepath.Join("testdata", e.Name()))
				if err != nil {
					f.Fatal(err)
				}
				f.Add(data)
				break
			}
		}
	}
}

// fuzzEngine returns an engine in which everything that is not an
// archive is forced to format, so mutated inputs that lose their magic
// still reach the parser under test.
func fuzzEngine(f *testing.F, format scan.Format) *scan.Engine {
	return newEngine(f, &recorder{force: format, quiet: true}, fuzzLimits)
}

// fuzzScan scans data and checks that every finding is well formed.
func fuzzScan(t *testing.T, eng *scan.Engine, data []byte) {
	fs, err := eng.ScanReader(context.Background(), "fuzz.pkl", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("ScanReader: %v", err)
	}
	for _, f := range fs {
		if f.RuleID == "" || f.Severity == scan.SeverityNone || f.Severity > scan.SeverityCritical || f.Message == "" {
			t.Fatalf("malformed finding %+v", f)
		}
	}
}

func FuzzZip(f *testing.F) {
	addSeeds(f, ".zip", ".npz", "pytorch_zip", "polyglot")
	f.Add(buildZip(f, []zipMember{{name: "a.pkl", data: payload, method: zipDeflate}, {name: "b", data: benignPickle, flags: 1}}, zipOpts{zip64: true, prefix: []byte("pre")}))
	f.Add(buildZip(f, []zipMember{{name: "a.pkl", localName: "x", data: payload}}, zipOpts{noCentral: true}))
	eng := fuzzEngine(f, scan.FormatZip)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzScan(t, eng, data) })
}

func FuzzTar(f *testing.F) {
	addSeeds(f, "tar")
	f.Add(buildTar(f, []tarEntry{{name: "a", data: payload}, {name: "l", typ: '2', link: "../x"}, {name: strings.Repeat("d/", 60) + "p", data: benignPickle}}))
	eng := fuzzEngine(f, scan.FormatTar)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzScan(t, eng, data) })
}

func Fuzz7z(f *testing.F) {
	addSeeds(f, "7z")
	files := []sz7File{{name: "a.pkl", data: payload}, {name: "b", data: benignPickle}}
	f.Add(build7z(files, sz7Opts{}))
	f.Add(encodeHeader(f, build7z(files, sz7Opts{}), nil, nil))
	props, stream := lzmaRaw(f, append(append([]byte(nil), payload...), benignPickle...))
	f.Add(build7z(files, sz7Opts{coder: []byte{0x03, 0x01, 0x01}, props: props, packed: stream}))
	eng := fuzzEngine(f, scan.Format7z)
	f.Fuzz(func(t *testing.T, data []byte) { fuzzScan(t, eng, data) })
}

// streamFormats are the compressed stream formats FuzzStream exercises.
var streamFormats = []scan.Format{scan.FormatGzip, scan.FormatBzip2, scan.FormatXz, scan.FormatLzma, scan.FormatZlib, scan.FormatLz4}

func FuzzStream(f *testing.F) {
	engines := make([]*scan.Engine, len(streamFormats))
	for i, format := range streamFormats {
		engines[i] = fuzzEngine(f, format)
	}
	bz2, err := os.ReadFile(filepath.Join("testdata", "model.joblib.bz2"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(uint8(0), gzipBytes(f, payload))
	f.Add(uint8(1), bz2)
	f.Add(uint8(2), xzBytes(f, payload))
	f.Add(uint8(2), append(append(xzBytes(f, payload), 0, 0, 0, 0), xzBytes(f, benignPickle)...))
	f.Add(uint8(3), lzmaBytes(f, payload))
	f.Add(uint8(4), zlibBytes(f, payload))
	f.Add(uint8(5), lz4Bytes(f, payload))
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		fuzzScan(t, engines[int(kind)%len(engines)], data)
	})
}
