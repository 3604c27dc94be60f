package archive

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf16"

	"github.com/klauspost/compress/flate"

	"github.com/palisade-sec/palisade/internal/scan"
)

// payload is an inert protocol-2 pickle that would call os.system; the
// fake pickle scanner flags anything containing "system".
var payload = []byte("\x80\x02cposix\nsystem\nq\x00X\x04\x00\x00\x00echoq\x01\x85q\x02Rq\x03.")

// benignPickle is an inert protocol-2 pickle of an empty dict.
var benignPickle = []byte("\x80\x02}q\x00.")

var ruleFake = scan.Rule{
	ID: "TST001", Name: "fake-dangerous-call", Severity: scan.SeverityCritical,
	Summary: "test rule", Remediation: "none",
}

// seenObj is one object handed to the recorder.
type seenObj struct {
	name      string
	format    scan.Format
	tentative bool
	depth     int
	data      []byte
}

// recorder stands in for the pickle, NumPy and Keras scanners: it records
// what it was handed and reports TST001 when the bytes contain "system".
type recorder struct {
	mu   sync.Mutex
	seen []seenObj
	// force, when set, makes the recorder hand a top-level object to the
	// archive scanner as this format (used by the fuzz targets).
	force scan.Format
	// quiet stops the recorder from keeping what it sees.
	quiet bool
}

func (r *recorder) Rules() []scan.Rule { return []scan.Rule{ruleFake} }

func (r *recorder) Scan(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	if r.force != "" && sess.Depth() == 0 {
		return sess.Nested(ctx, obj.Name, obj.R, obj.Size, r.force)
	}
	data := make([]byte, min(obj.Size, 1<<20))
	n, err := obj.R.ReadAt(data, 0)
	if err != nil && err != io.EOF {
		return err
	}
	data = data[:n]
	if !r.quiet {
		r.mu.Lock()
		r.seen = append(r.seen, seenObj{name: obj.Name, format: obj.Format, tentative: obj.Tentative, depth: sess.Depth(), data: data})
		r.mu.Unlock()
	}
	if i := bytes.Index(data, []byte("system")); i >= 0 {
		f := ruleFake.Finding("fake payload", "system")
		f.Offset = int64(i)
		sess.Report(f)
	}
	return nil
}

// names returns the names of the objects seen, in order.
func (r *recorder) names() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.seen {
		out = append(out, s.name)
	}
	return out
}

// get returns the first object seen under name.
func (r *recorder) get(name string) (seenObj, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.seen {
		if s.name == name {
			return s, true
		}
	}
	return seenObj{}, false
}

// newEngine returns an engine with the archive scanner for its formats and
// rec for pickle, NumPy and Keras content.
func newEngine(t testing.TB, rec *recorder, lim scan.Limits) *scan.Engine {
	t.Helper()
	sc := New()
	m := map[scan.Format]scan.Scanner{}
	for _, f := range Formats() {
		m[f] = sc
	}
	if rec != nil {
		m[scan.FormatPickle] = rec
		m[scan.FormatNumpy] = rec
		m[scan.FormatKerasConfig] = rec
	}
	return scan.NewEngine(scan.Options{Scanners: m, Limits: lim, TempDir: t.TempDir(), Workers: 1})
}

// scanData scans data as a file called name and returns the findings and
// what the recorder saw.
func scanData(t testing.TB, name string, data []byte, lim scan.Limits) ([]scan.Finding, *recorder) {
	t.Helper()
	rec := &recorder{}
	fs, err := newEngine(t, rec, lim).ScanReader(context.Background(), name, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("ScanReader(%s): %v", name, err)
	}
	return fs, rec
}

// want is a finding a test expects.
type want struct {
	rule  string
	sev   scan.Severity
	inner string // members joined with "!/", "" for the file itself
	text  string // substring of the message, optional
}

func innerPath(f scan.Finding) string { return strings.Join(f.Inner, "!/") }

// checkFindings fails t unless every wanted finding is present and no
// finding of a rule in none is.
func checkFindings(t *testing.T, fs []scan.Finding, wants []want, none []string) {
	t.Helper()
	for _, w := range wants {
		found := slices.ContainsFunc(fs, func(f scan.Finding) bool {
			return f.RuleID == w.rule && f.Severity == w.sev && innerPath(f) == w.inner && strings.Contains(f.Message, w.text)
		})
		if !found {
			t.Errorf("missing %s (%s) at %q with %q; got:\n%s", w.rule, w.sev, w.inner, w.text, dump(fs))
		}
	}
	for _, id := range none {
		for _, f := range fs {
			if f.RuleID == id {
				t.Errorf("unexpected %s at %q: %s (%s)", id, innerPath(f), f.Message, f.Evidence)
			}
		}
	}
}

