package archive

import (
	"context"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"github.com/palisade-sec/palisade/internal/scan"
)

// maxDictBytes caps the dictionary or window a decoder may allocate for one
// lzma, xz, 7z or zstd stream. xz -9 and 7-Zip's ultra preset use 64 MiB;
// a stream declaring more is reported and not decompressed.
const maxDictBytes = 256 << 20

// Scanner opens archives and compressed streams and scans their members.
// It is stateless and safe for concurrent use.
type Scanner struct{}

var _ scan.Scanner = (*Scanner)(nil)

// New returns an archive scanner. One scanner serves every format listed
// by Formats.
func New() *Scanner { return &Scanner{} }

// Formats lists the formats the scanner handles.
func Formats() []scan.Format {
	return []scan.Format{
		scan.FormatZip, scan.FormatTar, scan.Format7z,
		scan.FormatGzip, scan.FormatBzip2, scan.FormatXz, scan.FormatLzma, scan.FormatZlib, scan.FormatLz4,
	}
}

// Rules lists every rule the scanner may report. It includes the engine's
// entry-limit rule, which the 7z reader reports itself when a header
// declares more members than the limit allows.
func (s *Scanner) Rules() []scan.Rule {
	return append(slices.Clone(rules), scan.RuleTooManyEntries)
}

// Scan opens obj as the archive or stream format it was routed as and
// hands each member to sess.Nested.
func (s *Scanner) Scan(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	switch obj.Format {
	case scan.FormatZip:
		return scanZip(ctx, obj, sess)
	case scan.FormatTar:
		return scanTar(ctx, obj, sess)
	case scan.Format7z:
		return scan7z(ctx, obj, sess)
	case scan.FormatGzip, scan.FormatBzip2, scan.FormatXz, scan.FormatLzma, scan.FormatZlib, scan.FormatLz4:
		return scanStream(ctx, obj, sess)
	default:
		return fmt.Errorf("archive scanner cannot read format %q", obj.Format)
	}
}

// report records a finding of rule r on the archive, located at off (-1 if
// unknown) and at member (the member name, "" if none).
func report(sess *scan.Session, r scan.Rule, off int64, member, message, evidence string) {
	f := r.Finding(message, evidence)
	f.Offset = off
	f.Pointer = member
	sess.Report(f)
}

// escapes reports whether an archive member name would be written outside
// the extraction directory by a tool that follows it, and why.
func escapes(name string) (bool, string) {
	n := strings.ReplaceAll(name, "\\", "/")
	switch {
	case strings.HasPrefix(n, "/"):
		return true, "an absolute path"
	case hasDrive(n):
		return true, "a drive-letter path"
	}
	if c := path.Clean(n); c == ".." || strings.HasPrefix(c, "../") {
		return true, "a path that climbs out of the archive with '..'"
	}
	return false, ""
}

// linkEscapes reports whether a link member's target lies outside the
// extraction directory. Symbolic link targets are relative to the link's
// own directory; hard link targets are relative to the archive root.
func linkEscapes(name, target string, symbolic bool) bool {
	t := strings.ReplaceAll(target, "\\", "/")
	if strings.HasPrefix(t, "/") || hasDrive(t) {
		return true
	}
	if symbolic {
		t = path.Join(path.Dir(strings.ReplaceAll(name, "\\", "/")), t)
	}
	c := path.Clean(t)
	return c == ".." || strings.HasPrefix(c, "../")
}

// hasDrive reports whether p starts with a Windows drive letter ("C:").
func hasDrive(p string) bool { return len(p) >= 2 && p[1] == ':' && isASCIILetter(p[0]) }

func isASCIILetter(b byte) bool { return (b|0x20) >= 'a' && (b|0x20) <= 'z' }

// checkName reports a member name that escapes the extraction directory.
func checkName(sess *scan.Session, off int64, name string) {
	if bad, why := escapes(name); bad {
		report(sess, RuleTraversal, off, name,
			fmt.Sprintf("member %q is %s; extracting it writes outside the target directory", name, why), name)
	}
}

// names tracks member names to report duplicates.
type names map[string]int

// check counts name and reports it when an earlier member had the same name.
func (n names) check(sess *scan.Session, off int64, name string) {
	n[name]++
	if n[name] == 2 {
		report(sess, RuleDuplicate, off, name,
			fmt.Sprintf("member name %q occurs more than once; loaders pick one copy, every copy was scanned", name), name)
	}
}

// stopReader ends a decoded stream at the first decoding error, so that
// Session.Expand keeps what was decoded before it (a payload placed before
// deliberately broken bytes is still scanned). A panicking decoder is
// treated as a decoding error. err records the error; n counts the bytes
// produced.
type stopReader struct {
	r   io.Reader
	n   int64
	err error
}

func (s *stopReader) Read(p []byte) (n int, err error) {
	if s.err != nil {
		return 0, io.EOF
	}
	defer func() {
		if v := recover(); v != nil {
			s.err = fmt.Errorf("decoder failed: %v", v)
			n, err = 0, io.EOF
		}
	}()
	n, err = s.r.Read(p)
	if n < 0 || n > len(p) {
		s.err = fmt.Errorf("decoder returned an invalid count %d", n)
		return 0, io.EOF
	}
	s.n += int64(n)
	if err != nil && err != io.EOF {
		s.err = err
		return n, io.EOF
	}
	return n, err
}

// newDecoder calls mk, turning a panic in a third-party decoder's
// constructor (which reads the stream header) into an error.
func newDecoder(mk func() (io.Reader, func(), error)) (r io.Reader, release func(), err error) {
	defer func() {
		if v := recover(); v != nil {
			r, release, err = nil, nil, fmt.Errorf("decoder failed: %v", v)
		}
	}()
	return mk()
}

// expandMember decompresses dec through sess.Expand and scans the result
// as member name. compressed is the size of the compressed input (for the
// ratio limit). It returns the decoding error, if any, after scanning what
// was decoded before it, and the number of bytes decoded. Errors from
// Expand and Nested (limits, cancellation) are returned as fatal.
func expandMember(ctx context.Context, sess *scan.Session, name string, dec io.Reader, compressed int64) (decoded int64, decodeErr, fatal error) {
	sr := &stopReader{r: dec}
	exp, err := sess.Expand(ctx, name, sr, compressed)
	if err != nil {
		return sr.n, sr.err, err
	}
	defer func() { _ = exp.Close() }()
	if exp.Size > 0 {
		if err := sess.Nested(ctx, name, exp.R, exp.Size, ""); err != nil {
			return exp.Size, sr.err, err
		}
	}
	return exp.Size, sr.err, nil
}
