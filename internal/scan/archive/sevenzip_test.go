package archive

import (
	"bytes"
	"testing"

	"github.com/ulikunitz/xz/lzma"

	"github.com/palisade-sec/palisade/internal/scan"
)

// lzmaRaw compresses data as a raw LZMA stream (no .lzma header, no end
// marker, as 7-Zip writes it) and returns the 5 property bytes and the
// stream.
func lzmaRaw(t testing.TB, data []byte) (props, stream []byte) {
	t.Helper()
	var b bytes.Buffer
	w, err := lzma.WriterConfig{SizeInHeader: true, Size: int64(len(data)), DictCap: 1 << 16}.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()[:5], b.Bytes()[13:]
}

// encodeHeader turns a plain 7z archive into one whose header is packed
// with coder (LZMA when props is nil and coder is nil), as 7-Zip writes
// archives by default.
func encodeHeader(t testing.TB, plain []byte, coder, props []byte) []byte {
	t.Helper()
	off := int(le.Uint64(plain[12:]))
	hdr := plain[szStartLen+off:]
	data := plain[szStartLen : szStartLen+off]
	packed := hdr
	if coder == nil {
		coder = []byte{0x03, 0x01, 0x01}
		props, packed = lzmaRaw(t, hdr)
	}
	enc := []byte{szEncodedHeader, szPackInfo}
	enc = append(enc, sz7Number(uint64(len(data)))...)
	enc = append(enc, 1, szSize)
	enc = append(enc, sz7Number(uint64(len(packed)))...)
	enc = append(enc, szEnd, szUnpackInfo, szFolderID, 1, 0, 1)
	flag := byte(len(coder))
	if props != nil {
		flag |= 0x20
	}
	enc = append(enc, flag)
	enc = append(enc, coder...)
	if props != nil {
		enc = append(enc, sz7Number(uint64(len(props)))...)
		enc = append(enc, props...)
	}
	enc = append(enc, szCodersUnpackSize)
	enc = append(enc, sz7Number(uint64(len(hdr)))...)
	enc = append(enc, szEnd, szEnd)
	return build7z(nil, sz7Opts{packed: append(append([]byte(nil), data...), packed...), header: enc})
}

