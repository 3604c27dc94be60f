package archive

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/palisade-sec/palisade/internal/scan"
)

// scanTar walks a tar archive. Regular members are handed on as
// io.SectionReaders at their data offset, which the section reader the
// tar reader consumes tracks (archive/tar reads headers block by block
// and skips member data by seeking, so the position after Next is exactly
// where the data starts). Unknown member types are scanned like regular
// files, as Python's tarfile (and so PyTorch's legacy tar loader) reads
// them.
func scanTar(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	sr := io.NewSectionReader(obj.R, 0, obj.Size)
	tr := tar.NewReader(sr)
	seen := names{}
	maxEntries := sess.Limits().MaxEntries
	for count := 0; ; count++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		pos, _ := sr.Seek(0, io.SeekCurrent)
		if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
			if count == 0 {
				report(sess, RuleUnreadable, 0, "",
					fmt.Sprintf("the tar archive cannot be read (%v); its content was not analysed", err), err.Error())
			} else {
				report(sess, RuleUnreadable, pos, "",
					fmt.Sprintf("the tar archive is corrupt after %d members, near offset %d (%v); the rest was not analysed", count, pos, err), err.Error())
			}
			return nil
		}
		if count >= maxEntries {
			// Links, directories and empty files are not handed on, so
			// Session.Nested does not count them; bound them here.
			report(sess, scan.RuleTooManyEntries, pos, "",
				fmt.Sprintf("the tar archive holds more than %d members; members after the first %d were not analysed", maxEntries, maxEntries), "")
			return nil
		}
		name := hdr.Name
		checkName(sess, pos, name)

		switch hdr.Typeflag {
		case tar.TypeSymlink, tar.TypeLink:
			symbolic := hdr.Typeflag == tar.TypeSymlink
			kind := "hard link"
			if symbolic {
				kind = "symbolic link"
			}
			evidence := name + " -> " + hdr.Linkname
			if linkEscapes(name, hdr.Linkname, symbolic) {
				report(sess, RuleTraversal, pos, name,
					fmt.Sprintf("tar member %q is a %s to %q, outside the archive; extracting it exposes or overwrites files elsewhere", name, kind, hdr.Linkname), evidence)
			} else {
				report(sess, RuleLink, pos, name,
					fmt.Sprintf("tar member %q is a %s to %q", name, kind, hdr.Linkname), evidence)
			}
			continue
		case tar.TypeDir, tar.TypeChar, tar.TypeBlock, tar.TypeFifo, tar.TypeXGlobalHeader:
			continue
		}
		seen.check(sess, pos, name)
		if hdr.Size <= 0 {
			continue
		}
		if isSparse(hdr) {
			// The logical content interleaves holes with the stored
			// data: read it through the tar reader.
			decoded, decErr, fatal := expandMember(ctx, sess, name, tr, obj.Size)
			if fatal != nil {
				return fatal
			}
			if decErr != nil {
				report(sess, RuleMemberUnreadable, pos, name,
					fmt.Sprintf("sparse member %q is corrupt after %d bytes (%v); the rest was not analysed", name, decoded, decErr), name)
			}
			continue
		}
		n := hdr.Size
		if avail := obj.Size - pos; n > avail {
			report(sess, RuleMemberUnreadable, pos, name,
				fmt.Sprintf("member %q is truncated: it declares %d bytes but only %d remain in the file; the part present was scanned", name, n, avail), name)
			if avail <= 0 {
				return nil
			}
			return sess.Nested(ctx, name, io.NewSectionReader(obj.R, pos, avail), avail, "")
		}
		if err := sess.Nested(ctx, name, io.NewSectionReader(obj.R, pos, n), n, ""); err != nil {
			return err
		}
	}
}

// isSparse reports whether hdr describes a GNU sparse file, whose stored
// bytes are not its content.
func isSparse(hdr *tar.Header) bool {
	if hdr.Typeflag == tar.TypeGNUSparse {
		return true
	}
	for k := range hdr.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return true
		}
	}
	return false
}