func dump(fs []scan.Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString("  " + f.RuleID + " " + f.Severity.String() + " [" + innerPath(f) + "] " + f.Message + " | " + f.Evidence + "\n")
	}
	return b.String()
}

// maxSeverity returns the highest severity among fs.
func maxSeverity(fs []scan.Finding) scan.Severity {
	s := scan.SeverityNone
	for _, f := range fs {
		s = max(s, f.Severity)
	}
	return s
}

// zipMember describes one member for buildZip.
type zipMember struct {
	name      string
	localName string // local header name; "" means name
	data      []byte
	method    uint16 // zipStore or zipDeflate (compressed here); others are stored raw
	raw       []byte // for other methods: the bytes written as compressed data
	flags     uint16
	badCRC    bool
}

// zipOpts shape the archive as a whole.
type zipOpts struct {
	prefix        []byte // data before the archive (offsets stay relative to the archive)
	zip64         bool   // write ZIP64 records and extra fields
	declared      int    // entry count in the end record; 0 means the real count
	noCentral     bool   // cut the file before the central directory
	truncateAfter int    // cut the file this many bytes into the member data area; 0 means no cut
}

// buildZip writes a zip by hand, so tests can produce what standard
// writers refuse to.
func buildZip(t testing.TB, members []zipMember, o zipOpts) []byte {
	t.Helper()
	var body, cd bytes.Buffer
	le := binary.LittleEndian
	for _, m := range members {
		comp := m.data
		switch {
		case m.method == zipDeflate:
			var b bytes.Buffer
			w, err := flate.NewWriter(&b, flate.BestSpeed)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(m.data); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			comp = b.Bytes()
		case m.method != zipStore:
			comp = m.raw
		}
		crc := crc32.ChecksumIEEE(m.data)
		if m.badCRC {
			crc ^= 0xdeadbeef
		}
		local := m.localName
		if local == "" {
			local = m.name
		}
		off := uint64(body.Len())
		var extra []byte
		csize, usize, roff := uint32(len(comp)), uint32(len(m.data)), uint32(off)
		if o.zip64 {
			extra = make([]byte, 4+24)
			le.PutUint16(extra, 1)
			le.PutUint16(extra[2:], 24)
			le.PutUint64(extra[4:], uint64(len(m.data)))
			le.PutUint64(extra[12:], uint64(len(comp)))
			le.PutUint64(extra[20:], off)
			csize, usize, roff = 0xffffffff, 0xffffffff, 0xffffffff
		}
		h := make([]byte, zipLocalLen)
		le.PutUint32(h, zipLocalSig)
		le.PutUint16(h[4:], 20)
		le.PutUint16(h[6:], m.flags)
		le.PutUint16(h[8:], m.method)
		le.PutUint32(h[14:], crc)
		le.PutUint32(h[18:], csize)
		le.PutUint32(h[22:], usize)
		le.PutUint16(h[26:], uint16(len(local)))
		var lextra []byte
		if o.zip64 {
			lextra = extra[:4+16]
			lextra = append([]byte(nil), lextra...)
			le.PutUint16(lextra[2:], 16)
		}
		le.PutUint16(h[28:], uint16(len(lextra)))
		body.Write(h)
		body.WriteString(local)
		body.Write(lextra)
		body.Write(comp)

		c := make([]byte, zipCentralLen)
		le.PutUint32(c, zipCentralSig)
		le.PutUint16(c[4:], 0x031e)
		le.PutUint16(c[6:], 20)
		le.PutUint16(c[8:], m.flags)
		le.PutUint16(c[10:], m.method)
		le.PutUint32(c[16:], crc)
		le.PutUint32(c[20:], csize)
		le.PutUint32(c[24:], usize)
		le.PutUint16(c[28:], uint16(len(m.name)))
		le.PutUint16(c[30:], uint16(len(extra)))
		le.PutUint32(c[42:], roff)
		cd.Write(c)
		cd.WriteString(m.name)
		cd.Write(extra)
	}
	if o.truncateAfter > 0 {
		return append(append([]byte(nil), o.prefix...), body.Bytes()[:o.truncateAfter]...)
	}
	if o.noCentral {
		return append(append([]byte(nil), o.prefix...), body.Bytes()...)
	}
	n := len(members)
	if o.declared != 0 {
		n = o.declared
	}
	cdOff, cdSize := uint64(body.Len()), uint64(cd.Len())
	out := append(append([]byte(nil), o.prefix...), body.Bytes()...)
	out = append(out, cd.Bytes()...)
	end := make([]byte, zipEndLen)
	le.PutUint32(end, zipEndSig)
	if o.zip64 {
		rec := make([]byte, zip64EndLen)
		le.PutUint32(rec, zip64EndSig)
		le.PutUint64(rec[4:], zip64EndLen-12)
		le.PutUint16(rec[12:], 45)
		le.PutUint16(rec[14:], 45)
		le.PutUint64(rec[24:], uint64(n))
		le.PutUint64(rec[32:], uint64(n))
		le.PutUint64(rec[40:], cdSize)
		le.PutUint64(rec[48:], cdOff)
		loc := make([]byte, zip64LocLen)
		le.PutUint32(loc, zip64LocSig)
		le.PutUint64(loc[8:], cdOff+cdSize)
		le.PutUint32(loc[16:], 1)
		out = append(out, rec...)
		out = append(out, loc...)
		le.PutUint16(end[8:], 0xffff)
		le.PutUint16(end[10:], 0xffff)
		le.PutUint32(end[12:], 0xffffffff)
		le.PutUint32(end[16:], 0xffffffff)
	} else {
		le.PutUint16(end[8:], uint16(n))
		le.PutUint16(end[10:], uint16(n))
		le.PutUint32(end[12:], uint32(cdSize))
		le.PutUint32(end[16:], uint32(cdOff))
	}
	return append(out, end...)
}

