package archive

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"

	"github.com/palisade-sec/palisade/internal/scan"
)

// compressed writes data through the compressor newWriter makes.
func compressed(t testing.TB, data []byte, newWriter func(io.Writer) (io.WriteCloser, error)) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := newWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipBytes(t testing.TB, data []byte) []byte {
	return compressed(t, data, func(w io.Writer) (io.WriteCloser, error) { return gzip.NewWriter(w), nil })
}

func zlibBytes(t testing.TB, data []byte) []byte {
	return compressed(t, data, func(w io.Writer) (io.WriteCloser, error) { return zlib.NewWriter(w), nil })
}

func xzBytes(t testing.TB, data []byte) []byte {
	return compressed(t, data, func(w io.Writer) (io.WriteCloser, error) {
		return xz.WriterConfig{DictCap: 1 << 16}.NewWriter(w)
	})
}

func lzmaBytes(t testing.TB, data []byte) []byte {
	return compressed(t, data, func(w io.Writer) (io.WriteCloser, error) {
		return lzma.WriterConfig{DictCap: 1 << 16}.NewWriter(w)
	})
}

func lz4Bytes(t testing.TB, data []byte) []byte {
	return compressed(t, data, func(w io.Writer) (io.WriteCloser, error) { return lz4.NewWriter(w), nil })
}

