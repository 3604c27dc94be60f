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

	// Repository files, recognised by name and by being text. Every text
	// file is FormatText (scanned for secrets) except notebooks, which are
	// FormatNotebook only (decoded, then scanned); dependency manifests and
	// lockfiles, Dockerfiles and Kubernetes manifests are also their own
	// format.
	FormatText         Format = "text"
	FormatNotebook     Format = "ipynb"
	FormatDependencies Format = "dependencies"
	FormatDockerfile   Format = "dockerfile"
	FormatKubernetes   Format = "kubernetes"
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

// pickleOpcodes marks every byte that is an opcode of some pickle
// protocol (0 to 5): the unpickler accepts any of them first, whatever the
// declared protocol.
var pickleOpcodes = func() (t [256]bool) {
	for _, c := range []byte("(.012FIJKLMNPQRSTUVXabcdeghijlopqrstu}])GBC") {
		t[c] = true
	}
	for c := 0x80; c <= 0x98; c++ {
		t[c] = true
	}
	return t
}()

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
	has := func(f Format) bool {
		for _, m := range out {
			if m.Format == f {
				return true
			}
		}
		return false
	}

	switch {
	case bytes.HasPrefix(head, magicZipLocal), bytes.HasPrefix(head, magicZipEmpty):
		add(FormatZip, false)
	case bytes.HasPrefix(head, magic7z):
		add(Format7z, false)
	case bytes.HasPrefix(head, magicXz):
		add(FormatXz, false)
	case bytes.HasPrefix(head, magicGzip):
		add(FormatGzip, false)
	case bytes.HasPrefix(head, magicLz4):
		add(FormatLz4, false)
	case bytes.HasPrefix(head, magicNumpy):
		add(FormatNumpy, false)
	case bytes.HasPrefix(head, magicGGUF):
		add(FormatGGUF, false)
	case bytes.HasPrefix(head, magicHDF5):
		add(FormatHDF5, false)
	case len(head) >= 10 && bytes.HasPrefix(head, magicBzip2) && head[3] >= '1' && head[3] <= '9' &&
		bytes.Equal(head[4:10], []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}):
		add(FormatBzip2, false)
	case isTarHeader(head):
		add(FormatTar, false)
	case isSafetensors(head, size, ext):
		add(FormatSafetensors, false)
	case isLzmaAloneHeader(head):
		add(FormatLzma, true)
	case isZlibHeader(head) && !pickleOpcodes[head[0]]:
		// joblib's zlib files carry a .joblib or .pkl name. "(S" is also
		// a valid zlib header, and the usual start of a protocol-0 pickle:
		// such content is left to the pickle probe.
		add(FormatZlib, true)
	}
	container := len(out) > 0

	// pickle.load runs whatever a file starts with, whatever else the file
	// also is: a pickle can be shaped to pass for a GGUF, safetensors or
	// tar header. Every object whose first byte is an opcode is therefore
	// probed as a pickle too; the probe is tentative (silent unless the
	// content really is a pickle) except for a PROTO header on an object
	// nothing else claims. Three magics cannot start a loadable pickle and
	// are not probed: a zip's "PK" is PERSID, which needs a persistent_load
	// that only PyTorch sets, and PyTorch reads zips as zips; NumPy's 0x93
	// is STACK_GLOBAL on an empty stack; HDF5's NEWFALSE is followed by
	// 'H', which is no opcode.
	noProbe := has(FormatZip) || has(FormatNumpy) || has(FormatHDF5)
	switch {
	case noProbe:
	case len(head) >= 2 && head[0] == 0x80 && head[1] <= 5 && !container:
		add(FormatPickle, false)
	case len(head) > 0 && (pickleOpcodes[head[0]] || (!container && pickleExtensions[ext])):
		add(FormatPickle, true)
	}
	// HDF5 libraries find the superblock after a user block of any
	// power-of-two size from 512 bytes, and the user block may hold
	// anything, even another format.
	if !has(FormatHDF5) && hasHDF5UserBlock(r, size, head) {
		add(FormatHDF5, false)
	}
	// A pickle may be followed by a whole zip (a polyglot): zip readers
	// find the archive from its end.
	if !has(FormatZip) && (!container || has(FormatPickle)) && hasZipTail(r, size) {
		add(FormatZip, false)
	}
	if container || has(FormatZip) {
		return out, nil
	}

	// Formats without a magic number, recognised by name or by the shape
	// of their start; a tentative pickle probe does not rule them out.
	switch {
	case base == "saved_model.pb" || base == "saved_model.pbtxt" || base == "keras_metadata.pb":
		add(FormatSavedModel, false)
	case ext == ".onnx" || (ext == "" && looksLikeONNX(head)):
		add(FormatONNX, ext != ".onnx")
	case looksLikeKerasConfig(head):
		add(FormatKerasConfig, false)
	case base == "config.json":
		// Keras reads config.json with json.loads, which accepts UTF-16,
		// UTF-32 and a byte-order mark, and the class name may come after
		// any amount of other keys or whitespace: the name alone routes it,
		// tentatively.
		add(FormatKerasConfig, true)
	}
	if looksLikeText(head) {
		switch {
		case ext == ".ipynb":
			add(FormatNotebook, false)
			return out, nil
		case isDependencyFile(base):
			add(FormatDependencies, false)
		case isDockerfile(base, ext):
			add(FormatDockerfile, false)
		case (ext == ".yaml" || ext == ".yml") && looksLikeKubernetes(head):
			add(FormatKubernetes, false)
		}
		add(FormatText, false)
	}
	return out, nil
}

