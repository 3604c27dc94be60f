package numpy

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/testutil"
)

// pickleOSSystem is a protocol 2 pickle calling os.system.
const pickleOSSystem = "\x80\x02cos\nsystem\nX\x12\x00\x00\x00echo palisade-test\x85R."

// handoff is one payload the fake pickle scanner received.
type handoff struct {
	name string
	data []byte
}

// fakePickle stands in for the pickle scanner: it records what it is
// handed and reports a critical finding for an os.system/posix.system
// import, so tests see the verdict travel back through the engine.
type fakePickle struct {
	mu   sync.Mutex
	got  []handoff
	rule scan.Rule
}

func newFakePickle() *fakePickle {
	return &fakePickle{rule: scan.Rule{ID: "PKLTEST", Name: "fake-pickle", Severity: scan.SeverityCritical, Summary: "test", Remediation: "test"}}
}

func (p *fakePickle) Rules() []scan.Rule { return []scan.Rule{p.rule} }

func (p *fakePickle) Scan(_ context.Context, obj scan.Object, sess *scan.Session) error {
	b := make([]byte, obj.Size)
	if _, err := obj.R.ReadAt(b, 0); err != nil && err != io.EOF {
		return err
	}
	p.mu.Lock()
	p.got = append(p.got, handoff{name: obj.Name, data: b})
	p.mu.Unlock()
	if bytes.Contains(b, []byte("os\nsystem\n")) || bytes.Contains(b, []byte("posix\nsystem\n")) {
		sess.Report(p.rule.Finding("calls os.system", "os.system"))
	}
	return nil
}

func (p *fakePickle) handoffs() []handoff {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.got)
}

// forceNumpy plays the archive scanner: it hands everything after the zip
// magic to the NumPy scanner, whatever its content.
type forceNumpy struct{}

func (forceNumpy) Rules() []scan.Rule { return nil }

func (forceNumpy) Scan(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	n := obj.Size - 4
	return sess.Nested(ctx, "member.npy", io.NewSectionReader(obj.R, 4, n), n, scan.FormatNumpy)
}

// scanNpy scans data as a .npy file with a fake pickle scanner.
func scanNpy(t testing.TB, data []byte, limits scan.Limits) ([]scan.Finding, *fakePickle) {
	t.Helper()
	fp := newFakePickle()
	eng := scan.NewEngine(scan.Options{Limits: limits, Scanners: map[scan.Format]scan.Scanner{
		scan.FormatNumpy: New(), scan.FormatPickle: fp,
	}})
	fs, err := eng.ScanReader(t.Context(), "array.npy", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("ScanReader: %v", err)
	}
	return fs, fp
}

// npy builds a .npy file the way numpy.save does: the header is padded
// with spaces and a newline so that the data starts on a 64-byte boundary.
func npy(major byte, header string, data []byte) []byte {
	lenSize := 2
	if major > 1 {
		lenSize = 4
	}
	pre := 8 + lenSize
	total := pre + len(header) + 1
	pad := (64 - total%64) % 64
	h := header + strings.Repeat(" ", pad) + "\n"
	out := append([]byte(nil), magic...)
	out = append(out, major, 0)
	if lenSize == 2 {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(h)))
	} else {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(h)))
	}
	out = append(out, h...)
	return append(out, data...)
}

func hdr(descr, shape string) string {
	return fmt.Sprintf("{'descr': %s, 'fortran_order': False, 'shape': %s, }", descr, shape)
}

// summary renders findings as "RULE severity inner" lines.
func summary(fs []scan.Finding) []string {
	var out []string
	for _, f := range fs {
		line := f.RuleID + " " + f.Severity.String()
		if len(f.Inner) > 0 {
			line += " " + strings.Join(f.Inner, "/")
		}
		out = append(out, line)
	}
	return out
}

