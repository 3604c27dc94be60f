package scan

import (
	"bytes"
	"encoding/binary"
	"io"
	"path"
	"strings"
)

// Format names a file format a scanner understands.
type Format string

// Formats recognised by Sniff. Zip covers every zip-based model format
// (PyTorch, TorchScript, Keras v3, NumPy .npz); the zip scanner routes the
// members. Compressed streams (gzip, bzip2, xz, lzma, zlib, lz4) are
// expanded by the archive scanner and their content sniffed again.
const (
	FormatPickle      Format = "pickle"
	FormatZip         Format = "zip"
	FormatTar         Format = "tar"
	Format7z          Format = "7z"
	FormatGzip        Format = "gzip"
	FormatBzip2       Format = "bzip2"
	FormatXz          Format = "xz"
	FormatLzma        Format = "lzma"
	FormatZlib        Format = "zlib"
	FormatLz4         Format = "lz4"
	FormatNumpy       Format = "npy"
	FormatSafetensors Format = "safetensors"
	FormatGGUF        Format = "gguf"
	FormatONNX        Format = "onnx"
	FormatSavedModel  Format = "tf-savedmodel"
	FormatKerasConfig Format = "keras-config"
	FormatHDF5        Format = "hdf5"
)

// Match is one format an object appears to be in.
type Match struct {
	Format Format
	// Tentative marks a weak match (a plausible first byte, or only the
	// file name). A scanner given a tentative match reports nothing when the
	// content turns out not to be its format.
	Tentative bool
}

// sniffHead is how many leading bytes Sniff reads.
const sniffHead = 4096

// zipTailWindow is the largest distance from the end of a file at which a
// zip end-of-central-directory record can start (22-byte record plus a
// comment of up to 65535 bytes).
const zipTailWindow = 22 + 65535

var (
	magicZipLocal = []byte("PK\x03\x04")
	magicZipEmpty = []byte("PK\x05\x06")
	magic7z       = []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}
	magicGzip     = []byte{0x1f, 0x8b}
	magicBzip2    = []byte("BZh")
	magicXz       = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magicLz4      = []byte{0x04, 0x22, 0x4d, 0x18}
	magicNumpy    = []byte("\x93NUMPY")
	magicGGUF     = []byte("GGUF")
	magicHDF5     = []byte("\x89HDF\r\n\x1a\n")
)

// pickleExtensions are names under which pickles are commonly stored; a
// file with one of them is probed as a pickle even when its first byte is
// not a typical opening opcode.
var pickleExtensions = map[string]bool{
	".pkl": true, ".pickle": true, ".joblib": true, ".dill": true, ".dat": true,
	".data": true, ".pt": true, ".pth": true, ".bin": true, ".ckpt": true, ".p": true,
}

// pickleOpeners are the opcodes that begin protocol 0 and 1 pickles (which
// have no PROTO header) in practice: containers, marks, imports and scalars.
var pickleOpeners = [256]bool{
	'(': true, ')': true, ']': true, '}': true, 'c': true, 'N': true, 'I': true,
	'L': true, 'S': true, 'V': true, 'K': true, 'J': true, 'M': true, 'G': true,
	'F': true, 'X': true, 'U': true, 'T': true, 'i': true, 'B': true, 'C': true,
	'\x88': true, '\x89': true,
}

