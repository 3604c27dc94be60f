package archive

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/bodgit/sevenzip"

	"github.com/palisade-sec/palisade/internal/scan"
)

// scan7z opens a 7z archive with github.com/bodgit/sevenzip, after
// check7z has validated its header, and passes every file through
// Session.Expand and Session.Nested. This is what finds the nullifAI
// samples: PyTorch pickles wrapped in 7z, which the Hub's scanner did not
// open.
func scan7z(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	info, err := check7z(obj.R, obj.Size, sess.Limits())
	if err != nil {
		var p *szProblem
		if errors.As(err, &p) {
			report(sess, p.rule, -1, "", p.msg, "")
			return nil
		}
		return err
	}
	if info.empty {
		return nil
	}
	zr, err := open7z(obj.R, obj.Size)
	if err != nil {
		if isEncrypted7z(err) {
			report(sess, RuleEncrypted, -1, "",
				fmt.Sprintf("the 7z archive is encrypted (%v); its content could not be analysed", err), "")
			return nil
		}
		report(sess, RuleUnreadable, -1, "",
			fmt.Sprintf("the 7z archive cannot be read (%v); its content was not analysed", err), err.Error())
		return nil
	}
	seen := names{}
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := scan7zFile(ctx, obj, sess, info, f, seen); err != nil {
			return err
		}
	}
	return nil
}

// scan7zFile scans one file of a 7z archive.
func scan7zFile(ctx context.Context, obj scan.Object, sess *scan.Session, info *szInfo, f *sevenzip.File, seen names) error {
	name := f.Name
	checkName(sess, -1, name)
	if f.FileInfo().IsDir() {
		return nil
	}
	seen.check(sess, -1, name)
	if f.UncompressedSize == 0 {
		return nil
	}
	if f.Stream >= 0 && f.Stream < len(info.folders) {
		fo := info.folders[f.Stream]
		switch {
		case fo.encrypted:
			report(sess, RuleEncrypted, -1, name,
				fmt.Sprintf("member %q is encrypted; its content could not be analysed", name), "7z AES coder")
			return nil
		case fo.unsupported != "":
			report(sess, RuleUnsupportedMethod, -1, name,
				fmt.Sprintf("member %q is packed with 7z coder %s, which Palisade cannot decode; its content was not analysed", name, fo.unsupported),
				"coder "+fo.unsupported)
			return nil
		case fo.reject != "":
			report(sess, RuleMemberUnreadable, -1, name,
				fmt.Sprintf("member %q was not decompressed: %s", name, fo.reject), name)
			return nil
		}
	}
	rc, err := open7zFile(f)
	if err != nil {
		if isEncrypted7z(err) {
			report(sess, RuleEncrypted, -1, name,
				fmt.Sprintf("member %q is encrypted (%v); its content could not be analysed", name, err), name)
			return nil
		}
		report(sess, RuleMemberUnreadable, -1, name,
			fmt.Sprintf("member %q cannot be opened (%v); its content was not analysed", name, err), name)
		return nil
	}
	// The whole archive bounds what any one member was packed into.
	decoded, decErr, fatal := expandMember(ctx, sess, name, rc, obj.Size)
	close7z(rc)
	if fatal != nil {
		return fatal
	}
	if decErr != nil {
		if isEncrypted7z(decErr) {
			report(sess, RuleEncrypted, -1, name,
				fmt.Sprintf("member %q is encrypted; its content could not be analysed", name), name)
			return nil
		}
		report(sess, RuleMemberUnreadable, -1, name,
			fmt.Sprintf("member %q is corrupt after %d decompressed bytes (%v); those bytes were scanned, the rest was not analysed", name, decoded, decErr), name)
	}
	return nil
}

// isEncrypted7z reports whether the library hinted that err comes from
// encryption.
func isEncrypted7z(err error) bool {
	var re *sevenzip.ReadError
	return errors.As(err, &re) && re.Encrypted
}

// open7z opens the archive, turning a panic in the library into an error:
// the input is hostile and the library is not ours.
func open7z(r io.ReaderAt, size int64) (zr *sevenzip.Reader, err error) {
	defer func() {
		if v := recover(); v != nil {
			zr, err = nil, fmt.Errorf("7z reader failed: %v", v)
		}
	}()
	return sevenzip.NewReader(r, size)
}

// open7zFile opens one file, turning a panic into an error.
func open7zFile(f *sevenzip.File) (rc io.ReadCloser, err error) {
	defer func() {
		if v := recover(); v != nil {
			rc, err = nil, fmt.Errorf("7z reader failed: %v", v)
		}
	}()
	return f.Open()
}

// close7z closes a file reader, ignoring a panic or error: the content
// has been read, and closing only returns decoders to a pool.
func close7z(rc io.Closer) {
	defer func() { _ = recover() }()
	_ = rc.Close()
}