func maxSeverity(fs []scan.Finding) scan.Severity {
	s := scan.SeverityNone
	for _, f := range fs {
		s = max(s, f.Severity)
	}
	return s
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCorpus(t *testing.T) {
	t.Parallel()
	obj := "NPY001 low"
	crit := "PKLTEST critical " + objectPayloadName
	tests := []struct {
		name    string
		data    func(t testing.TB) []byte
		want    []string
		wantMax scan.Severity // from MANIFEST.tsv, with the fake pickle scanner
	}{
		{"benign_numpy_float64.npy", func(t testing.TB) []byte { return readFile(t, "benign_numpy_float64.npy") }, nil, scan.SeverityNone},
		{"benign_numpy_object_dtype.npy", func(t testing.TB) []byte { return readFile(t, "benign_numpy_object_dtype.npy") }, []string{obj}, scan.SeverityLow},
		{"mal_numpy_object_os_system.npy", func(t testing.TB) []byte { return readFile(t, "mal_numpy_object_os_system.npy") }, []string{obj, crit}, scan.SeverityCritical},
		{"benign_arrays.npz a.npy", func(t testing.TB) []byte {
			return testutil.ReadZipMember(t, filepath.Join("testdata", "benign_arrays.npz"), "a.npy")
		}, nil, scan.SeverityNone},
		{"benign_arrays.npz b.npy", func(t testing.TB) []byte {
			return testutil.ReadZipMember(t, filepath.Join("testdata", "benign_arrays.npz"), "b.npy")
		}, nil, scan.SeverityNone},
		{"mal_npz_object_member.npz a.npy", func(t testing.TB) []byte {
			return testutil.ReadZipMember(t, filepath.Join("testdata", "mal_npz_object_member.npz"), "a.npy")
		}, nil, scan.SeverityNone},
		{"mal_npz_object_member.npz evil.npy", func(t testing.TB) []byte {
			return testutil.ReadZipMember(t, filepath.Join("testdata", "mal_npz_object_member.npz"), "evil.npy")
		}, []string{obj, crit}, scan.SeverityCritical},
		// Files written by numpy 1.24 itself.
		{"numpy_float32.npy", func(t testing.TB) []byte { return readFile(t, "numpy_float32.npy") }, nil, scan.SeverityNone},
		{"numpy_structured.npy", func(t testing.TB) []byte { return readFile(t, "numpy_structured.npy") }, nil, scan.SeverityNone},
		{"numpy_object_strings.npy", func(t testing.TB) []byte { return readFile(t, "numpy_object_strings.npy") }, []string{obj}, scan.SeverityLow},
		{"mal_numpy_object_reduce.npy", func(t testing.TB) []byte { return readFile(t, "mal_numpy_object_reduce.npy") }, []string{obj, crit}, scan.SeverityCritical},
		{"numpy_arrays_compressed.npz a.npy", func(t testing.TB) []byte {
			return testutil.ReadZipMember(t, filepath.Join("testdata", "numpy_arrays_compressed.npz"), "a.npy")
		}, nil, scan.SeverityNone},
		{"numpy_arrays_compressed.npz b.npy", func(t testing.TB) []byte {
			return testutil.ReadZipMember(t, filepath.Join("testdata", "numpy_arrays_compressed.npz"), "b.npy")
		}, nil, scan.SeverityNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs, _ := scanNpy(t, tt.data(t), scan.Limits{})
			if got := summary(fs); !slices.Equal(got, tt.want) {
				t.Errorf("findings = %q, want %q", got, tt.want)
			}
			if got := maxSeverity(fs); got != tt.wantMax {
				t.Errorf("highest severity = %v, want %v", got, tt.wantMax)
			}
		})
	}
}