// noise returns n incompressible bytes, the same on every run.
func noise(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// xzHugeDict rewrites the first block header of an xz file to declare the
// largest LZMA2 dictionary, fixing the header's CRC.
func xzHugeDict(t testing.TB, data []byte) []byte {
	t.Helper()
	out := bytes.Clone(data)
	h := out[xzHeaderLen : xzHeaderLen+(int(out[xzHeaderLen])+1)*4]
	p := 2
	for _, bit := range []byte{0x40, 0x80} {
		if h[1]&bit != 0 {
			if _, err := xzVarint(h, &p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if h[p] != xzFilterLZMA2 || h[p+1] != 1 {
		t.Fatalf("unexpected filter flags % x", h[p:p+3])
	}
	h[p+2] = 40
	binary.LittleEndian.PutUint32(h[len(h)-4:], crc32.ChecksumIEEE(h[:len(h)-4]))
	return out
}

func TestStreams(t *testing.T) {
	t.Parallel()
	bz2, err := os.ReadFile(filepath.Join("testdata", "model.joblib.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	tarball := buildTar(t, []tarEntry{{name: "sys_info", data: benignPickle}, {name: "pickle", data: payload}})
	big := append(append([]byte(nil), payload...), noise(200<<10)...)
	gzBig := gzipBytes(t, big)
	zlibBig := zlibBytes(t, big)
	half := len(payload) / 2
	multi := append(gzipBytes(t, payload[:half]), gzipBytes(t, payload[half:])...)
	multi = append(multi, make([]byte, 512)...)
	xzTwo := append(xzBytes(t, payload[:half]), 0, 0, 0, 0)
	xzTwo = append(append(xzTwo, xzBytes(t, payload[half:])...), 0, 0, 0, 0)
	lzmaHuge := lzmaBytes(t, payload)
	le.PutUint32(lzmaHuge[1:], 1<<30)

	tests := []struct {
		name  string
		file  string
		data  []byte
		wants []want
		none  []string
		seen  map[string][]byte
	}{
		{name: "gzip", file: "model.pkl.gz", data: gzipBytes(t, payload),
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.pkl"}}, none: structural,
			seen: map[string][]byte{"model.pkl": payload}},
		{name: "gzip members and zero padding", file: "model.pkl.gz", data: multi,
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.pkl"}}, none: structural,
			seen: map[string][]byte{"model.pkl": payload}},
		{name: "gzip with trailing garbage", file: "model.pkl.gz", data: append(gzipBytes(t, payload), "garbage"...),
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.pkl"}, {rule: "ARC008", sev: scan.SeverityMedium, text: "corrupt after"}}},
		{name: "truncated gzip keeps the payload before the cut", file: "model.pkl.gz", data: gzBig[:len(gzBig)/2],
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.pkl"}, {rule: "ARC008", sev: scan.SeverityMedium, text: "corrupt after"}}},
		{name: "gzip header broken", file: "model.pkl.gz", data: []byte("\x1f\x8b\x09\x00garbage"),
			wants: []want{{rule: "ARC001", sev: scan.SeverityMedium}}},
		{name: "tar.gz", file: "model.tar.gz", data: gzipBytes(t, tarball),
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.tar!/pickle"}}, none: structural},
		{name: "tgz", file: "model.tgz", data: gzipBytes(t, tarball),
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.tar!/pickle"}}},
		{name: "bzip2 joblib", file: "model.joblib.bz2", data: bz2,
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.joblib"}}, none: structural,
			seen: map[string][]byte{"model.joblib": payload}},
		{name: "xz", file: "model.joblib.xz", data: xzBytes(t, payload),
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.joblib"}}, none: structural,
			seen: map[string][]byte{"model.joblib": payload}},
		{name: "xz streams with padding", file: "model.joblib.xz", data: xzTwo,
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.joblib"}}, none: structural,
			seen: map[string][]byte{"model.joblib": payload}},
		{name: "xz dictionary beyond the cap", file: "model.xz", data: xzHugeDict(t, xzBytes(t, payload)),
			wants: []want{{rule: "ARC008", sev: scan.SeverityMedium, text: "dictionary"}}, none: []string{"TST001"}},
		{name: "lzma", file: "model.joblib.lzma", data: lzmaBytes(t, payload),
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.joblib"}}, none: structural,
			seen: map[string][]byte{"model.joblib": payload}},
		{name: "lzma dictionary beyond the cap", file: "model.joblib", data: lzmaHuge,
			wants: []want{{rule: "ARC008", sev: scan.SeverityMedium, text: "1073741824-byte dictionary"}}},
		{name: "zlib", file: "model.joblib.z", data: zlibBytes(t, payload),
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.joblib"}}, none: structural,
			seen: map[string][]byte{"model.joblib": payload}},
		{name: "zlib joblib under its own name", file: "model.joblib", data: zlibBytes(t, payload),
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.joblib"}}, none: structural,
			seen: map[string][]byte{"model.joblib": payload}},
		{name: "gzip joblib under its own name", file: "model.joblib", data: gzipBytes(t, payload),
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.joblib"}}, none: structural},
		{name: "lzma joblib under its own name", file: "model.joblib", data: lzmaBytes(t, payload),
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.joblib"}}, none: structural},
		{name: "zlib without an extension", file: "model", data: zlibBytes(t, payload),
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model"}}, none: structural},
		{name: "truncated zlib", file: "model.z", data: zlibBig[:len(zlibBig)/2],
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model"}, {rule: "ARC008", sev: scan.SeverityMedium}}},
		{name: "lz4", file: "model.pkl.lz4", data: lz4Bytes(t, payload),
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.pkl"}}, none: structural,
			seen: map[string][]byte{"model.pkl": payload}},
		{name: "lz4 corrupt", file: "model.pkl.lz4", data: append([]byte{0x04, 0x22, 0x4d, 0x18}, noise(64)...),
			wants: []want{{rule: "ARC001", sev: scan.SeverityMedium}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs, rec := scanData(t, tt.file, tt.data, scan.Limits{})
			checkFindings(t, fs, tt.wants, tt.none)
			for name, content := range tt.seen {
				s, ok := rec.get(name)
				if !ok {
					t.Errorf("%q not handed on; handed %q", name, rec.names())
					continue
				}
				if !bytes.Equal(s.data, content) {
					t.Errorf("%q content = %q, want %q", name, s.data, content)
				}
			}
		})
	}
}

// TestTentativeStreams checks that bytes which only look like a zlib or
// lzma header produce no finding at all.
func TestTentativeStreams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
	}{
		{"zlib-like", append([]byte{0x78, 0x9c}, noise(300)...)},
		{"zlib header, stored block with a bad length", append([]byte{0x78, 0x01, 0x00, 0x05, 0x00, 0x05, 0x00}, noise(100)...)},
		{"lzma-like", append([]byte{0x5d, 0x00, 0x00, 0x01, 0x00}, noise(300)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs, _ := scanData(t, "blob", tt.data, scan.Limits{})
			if len(fs) != 0 {
				t.Errorf("findings on non-stream bytes:\n%s", dump(fs))
			}
		})
	}
}

func TestDecompressedName(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"model.pkl.gz", "model.pkl"},
		{"model.TGZ", "model.tar"},
		{"model.tar.bz2", "model.tar"},
		{"model.joblib.xz", "model.joblib"},
		{"model.joblib.lzma", "model.joblib"},
		{"model.joblib.z", "model.joblib"},
		{"model.lz4", "model"},
		{"model.joblib", "model.joblib"},
		{".gz", ".gz"},
		{"noext", "noext"},
	}
	for _, tt := range tests {
		if got := decompressedName(tt.in); got != tt.want {
			t.Errorf("decompressedName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
