package scan

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// Options configure an Engine.
type Options struct {
	// Scanners maps each format to the scanner that analyses it. Formats
	// without a scanner are recognised but not analysed.
	Scanners map[Format]Scanner
	Limits   Limits
	// Workers is the number of files scanned at once; 0 means one per CPU.
	Workers int
	// TempDir holds spilled decompressed members; "" means os.TempDir().
	TempDir string
	// Progress, when set, is called after each file with the running
	// totals. It may be called from several goroutines at once.
	Progress func(Progress)
	Logger   *slog.Logger
}

// Progress is a running count of a scan.
type Progress struct {
	FilesDone, FilesTotal int
	BytesDone, BytesTotal int64
}

// Engine walks paths, recognises formats and runs scanners.
type Engine struct {
	scanners map[Format]Scanner
	limits   Limits
	workers  int
	tempDir  string
	progress func(Progress)
	log      *slog.Logger
}

// NewEngine returns an engine with opts applied.
func NewEngine(opts Options) *Engine {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{
		scanners: opts.Scanners,
		limits:   opts.Limits.withDefaults(),
		workers:  workers,
		tempDir:  opts.TempDir,
		progress: opts.Progress,
		log:      logger,
	}
}

// Rules returns every rule the engine and its scanners may report, sorted
// by ID, without duplicates.
func (e *Engine) Rules() []Rule {
	seen := map[string]bool{}
	var out []Rule
	add := func(rs []Rule) {
		for _, r := range rs {
			if !seen[r.ID] {
				seen[r.ID] = true
				out = append(out, r)
			}
		}
	}
	add(EngineRules())
	for _, sc := range e.scanners {
		add(sc.Rules())
	}
	slices.SortFunc(out, func(a, b Rule) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Result is the outcome of a scan.
type Result struct {
	Findings []Finding
	Files    int   // files examined
	Scanned  int   // files in a recognised format (tentative probes aside)
	Bytes    int64 // bytes of the files examined
	Errors   []PathError
	// SkippedLinks counts symbolic links to directories inside walked
	// trees, which are not followed.
	SkippedLinks int
}

// PathError is a file that could not be read at all.
type PathError struct {
	Path string
	Err  error
}

func (e PathError) Error() string { return fmt.Sprintf("%s: %v", e.Path, e.Err) }

// skipDirs are version-control directories: their content is history, not
// the tree the user asked about.
var skipDirs = map[string]bool{".git": true, ".hg": true, ".svn": true}

type fileJob struct {
	path string
	size int64
}

// ErrNotRegular reports a path named for scanning that is neither a
// regular file nor a directory (a device, FIFO or socket).
var ErrNotRegular = errors.New("not a regular file or directory")

// ScanPaths scans files and directory trees. A path named explicitly is
// followed when it is a symbolic link. Inside directories, symbolic links to
// regular files are followed (the layout of the Hugging Face cache, whose
// snapshots link to blobs) and links to directories are not (they are
// counted in Result.SkippedLinks), so a walk cannot loop. A file reached
// twice, through overlapping paths or links, is scanned once. Files are
// scanned in parallel. Unreadable files are listed in Result.Errors and do
// not stop the scan; a missing or non-regular top-level path is an error.
func (e *Engine) ScanPaths(ctx context.Context, paths []string) (*Result, error) {
	res := &Result{}
	files, walkErrs, skipped, err := Walk(paths)
	if err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	res.Errors, res.SkippedLinks = walkErrs, skipped
	jobs := make([]fileJob, len(files))
	for i, f := range files {
		jobs[i] = fileJob{path: f.Path, size: f.Info.Size()}
	}

	var total int64
	for _, j := range jobs {
		total += j.size
	}
	var (
		mu        sync.Mutex
		filesDone atomic.Int64
		bytesDone atomic.Int64
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.workers)
	for _, j := range jobs {
		g.Go(func() error {
			findings, recognised, err := e.scanFile(gctx, j.path)
			mu.Lock()
			res.Files++
			res.Bytes += j.size
			if recognised {
				res.Scanned++
			}
			res.Findings = append(res.Findings, findings...)
			if err != nil {
				if gctx.Err() != nil {
					mu.Unlock()
					return gctx.Err()
				}
				res.Errors = append(res.Errors, PathError{Path: j.path, Err: err})
			}
			mu.Unlock()
			if e.progress != nil {
				e.progress(Progress{
					FilesDone: int(filesDone.Add(1)), FilesTotal: len(jobs),
					BytesDone: bytesDone.Add(j.size), BytesTotal: total,
				})
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	finished := map[Finisher]bool{} // one scanner may serve several formats
	for _, sc := range e.scanners {
		f, ok := sc.(Finisher)
		if !ok || finished[f] {
			continue
		}
		finished[f] = true
		findings, err := f.Finish(ctx)
		res.Findings = append(res.Findings, findings...)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			res.Errors = append(res.Errors, PathError{Path: "(checks across files)", Err: err})
		}
	}
	SortFindings(res.Findings)
	sort.Slice(res.Errors, func(i, k int) bool { return res.Errors[i].Path < res.Errors[k].Path })
	return res, nil
}

// WalkedFile is a regular file found by Walk.
type WalkedFile struct {
	Path string      // under the path the user gave, even when that path is a link
	Root string      // the path given that led to the file (the file itself when named directly)
	Info fs.FileInfo // of the file, following links
}

// Walk lists the regular files under paths the way a scan reads a tree:
// directories recursively without version-control directories, a named
// directory that is a link walked under its name, links to files followed
// (the Hugging Face cache links snapshots to blobs), links to directories
// not followed (counted in skippedLinks), devices, FIFOs and sockets
// below a directory ignored, and each file once however it is reached. A
// missing or non-regular path named by the caller is an error; entries
// below that cannot be read are returned as walkErrs.
func Walk(paths []string) (files []WalkedFile, walkErrs []PathError, skippedLinks int, err error) {
	seen := map[fileKey]bool{}
	addFile := func(path, root string, info fs.FileInfo) {
		k := keyOf(path, info)
		if seen[k] {
			return
		}
		seen[k] = true
		files = append(files, WalkedFile{Path: path, Root: root, Info: info})
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, nil, 0, err // names the path
		}
		switch {
		case info.Mode().IsRegular():
			addFile(p, p, info)
			continue
		case !info.IsDir():
			return nil, nil, 0, fmt.Errorf("%s: %w (%s); save the content to a file first", p, ErrNotRegular, info.Mode().Type())
		}
		root, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil, nil, 0, err
		}
		display := func(path string) string {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return path
			}
			return filepath.Join(p, rel)
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				walkErrs = append(walkErrs, PathError{Path: display(path), Err: err})
				return nil
			}
			if d.IsDir() {
				if path != root && skipDirs[d.Name()] {
					return filepath.SkipDir
				}
				return nil
			}
			var info fs.FileInfo
			switch {
			case d.Type().IsRegular():
				info, err = d.Info()
			case d.Type()&fs.ModeSymlink != 0:
				info, err = os.Stat(path)
				if err == nil && info.IsDir() {
					skippedLinks++
					return nil
				}
			default:
				return nil // devices, FIFOs and sockets are not model files
			}
			if err != nil {
				walkErrs = append(walkErrs, PathError{Path: display(path), Err: err})
				return nil
			}
			if info.Mode().IsRegular() {
				addFile(display(path), p, info)
			}
			return nil
		})
		if err != nil {
			return nil, nil, 0, fmt.Errorf("walk %s: %w", p, err)
		}
	}
	return files, walkErrs, skippedLinks, nil
}

