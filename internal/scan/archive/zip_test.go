package archive

import (
	"bytes"
	"slices"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz/lzma"

	"github.com/palisade-sec/palisade/internal/scan"
)

// structural lists the ARC rules a clean, regular zip never raises.
var structural = []string{"ARC001", "ARC002", "ARC003", "ARC004", "ARC005", "ARC006", "ARC007", "ARC008", "ARC009"}

func TestZip(t *testing.T) {
	t.Parallel()
	pkl := func(name string) zipMember { return zipMember{name: name, data: payload} }
	tests := []struct {
		name    string
		members []zipMember
		opts    zipOpts
		wants   []want
		none    []string
		seen    []string // members the fake pickle scanner must receive
	}{
		{
			name:    "stored, regular",
			members: []zipMember{pkl("archive/data.pkl"), {name: "archive/version", data: []byte("3\n")}},
			wants:   []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/data.pkl"}},
			none:    structural,
			seen:    []string{"archive/data.pkl"},
		},
		{
			// CVE-2025-10156: PyTorch ignores CRCs, and so does Palisade.
			name:    "bad CRC",
			members: []zipMember{{name: "archive/data.pkl", data: payload, badCRC: true}},
			wants:   []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/data.pkl"}},
			none:    structural,
		},
		{
			// CVE-2025-1945: flag bits that make zipfile refuse the member.
			name:    "encryption flag 0x1 on a stored member",
			members: []zipMember{{name: "archive/data.pkl", data: payload, flags: 0x1}},
			wants: []want{
				{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/data.pkl"},
				{rule: "ARC003", sev: scan.SeverityMedium, text: "flagged as encrypted but stored"},
			},
		},
		{
			name:    "patched-data flag 0x20 on a stored member",
			members: []zipMember{{name: "archive/data.pkl", data: payload, flags: 0x20}},
			wants: []want{
				{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/data.pkl"},
				{rule: "ARC009", sev: scan.SeverityLow, text: "compressed patched data"},
			},
			none: []string{"ARC003"},
		},
		{
			name:    "strong-encryption flag 0x40 on a stored member",
			members: []zipMember{{name: "archive/data.pkl", data: payload, flags: 0x40}},
			wants: []want{
				{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/data.pkl"},
				{rule: "ARC003", sev: scan.SeverityMedium},
			},
		},
		{
			// CVE-2025-1944: the loader uses the central name.
			name:    "local and central names differ",
			members: []zipMember{{name: "archive/data.pkl", localName: "archive/data.txt", data: payload}},
			wants: []want{
				{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/data.pkl"},
				{rule: "ARC002", sev: scan.SeverityHigh, text: `named "archive/data.txt" in its local header`},
			},
			seen: []string{"archive/data.pkl"},
		},
		{
			name:    "data prepended",
			members: []zipMember{pkl("archive/data.pkl")},
			opts:    zipOpts{prefix: bytes.Repeat([]byte("JUNK"), 100)},
			wants: []want{
				{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/data.pkl"},
				{rule: "ARC009", sev: scan.SeverityLow, text: "400 bytes of other data precede"},
			},
			none: []string{"ARC001", "ARC008"},
		},
		{
			name:    "ZIP64",
			members: []zipMember{pkl("archive/data.pkl"), {name: "archive/data/0", data: make([]byte, 4096)}},
			opts:    zipOpts{zip64: true},
			wants:   []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/data.pkl"}},
			none:    structural,
		},
		{
			name:    "ZIP64 with data prepended",
			members: []zipMember{pkl("archive/data.pkl")},
			opts:    zipOpts{zip64: true, prefix: []byte("prefix")},
			wants: []want{
				{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/data.pkl"},
				{rule: "ARC009", sev: scan.SeverityLow, text: "6 bytes of other data precede"},
			},
		},
		{
			name: "zip slip",
			members: []zipMember{
				{name: "../../etc/cron.d/job", data: []byte("x")},
				{name: "/etc/passwd", data: []byte("x")},
				{name: `C:\Windows\evil.dll`, data: []byte("x")},
				{name: `a\..\..\b`, data: []byte("x")},
				{name: "a/../inside", data: []byte("x")},
			},
			wants: []want{
				{rule: "ARC005", sev: scan.SeverityHigh, text: `"../../etc/cron.d/job" is a path that climbs out`},
				{rule: "ARC005", sev: scan.SeverityHigh, text: `"/etc/passwd" is an absolute path`},
				{rule: "ARC005", sev: scan.SeverityHigh, text: "is a drive-letter path"},
				{rule: "ARC005", sev: scan.SeverityHigh, text: `"a\\..\\..\\b" is a path that climbs out`},
			},
		},
		{
			name:    "duplicate names",
			members: []zipMember{{name: "archive/data.pkl", data: benignPickle}, pkl("archive/data.pkl")},
			wants: []want{
				{rule: "ARC004", sev: scan.SeverityMedium, text: `"archive/data.pkl" occurs more than once`},
				{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/data.pkl"},
			},
		},
		{
			name:    "deflated members",
			members: []zipMember{{name: "keras/config.json", data: []byte(`{"class_name": "Sequential", "config": {}}`), method: zipDeflate}, {name: "evil.npy", data: append([]byte("\x93NUMPY\x01\x00"), payload...), method: zipDeflate}},
			wants:   []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "evil.npy"}},
			none:    structural,
			seen:    []string{"evil.npy"},
		},
		{
			name:    "WinZip AES member",
			members: []zipMember{{name: "secret.pkl", method: zipAES, raw: bytes.Repeat([]byte{0xa5}, 64), data: payload, flags: 0x1}},
			wants:   []want{{rule: "ARC003", sev: scan.SeverityMedium, text: "WinZip AES"}},
			none:    []string{"ARC006"},
		},
		{
			name:    "unsupported method",
			members: []zipMember{{name: "old.pkl", method: 6, raw: []byte("imploded"), data: payload}},
			wants:   []want{{rule: "ARC006", sev: scan.SeverityMedium, text: "method 6 (implode)"}},
		},
		{
			name:    "entry count disagrees",
			members: []zipMember{pkl("a.pkl"), pkl("b.pkl")},
			opts:    zipOpts{declared: 1},
			wants: []want{
				{rule: "ARC009", sev: scan.SeverityLow, text: "declares 1 members but the central directory holds 2"},
				{rule: "TST001", sev: scan.SeverityCritical, inner: "b.pkl"},
			},
		},
		{
			// A truncated download: no central directory, but the local
			// headers still lead to the payload.
			name:    "no central directory",
			members: []zipMember{pkl("archive/data.pkl"), {name: "archive/version", data: []byte("3\n")}},
			opts:    zipOpts{noCentral: true},
			wants: []want{
				{rule: "ARC001", sev: scan.SeverityMedium, text: "no usable central directory"},
				{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/data.pkl"},
			},
		},
		{
			name:    "truncated inside the first member",
			members: []zipMember{{name: "archive/data.pkl", data: append(append([]byte(nil), payload...), make([]byte, 1000)...)}},
			opts:    zipOpts{truncateAfter: zipLocalLen + len("archive/data.pkl") + len(payload) + 10},
			wants: []want{
				{rule: "ARC001", sev: scan.SeverityMedium},
				{rule: "ARC008", sev: scan.SeverityMedium, text: "truncated"},
				{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/data.pkl"},
			},
		},
		{
			name:    "empty archive",
			members: nil,
			none:    structural,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := buildZip(t, tt.members, tt.opts)
			fs, rec := scanData(t, "model.pt", data, scan.Limits{})
			checkFindings(t, fs, tt.wants, tt.none)
			got := rec.names()
			for _, n := range tt.seen {
				s, ok := rec.get(n)
				if !ok {
					t.Errorf("member %q was not handed on; handed %q", n, got)
					continue
				}
				for _, m := range tt.members {
					if m.name == n && !bytes.Equal(s.data, m.data) {
						t.Errorf("member %q content = %q, want %q", n, s.data, m.data)
					}
				}
			}
		})
	}
}

// TestZipDuplicateCopiesScanned checks that every copy of a duplicated name
// is scanned, not only the one a given loader would pick.
func TestZipDuplicateCopiesScanned(t *testing.T) {
	t.Parallel()
	for _, order := range [][]zipMember{
		{{name: "archive/data.pkl", data: benignPickle}, {name: "archive/data.pkl", data: payload}},
		{{name: "archive/data.pkl", data: payload}, {name: "archive/data.pkl", data: benignPickle}},
	} {
		fs, rec := scanData(t, "model.pt", buildZip(t, order, zipOpts{}), scan.Limits{})
		if n := len(rec.names()); n != 2 {
			t.Errorf("pickle scanner saw %d copies, want 2", n)
		}
		checkFindings(t, fs, []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/data.pkl"}}, nil)
	}
}

// TestZipOtherMethods covers the compression methods beyond deflate that
// the scanner decodes: LZMA and zstd members.
func TestZipOtherMethods(t *testing.T) {
	t.Parallel()
	var lz bytes.Buffer
	w, err := lzma.WriterConfig{SizeInHeader: true, Size: int64(len(payload))}.NewWriter(&lz)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(payload); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Zip's LZMA framing: version, properties length, properties, stream.
	alone := lz.Bytes()
	zipLZMAData := append([]byte{9, 20, 5, 0}, alone[:5]...)
	zipLZMAData = append(zipLZMAData, alone[13:]...)

	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	zst := enc.EncodeAll(payload, nil)
	_ = enc.Close()

	tests := []struct {
		name   string
		member zipMember
		wants  []want
	}{
		{"lzma", zipMember{name: "m.pkl", method: zipLZMA, raw: zipLZMAData, data: payload},
			[]want{{rule: "TST001", sev: scan.SeverityCritical, inner: "m.pkl"}}},
		{"zstd", zipMember{name: "m.pkl", method: zipZstd, raw: zst, data: payload},
			[]want{{rule: "TST001", sev: scan.SeverityCritical, inner: "m.pkl"}}},
		{"corrupt zstd", zipMember{name: "m.pkl", method: zipZstd, raw: zst[:len(zst)/2], data: payload},
			[]want{{rule: "ARC008", sev: scan.SeverityMedium}}},
		{"lzma dictionary too large", zipMember{name: "m.pkl", method: zipLZMA, raw: []byte{9, 20, 5, 0, 0x5d, 0, 0, 0, 0x80, 0, 0, 0}, data: payload},
			[]want{{rule: "ARC008", sev: scan.SeverityMedium, text: "dictionary"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs, _ := scanData(t, "m.zip", buildZip(t, []zipMember{tt.member}, zipOpts{}), scan.Limits{})
			checkFindings(t, fs, tt.wants, nil)
		})
	}
}

// TestZipEncryptedDeflate covers the encryption flag on a deflated member:
// plain deflate data under the flag is scanned; undecodable data is
// reported as not analysed.
func TestZipEncryptedDeflate(t *testing.T) {
	t.Parallel()
	plain := buildZip(t, []zipMember{{name: "a.pkl", data: payload, method: zipDeflate, flags: 0x1}}, zipOpts{})
	fs, _ := scanData(t, "a.zip", plain, scan.Limits{})
	checkFindings(t, fs, []want{
		{rule: "TST001", sev: scan.SeverityCritical, inner: "a.pkl"},
		{rule: "ARC003", sev: scan.SeverityMedium, text: "decompresses as plain data"},
	}, nil)

	// Bytes that are not a deflate stream: a reserved block type.
	cipher := buildZip(t, []zipMember{{name: "a.pkl", data: payload, method: zipDeflate, flags: 0x1}}, zipOpts{})
	// Replace the deflated data with an invalid block (BTYPE=11).
	i := bytes.Index(cipher, []byte("a.pkl")) + len("a.pkl")
	cipher[i] = 0x07
	fs, _ = scanData(t, "a.zip", cipher, scan.Limits{})
	checkFindings(t, fs, []want{{rule: "ARC003", sev: scan.SeverityMedium, text: "could not be decompressed or analysed"}}, []string{"TST001"})
}

// TestZipUnreadable checks that objects routed as zip that hold no
// readable archive fail closed.
func TestZipUnreadable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		data []byte
	}{
		{"end record pointing nowhere", append(bytes.Repeat([]byte{'x'}, 100), "PK\x05\x06\x00\x00\x00\x00\x01\x00\x01\x00\x2e\x00\x00\x00\x10\x00\x00\x00\x00\x00"...)},
		{"local header only, garbage after", append([]byte("PK\x03\x04"), bytes.Repeat([]byte{0xff}, 10)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs, _ := scanData(t, "x.zip", tt.data, scan.Limits{})
			checkFindings(t, fs, []want{{rule: "ARC001", sev: scan.SeverityMedium}}, nil)
		})
	}
}

// TestZipCrossCheck checks that an archive Go's strict archive/zip rejects,
// but which the lenient reader opens, is reported as irregular and still
// scanned.
func TestZipCrossCheck(t *testing.T) {
	t.Parallel()
	data := buildZip(t, []zipMember{{name: "archive/data.pkl", data: payload}}, zipOpts{})
	// A saturated compressed size with no ZIP64 field: archive/zip
	// refuses the directory entry.
	c := bytes.Index(data, []byte("PK\x01\x02"))
	le.PutUint32(data[c+20:], 0xffffffff)
	fs, _ := scanData(t, "model.pt", data, scan.Limits{})
	checkFindings(t, fs, []want{
		{rule: "ARC009", sev: scan.SeverityLow, text: "strict zip readers reject this archive"},
		{rule: "TST001", sev: scan.SeverityCritical, inner: "archive/data.pkl"},
	}, nil)
}

// TestZipOverlappingMembers checks the overlapping-file layout: several
// central entries pointing at one local header.
func TestZipOverlappingMembers(t *testing.T) {
	t.Parallel()
	data := buildZip(t, []zipMember{{name: "a.pkl", data: payload}, {name: "b.pkl", data: benignPickle}}, zipOpts{})
	// Point the second central entry at the first local header.
	c := bytes.LastIndex(data, []byte("PK\x01\x02"))
	le.PutUint32(data[c+42:], 0)
	fs, _ := scanData(t, "bomb.zip", data, scan.Limits{})
	checkFindings(t, fs, []want{
		{rule: "ARC009", sev: scan.SeverityLow, text: "1 members share or overlap"},
		{rule: "ARC002", sev: scan.SeverityHigh},
	}, nil)
}

func TestSymmetricDiff(t *testing.T) {
	t.Parallel()
	got := symmetricDiff([]string{"a", "b", "b", "d"}, []string{"b", "c", "d", "e"}, 10)
	if want := []string{"a", "b", "c", "e"}; !slices.Equal(got, want) {
		t.Errorf("symmetricDiff = %q, want %q", got, want)
	}
	if got := symmetricDiff([]string{"a", "b", "c"}, nil, 2); len(got) != 2 {
		t.Errorf("symmetricDiff with max 2 returned %q", got)
	}
}

// TestZipReaderDifferential checks that a directory strict readers list
// differently is reported, and that every member Palisade's reader finds
// is scanned.
func TestZipReaderDifferential(t *testing.T) {
	t.Parallel()
	data := buildZip(t, []zipMember{{name: "a.pkl", data: benignPickle}, {name: "b.pkl", data: payload}}, zipOpts{declared: 1})
	// archive/zip stops at the second entry (a saturated size without a
	// ZIP64 field), which matches the declared count of one.
	c := bytes.LastIndex(data, []byte("PK\x01\x02"))
	le.PutUint32(data[c+20:], 0xffffffff)
	fs, _ := scanData(t, "model.zip", data, scan.Limits{})
	checkFindings(t, fs, []want{
		{rule: "ARC009", sev: scan.SeverityLow, text: "strict zip readers list 1 members where the central directory PyTorch reads lists 2"},
		{rule: "TST001", sev: scan.SeverityCritical, inner: "b.pkl"},
	}, nil)
}
