package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Object is the unit a Scanner analyses: a file on disk, an archive member
// or a payload embedded in another format.
type Object struct {
	Name     string      // file or member name, for display and name-based routing
	Format   Format      // the format the object is handed to the scanner as
	R        io.ReaderAt // the content; scanners must not assume it is a file
	Size     int64
	DiskPath string // the file's path on disk when the object is a plain file, "" inside archives
	// Tentative is set when the object was routed to the scanner by a weak
	// match; the scanner reports nothing if the content is not its format.
	Tentative bool
}

// Scanner analyses objects of one or more formats.
type Scanner interface {
	// Rules lists every rule the scanner may report.
	Rules() []Rule
	// Scan analyses obj and reports findings through sess. It returns an
	// error only when it could not finish; what it reported before stays
	// reported, and the engine adds an SCN001 finding. A *LimitError from
	// sess.Nested or sess.Expand must be returned unchanged.
	Scan(ctx context.Context, obj Object, sess *Session) error
}

// Finisher is implemented by scanners with checks that span files, such
// as a Kubernetes namespace that runs workloads but has no NetworkPolicy
// in any manifest. Such a scanner keeps what it needs from each Scan and
// the engine calls Finish once, after every file of ScanPaths was scanned;
// the findings carry their own Path, and an error is reported with the
// scan's path errors. A scanner that implements Finisher holds per-scan
// state, so it must be created for one engine and may be called from
// several goroutines at once.
type Finisher interface {
	Finish(ctx context.Context) ([]Finding, error)
}

// budget is the work allowance shared by everything inside one top-level
// file.
type budget struct {
	mu        sync.Mutex
	entries   int
	expanded  int64
	exhausted bool // a budget limit was reported; further work stops silently
}

// Session is a scanner's view of the scan in progress: where the object
// sits (file and member chain), the limits, and the way to report findings
// and descend into nested content. A Session is used by one goroutine.
type Session struct {
	eng    *Engine
	path   string
	inner  []string
	depth  int
	budget *budget
	out    *[]Finding
}

// Limits returns the limits in force.
func (s *Session) Limits() Limits { return s.eng.limits }

// Depth returns how deep the current object is nested below the top-level
// file (0 for the file itself).
func (s *Session) Depth() int { return s.depth }

// Report records a finding on the current object.
func (s *Session) Report(f Finding) {
	f.Path = s.path
	if len(s.inner) > 0 {
		f.Inner = append([]string(nil), s.inner...)
	}
	*s.out = append(*s.out, f)
}

// Nested scans content found inside the current object: an archive member,
// a decompressed stream, a payload embedded in a pickle or an array. An
// empty format means "recognise by content"; a non-empty one forces that
// scanner. It enforces the depth and entry limits: a depth limit is
// reported and the content skipped (nil is returned); an exhausted budget
// returns a *LimitError the caller must return unchanged. Errors of the
// nested scanner are reported as findings on the nested object, not
// returned.
func (s *Session) Nested(ctx context.Context, name string, r io.ReaderAt, size int64, format Format) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.depth+1 > s.eng.limits.MaxDepth {
		f := RuleTooDeep.Finding(
			fmt.Sprintf("%q is nested %d levels deep, beyond the limit of %d; it was not analysed", name, s.depth+1, s.eng.limits.MaxDepth),
			name)
		s.Report(f)
		return nil
	}
	if err := s.chargeEntry(name); err != nil {
		return err
	}
	child := &Session{eng: s.eng, path: s.path, inner: append(append([]string(nil), s.inner...), name), depth: s.depth + 1, budget: s.budget, out: s.out}
	obj := Object{Name: name, R: r, Size: size}
	if format != "" {
		return child.run(ctx, obj, []Match{{Format: format}})
	}
	matches, err := Sniff(name, r, size)
	if err != nil {
		child.Report(RuleIncomplete.Finding(fmt.Sprintf("could not read nested object: %v", err), ""))
		return nil
	}
	return child.run(ctx, obj, matches)
}

// run hands obj to the scanner of each match, turning scanner failures
// into findings. Only context and budget errors are returned.
func (s *Session) run(ctx context.Context, obj Object, matches []Match) error {
	for _, m := range matches {
		sc := s.eng.scanners[m.Format]
		if sc == nil {
			continue
		}
		o := obj
		o.Format = m.Format
		o.Tentative = m.Tentative
		err := sc.Scan(ctx, o, s)
		if err == nil {
			continue
		}
		var le *LimitError
		switch {
		case errors.As(err, &le):
			return err
		case ctx.Err() != nil:
			return ctx.Err()
		default:
			s.Report(RuleIncomplete.Finding(
				fmt.Sprintf("the %s scanner stopped early: %v", m.Format, err), ""))
		}
	}
	return nil
}

// chargeEntry counts one nested object against the entry limit.
func (s *Session) chargeEntry(name string) error {
	b := s.budget
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.exhausted {
		return &LimitError{What: "scan budget", Limit: 0, Got: 0}
	}
	b.entries++
	if b.entries > s.eng.limits.MaxEntries {
		b.exhausted = true
		s.Report(RuleTooManyEntries.Finding(
			fmt.Sprintf("more than %d archive members or embedded payloads; %q and everything after it were not analysed", s.eng.limits.MaxEntries, name), name))
		return &LimitError{What: "entry count", Limit: int64(s.eng.limits.MaxEntries), Got: int64(b.entries)}
	}
	return nil
}

