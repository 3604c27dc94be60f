package secrets

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"unicode/utf8"

	"github.com/palisade-sec/palisade/internal/scan"
)

// Defaults for Options fields left zero.
const (
	DefaultMaxLineBytes     = 1 << 20
	DefaultMaxNotebookBytes = 64 << 20
	DefaultMaxNotebookDepth = 64
	blockBytes              = 1 << 20 // text is read and prefiltered in blocks of about this size
)

// Options configure a Scanner.
type Options struct {
	// GitleaksConfig is the path of a gitleaks TOML file. Its rules and
	// allowlists are used as gitleaks would: without an [extend] section
	// they replace gitleaks' default rules; with extend.useDefault or
	// extend.path they extend them. Palisade's own rules always run, and
	// the file's global allowlists apply to them too. "" means gitleaks'
	// default rules.
	GitleaksConfig string
	// MaxLineBytes clips longer lines: only their first MaxLineBytes bytes
	// are matched, and scanning goes on at the next line. 0 means
	// DefaultMaxLineBytes.
	MaxLineBytes int
	// MaxNotebookBytes is the largest notebook decoded as JSON; a larger
	// one is scanned as plain text. 0 means DefaultMaxNotebookBytes.
	MaxNotebookBytes int64
	// MaxNotebookDepth is the deepest JSON nesting decoded in a notebook;
	// a deeper one is scanned as plain text. 0 means DefaultMaxNotebookDepth.
	MaxNotebookDepth int
}

// Scanner finds secrets in text files and notebooks. It is safe for
// concurrent use.
type Scanner struct {
	opts Options

	// The matcher is built on first use when only the default rules are
	// in play (compiling them costs tens of milliseconds, wasted on scans
	// of model files alone); a user configuration is compiled by New so
	// that its errors come before the scan.
	once sync.Once
	m    *matcher
	err  error
}

var _ scan.Scanner = (*Scanner)(nil)

// New loads the rules (gitleaks' defaults or opts.GitleaksConfig, and
// Palisade's) and compiles the matcher. A configuration that cannot be
// read or is invalid is an error wrapping ErrConfig or the read error.
func New(opts Options) (*Scanner, error) {
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = DefaultMaxLineBytes
	}
	if opts.MaxNotebookBytes <= 0 {
		opts.MaxNotebookBytes = DefaultMaxNotebookBytes
	}
	if opts.MaxNotebookDepth <= 0 {
		opts.MaxNotebookDepth = DefaultMaxNotebookDepth
	}
	s := &Scanner{opts: opts}
	if opts.GitleaksConfig != "" {
		if _, err := s.matcher(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// matcher builds the matcher once.
func (s *Scanner) matcher() (*matcher, error) {
	s.once.Do(func() {
		rs, err := loadRuleSet(s.opts.GitleaksConfig)
		if err != nil {
			s.err = err
			return
		}
		s.m, s.err = newMatcher(rs, s.opts.MaxLineBytes)
	})
	return s.m, s.err
}

// Scan reports the secrets in a text object or a notebook.
func (s *Scanner) Scan(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	return s.scan(ctx, obj, sess.Report)
}

// scan is Scan with the reporting function separated, for tests.
func (s *Scanner) scan(ctx context.Context, obj scan.Object, report func(scan.Finding)) error {
	m, err := s.matcher()
	if err != nil {
		return err
	}
	path := obj.DiskPath
	if path == "" {
		path = obj.Name
	}
	path = filepath.ToSlash(path)
	switch obj.Format {
	case scan.FormatNotebook:
		return s.scanNotebook(ctx, m, obj, path, report)
	case scan.FormatText, "":
		return s.scanText(ctx, m, io.NewSectionReader(obj.R, 0, obj.Size), obj.Size, path, report)
	}
	return nil
}

// scanText streams r (of size bytes, -1 if unknown) in blocks of whole lines. A line longer than the
// buffer is clipped: its head is matched and the rest skipped.
func (s *Scanner) scanText(ctx context.Context, m *matcher, r io.Reader, size int64, path string, report func(scan.Finding)) error {
	ls := newLineScanner(m, path)
	ls.pathHits()
	// Small files (most source files) get a buffer of their size; the
	// extra byte lets ReadFull see the end.
	bufLen := int64(blockBytes + s.opts.MaxLineBytes)
	if size >= 0 && size+1 < bufLen {
		bufLen = size + 1
	}
	buf := make([]byte, bufLen)
	n, line := 0, 1
	var off int64 // object offset of buf[0]
	skipping := false
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		m, rerr := io.ReadFull(r, buf[n:])
		n += m
		eof := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
		if rerr != nil && !eof {
			ls.finishKey()
			s.emit(ls.out, report)
			return fmt.Errorf("read %s: %w", path, rerr)
		}
		start := 0
		if skipping {
			nl := bytes.IndexByte(buf[:n], '\n')
			if nl < 0 {
				off += int64(n)
				n = 0
				if eof {
					break
				}
				continue
			}
			start, skipping, line = nl+1, false, line+1
		}
		var end int
		switch {
		case eof:
			end = n
		default:
			nl := bytes.LastIndexByte(buf[start:n], '\n')
			if nl >= 0 {
				end = start + nl + 1
			} else {
				// A line longer than the buffer: match its head only.
				end, skipping = n, true
			}
		}
		if end > start {
			ls.base = off + int64(start)
			ls.block(buf[start:end], line)
			line += bytes.Count(buf[start:end], []byte{'\n'})
		}
		copy(buf, buf[end:n])
		off += int64(end)
		n -= end
		if eof {
			break
		}
	}
	ls.finishKey()
	s.emit(ls.out, report)
	return nil
}

// emit turns hits into findings.
func (s *Scanner) emit(hits []hit, report func(scan.Finding)) {
	for _, h := range hits {
		report(s.finding(h, ""))
	}
}

// finding builds the finding of a hit. The secret never leaves this
// function: the evidence is a masked prefix and a fingerprint.
func (s *Scanner) finding(h hit, pointer string) scan.Finding {
	r := h.rule
	var msg string
	switch {
	case r.meta.ID == RuleGitleaks.ID || r.meta.ID == RuleCustom.ID:
		msg = fmt.Sprintf("%s (gitleaks rule %s)", trimPeriod(r.kind), r.source)
	default:
		msg = fmt.Sprintf("A %s is written in plain text", r.kind)
	}
	ev := Evidence(h.secret)
	if h.secret == "" {
		msg = fmt.Sprintf("%s: the file name matches (gitleaks rule %s)", trimPeriod(r.kind), r.source)
		ev = ""
	}
	f := r.meta.Finding(msg, ev)
	f.Line = h.line
	f.Offset = h.offset
	f.Pointer = pointer
	return f
}

func trimPeriod(s string) string {
	if n := len(s); n > 0 && s[n-1] == '.' {
		return s[:n-1]
	}
	return s
}

// Evidence renders a secret for display without revealing it: at most
// four leading characters (fewer for short secrets), an ellipsis, and the
// first 12 hex digits of its SHA-256.
func Evidence(secret string) string {
	n := min(4, len(secret)/4)
	for n > 0 && !utf8.ValidString(secret[:n]) {
		n--
	}
	sum := sha256.Sum256([]byte(secret))
	return secret[:n] + "… sha256:" + hex.EncodeToString(sum[:6])
}