func TestObjectPayloadHandoff(t *testing.T) {
	t.Parallel()
	data := readFile(t, "mal_numpy_object_os_system.npy")
	fs, fp := scanNpy(t, data, scan.Limits{})
	const dataStart = 128 // 10-byte preamble + 118-byte header
	got := fp.handoffs()
	if len(got) != 1 {
		t.Fatalf("pickle scanner got %d payloads, want 1", len(got))
	}
	if got[0].name != objectPayloadName {
		t.Errorf("payload name = %q, want %q", got[0].name, objectPayloadName)
	}
	if !bytes.Equal(got[0].data, data[dataStart:]) {
		t.Errorf("payload = %q, want the %d bytes after the header", got[0].data, len(data)-dataStart)
	}
	if fs[0].RuleID != "NPY001" || fs[0].Offset != dataStart || fs[0].Evidence != "descr '|O'" {
		t.Errorf("object finding = %s at %d (%q), want NPY001 at %d (\"descr '|O'\")", fs[0].RuleID, fs[0].Offset, fs[0].Evidence, dataStart)
	}
	if !strings.Contains(fs[0].Message, "allow_pickle=True") {
		t.Errorf("message %q does not mention allow_pickle", fs[0].Message)
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	f8 := make([]byte, 32) // four float64
	payload := []byte(pickleOSSystem)
	obj := "NPY001 low"
	crit := "PKLTEST critical " + objectPayloadName
	tests := []struct {
		name     string
		data     []byte
		limits   scan.Limits
		want     []string
		evidence string // in the first finding's evidence, when set
	}{
		{"v1 float64", npy(1, hdr("'<f8'", "(4,)"), f8), scan.Limits{}, nil, ""},
		{"v2 float64", npy(2, hdr("'<f8'", "(2, 2)"), f8), scan.Limits{}, nil, ""},
		{"v3 utf-8 field name", npy(3, hdr("[('ä', '<f8')]", "(4,)"), f8), scan.Limits{}, nil, ""},
		{"v1 latin-1 field name", npy(1, hdr("[('\xe4', '<f8')]", "(4,)"), f8), scan.Limits{}, nil, ""},
		{"fortran order", npy(1, "{'descr': '<i4', 'fortran_order': True, 'shape': (2, 4)}", f8), scan.Limits{}, nil, ""},
		{"unicode and datetime", npy(1, hdr("[('s', '<U2'), ('t', '<M8[ns]')]", "(2,)"), f8), scan.Limits{}, nil, ""},
		{"structured with padding", npy(1, hdr("[('a', '<i4'), ('', '|V4'), ('b', '<f8', (1,))]", "(2,)"), f8), scan.Limits{}, nil, ""},
		{"comma dtype string", npy(1, hdr("'i4, (3,)f4'", "(2,)"), f8), scan.Limits{}, nil, ""},
		{"bool in shape", npy(1, hdr("'<f8'", "(True, 4)"), f8), scan.Limits{}, nil, ""},
		{"comments, u prefix, line breaks", npy(1, "{'descr': u'<f8', # the dtype\n 'fortran_order': False,\n 'shape': (4,)}", f8), scan.Limits{}, nil, ""},
		{"python 2 long suffix in v1", npy(1, hdr("'<f8'", "(4L,)"), f8), scan.Limits{}, nil, ""},
		{"zero-size array", npy(1, hdr("'<f8'", "(0, 5)"), nil), scan.Limits{}, nil, ""},
		{"scalar", npy(1, hdr("'<f8'", "()"), f8[:8]), scan.Limits{}, nil, ""},

		{"object descr", npy(1, hdr("'|O'", "(1,)"), payload), scan.Limits{}, []string{obj, crit}, "descr '|O'"},
		{"object without byte order", npy(1, hdr("'O'", "(1,)"), payload), scan.Limits{}, []string{obj, crit}, ""},
		{"object O8", npy(1, hdr("'|O8'", "(1,)"), payload), scan.Limits{}, []string{obj, crit}, ""},
		{"nested object field", npy(1, hdr("[('a', '<i4'), ('b', [('c', '|O')])]", "(1,)"), payload), scan.Limits{}, []string{obj, crit}, "field 'c' '|O'"},
		{"object subarray field", npy(1, hdr("[('a', '|O', (2,))]", "(1,)"), payload), scan.Limits{}, []string{obj, crit}, "field 'a'"},
		{"object in a tuple descr", npy(1, hdr("('|O', (2,))", "(1,)"), payload), scan.Limits{}, []string{obj, crit}, ""},
		{"concatenated strings", npy(1, hdr("'|' 'O'", "(1,)"), payload), scan.Limits{}, []string{obj, crit}, ""},
		{"hex escape", npy(1, hdr(`'|\x4f'`, "(1,)"), payload), scan.Limits{}, []string{obj, crit}, ""},
		{"octal escape", npy(1, hdr(`'\117'`, "(1,)"), payload), scan.Limits{}, []string{obj, crit}, ""},
		{"unicode escape in v3", npy(3, hdr(`'\u004f'`, "(1,)"), payload), scan.Limits{}, []string{obj, crit}, ""},
		{"comma string with object", npy(1, hdr("'i4, O'", "(1,)"), payload), scan.Limits{}, []string{obj, crit}, ""},
		{"object name", npy(1, hdr("'object'", "(1,)"), payload), scan.Limits{}, []string{obj, crit}, ""},
		{"list of 2-char strings", npy(1, hdr("['aO']", "(1,)"), payload), scan.Limits{}, []string{obj, crit}, ""},
		{"dict descr iterates keys", npy(1, hdr("{'aO': 1}", "(1,)"), payload), scan.Limits{}, []string{obj, crit}, ""},
		{"set field", npy(1, hdr("[{'a', 'O'}]", "(1,)"), payload), scan.Limits{}, []string{obj, crit}, ""},
		{"duplicate key, last is object", npy(1, "{'descr': '<f8', 'descr': '|O', 'fortran_order': False, 'shape': (1,)}", payload), scan.Limits{}, []string{obj, crit}, ""},
		{"duplicate key, last is float", npy(1, "{'descr': '|O', 'descr': '<f8', 'fortran_order': False, 'shape': (4,)}", f8), scan.Limits{}, nil, ""},
		{"object with no payload", npy(1, hdr("'|O'", "(1,)"), nil), scan.Limits{}, []string{obj}, ""},

		{"short data", npy(1, hdr("'<f8'", "(5,)"), f8), scan.Limits{}, []string{"NPY004 medium"}, "declared 40 bytes, present 32"},
		{"trailing pickle", npy(1, hdr("'<f8'", "(4,)"), append(slices.Clone(f8), payload...)), scan.Limits{}, []string{"NPY004 medium", "PKLTEST critical " + trailingPayloadName}, "declared 32 bytes, present"},
		{"huge array", npy(1, hdr("'<f8'", "(4611686018427387904,)"), f8), scan.Limits{}, []string{"NPY004 medium"}, "4611686018427387904 x 8 bytes"},
		{"element count beyond 64 bits", npy(1, hdr("'<f8'", "(4294967296, 4294967296)"), f8), scan.Limits{}, []string{"NPY002 medium"}, ""},
		{"unknown dtype", npy(1, hdr("'<x9'", "(1,)"), payload), scan.Limits{}, []string{"NPY005 medium", "PKLTEST critical " + unknownPayloadName}, "descr '<x9'"},
		{"StringDType", npy(1, hdr("'T'", "(1,)"), f8), scan.Limits{}, []string{"NPY005 medium"}, ""},

		{"not a dict", npy(1, "[1, 2]", f8), scan.Limits{}, []string{"NPY002 medium"}, ""},
		{"missing key", npy(1, "{'descr': '<f8', 'shape': (4,)}", f8), scan.Limits{}, []string{"NPY002 medium"}, ""},
		{"extra key", npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (4,), 'x': 1}", f8), scan.Limits{}, []string{"NPY002 medium"}, ""},
		{"fortran_order int", npy(1, "{'descr': '<f8', 'fortran_order': 0, 'shape': (4,)}", f8), scan.Limits{}, []string{"NPY002 medium"}, ""},
		{"shape list", npy(1, hdr("'<f8'", "[4]"), f8), scan.Limits{}, []string{"NPY002 medium"}, ""},
		{"negative dimension", npy(1, hdr("'<f8'", "(-4,)"), f8), scan.Limits{}, []string{"NPY002 medium"}, ""},
		{"dimension beyond int64", npy(1, hdr("'<f8'", "(99999999999999999999,)"), f8), scan.Limits{}, []string{"NPY002 medium"}, ""},
		{"float dimension", npy(1, hdr("'<f8'", "(4.0,)"), f8), scan.Limits{}, []string{"NPY002 medium"}, ""},
		{"long suffix in v3", npy(3, hdr("'<f8'", "(4L,)"), f8), scan.Limits{}, []string{"NPY002 medium"}, ""},
		{"call expression", npy(1, "__import__('os').system('id')", f8), scan.Limits{}, []string{"NPY002 medium"}, ""},
		{"named unicode escape hides object", npy(3, hdr(`'\N{LATIN CAPITAL LETTER O}'`, "(1,)"), payload), scan.Limits{},
			[]string{"NPY002 medium", "PKLTEST critical " + unknownPayloadName}, ""},
		{"300 levels deep", npy(1, strings.Repeat("[", 300)+strings.Repeat("]", 300), f8), scan.Limits{}, []string{"NPY002 medium"}, ""},
		{"tuple descr too short", npy(1, hdr("('<f8',)", "(4,)"), f8), scan.Limits{}, []string{"NPY002 medium"}, ""},
		{"field of three names", npy(1, hdr("[('a', '<f8', (1,), 'x')]", "(4,)"), f8), scan.Limits{}, []string{"NPY002 medium"}, ""},
		{"bytes descr", npy(1, hdr("b'<f8'", "(4,)"), f8), scan.Limits{}, []string{"NPY002 medium"}, ""},
		{"invalid utf-8 in v3", npy(3, hdr("'<f8\xff'", "(4,)"), f8), scan.Limits{}, []string{"NPY002 medium"}, ""},

		{"unsupported version", append([]byte("\x93NUMPY\x04\x00\x10\x00"), make([]byte, 16)...), scan.Limits{}, []string{"NPY002 medium"}, "version 4.0"},
		{"header past the end", []byte("\x93NUMPY\x01\x00\xff\x00{}"), scan.Limits{}, []string{"NPY002 medium"}, "header length 255"},
		{"truncated preamble", []byte("\x93NUMPY\x02\x00\x01"), scan.Limits{}, []string{"NPY002 medium"}, ""},
		{"header over numpy's default limit", npy(2, hdr("'<f8'", "(4,)")+strings.Repeat(" ", 12_000), f8), scan.Limits{}, []string{"NPY003 low"}, "header length 12"},
		{"header over the scanner limit", npy(2, hdr("'|O'", "(1,)")+strings.Repeat(" ", 70_000), payload), scan.Limits{MaxHeaderBytes: 65536},
			[]string{"NPY003 medium", "PKLTEST critical " + unknownPayloadName}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs, _ := scanNpy(t, tt.data, tt.limits)
			if got := summary(fs); !slices.Equal(got, tt.want) {
				for _, f := range fs {
					t.Logf("%s: %s (%s)", f.RuleID, f.Message, f.Evidence)
				}
				t.Fatalf("findings = %q, want %q", got, tt.want)
			}
			if tt.evidence != "" && !strings.Contains(fs[0].Evidence, tt.evidence) {
				t.Errorf("evidence %q lacks %q", fs[0].Evidence, tt.evidence)
			}
			for _, f := range fs {
				if strings.HasPrefix(f.RuleID, "NPY") && (f.Offset < 0 || f.Offset > int64(len(tt.data))) {
					t.Errorf("%s offset %d outside the %d-byte file", f.RuleID, f.Offset, len(tt.data))
				}
			}
		})
	}
}