// chargeExpanded counts n decompressed bytes against the total budget.
func (s *Session) chargeExpanded(n int64) (exceeded bool, total int64) {
	b := s.budget
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expanded += n
	return b.expanded > s.eng.limits.MaxExpandedBytes, b.expanded
}

// Expanded is decompressed content held in memory or in a temporary file.
type Expanded struct {
	R        io.ReaderAt
	Size     int64
	file     *os.File
	unlinked bool // the temporary file was removed when it was created
}

// Close releases the temporary file, if any.
func (e *Expanded) Close() error {
	if e == nil || e.file == nil {
		return nil
	}
	name := e.file.Name()
	err := e.file.Close()
	if e.unlinked {
		return err
	}
	if rmErr := os.Remove(name); err == nil {
		err = rmErr
	}
	return err
}

// expandChunk is the copy granularity of Expand; limits are checked after
// every chunk.
const expandChunk = 1 << 20

// Expand reads a decompressing stream to its end so that scanners can read
// the result at random offsets. Output up to Limits.MemoryBuffer stays in
// memory; more spills to a temporary file. compressedSize is the size of
// the compressed input (0 if unknown) and drives the ratio check. When the
// member size, total size or ratio limit is passed, Expand reports an
// SCN004 finding naming the member and returns a *LimitError; the caller
// must stop and return it. The caller must Close the result.
func (s *Session) Expand(ctx context.Context, name string, src io.Reader, compressedSize int64) (*Expanded, error) {
	lim := s.eng.limits
	var (
		mem      []byte
		file     *os.File
		unlinked bool
		total    int64
		buf      = make([]byte, expandChunk)
	)
	fail := func(err error) (*Expanded, error) {
		if file != nil {
			_ = file.Close()
			if !unlinked {
				_ = os.Remove(file.Name())
			}
		}
		return nil, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		n, rerr := io.ReadFull(src, buf)
		if n > 0 {
			total += int64(n)
			if err := s.checkExpansion(name, int64(n), total, compressedSize); err != nil {
				return fail(err)
			}
			switch {
			case file != nil:
				if _, err := file.Write(buf[:n]); err != nil {
					return fail(fmt.Errorf("spill %s to a temporary file: %w", name, err))
				}
			case total <= lim.MemoryBuffer:
				mem = append(mem, buf[:n]...)
			default:
				f, err := os.CreateTemp(s.eng.tempDir, "palisade-scan-*")
				if err != nil {
					return fail(fmt.Errorf("create temporary file for %s: %w (set TMPDIR to a directory with room)", name, err))
				}
				// Unlink at once where the platform allows it, so even a
				// killed scan leaves nothing behind; Close removes it
				// otherwise.
				if os.Remove(f.Name()) == nil {
					unlinked = true
				}
				file = f
				if _, err := file.Write(mem); err != nil {
					return fail(fmt.Errorf("spill %s to a temporary file: %w", name, err))
				}
				mem = nil
				if _, err := file.Write(buf[:n]); err != nil {
					return fail(fmt.Errorf("spill %s to a temporary file: %w", name, err))
				}
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return fail(fmt.Errorf("decompress %s: %w", name, rerr))
		}
	}
	if file != nil {
		return &Expanded{R: file, Size: total, file: file, unlinked: unlinked}, nil
	}
	return &Expanded{R: byteReaderAt(mem), Size: total}, nil
}

// checkExpansion applies the member, total and ratio limits after n more
// bytes of one member (total so far) were produced.
func (s *Session) checkExpansion(name string, n, total, compressed int64) error {
	lim := s.eng.limits
	exceeded, all := s.chargeExpanded(n)
	var le *LimitError
	var msg string
	switch {
	case total > lim.MaxMemberBytes:
		le = &LimitError{What: "decompressed member size", Limit: lim.MaxMemberBytes, Got: total}
		msg = fmt.Sprintf("%q decompresses to more than %d bytes", name, lim.MaxMemberBytes)
	case exceeded:
		le = &LimitError{What: "total decompressed size", Limit: lim.MaxExpandedBytes, Got: all}
		msg = fmt.Sprintf("content decompresses to more than %d bytes in total (reached at %q)", lim.MaxExpandedBytes, name)
	case compressed > 0 && total > lim.RatioFloor && float64(total)/float64(compressed) > lim.MaxRatio:
		le = &LimitError{What: "compression ratio", Limit: int64(lim.MaxRatio), Got: total / compressed}
		msg = fmt.Sprintf("%q expands more than %.0f times (%d compressed bytes gave over %d)", name, lim.MaxRatio, compressed, total)
	default:
		return nil
	}
	b := s.budget
	b.mu.Lock()
	first := !b.exhausted
	b.exhausted = true
	b.mu.Unlock()
	if first {
		s.Report(RuleExpansion.Finding(msg+"; decompression stopped", name))
	}
	return le
}

// byteReaderAt serves ReadAt from a byte slice.
type byteReaderAt []byte

func (b byteReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
