package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeScanner runs fn for every object routed to it.
type fakeScanner struct {
	rules []Rule
	fn    func(ctx context.Context, obj Object, sess *Session) error
}

func (f fakeScanner) Rules() []Rule { return f.rules }
func (f fakeScanner) Scan(ctx context.Context, obj Object, sess *Session) error {
	return f.fn(ctx, obj, sess)
}

var ruleFake = Rule{ID: "TST001", Name: "fake", Severity: SeverityHigh, Summary: "test rule", Remediation: "none"}

// reportName reports every object it sees, with its name as evidence.
var reportName = fakeScanner{rules: []Rule{ruleFake}, fn: func(_ context.Context, obj Object, sess *Session) error {
	sess.Report(ruleFake.Finding("seen", obj.Name))
	return nil
}}

func ruleIDs(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.RuleID)
	}
	return out
}

func TestNestedDepthLimit(t *testing.T) {
	t.Parallel()
	// A "zip" that contains itself: without the depth limit this never ends.
	self := fakeScanner{fn: func(ctx context.Context, obj Object, sess *Session) error {
		return sess.Nested(ctx, "inner.zip", obj.R, obj.Size, FormatZip)
	}}
	eng := NewEngine(Options{Scanners: map[Format]Scanner{FormatZip: self}, Limits: Limits{MaxDepth: 3}})
	data := []byte("PK\x03\x04")
	fs, err := eng.ScanReader(t.Context(), "outer.zip", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("ScanReader: %v", err)
	}
	if diff := cmp.Diff([]string{"SCN002"}, ruleIDs(fs)); diff != "" {
		t.Fatalf("rules (-want +got):\n%s", diff)
	}
	if got, want := len(fs[0].Inner), 3; got != want {
		t.Errorf("finding reported at depth %d (%v), want %d", got, fs[0].Inner, want)
	}
}

func TestNestedEntryLimit(t *testing.T) {
	t.Parallel()
	visited := 0
	archive := fakeScanner{fn: func(ctx context.Context, obj Object, sess *Session) error {
		for i := 0; i < 100; i++ {
			if err := sess.Nested(ctx, "m", bytes.NewReader(nil), 0, FormatPickle); err != nil {
				return err
			}
		}
		return nil
	}}
	count := fakeScanner{fn: func(context.Context, Object, *Session) error { visited++; return nil }}
	eng := NewEngine(Options{Scanners: map[Format]Scanner{FormatZip: archive, FormatPickle: count}, Limits: Limits{MaxEntries: 10}})
	fs, err := eng.ScanReader(t.Context(), "many.zip", bytes.NewReader([]byte("PK\x03\x04")), 4)
	if err != nil {
		t.Fatalf("ScanReader: %v", err)
	}
	if diff := cmp.Diff([]string{"SCN003"}, ruleIDs(fs)); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	if visited != 10 {
		t.Errorf("scanned %d members, want exactly the limit of 10", visited)
	}
}

func TestScannerErrorFailsClosed(t *testing.T) {
	t.Parallel()
	broken := fakeScanner{rules: []Rule{ruleFake}, fn: func(_ context.Context, _ Object, sess *Session) error {
		sess.Report(ruleFake.Finding("found before the failure", "os.system"))
		return errors.New("unexpected end of stream")
	}}
	eng := NewEngine(Options{Scanners: map[Format]Scanner{FormatPickle: broken}})
	data := []byte("\x80\x04garbage")
	fs, err := eng.ScanReader(t.Context(), "x.pkl", bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("ScanReader: %v", err)
	}
	// Sorted by rule: the engine's finding first, then the one made before the failure.
	if diff := cmp.Diff([]string{"SCN001", "TST001"}, ruleIDs(fs)); diff != "" {
		t.Fatalf("rules (-want +got):\n%s", diff)
	}
	if !strings.Contains(fs[0].Message, "unexpected end of stream") {
		t.Errorf("SCN001 message %q does not name the cause", fs[0].Message)
	}
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestExpandLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		limits     Limits
		compressed int64
		src        io.Reader
		wantWhat   string
	}{
		{"ratio", Limits{RatioFloor: 1 << 20, MaxRatio: 100}, 1000, zeros{}, "compression ratio"},
		{"member size", Limits{MaxMemberBytes: 4 << 20}, 0, zeros{}, "decompressed member size"},
		{"total size", Limits{MaxExpandedBytes: 3 << 20}, 0, zeros{}, "total decompressed size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var le *LimitError
			stream := fakeScanner{fn: func(ctx context.Context, obj Object, sess *Session) error {
				x, err := sess.Expand(ctx, "payload", tt.src, tt.compressed)
				if err == nil {
					x.Close()
					t.Fatal("Expand of an endless stream succeeded")
				}
				if !errors.As(err, &le) {
					t.Fatalf("Expand error %v is not a *LimitError", err)
				}
				return err
			}}
			eng := NewEngine(Options{Scanners: map[Format]Scanner{FormatGzip: stream}, Limits: tt.limits, TempDir: t.TempDir()})
			fs, err := eng.ScanReader(t.Context(), "bomb.gz", bytes.NewReader([]byte{0x1f, 0x8b}), 2)
			if err != nil {
				t.Fatalf("ScanReader: %v", err)
			}
			if diff := cmp.Diff([]string{"SCN004"}, ruleIDs(fs)); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
			if le.What != tt.wantWhat {
				t.Errorf("limit %q reached, want %q", le.What, tt.wantWhat)
			}
		})
	}
}

