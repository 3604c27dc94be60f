package safetensors

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
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/palisade-sec/palisade/internal/scan"
)

// fakeSession records findings and nested objects; it lets tests and the
// fuzz target drive the scanner without content sniffing in between.
type fakeSession struct {
	findings []scan.Finding
	nested   []string
	limits   scan.Limits
}

func newFake() *fakeSession { return &fakeSession{limits: scan.DefaultLimits()} }

func (f *fakeSession) Report(x scan.Finding) { f.findings = append(f.findings, x) }
func (f *fakeSession) Limits() scan.Limits   { return f.limits }
func (f *fakeSession) Nested(_ context.Context, name string, r io.ReaderAt, size int64, _ scan.Format) error {
	// Read the region like a real scanner would, so bad bounds show up.
	buf := make([]byte, min(size, 64))
	if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
		return fmt.Errorf("read nested %s: %w", name, err)
	}
	f.nested = append(f.nested, name)
	return nil
}

// stFile builds a safetensors file from a JSON header and dataLen zero bytes
// of data (pass a negative dataLen to use data instead).
func stFile(header string, dataLen int, data ...byte) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	if dataLen >= 0 {
		b.Write(make([]byte, dataLen))
	}
	b.Write(data)
	return b.Bytes()
}

// withLength builds a file whose length field is n regardless of its body.
func withLength(n uint64, body string) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, n)
	b.WriteString(body)
	return b.Bytes()
}

// brief is the comparable part of a finding.
type brief struct {
	Rule     string
	Severity scan.Severity
}

func briefs(fs []scan.Finding) []brief {
	out := make([]brief, 0, len(fs))
	for _, f := range fs {
		out = append(out, brief{f.RuleID, f.Severity})
	}
	slices.SortFunc(out, func(a, b brief) int { return strings.Compare(a.Rule, b.Rule) })
	return out
}

func want(ids ...string) []brief {
	sev := map[string]scan.Severity{}
	for _, r := range New().Rules() {
		sev[r.ID] = r.Severity
	}
	out := make([]brief, 0, len(ids))
	for _, id := range ids {
		out = append(out, brief{id, sev[id]})
	}
	slices.SortFunc(out, func(a, b brief) int { return strings.Compare(a.Rule, b.Rule) })
	return out
}

func runFake(t *testing.T, data []byte, tentative bool) *fakeSession {
	t.Helper()
	sess := newFake()
	obj := scan.Object{Name: "m.safetensors", R: bytes.NewReader(data), Size: int64(len(data)), Tentative: tentative}
	if err := New().scan(t.Context(), obj, sess); err != nil {
		t.Fatalf("scan: %v", err)
	}
	return sess
}

const okTensor = `"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`