func Test7z(t *testing.T) {
	t.Parallel()
	files := []sz7File{{name: "model/data.pkl", data: payload}, {name: "model/version", data: []byte("3\n")}}
	props, stream := lzmaRaw(t, append(append([]byte(nil), payload...), []byte("3\n")...))
	countBomb := func(tail ...byte) []byte {
		return build7z(nil, sz7Opts{packed: []byte{}, header: append([]byte{szHeader}, tail...)})
	}
	tests := []struct {
		name  string
		data  []byte
		wants []want
		none  []string
		seen  map[string][]byte
	}{
		{
			name:  "copy coder",
			data:  build7z(files, sz7Opts{}),
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model/data.pkl"}},
			none:  structural,
			seen:  map[string][]byte{"model/data.pkl": payload},
		},
		{
			name:  "LZMA coder",
			data:  build7z(files, sz7Opts{coder: []byte{0x03, 0x01, 0x01}, props: props, packed: stream}),
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model/data.pkl"}},
			none:  structural,
			seen:  map[string][]byte{"model/data.pkl": payload},
		},
		{
			name:  "LZMA-encoded header",
			data:  encodeHeader(t, build7z(files, sz7Opts{}), nil, nil),
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model/data.pkl"}},
			none:  structural,
		},
		{
			name:  "copy-encoded header",
			data:  encodeHeader(t, build7z(files, sz7Opts{}), []byte{0x00}, nil),
			wants: []want{{rule: "TST001", sev: scan.SeverityCritical, inner: "model/data.pkl"}},
			none:  structural,
		},
		{
			// Without the validator this 40-byte file makes the library
			// allocate ~500 GB and the process die.
			name:  "file count bomb",
			data:  countBomb(szFilesInfo, 0xf0, 0xf0, 0xff, 0xff, 0xff, szEnd),
			wants: []want{{rule: "SCN003", sev: scan.SeverityHigh, text: "4294967280 files"}},
		},
		{
			name:  "file count bomb in an encoded header",
			data:  encodeHeader(t, countBomb(szFilesInfo, 0xf0, 0xf0, 0xff, 0xff, 0xff, szEnd), nil, nil),
			wants: []want{{rule: "SCN003", sev: scan.SeverityHigh}},
		},
		{
			name:  "folder count bomb",
			data:  countBomb(szMainStreams, szUnpackInfo, szFolderID, 0xf0, 0xf0, 0xff, 0xff, 0xff, 0),
			wants: []want{{rule: "SCN003", sev: scan.SeverityHigh, text: "folders"}},
		},
		{
			name:  "coder stream count bomb",
			data:  countBomb(szMainStreams, szUnpackInfo, szFolderID, 1, 0, 1, 0x10|1, 0x00, 0xf0, 0xf0, 0xff, 0xff, 0xff, 1),
			wants: []want{{rule: "ARC001", sev: scan.SeverityMedium, text: "coder input streams"}},
		},
		{
			name:  "pack stream count bomb",
			data:  countBomb(szMainStreams, szPackInfo, 0, 0xf0, 0xf0, 0xff, 0xff, 0xff, szCRC, 1, szEnd),
			wants: []want{{rule: "SCN003", sev: scan.SeverityHigh, text: "pack streams"}},
		},
		{
			name:  "start header checksum",
			data:  build7z(files, sz7Opts{badStart: true}),
			wants: []want{{rule: "ARC001", sev: scan.SeverityMedium, text: "checksum"}},
			none:  []string{"TST001"},
		},
		{
			name:  "encrypted header",
			data:  encodeHeader(t, build7z(files, sz7Opts{}), []byte{0x06, 0xf1, 0x07, 0x01}, []byte{0xd3, 0x00}),
			wants: []want{{rule: "ARC003", sev: scan.SeverityMedium, text: "encrypts its header"}},
		},
		{
			name:  "encrypted content",
			data:  build7z(files, sz7Opts{coder: []byte{0x06, 0xf1, 0x07, 0x01}, props: []byte{0xd3, 0x00}}),
			wants: []want{{rule: "ARC003", sev: scan.SeverityMedium, inner: "", text: `"model/data.pkl" is encrypted`}},
			none:  []string{"TST001"},
		},
		{
			name:  "unknown coder",
			data:  build7z(files, sz7Opts{coder: []byte{0x7f, 0x7f}}),
			wants: []want{{rule: "ARC006", sev: scan.SeverityMedium, text: "coder 7f7f"}},
		},
		{
			name:  "LZMA2 dictionary beyond the cap",
			data:  build7z(files, sz7Opts{coder: []byte{0x21}, props: []byte{40}}),
			wants: []want{{rule: "ARC008", sev: scan.SeverityMedium, text: "LZMA2 coder needs"}},
		},
		{
			name:  "zip slip name",
			data:  build7z([]sz7File{{name: "../../x.pkl", data: payload}}, sz7Opts{}),
			wants: []want{{rule: "ARC005", sev: scan.SeverityHigh}, {rule: "TST001", sev: scan.SeverityCritical, inner: "../../x.pkl"}},
		},
		{
			name:  "duplicate names",
			data:  build7z([]sz7File{{name: "a.pkl", data: benignPickle}, {name: "a.pkl", data: payload}}, sz7Opts{}),
			wants: []want{{rule: "ARC004", sev: scan.SeverityMedium}, {rule: "TST001", sev: scan.SeverityCritical, inner: "a.pkl"}},
		},
		{
			name: "truncated header",
			data: build7z(files, sz7Opts{})[:60],
			// The start header points past the end of the file.
			wants: []want{{rule: "ARC001", sev: scan.SeverityMedium, text: "lies outside the file"}},
		},
		{
			name: "empty archive",
			data: build7z(nil, sz7Opts{packed: []byte{}, header: []byte{}}),
			none: structural,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs, rec := scanData(t, "model.7z", tt.data, scan.Limits{})
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