// scanFile scans one file on disk.
func (e *Engine) scanFile(ctx context.Context, path string) ([]Finding, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	obj := Object{Name: filepath.Base(path), R: f, Size: info.Size(), DiskPath: path}
	return e.scanObject(ctx, path, obj)
}

// ScanReader scans one object that is not (or not only) a file on disk,
// such as an uploaded blob. name is used for display and routing.
func (e *Engine) ScanReader(ctx context.Context, name string, r io.ReaderAt, size int64) ([]Finding, error) {
	findings, _, err := e.scanObject(ctx, name, Object{Name: filepath.Base(name), R: r, Size: size})
	SortFindings(findings)
	return findings, err
}

func (e *Engine) scanObject(ctx context.Context, path string, obj Object) ([]Finding, bool, error) {
	matches, err := Sniff(obj.Name, obj.R, obj.Size)
	if err != nil {
		return nil, false, fmt.Errorf("read %s: %w", path, err)
	}
	var findings []Finding
	sess := &Session{eng: e, path: path, budget: &budget{}, out: &findings}
	err = sess.run(ctx, obj, matches)
	var le *LimitError
	if errors.As(err, &le) {
		err = nil // already reported as a finding
	}
	e.log.DebugContext(ctx, "file scanned", slog.String("path", path), slog.Int("findings", len(findings)))
	recognised := false
	for _, m := range matches {
		// A tentative match is a probe, not a recognition; a format no
		// scanner is registered for was not scanned.
		recognised = recognised || (!m.Tentative && e.scanners[m.Format] != nil)
	}
	return findings, recognised, err
}

// SortFindings orders findings by location, then rule, so reports are
// deterministic.
func SortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(a.Path, b.Path),
			slices.Compare(a.Inner, b.Inner),
			cmp.Compare(a.Offset, b.Offset),
			cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Pointer, b.Pointer),
			cmp.Compare(a.RuleID, b.RuleID),
			cmp.Compare(a.Evidence, b.Evidence),
		)
	})
}