func TestScanHeaders(t *testing.T) {
	t.Parallel()
	deep := `{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}}`
	tests := []struct {
		name string
		data []byte
		want []brief
	}{
		{"valid", stFile(`{`+okTensor+`}`, 8), want()},
		{"valid with metadata and padding", stFile(`{"__metadata__":{"format":"pt"},`+okTensor+`}     `, 8), want()},
		{"metadata null", stFile(`{"__metadata__":null,`+okTensor+`}`, 8), want()},
		{"zero-size tensors share an offset", stFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"I8","shape":[3,0],"data_offsets":[0,0]},`+okTensor+`}`, 8), want()},
		{"scalar tensor", stFile(`{"s":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}`, 8), want()},
		{"sub-byte dtype", stFile(`{"f":{"dtype":"F4","shape":[2,3],"data_offsets":[0,3]}}`, 3), want()},
		{"unknown field ignored", stFile(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":{"a":[1]}}}`, 8), want()},
		{"empty header no data", stFile(`{}`, 0), want()},

		{"length too small", withLength(1, "{}"), want("SFT001")},
		{"file too short", []byte{2, 0, 0, 0, 0, 0, 0, 0, '{'}, want("SFT001")},
		{"not utf-8", stFile("{\"w\xff\":{}}", 0), want("SFT002")},
		{"not json", stFile(`{"w":{"dtype":"F32",}}`, 0), want("SFT002")},
		{"truncated json", stFile(`{"w":{"dtype":"F32"`, 0), want("SFT002")},
		{"array header", stFile(`[1,2,3]`, 0), want("SFT002")},
		{"string header", stFile(`"abc"`, 0), want("SFT002")},
		{"garbage after object", stFile(`{`+okTensor+`}  xx`, 8), want("SFT002")},
		{"nul padding", stFile(`{`+okTensor+"}\x00\x00", 8), want("SFT002")},
		{"second object", stFile(`{`+okTensor+`}{}`, 8), want("SFT002")},
		{"too deep", stFile(deep, 8), want("SFT002")},
		{"entry not an object", stFile(`{"w":[1,2],"v":3}`, 0), want("SFT002", "SFT002")},

		{"duplicate tensor", stFile(`{`+okTensor+`,`+okTensor+`}`, 8), want("SFT003", "SFT010")},
		{"duplicate field", stFile(`{"w":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, 4), want("SFT003")},
		{"duplicate metadata key", stFile(`{"__metadata__":{"a":"1","a":"2"},`+okTensor+`}`, 8), want("SFT003")},

		{"metadata array", stFile(`{"__metadata__":["a"],`+okTensor+`}`, 8), want("SFT004")},
		{"metadata number value", stFile(`{"__metadata__":{"a":1,"b":{"c":"d"}},`+okTensor+`}`, 8), want("SFT004", "SFT004")},

		{"unknown dtype", stFile(`{"w":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}}`, 8), want("SFT005")},
		{"dtype not string", stFile(`{"w":{"dtype":["F32"],"shape":[2],"data_offsets":[0,8]}}`, 8), want("SFT005")},
		{"dtype missing", stFile(`{"w":{"shape":[2],"data_offsets":[0,8]}}`, 8), want("SFT005")},

		{"negative dim", stFile(`{"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}`, 8), want("SFT006")},
		{"float dim", stFile(`{"w":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}`, 8), want("SFT006")},
		{"exponent dim", stFile(`{"w":{"dtype":"F32","shape":[2e0],"data_offsets":[0,8]}}`, 8), want("SFT006")},
		{"huge dim", stFile(`{"w":{"dtype":"F32","shape":[18446744073709551616],"data_offsets":[0,8]}}`, 8), want("SFT006")},
		{"shape not array", stFile(`{"w":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}`, 8), want("SFT006")},
		{"nested shape", stFile(`{"w":{"dtype":"F32","shape":[[2]],"data_offsets":[0,8]}}`, 8), want("SFT006")},
		{"shape missing", stFile(`{"w":{"dtype":"F32","data_offsets":[0,8]}}`, 8), want("SFT006")},
		{"element count overflows", stFile(`{"w":{"dtype":"F32","shape":[4294967296,4294967296,0],"data_offsets":[0,0]}}`, 0), want("SFT006")},
		{"byte count overflows", stFile(`{"w":{"dtype":"F64","shape":[4294967296,1073741824],"data_offsets":[0,8]}}`, 8), want("SFT006")},

		{"size mismatch", stFile(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,8]}}`, 8), want("SFT007")},
		{"not whole bytes", stFile(`{"w":{"dtype":"F6_E2M3","shape":[3],"data_offsets":[0,2]}}`, 2), want("SFT007")},

		{"offsets reversed", stFile(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}`, 8), want("SFT008", "SFT012")},
		{"offsets wrong arity", stFile(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8,16]}}`, 8), want("SFT008", "SFT012")},
		{"offsets not integers", stFile(`{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,"8"]}}`, 8), want("SFT008", "SFT012")},
		{"offsets missing", stFile(`{"w":{"dtype":"F32","shape":[2]}}`, 0), want("SFT008")},

		{"truncated data", stFile(`{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, 8), want("SFT009")},
		{"offsets far out of bounds", stFile(`{"w":{"dtype":"U8","shape":[16],"data_offsets":[18446744073709551600,18446744073709551615]}}`, 8), want("SFT007", "SFT009", "SFT011")},

		{"overlap", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, 12), want("SFT010")},
		{"contained overlap", stFile(`{"a":{"dtype":"U8","shape":[16],"data_offsets":[0,16]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}`, 16), want("SFT010")},
		{"gap between tensors", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}`, 20), want("SFT011")},
		{"gap before first tensor", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`, 12), want("SFT011")},
		{"trailing data", stFile(`{`+okTensor+`}`, 16), want("SFT012")},
		{"data without tensors", stFile(`{}`, 4), want("SFT012")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sess := runFake(t, tt.data, false)
			if diff := cmp.Diff(tt.want, briefs(sess.findings)); diff != "" {
				t.Errorf("findings (-want +got):\n%s\n%s", diff, dump(sess.findings))
			}
		})
	}
}

