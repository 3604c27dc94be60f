package pickle

import (
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"encoding/base64"
	"encoding/hex"
	"io"
	"strings"
)

// maxDecode bounds the escaped text decoded in memory to rebuild a nested
// payload that is not stored verbatim in the object.
const maxDecode = 16 << 20

// payload is the content of a constant bytes argument: a region of the
// object (or of memory), or a stream that decodes one.
type payload struct {
	ra         io.ReaderAt // set for verbatim content
	size       int64
	r          io.Reader // otherwise, the decoding stream
	compressed int64     // size of the encoded input, 0 if unknown
	how        string    // the decoding applied, for messages
}

// reader returns the payload as a stream.
func (p *payload) reader() io.Reader {
	if p.ra != nil {
		return io.NewSectionReader(p.ra, 0, p.size)
	}
	return p.r
}

// openPayload rebuilds the bytes a constant argument holds: a bytes or str
// constant, or one wrapped in io.BytesIO, latin-1 encoding (how protocols
// 0-2 pickle bytes), base64, hex or zlib/gzip/bz2 compression.
func openPayload(ra io.ReaderAt, v *value, depth int) (*payload, bool) {
	if v == nil || depth > 8 {
		return nil, false
	}
	switch v.kind {
	case kBytes, kByteArray, kStr:
		return textPayload(ra, v, false)
	case kCall:
	default:
		return nil, false
	}
	p, ok := refOf(v.fn(), 0)
	if !ok {
		return nil, false
	}
	inner := func() (*payload, bool) { return openPayload(ra, v.arg(0), depth+1) }
	switch p {
	case "io.BytesIO", "builtins.bytes", "builtins.bytearray", "builtins.memoryview":
		return inner()
	case "_codecs.encode", "codecs.encode":
		enc, _ := v.arg(1).str()
		a := v.arg(0)
		if a == nil || a.kind != kStr {
			return nil, false
		}
		switch normEncoding(enc) {
		case "latin1":
			return textPayload(ra, a, true)
		case "utf8", "ascii", "":
			return textPayload(ra, a, false)
		}
		return nil, false
	case "codecs.decode":
		enc, _ := v.arg(1).str()
		return decodeWith(normEncoding(enc), inner)
	case "base64.b64decode", "base64.standard_b64decode", "base64.decodebytes", "base64.decodestring",
		"binascii.a2b_base64":
		return decodeWith("base64", inner)
	case "base64.urlsafe_b64decode":
		return decodeWith("urlsafe_base64", inner)
	case "base64.b16decode", "binascii.unhexlify", "binascii.a2b_hex", "builtins.bytes.fromhex":
		return decodeWith("hex", inner)
	case "zlib.decompress":
		return decodeWith("zlib", inner)
	case "gzip.decompress":
		return decodeWith("gzip", inner)
	case "bz2.decompress":
		return decodeWith("bz2", inner)
	}
	return nil, false
}

func normEncoding(enc string) string {
	e := strings.NewReplacer("-", "", "_", "", " ", "").Replace(strings.ToLower(enc))
	switch e {
	case "latin1", "latin", "iso88591", "l1", "8859", "cp819":
		return "latin1"
	case "utf8", "u8", "utf":
		return "utf8"
	case "base64codec", "base64":
		return "base64"
	case "hexcodec", "hex":
		return "hex"
	case "zlibcodec", "zlib", "zip":
		return "zlib"
	case "bz2codec", "bz2":
		return "bz2"
	}
	return e
}

// decodeWith wraps the inner payload in a decoder.
func decodeWith(codec string, inner func() (*payload, bool)) (*payload, bool) {
	in, ok := inner()
	if !ok {
		return nil, false
	}
	var r io.Reader
	src := in.reader()
	switch codec {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, src)
	case "urlsafe_base64":
		r = base64.NewDecoder(base64.URLEncoding, src)
	case "hex":
		r = hex.NewDecoder(src)
	case "zlib":
		r = &lazyReader{open: func() (io.Reader, error) { return zlib.NewReader(src) }}
	case "gzip":
		r = &lazyReader{open: func() (io.Reader, error) { return gzip.NewReader(src) }}
	case "bz2":
		r = bzip2.NewReader(src)
	default:
		return nil, false
	}
	how := codec
	if in.how != "" {
		how = in.how + ", " + codec
	}
	return &payload{r: r, compressed: in.size, how: how}, true
}

// lazyReader opens its decoder on first read, so that a bad header is a
// read error like any other.
type lazyReader struct {
	open func() (io.Reader, error)
	r    io.Reader
}

func (l *lazyReader) Read(p []byte) (int, error) {
	if l.r == nil {
		r, err := l.open()
		if err != nil {
			return 0, err
		}
		l.r = r
	}
	return l.r.Read(p)
}

// textPayload returns the bytes of a str or bytes constant. Verbatim
// payloads are regions of the object; escaped text (STRING, UNICODE) is
// decoded again from the object. latin1 encodes a str's code points as
// single bytes, as _codecs.encode(s, 'latin1') does.
func textPayload(ra io.ReaderAt, v *value, latin1 bool) (*payload, bool) {
	utf8Text := v.kind == kStr && v.flags&fLatin1 == 0
	if v.flags&fEscaped == 0 && !(latin1 && utf8Text) {
		if v.aux >= 0 {
			return &payload{ra: io.NewSectionReader(ra, v.aux, v.num), size: v.num}, true
		}
		if v.flags&fTrunc != 0 {
			return nil, false
		}
		return memPayload([]byte(v.s)), true
	}
	text := v.s
	if v.flags&fTrunc != 0 {
		raw, ok := readStored(ra, v, maxDecode)
		if !ok {
			return nil, false
		}
		text = storedText(v, raw)
	}
	if !latin1 && !(v.flags&fLatin1 != 0) {
		return memPayload([]byte(text)), true
	}
	// Code points below 256 become single bytes (what the Latin-1 codec and
	// Python 2 str do); anything above cannot be encoded.
	out := make([]byte, 0, len(text))
	for _, r := range text {
		if r > 0xff {
			return nil, false
		}
		out = append(out, byte(r))
	}
	return memPayload(out), true
}

func memPayload(b []byte) *payload {
	return &payload{ra: bytes.NewReader(b), size: int64(len(b))}
}