func TestExpandSpillsToDisk(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	want := bytes.Repeat([]byte("palisade"), 1<<18) // 2 MiB
	var got []byte
	stream := fakeScanner{fn: func(ctx context.Context, obj Object, sess *Session) error {
		x, err := sess.Expand(ctx, "payload", bytes.NewReader(want), int64(len(want)))
		if err != nil {
			return err
		}
		defer x.Close()
		// The spill file is unlinked as soon as it is created, so even a
		// killed scan leaves nothing behind.
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("%d temporary files visible while expanded, want 0", len(entries))
		}
		if _, ok := x.R.(*os.File); !ok {
			t.Errorf("2 MiB expansion held as %T, want a spilled *os.File", x.R)
		}
		got = make([]byte, x.Size)
		_, err = x.R.ReadAt(got, 0)
		return err
	}}
	eng := NewEngine(Options{Scanners: map[Format]Scanner{FormatGzip: stream}, Limits: Limits{MemoryBuffer: 1 << 20}, TempDir: dir})
	if _, err := eng.ScanReader(t.Context(), "big.gz", bytes.NewReader([]byte{0x1f, 0x8b}), 2); err != nil {
		t.Fatalf("ScanReader: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("expanded content differs from the input (%d bytes, want %d)", len(got), len(want))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d temporary files left after Close", len(entries))
	}
}

func TestScanPathsWalksAndSkipsVCS(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(rel string, data []byte) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/model.pkl", []byte("\x80\x02N."))
	write("b/c/weights.pt", []byte("\x80\x04N."))
	write("readme.md", []byte("# hello"))
	write(".git/objects/x.pkl", []byte("\x80\x02N."))
	eng := NewEngine(Options{Scanners: map[Format]Scanner{FormatPickle: reportName}, Workers: 2})
	res, err := eng.ScanPaths(t.Context(), []string{root})
	if err != nil {
		t.Fatalf("ScanPaths: %v", err)
	}
	var got []string
	for _, f := range res.Findings {
		rel, _ := filepath.Rel(root, f.Path)
		got = append(got, filepath.ToSlash(rel))
	}
	if diff := cmp.Diff([]string{"a/model.pkl", "b/c/weights.pt"}, got); diff != "" {
		t.Errorf("scanned files (-want +got):\n%s", diff)
	}
	if res.Files != 3 || res.Scanned != 2 {
		t.Errorf("Files=%d Scanned=%d, want 3 and 2", res.Files, res.Scanned)
	}
	if _, err := eng.ScanPaths(t.Context(), []string{filepath.Join(root, "missing")}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ScanPaths(missing) error = %v, want not-exist", err)
	}
}

func TestScanPathsHonoursCancellation(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, n := range []string{"a.pkl", "b.pkl", "c.pkl"} {
		if err := os.WriteFile(filepath.Join(root, n), []byte("\x80\x02N."), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	eng := NewEngine(Options{Scanners: map[Format]Scanner{FormatPickle: fakeScanner{fn: func(ctx context.Context, _ Object, _ *Session) error {
		return ctx.Err()
	}}}})
	if _, err := eng.ScanPaths(ctx, []string{root}); !errors.Is(err, context.Canceled) {
		t.Errorf("ScanPaths after cancel: error = %v, want context.Canceled", err)
	}
}

func TestApplySuppressions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	findings := []Finding{
		{RuleID: "PKL002", Path: "models/legacy/a.pkl"},
		{RuleID: "PKL001", Path: "models/legacy/a.pkl"},
		{RuleID: "PKL002", Path: "models/new/b.pkl"},
		{RuleID: "PKL002", Path: "bundle.zip", Inner: []string{"vendor/c.pkl"}},
	}
	sups := []Suppression{
		{Rule: "PKL002", Path: "models/legacy/**", Reason: "vendor model, reviewed", Expires: now.AddDate(0, 1, 0)},
		{Rule: "PKL002", Path: "models/new/*", Reason: "old review", Expires: now.AddDate(0, 0, -1)},
		{Rule: "PKL002", Path: "bundle.zip!/vendor/*", Reason: "member reviewed", Expires: now.AddDate(1, 0, 0)},
	}
	kept, hidden, expired := ApplySuppressions(findings, sups, now)
	if diff := cmp.Diff([]string{"PKL001", "PKL002"}, ruleIDs(kept)); diff != "" {
		t.Errorf("kept (-want +got):\n%s", diff)
	}
	if kept[1].Path != "models/new/b.pkl" {
		t.Errorf("kept %s, want the finding whose suppression expired", kept[1].Path)
	}
	if len(hidden) != 2 || hidden[0].Reason != "vendor model, reviewed" || hidden[1].Reason != "member reviewed" {
		t.Errorf("hidden = %+v, want the legacy and bundle findings with their reasons", hidden)
	}
	if len(expired) != 1 || expired[0].Path != "models/new/*" {
		t.Errorf("expired = %+v, want the models/new suppression", expired)
	}
}

func TestSuppressionValidate(t *testing.T) {
	t.Parallel()
	err := Suppression{Path: "[", Reason: " "}.Validate()
	if err == nil {
		t.Fatal("Validate of an empty suppression succeeded")
	}
	for _, want := range []string{"rule is empty", "not a valid glob", "reason is empty", "expires is missing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %q does not say %q", err, want)
		}
	}
}