func dump(fs []scan.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "  %s %s off=%d ptr=%q: %s [%s]\n", f.RuleID, f.Severity, f.Offset, f.Pointer, f.Message, f.Evidence)
	}
	return b.String()
}

func TestEveryDtypeKnown(t *testing.T) {
	t.Parallel()
	sizes := map[string]int{
		"BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1, "F8_E4M3FNUZ": 1, "F8_E5M2FNUZ": 1,
		"I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4, "U32": 4, "F32": 4,
		"I64": 8, "U64": 8, "F64": 8, "C64": 8,
		"F4": 1, "F6_E2M3": 3, "F6_E3M2": 3, // shape [2] and [4] below
	}
	for dtype, size := range sizes {
		t.Run(dtype, func(t *testing.T) {
			t.Parallel()
			n := 1
			switch dtype {
			case "F4":
				n = 2
			case "F6_E2M3", "F6_E3M2":
				n = 4
			}
			h := fmt.Sprintf(`{"t":{"dtype":%q,"shape":[%d],"data_offsets":[0,%d]}}`, dtype, n, size)
			sess := runFake(t, stFile(h, size), false)
			if len(sess.findings) != 0 {
				t.Errorf("dtype %s: unexpected findings\n%s", dtype, dump(sess.findings))
			}
		})
	}
}

func TestFindingDetails(t *testing.T) {
	t.Parallel()
	h := `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"evil\u001b[2J":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}`
	data := stFile(h, 20)
	sess := runFake(t, data, false)
	dataStart := int64(8 + len(h))
	var overlap, trailing *scan.Finding
	for i := range sess.findings {
		switch sess.findings[i].RuleID {
		case "SFT010":
			overlap = &sess.findings[i]
		case "SFT012":
			trailing = &sess.findings[i]
		}
	}
	if overlap == nil || trailing == nil {
		t.Fatalf("want SFT010 and SFT012, got\n%s", dump(sess.findings))
	}
	if got, want := overlap.Offset, dataStart+4; got != want {
		t.Errorf("overlap offset = %d, want %d", got, want)
	}
	if strings.ContainsRune(overlap.Message, 0x1b) || strings.ContainsRune(overlap.Evidence, 0x1b) {
		t.Errorf("control character reached the report: %q / %q", overlap.Message, overlap.Evidence)
	}
	if !strings.Contains(overlap.Evidence, `[0, 8)`) || !strings.Contains(overlap.Evidence, `[4, 12)`) {
		t.Errorf("overlap evidence = %q, want both ranges", overlap.Evidence)
	}
	if got, want := trailing.Offset, dataStart+12; got != want {
		t.Errorf("trailing offset = %d, want %d", got, want)
	}
	if diff := cmp.Diff([]string{fmt.Sprintf("trailing-data@%d", dataStart+12)}, sess.nested); diff != "" {
		t.Errorf("nested (-want +got):\n%s", diff)
	}

	// Header-level findings point at the tensor's key in the header.
	h2 := `{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}`
	sess = runFake(t, stFile(h2, 8), false)
	if len(sess.findings) != 1 {
		t.Fatalf("want one finding, got\n%s", dump(sess.findings))
	}
	f := sess.findings[0]
	if f.RuleID != "SFT005" || f.Evidence != `"Q4"` || f.Pointer != "w.dtype" || f.Offset != int64(8+strings.Index(h2, `"Q4"`)) {
		t.Errorf("got %s evidence=%q pointer=%q offset=%d", f.RuleID, f.Evidence, f.Pointer, f.Offset)
	}
}

func TestFindingCap(t *testing.T) {
	t.Parallel()
	var parts []string
	for i := range 40 {
		parts = append(parts, fmt.Sprintf(`"t%d":{"dtype":"X","shape":[0],"data_offsets":[0,0]}`, i))
	}
	sess := runFake(t, stFile("{"+strings.Join(parts, ",")+"}", 0), false)
	if got, want := len(sess.findings), maxPerRule+1; got != want {
		t.Fatalf("got %d findings, want %d", got, want)
	}
	last := sess.findings[len(sess.findings)-1]
	if last.RuleID != "SFT005" || !strings.Contains(last.Message, "24 more") {
		t.Errorf("summary finding = %s %q", last.RuleID, last.Message)
	}
}