// sz7File is one file for build7z.
type sz7File struct {
	name string
	data []byte
}

// sz7Opts shape a hand-built 7z archive.
type sz7Opts struct {
	coder    []byte // coder ID; nil means Copy
	props    []byte // coder properties
	packed   []byte // the packed stream; nil means the files' data concatenated (Copy)
	header   []byte // a complete raw header replacing the generated one
	badStart bool   // corrupt the start header checksum
}

// sz7Number encodes a 7z variable-length integer.
func sz7Number(v uint64) []byte {
	switch {
	case v < 0x80:
		return []byte{byte(v)}
	case v < 0x4000:
		return []byte{0x80 | byte(v>>8), byte(v)}
	case v < 0x200000:
		return []byte{0xc0 | byte(v>>16), byte(v), byte(v >> 8)}
	}
	b := []byte{0xff, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.LittleEndian.PutUint64(b[1:], v)
	return b
}

// build7z writes a single-folder 7z archive with a plain header.
func build7z(files []sz7File, o sz7Opts) []byte {
	var data []byte
	for _, f := range files {
		data = append(data, f.data...)
	}
	packed := o.packed
	if packed == nil {
		packed = data
	}
	hdr := o.header
	if hdr == nil {
		coder := o.coder
		if coder == nil {
			coder = []byte{0x00}
		}
		h := []byte{szHeader, szMainStreams, szPackInfo}
		h = append(h, sz7Number(0)...)
		h = append(h, sz7Number(1)...)
		h = append(h, szSize)
		h = append(h, sz7Number(uint64(len(packed)))...)
		h = append(h, szEnd, szUnpackInfo, szFolderID, 1, 0, 1)
		flag := byte(len(coder))
		if o.props != nil {
			flag |= 0x20
		}
		h = append(h, flag)
		h = append(h, coder...)
		if o.props != nil {
			h = append(h, sz7Number(uint64(len(o.props)))...)
			h = append(h, o.props...)
		}
		h = append(h, szCodersUnpackSize)
		h = append(h, sz7Number(uint64(len(data)))...)
		h = append(h, szEnd, szSubStreams, szNumUnpackStream)
		h = append(h, sz7Number(uint64(len(files)))...)
		h = append(h, szSize)
		for _, f := range files[:len(files)-1] {
			h = append(h, sz7Number(uint64(len(f.data)))...)
		}
		h = append(h, szEnd, szEnd, szFilesInfo)
		h = append(h, sz7Number(uint64(len(files)))...)
		var names []byte
		names = append(names, 0) // not external
		for _, f := range files {
			for _, u := range utf16.Encode([]rune(f.name)) {
				names = binary.LittleEndian.AppendUint16(names, u)
			}
			names = append(names, 0, 0)
		}
		h = append(h, 0x11)
		h = append(h, sz7Number(uint64(len(names)))...)
		h = append(h, names...)
		h = append(h, szEnd, szEnd)
		hdr = h
	}
	start := make([]byte, 20)
	binary.LittleEndian.PutUint64(start, uint64(len(packed)))
	binary.LittleEndian.PutUint64(start[8:], uint64(len(hdr)))
	binary.LittleEndian.PutUint32(start[16:], crc32.ChecksumIEEE(hdr))
	crc := crc32.ChecksumIEEE(start)
	if o.badStart {
		crc ^= 1
	}
	out := []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c, 0, 4}
	out = binary.LittleEndian.AppendUint32(out, crc)
	out = append(out, start...)
	out = append(out, packed...)
	return append(out, hdr...)
}