func TestNotNumpy(t *testing.T) {
	t.Parallel()
	// Routed by force (a member the archive scanner calls .npy) without
	// the magic: fail closed with a finding.
	eng := scan.NewEngine(scan.Options{Scanners: map[scan.Format]scan.Scanner{scan.FormatZip: forceNumpy{}, scan.FormatNumpy: New()}})
	in := []byte("PK\x03\x04not an array")
	fs, err := eng.ScanReader(t.Context(), "a.npz", bytes.NewReader(in), int64(len(in)))
	if err != nil {
		t.Fatal(err)
	}
	if got := summary(fs); !slices.Equal(got, []string{"NPY002 medium member.npy"}) {
		t.Fatalf("findings = %q, want one NPY002", got)
	}
}

func TestRules(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, r := range New().Rules() {
		if !strings.HasPrefix(r.ID, "NPY") || len(r.ID) != 6 || seen[r.ID] {
			t.Errorf("bad or duplicate rule ID %q", r.ID)
		}
		seen[r.ID] = true
		if r.Name == "" || r.Summary == "" || r.Remediation == "" || r.Severity == scan.SeverityNone {
			t.Errorf("rule %s is incomplete: %+v", r.ID, r)
		}
	}
}

func TestFixturesListed(t *testing.T) {
	t.Parallel()
	readme := readFile(t, "README")
	entries, err := os.ReadDir("testdata")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "README" {
			continue
		}
		if !bytes.Contains(readme, []byte(e.Name()+":")) {
			t.Errorf("testdata/%s is not described in testdata/README", e.Name())
		}
	}
}