// dependencyFiles are the manifest and lockfile names the dependency
// scanner reads. Requirements files are recognised by pattern too
// (requirements-dev.txt, requirements/base.txt's base name is not enough:
// see isDependencyFile).
var dependencyFiles = map[string]bool{
	"pyproject.toml": true, "poetry.lock": true, "pipfile.lock": true, "uv.lock": true,
	"pdm.lock": true, "pylock.toml": true, "go.mod": true, "package-lock.json": true,
	"environment.yml": true, "environment.yaml": true, "setup.cfg": true,
	// Installed-package metadata in a virtual environment or site-packages.
	"metadata": true, "pkg-info": true,
}

// isDependencyFile reports whether base (lower-cased) names a dependency
// manifest or lockfile: the fixed names above, requirements*.txt and
// *requirements.txt, pylock.*.toml, and *.in / constraints*.txt pip files.
func isDependencyFile(base string) bool {
	if dependencyFiles[base] {
		return true
	}
	switch {
	case strings.HasSuffix(base, ".txt") && (strings.HasPrefix(base, "requirements") ||
		strings.HasSuffix(base, "requirements.txt") || strings.HasPrefix(base, "constraints")):
		return true
	case strings.HasPrefix(base, "pylock.") && strings.HasSuffix(base, ".toml"):
		return true
	case base == "requirements.in":
		return true
	}
	return false
}

// isDockerfile reports whether base (lower-cased) names a Dockerfile or
// Containerfile: "dockerfile", "dockerfile.gpu", "train.dockerfile".
func isDockerfile(base, ext string) bool {
	return base == "dockerfile" || base == "containerfile" || ext == ".dockerfile" ||
		strings.HasPrefix(base, "dockerfile.") || strings.HasPrefix(base, "containerfile.")
}

// looksLikeKubernetes reports whether a YAML head declares a Kubernetes
// object: an apiVersion and a kind key at the start of a line.
func looksLikeKubernetes(head []byte) bool {
	return bytes.Contains(head, []byte("\napiVersion:")) || bytes.HasPrefix(head, []byte("apiVersion:")) ||
		bytes.Contains(head, []byte("\n  apiVersion:")) // a List's items
}

// looksLikeText reports whether head is text: no NUL byte and few control
// characters other than whitespace and the escape character.
func looksLikeText(head []byte) bool {
	if len(head) == 0 || bytes.IndexByte(head, 0) >= 0 {
		return false
	}
	control := 0
	for _, c := range head {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' && c != 0x1b {
			control++
		}
	}
	return control*100 <= len(head)
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
// length followed by a JSON object. A plausible length must be followed by
// the way a safetensors header opens ('{' then a key, '}' or space), so raw
// tensor bytes that happen to hold '{' at offset 8 do not match. An
// impossible length (beyond the file) is the classic malformed or hostile
// file, but it is trusted only under a .safetensors name: otherwise the
// bytes are more likely something else, such as a pickle made to look
// like a header.
func isSafetensors(head []byte, size int64, ext string) bool {
	if len(head) < 10 || head[8] != '{' {
		return false
	}
	n := binary.LittleEndian.Uint64(head[:8])
	if n < 2 {
		return false
	}
	if size < 8 || n > uint64(size-8) {
		return ext == ".safetensors"
	}
	switch head[9] {
	case '"', '}', ' ', '\t', '\r', '\n':
		return true
	}
	return false
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

// hasHDF5UserBlock reports whether the HDF5 signature sits at a
// power-of-two offset from 512 bytes on, where HDF5 libraries look for it
// when a file starts with a user block.
func hasHDF5UserBlock(r io.ReaderAt, size int64, head []byte) bool {
	sig := make([]byte, len(magicHDF5))
	for off := int64(512); off+int64(len(magicHDF5)) <= size; off *= 2 {
		if off+int64(len(magicHDF5)) <= int64(len(head)) {
			if bytes.Equal(head[off:off+int64(len(magicHDF5))], magicHDF5) {
				return true
			}
			continue
		}
		if _, err := r.ReadAt(sig, off); err != nil {
			return false
		}
		if bytes.Equal(sig, magicHDF5) {
			return true
		}
	}
	return false
}

// looksLikeKerasConfig reports whether head is a JSON object that names a
// Keras class near its start.
func looksLikeKerasConfig(head []byte) bool {
	t := bytes.TrimLeft(jsonText(head), " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return false
	}
	return bytes.Contains(t, []byte(`"class_name"`)) && bytes.Contains(t, []byte(`"config"`))
}

// jsonText returns head as UTF-8-ish bytes for sniffing: a byte-order mark
// is dropped, and UTF-16 or UTF-32 text (recognised, as json.loads does, by
// the zero bytes around the first ASCII character) has its zero bytes
// removed. Only ASCII keys matter to the caller.
func jsonText(head []byte) []byte {
	switch {
	case bytes.HasPrefix(head, []byte{0xef, 0xbb, 0xbf}):
		return head[3:]
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}), bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		return bytes.ReplaceAll(head[2:], []byte{0}, nil)
	case len(head) >= 4 && (head[0] == 0 || head[1] == 0):
		return bytes.TrimPrefix(bytes.ReplaceAll(head, []byte{0}, nil), []byte{0xfe, 0xff})
	}
	return head
}