func TestTentative(t *testing.T) {
	t.Parallel()
	for _, data := range [][]byte{[]byte("\x80\x04\x95hello world"), []byte("short")} {
		sess := runFake(t, data, true)
		if len(sess.findings) != 0 {
			t.Errorf("tentative %q: unexpected findings\n%s", data, dump(sess.findings))
		}
	}
}

func engine(limits scan.Limits, extra map[scan.Format]scan.Scanner) *scan.Engine {
	scanners := map[scan.Format]scan.Scanner{scan.FormatSafetensors: New()}
	for f, s := range extra {
		scanners[f] = s
	}
	return scan.NewEngine(scan.Options{Scanners: scanners, Limits: limits, Workers: 1})
}

func TestCorpus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file string
		want []brief
	}{
		{"benign_weights.safetensors", want()},
		{"malformed_safetensors_header_len.safetensors", []brief{{"SFT001", scan.SeverityLow}}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			fs, err := engine(scan.Limits{}, nil).ScanReader(t.Context(), tt.file, bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("ScanReader: %v", err)
			}
			if diff := cmp.Diff(tt.want, briefs(fs)); diff != "" {
				t.Errorf("findings (-want +got):\n%s\n%s", diff, dump(fs))
			}
			for _, f := range fs {
				if f.Severity >= scan.SeverityHigh {
					t.Errorf("%s: %s finding on a data-only format", f.RuleID, f.Severity)
				}
			}
		})
	}
}

func TestHeaderLimit(t *testing.T) {
	t.Parallel()
	data := stFile(`{`+okTensor+`}`, 8)
	fs, err := engine(scan.Limits{MaxHeaderBytes: 16}, nil).ScanReader(t.Context(), "m.safetensors", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want("SFT001"), briefs(fs)); diff != "" {
		t.Errorf("findings (-want +got):\n%s\n%s", diff, dump(fs))
	}
	if !strings.Contains(fs[0].Message, "16-byte header limit") {
		t.Errorf("message %q does not name the limit", fs[0].Message)
	}
}

// pickleProbe stands in for the pickle scanner: it reports every object it
// is given.
type pickleProbe struct{}

var probeRule = scan.Rule{ID: "TST001", Name: "probe", Severity: scan.SeverityCritical}

func (pickleProbe) Rules() []scan.Rule { return []scan.Rule{probeRule} }
func (pickleProbe) Scan(_ context.Context, obj scan.Object, sess *scan.Session) error {
	sess.Report(probeRule.Finding("pickle seen", obj.Name))
	return nil
}

func TestAppendedPayloadIsScanned(t *testing.T) {
	t.Parallel()
	payload := []byte("\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94.")
	h := `{` + okTensor + `}`
	for _, zeros := range []int{0, 24} {
		t.Run(fmt.Sprintf("after %d zero bytes", zeros), func(t *testing.T) {
			t.Parallel()
			data := stFile(h, 8+zeros, payload...)
			eng := engine(scan.Limits{}, map[scan.Format]scan.Scanner{scan.FormatPickle: pickleProbe{}})
			fs, err := eng.ScanReader(t.Context(), "m.safetensors", bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]brief{{"SFT012", scan.SeverityMedium}, {"TST001", scan.SeverityCritical}}, briefs(fs)); diff != "" {
				t.Fatalf("findings (-want +got):\n%s\n%s", diff, dump(fs))
			}
			name := fmt.Sprintf("trailing-data@%d", 8+len(h)+8+zeros)
			for _, f := range fs {
				switch f.RuleID {
				case "SFT012":
					if f.Offset != int64(8+len(h)+8) {
						t.Errorf("trailing data reported at %d, want %d", f.Offset, 8+len(h)+8)
					}
				case "TST001":
					if diff := cmp.Diff([]string{name}, f.Inner); diff != "" {
						t.Errorf("probe finding inner (-want +got):\n%s", diff)
					}
				}
			}
		})
	}
}