// Sniff reports the formats an object's content matches. The name (a file
// or member name) only breaks ties for formats without a magic number
// (ONNX, SavedModel, Keras config) and widens the pickle probe; it never
// excludes a format the content proves. A polyglot (a pickle with a zip
// appended) matches more than one format.
func Sniff(name string, r io.ReaderAt, size int64) ([]Match, error) {
	headLen := int64(sniffHead)
	if size < headLen {
		headLen = size
	}
	head := make([]byte, headLen)
	if _, err := r.ReadAt(head, 0); err != nil && err != io.EOF {
		return nil, err
	}
	base := strings.ToLower(path.Base(strings.ReplaceAll(name, "\\", "/")))
	ext := path.Ext(base)

	var out []Match
	add := func(f Format, tentative bool) { out = append(out, Match{Format: f, Tentative: tentative}) }

	switch {
	case bytes.HasPrefix(head, magicZipLocal), bytes.HasPrefix(head, magicZipEmpty):
		add(FormatZip, false)
		return out, nil
	case bytes.HasPrefix(head, magic7z):
		add(Format7z, false)
		return out, nil
	case bytes.HasPrefix(head, magicXz):
		add(FormatXz, false)
		return out, nil
	case bytes.HasPrefix(head, magicGzip):
		add(FormatGzip, false)
		return out, nil
	case bytes.HasPrefix(head, magicLz4):
		add(FormatLz4, false)
		return out, nil
	case bytes.HasPrefix(head, magicNumpy):
		add(FormatNumpy, false)
		return out, nil
	case bytes.HasPrefix(head, magicGGUF):
		add(FormatGGUF, false)
		return out, nil
	case bytes.HasPrefix(head, magicHDF5):
		add(FormatHDF5, false)
		return out, nil
	case len(head) >= 10 && bytes.HasPrefix(head, magicBzip2) && head[3] >= '1' && head[3] <= '9' &&
		bytes.Equal(head[4:10], []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}):
		add(FormatBzip2, false)
		return out, nil
	case isTarHeader(head):
		add(FormatTar, false)
		return out, nil
	case isSafetensors(head, size):
		add(FormatSafetensors, false)
		return out, nil
	}

	// A pickle may be followed by anything, including a whole zip (a
	// polyglot): look for both.
	switch {
	case len(head) >= 2 && head[0] == 0x80 && head[1] <= 5:
		add(FormatPickle, false)
	case isLzmaAloneHeader(head):
		// 0x5d is also EMPTY_LIST, but no pickle continues with an
		// LZMA dictionary size.
		add(FormatLzma, true)
		return out, nil
	case isZlibHeader(head) && !pickleOpeners[head[0]]:
		// joblib's zlib files carry a .joblib or .pkl name; 'x' (0x78,
		// what zlib writes) is no pickle opcode, so the name must not turn
		// them into a probe. "(S" is also a valid zlib header, and the
		// usual start of a protocol-0 pickle.
		add(FormatZlib, true)
		return out, nil
	case len(head) > 0 && (pickleOpeners[head[0]] || pickleExtensions[ext]):
		add(FormatPickle, true)
	}
	if hasZipTail(r, size) {
		add(FormatZip, false)
	}
	if len(out) > 0 {
		return out, nil
	}

	switch {
	case base == "saved_model.pb" || base == "keras_metadata.pb":
		add(FormatSavedModel, false)
	case ext == ".onnx" || (ext == "" && looksLikeONNX(head)):
		add(FormatONNX, ext != ".onnx")
	case looksLikeKerasConfig(head):
		add(FormatKerasConfig, base != "config.json")
	}
	return out, nil
}

// isTarHeader reports whether head starts with a POSIX or GNU tar header.
func isTarHeader(head []byte) bool {
	if len(head) < 512 {
		return false
	}
	magic := head[257:263]
	return bytes.Equal(magic, []byte("ustar\x00")) || bytes.Equal(magic, []byte("ustar "))
}

// isSafetensors reports whether head starts with a little-endian header
// length followed by a JSON object. An implausible length still matches:
// validating it is the safetensors scanner's job.
func isSafetensors(head []byte, size int64) bool {
	if len(head) < 10 || head[8] != '{' {
		return false
	}
	n := binary.LittleEndian.Uint64(head[:8])
	if n < 2 {
		return false
	}
	// Either the header fits in the file (a valid file) or the length is
	// absurd, which is the classic malformed or hostile case.
	return int64(n) <= size-8 || n > uint64(size)
}

// hasZipTail reports whether an end-of-central-directory record lies in the
// last zipTailWindow bytes of the object.
func hasZipTail(r io.ReaderAt, size int64) bool {
	if size < 22 {
		return false
	}
	n := int64(zipTailWindow)
	if size < n {
		n = size
	}
	tail := make([]byte, n)
	if _, err := r.ReadAt(tail, size-n); err != nil && err != io.EOF {
		return false
	}
	i := bytes.LastIndex(tail, magicZipEmpty)
	return i >= 0 && len(tail)-i >= 22
}

// isZlibHeader reports whether head starts with a valid zlib header
// (deflate method, a window size in range, the check bits right).
func isZlibHeader(head []byte) bool {
	if len(head) < 2 {
		return false
	}
	cmf, flg := head[0], head[1]
	return cmf&0x0f == 8 && cmf>>4 <= 7 && (uint16(cmf)<<8|uint16(flg))%31 == 0 && flg&0x20 == 0
}

// isLzmaAloneHeader reports whether head looks like an .lzma ("LZMA alone")
// stream: the properties byte joblib and xz-utils write, a power-of-two
// dictionary size and an unknown or plausible uncompressed size.
func isLzmaAloneHeader(head []byte) bool {
	if len(head) < 13 || head[0] != 0x5d {
		return false
	}
	dict := binary.LittleEndian.Uint32(head[1:5])
	return dict >= 1<<12 && dict&(dict-1) == 0
}

// looksLikeONNX reports whether head starts like a serialized ModelProto:
// field 1 (ir_version) as a varint of a known IR version.
func looksLikeONNX(head []byte) bool {
	return len(head) >= 4 && head[0] == 0x08 && head[1] >= 1 && head[1] <= 20 &&
		(head[2] == 0x12 || head[2] == 0x1a || head[2] == 0x22 || head[2] == 0x2a || head[2] == 0x3a || head[2] == 0x42)
}

// looksLikeKerasConfig reports whether head is a JSON object that names a
// Keras class near its start.
func looksLikeKerasConfig(head []byte) bool {
	t := bytes.TrimLeft(head, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	return bytes.Contains(t, []byte(`"class_name"`)) && bytes.Contains(t, []byte(`"config"`))
}
