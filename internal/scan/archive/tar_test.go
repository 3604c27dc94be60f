package archive

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// tarEntry is one member for buildTar.
type tarEntry struct {
	name   string
	typ    byte
	link   string
	data   []byte
	size   int64 // declared size when it differs from len(data)
	format tar.Format
}

func buildTar(t testing.TB, entries []tarEntry) []byte {
	t.Helper()
	var b bytes.Buffer
	w := tar.NewWriter(&b)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		size := int64(len(e.data))
		if e.size != 0 {
			size = e.size
		}
		if typ != tar.TypeReg {
			size = 0
		}
		h := &tar.Header{Name: e.name, Typeflag: typ, Linkname: e.link, Size: size, Mode: 0o644, Format: e.format}
		if err := w.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil && !strings.Contains(err.Error(), "missed writing") {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestTar(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("very-long-directory-name/", 8) + "data.pkl"
	tests := []struct {
		name    string
		entries []tarEntry
		cut     int // truncate the archive to this many bytes; 0 means no cut
		corrupt int // overwrite the 512-byte block with this index; 0 means none
		wants   []want
		none    []string
		seen    map[string][]byte // member name -> content the fake scanner must receive
	}{
		{
			name: "pytorch legacy layout",
			entries: []tarEntry{
				{name: "sys_info", data: benignPickle},
				{name: "pickle", data: payload},
				{name: "storages", data: benignPickle},
				{name: "tensors", data: benignPickle},
			},
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "pickle"}},
			none:  structural,
			seen:  map[string][]byte{"pickle": payload, "sys_info": benignPickle, "tensors": benignPickle},
		},
		{
			name: "PAX and GNU long names keep offsets right",
			entries: []tarEntry{
				{name: long, data: payload, format: tar.FormatPAX},
				{name: long + ".gnu", data: benignPickle, format: tar.FormatGNU},
				{name: "after", data: payload},
			},
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: long}, {rule: "TST001", sev: scan.SeverityCritical, inner: "after"}},
			none:  structural,
			seen:  map[string][]byte{long: payload, long + ".gnu": benignPickle, "after": payload},
		},
		{
			name: "links",
			entries: []tarEntry{
				{name: "model/data.pkl", data: benignPickle},
				{name: "model/escape", typ: tar.TypeSymlink, link: "../../../home/user/.ssh/authorized_keys"},
				{name: "model/abs", typ: tar.TypeSymlink, link: "/etc/passwd"},
				{name: "model/alias", typ: tar.TypeSymlink, link: "data.pkl"},
				{name: "model/hard", typ: tar.TypeLink, link: "model/data.pkl"},
				{name: "model/hard-out", typ: tar.TypeLink, link: "../outside"},
			},
			wants: []want{
				{rule: "ARC005", sev: scan.SeverityHigh, text: `"model/escape" is a symbolic link to "../../../home/user/.ssh/authorized_keys"`},
				{rule: "ARC005", sev: scan.SeverityHigh, text: `"model/abs" is a symbolic link to "/etc/passwd"`},
				{rule: "ARC005", sev: scan.SeverityHigh, text: `"model/hard-out" is a hard link`},
				{rule: "ARC007", sev: scan.SeverityLow, text: `"model/alias" is a symbolic link to "data.pkl"`},
				{rule: "ARC007", sev: scan.SeverityLow, text: `"model/hard" is a hard link`},
			},
		},
		{
			name:    "names that escape",
			entries: []tarEntry{{name: "../evil.pkl", data: payload}, {name: "/abs.pkl", data: payload, format: tar.FormatPAX}},
			wants: []want{
				{rule: "ARC005", sev: scan.SeverityHigh, text: `"../evil.pkl" is a path that climbs out`},
				{rule: "ARC005", sev: scan.SeverityHigh, text: `"/abs.pkl" is an absolute path`},
				{rule: "TST001", sev: scan.SeverityCritical, inner: "../evil.pkl"},
			},
		},
		{
			name:    "duplicate names",
			entries: []tarEntry{{name: "pickle", data: benignPickle}, {name: "pickle", data: payload}},
			wants: []want{
				{rule: "ARC004", sev: scan.SeverityMedium},
				{rule: "TST001", sev: scan.SeverityCritical, inner: "pickle"},
			},
		},
		{
			name:    "truncated member",
			entries: []tarEntry{{name: "pickle", data: append(append([]byte(nil), payload...), make([]byte, 2000)...)}},
			cut:     512 + 600,
			wants: []want{
				{rule: "ARC008", sev: scan.SeverityMedium, text: "truncated"},
				{rule: "TST001", sev: scan.SeverityCritical, inner: "pickle"},
			},
		},
		{
			name:    "corrupt header after the first member",
			entries: []tarEntry{{name: "pickle", data: payload}, {name: "second", data: benignPickle}},
			corrupt: 2,
			wants: []want{
				{rule: "ARC001", sev: scan.SeverityMedium, text: "corrupt after 1 members"},
				{rule: "TST001", sev: scan.SeverityCritical, inner: "pickle"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := buildTar(t, tt.entries)
			if tt.cut > 0 {
				data = data[:tt.cut]
			}
			if tt.corrupt > 0 {
				copy(data[512*tt.corrupt:], bytes.Repeat([]byte{'Z'}, 512))
			}
			fs, rec := scanData(t, "model.tar", data, scan.Limits{})
			checkFindings(t, fs, tt.wants, tt.none)
			for name, content := range tt.seen {
				s, ok := rec.get(name)
				if !ok {
					t.Errorf("member %q not handed on; handed %q", name, rec.names())
					continue
				}
				if !bytes.Equal(s.data, content) {
					t.Errorf("member %q content = %q, want %q", name, s.data, content)
				}
			}
		})
	}
}

// TestTarSparse checks that GNU and PAX sparse members are scanned as
// their logical content (holes expanded), not as their stored bytes.
func TestTarSparse(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"sparse_gnu.tar", "sparse_pax.tar"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			fs, rec := scanData(t, file, data, scan.Limits{})
			checkFindings(t, fs, []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model.pkl"}}, structural)
			s, ok := rec.get("model.pkl")
			if !ok {
				t.Fatalf("model.pkl not handed on; handed %q", rec.names())
			}
			if got, want := len(s.data), 256<<10; got != want {
				t.Errorf("logical size = %d, want %d", got, want)
			}
			if got, want := bytes.Index(s.data, payload), 128<<10; got != want {
				t.Errorf("payload at offset %d, want %d", got, want)
			}
		})
	}
}