func TestScanPathsFollowsFileLinksOnce(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	// The Hugging Face cache layout: snapshots link to blobs.
	blobs := filepath.Join(root, "hub", "blobs")
	snap := filepath.Join(root, "hub", "snapshots", "abc")
	for _, d := range []string{blobs, snap} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(blobs, "f00d"), []byte("\x80\x02N."), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "..", "blobs", "f00d"), filepath.Join(snap, "pytorch_model.bin")); err != nil {
		t.Fatal(err)
	}
	// A link to a directory (which could form a loop) is not followed.
	if err := os.Symlink(filepath.Join(root, "hub"), filepath.Join(snap, "loop")); err != nil {
		t.Fatal(err)
	}
	// A link to the snapshot directory named on the command line is.
	named := filepath.Join(root, "current")
	if err := os.Symlink(snap, named); err != nil {
		t.Fatal(err)
	}
	eng := NewEngine(Options{Scanners: map[Format]Scanner{FormatPickle: reportName}})

	res, err := eng.ScanPaths(t.Context(), []string{named})
	if err != nil {
		t.Fatalf("ScanPaths: %v", err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Path != filepath.Join(named, "pytorch_model.bin") {
		t.Fatalf("findings = %+v, want one on %s", res.Findings, filepath.Join(named, "pytorch_model.bin"))
	}
	if res.SkippedLinks != 1 {
		t.Errorf("SkippedLinks = %d, want 1 (the loop link)", res.SkippedLinks)
	}

	// The blob reached through the tree, the link and the blob directory
	// is scanned once.
	res, err = eng.ScanPaths(t.Context(), []string{filepath.Join(root, "hub"), named, blobs})
	if err != nil {
		t.Fatalf("ScanPaths: %v", err)
	}
	if res.Files != 1 || len(res.Findings) != 1 {
		t.Errorf("Files = %d, findings = %d; want the one blob scanned once", res.Files, len(res.Findings))
	}
}

func TestScanPathsRefusesNonRegularFiles(t *testing.T) {
	t.Parallel()
	eng := NewEngine(Options{Scanners: map[Format]Scanner{FormatPickle: reportName}})
	_, err := eng.ScanPaths(t.Context(), []string{os.DevNull})
	if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "save the content to a file") {
		t.Errorf("ScanPaths(%s) error = %v, want ErrNotRegular with the fix", os.DevNull, err)
	}
}

// countingFinisher reports one finding per scanned object and, at the end
// of the scan, one finding naming how many it saw.
type countingFinisher struct {
	mu   sync.Mutex
	seen int
}

func (c *countingFinisher) Rules() []Rule { return []Rule{ruleFake} }
func (c *countingFinisher) Scan(_ context.Context, _ Object, _ *Session) error {
	c.mu.Lock()
	c.seen++
	c.mu.Unlock()
	return nil
}
func (c *countingFinisher) Finish(context.Context) ([]Finding, error) {
	f := ruleFake.Finding(fmt.Sprintf("saw %d files", c.seen), "")
	f.Path = "summary"
	return []Finding{f}, nil
}

func TestFinisherRunsAfterTheWalk(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	for _, name := range []string{"a.pkl", "b.pkl", "c.pkl"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte("\x80\x02N."), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	eng := NewEngine(Options{Scanners: map[Format]Scanner{FormatPickle: &countingFinisher{}}, Workers: 2})
	res, err := eng.ScanPaths(t.Context(), []string{root})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 || res.Findings[0].Message != "saw 3 files" {
		t.Fatalf("findings = %+v, want one finding saying the finisher saw 3 files", res.Findings)
	}
}
