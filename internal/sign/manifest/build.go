package manifest

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"
)

// DefaultIgnorePaths are ignored at the model root unless
// Options.NoDefaultIgnores is set, as in the reference.
var DefaultIgnorePaths = []string{".git", ".gitattributes", ".github", ".gitignore"}

// Read buffer sizes. A SHA-256 or BLAKE2b read is small enough for the
// buffer to be still in the core's cache when the hash reads what the
// kernel copied into it, and for a read from page cache to end before the
// Go scheduler hands the worker's processor to another thread (it does so
// to a system call that lasts a scheduler tick): on page-cached files,
// 128 KiB reads cost 5-10% less CPU than 1 MiB or 4 MiB ones and do not
// leave cores idle. BLAKE3 gets larger ones because its implementation
// hashes the chunks of one write in parallel.
const (
	readBufSize   = 128 << 10
	blake3BufSize = 4 << 20
)

// Options say how to hash a model. The zero value is the reference's
// default: files, SHA-256, symlinks refused, default ignores.
type Options struct {
	Hash      Hash   // "" means SHA256
	Method    Method // "" means Files; BLAKE3 with Shards falls back to Files, as in the reference
	ShardSize int64  // for Shards; 0 means DefaultShardSize

	// AllowSymlinks follows symlinks to regular files inside the model
	// root and hashes the target's bytes under the link's name.
	AllowSymlinks bool
	// AllowEscapingSymlinks also follows symlinks whose target lies
	// outside the model root (the reference's allow_symlinks behaviour).
	// It implies AllowSymlinks.
	AllowEscapingSymlinks bool

	// IgnorePaths are relative to the model root (absolute paths inside it
	// are accepted); a path ignores itself and everything below it. Paths
	// outside the root are dropped.
	IgnorePaths []string
	// NoDefaultIgnores drops DefaultIgnorePaths.
	NoDefaultIgnores bool
	// SignatureFile, when it lies inside the model directory, is ignored
	// too (a path relative to the working directory, or absolute).
	SignatureFile string

	// Workers bounds the files or shards hashed at once; 0 means
	// GOMAXPROCS (a quarter of it for BLAKE3, which is itself parallel).
	Workers int

	// afterHash, when set (by tests), runs after a file range was read
	// and before the file is stat'ed again.
	afterHash func(rel string)
}

// entry is one regular file to hash.
type entry struct {
	rel   string      // manifest path
	abs   string      // path to open
	shown string      // path for messages
	info  fs.FileInfo // at enumeration, following links
}

// Build hashes the model at modelPath (a regular file or a directory) and
// returns its manifest with resources in manifest order. Errors about one
// path are *PathError values; their Err wraps ErrSymlink,
// ErrSymlinkEscapes, ErrSymlinkDir, ErrSpecialFile, ErrChanged, ErrBadName
// or the OS error.
func Build(ctx context.Context, modelPath string, opts Options) (*Manifest, error) {
	ser, err := opts.serialization()
	if err != nil {
		return nil, err
	}
	entries, ignores, name, err := enumerate(ctx, modelPath, opts, ser.Method)
	if err != nil {
		return nil, err
	}
	ser.IgnorePaths = ignores
	resources, err := hashEntries(ctx, entries, ser, opts)
	if err != nil {
		return nil, err
	}
	sortResources(resources)
	return &Manifest{Name: name, Serialization: ser, Resources: resources}, nil
}

// serialization validates opts into the serialization block (without
// ignore paths).
func (o Options) serialization() (Serialization, error) {
	h, err := ParseHash(string(o.Hash))
	if err != nil {
		return Serialization{}, err
	}
	s := Serialization{Method: Files, Hash: h, AllowSymlinks: o.AllowSymlinks || o.AllowEscapingSymlinks}
	switch o.Method {
	case "", Files:
	case Shards:
		if h == BLAKE3 {
			break // the reference silently hashes whole files
		}
		s.Method, s.ShardSize = Shards, o.ShardSize
		if s.ShardSize == 0 {
			s.ShardSize = DefaultShardSize
		}
		if s.ShardSize < 0 {
			return Serialization{}, fmt.Errorf("shard size %d is not positive", s.ShardSize)
		}
	default:
		return Serialization{}, fmt.Errorf("unknown serialization method %q", o.Method)
	}
	return s, nil
}

// ModelName is the statement subject name for modelPath: its last
// component, or the base name of its absolute path when that is "." or "..".
func ModelName(modelPath string) string {
	b := filepath.Base(modelPath)
	if b == "." || b == ".." || b == string(filepath.Separator) {
		if abs, err := filepath.Abs(modelPath); err == nil {
			b = filepath.Base(abs)
		}
	}
	return b
}

// enumerate lists the regular files of the model and the ignore paths in
// effect, sorted.
func enumerate(ctx context.Context, modelPath string, opts Options, method Method) ([]entry, []string, string, error) {
	name := ModelName(modelPath)
	abs, err := filepath.Abs(modelPath)
	if err != nil {
		return nil, nil, "", fmt.Errorf("resolve %s: %w", modelPath, err)
	}
	lst, err := os.Lstat(abs)
	if err != nil {
		return nil, nil, "", &PathError{Path: modelPath, Err: err}
	}
	allowLinks := opts.AllowSymlinks || opts.AllowEscapingSymlinks
	if lst.Mode()&fs.ModeSymlink != 0 && !allowLinks {
		return nil, nil, "", &PathError{Path: modelPath, Err: ErrSymlink}
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, nil, "", &PathError{Path: modelPath, Err: fmt.Errorf("%w: %w", ErrSpecialFile, err)}
	}
	info, err := os.Stat(real)
	if err != nil {
		return nil, nil, "", &PathError{Path: modelPath, Err: err}
	}

	ignores := ignorePaths(abs, info.IsDir(), opts)
	switch {
	case info.Mode().IsRegular():
		return []entry{{rel: ".", abs: real, shown: modelPath, info: info}}, ignores, name, nil
	case !info.IsDir():
		return nil, nil, "", &PathError{Path: modelPath, Err: ErrSpecialFile}
	}

	var entries []entry
	err = filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return &PathError{Path: display(modelPath, real, p), Err: err}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		r, err := filepath.Rel(real, p)
		if err != nil {
			return fmt.Errorf("relative path of %s: %w", p, err)
		}
		rel := filepath.ToSlash(r)
		if rel == "." {
			return nil
		}
		if ignored(rel, ignores) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		shown := display(modelPath, real, p)
		if !utf8.ValidString(rel) || (method == Shards && strings.Contains(rel, ":")) {
			return &PathError{Path: shown, Err: ErrBadName}
		}
		switch t := d.Type(); {
		case t.IsDir():
			return nil
		case t&fs.ModeSymlink != 0:
			e, err := followLink(real, p, opts)
			if err != nil {
				return &PathError{Path: shown, Err: err}
			}
			e.rel, e.shown = rel, shown
			entries = append(entries, e)
		case t.IsRegular():
			fi, err := d.Info()
			if err != nil {
				return &PathError{Path: shown, Err: err}
			}
			entries = append(entries, entry{rel: rel, abs: p, shown: shown, info: fi})
		default:
			return &PathError{Path: shown, Err: ErrSpecialFile}
		}
		return nil
	})
	if err != nil {
		return nil, nil, "", err
	}
	return entries, ignores, name, nil
}

// followLink applies the symlink policy to the link at p below root.
func followLink(root, p string, opts Options) (entry, error) {
	if !opts.AllowSymlinks && !opts.AllowEscapingSymlinks {
		return entry{}, ErrSymlink
	}
	target, err := filepath.EvalSymlinks(p)
	if err != nil {
		return entry{}, fmt.Errorf("%w: broken symlink: %w", ErrSpecialFile, err)
	}
	if r, err := filepath.Rel(root, target); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) || filepath.IsAbs(r) {
		if !opts.AllowEscapingSymlinks {
			return entry{}, fmt.Errorf("%w (%s)", ErrSymlinkEscapes, target)
		}
	}
	fi, err := os.Stat(target)
	if err != nil {
		return entry{}, err
	}
	switch {
	case fi.IsDir():
		return entry{}, ErrSymlinkDir
	case !fi.Mode().IsRegular():
		return entry{}, ErrSpecialFile
	}
	return entry{abs: target, info: fi}, nil
}

// display names p for messages: the model path as the caller gave it
// joined with p's path below the resolved root.
func display(modelPath, root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return filepath.Join(modelPath, r)
}

// ignorePaths returns the ignore paths in effect relative to the model
// root (at abs), slash-separated, de-duplicated and sorted.
func ignorePaths(abs string, isDir bool, opts Options) []string {
	var out []string
	add := func(p string) {
		if filepath.IsAbs(p) {
			r, err := filepath.Rel(abs, p)
			if err != nil {
				return
			}
			p = r
		}
		p = path.Clean(filepath.ToSlash(p))
		if p == "." || p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, "/") {
			return
		}
		out = append(out, p)
	}
	if !opts.NoDefaultIgnores {
		for _, p := range DefaultIgnorePaths {
			add(p)
		}
	}
	for _, p := range opts.IgnorePaths {
		add(p)
	}
	if opts.SignatureFile != "" && isDir {
		if sig, err := filepath.Abs(opts.SignatureFile); err == nil {
			add(sig)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ignored reports whether rel is, or lies under, an ignore path.
func ignored(rel string, ignores []string) bool {
	for _, ig := range ignores {
		if rel == ig || strings.HasPrefix(rel, ig+"/") {
			return true
		}
	}
	return false
}

// task is one resource to hash: a whole file or one shard of it.
type task struct {
	e          *entry
	start, end int64
	sharded    bool
}

// job is a task in progress: where its result goes, its hash state and
// the next byte to hash. One worker at a time holds a job, so its bytes
// reach the hash in order whichever workers hash them.
type job struct {
	task
	index int       // into the resources
	h     hash.Hash // nil until the job starts
	off   int64     // next byte to hash
}

// left is the number of bytes still to hash.
func (j *job) left() int64 { return j.end - j.off }

// hashEntries hashes every file or shard with a bounded pool of workers.
func hashEntries(ctx context.Context, entries []entry, ser Serialization, opts Options) ([]Resource, error) {
	var jobs []*job
	add := func(t task) { jobs = append(jobs, &job{task: t, index: len(jobs), off: t.start}) }
	for i := range entries {
		e := &entries[i]
		size := e.info.Size()
		if ser.Method != Shards {
			add(task{e: e, end: size})
			continue
		}
		for start := int64(0); start < size; start += ser.ShardSize {
			add(task{e: e, start: start, end: min(start+ser.ShardSize, size), sharded: true})
		}
	}

	workers, bufSize := opts.Workers, readBufSize
	if ser.Hash == BLAKE3 {
		bufSize = blake3BufSize
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
		if ser.Hash == BLAKE3 {
			workers = max(1, workers/4)
		}
	}
	workers = min(workers, len(jobs))

	s := newScheduler(jobs, workers > 1)
	alg := ser.algorithm()
	resources := make([]Resource, len(jobs))
	g, gctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			w := worker{buf: make([]byte, bufSize), newHash: ser.Hash.newHash, afterHash: opts.afterHash}
			defer w.release()
			for j := s.next(nil); j != nil; j = s.next(w.job) {
				done, err := w.hashSlice(gctx, j)
				if err != nil {
					return err
				}
				if done {
					r := Resource{Path: j.e.rel, Algorithm: alg, Digest: j.h.Sum(nil)}
					if j.sharded {
						r.Start, r.End, r.Sharded = j.start, j.end, true
					}
					resources[j.index] = r
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return resources, nil
}

// scheduler hands jobs to workers, the job with the most bytes left first
// (longest remaining processing time, which is optimal for a makespan
// when jobs may be interrupted). A worker hashes a slice of its job and
// keeps it unless a waiting job has more than a slice more left; then it
// puts its job back and takes that one. Running each job to the end
// instead leaves workers idle while the last big files or shards finish:
// two cores hashing a 4 GiB file in 1 GB shards (four full ones and one of
// 0.29 GB) took as long as 2.29 GB on one core instead of 2.15, and three
// equal files took as long as two of them instead of 1.5. Jobs are
// interrupted only between reads, so every file or shard is still hashed
// whole and in order.
type scheduler struct {
	mu      sync.Mutex
	waiting jobHeap
	preempt bool // false with one worker, where switching gains nothing
}

// sliceSize is how many bytes a worker hashes of a job before it may
// switch (about 10 ms of SHA-256); the workers' last jobs end within
// about a slice of each other.
const sliceSize = 16 << 20

func newScheduler(jobs []*job, preempt bool) *scheduler {
	s := &scheduler{waiting: slices.Clone(jobs), preempt: preempt}
	heap.Init(&s.waiting)
	return s
}

// next returns the job a worker should hash a slice of, given the job it
// holds (nil when it holds none or its job is done), or nil when no job
// waits.
func (s *scheduler) next(held *job) *job {
	s.mu.Lock()
	defer s.mu.Unlock()
	if held != nil {
		if !s.preempt || len(s.waiting) == 0 || s.waiting[0].left() <= held.left()+sliceSize {
			return held
		}
		heap.Push(&s.waiting, held)
	}
	if len(s.waiting) == 0 {
		return nil
	}
	return heap.Pop(&s.waiting).(*job)
}

// jobHeap orders jobs by bytes left, most first, then by task order.
type jobHeap []*job

func (h jobHeap) Len() int { return len(h) }
func (h jobHeap) Less(a, b int) bool {
	if la, lb := h[a].left(), h[b].left(); la != lb {
		return la > lb
	}
	return h[a].index < h[b].index
}
func (h jobHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *jobHeap) Push(x any)   { *h = append(*h, x.(*job)) }
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return j
}

// worker hashes slices of jobs with its own read buffer. It keeps the
// file of the job it holds open between slices.
type worker struct {
	buf       []byte
	newHash   func() hash.Hash
	afterHash func(rel string)

	job  *job     // the job whose file is open, nil if none
	file *os.File // open on job's file
}

// release closes the open file, if any.
func (w *worker) release() {
	if w.file != nil {
		_ = w.file.Close() // opened read-only: nothing is lost
	}
	w.job, w.file = nil, nil
}

// hashSlice hashes the next slice of j and reports whether j is done. The
// file must be the one enumerated, with the same size and modification
// time, whenever it is opened and after its last byte was read.
func (w *worker) hashSlice(ctx context.Context, j *job) (done bool, err error) {
	pathErr := func(err error) error { return &PathError{Path: j.e.shown, Err: err} }
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if w.job != j {
		w.release()
		f, err := os.Open(j.e.abs)
		if err != nil {
			return false, pathErr(err)
		}
		w.job, w.file = j, f
		if err := unchanged(f, j.e.info); err != nil {
			return false, pathErr(err)
		}
	}
	if j.h == nil {
		j.h = w.newHash()
	}
	for stop := min(j.off+sliceSize, j.end); j.off < stop; {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		n := int(min(int64(len(w.buf)), stop-j.off))
		k, err := w.file.ReadAt(w.buf[:n], j.off)
		j.h.Write(w.buf[:k])
		j.off += int64(k)
		if k < n {
			if errors.Is(err, io.EOF) {
				return false, pathErr(fmt.Errorf("%w: shorter than %d bytes", ErrChanged, j.e.info.Size()))
			}
			return false, pathErr(err)
		}
	}
	if j.off < j.end {
		return false, nil
	}
	if w.afterHash != nil {
		w.afterHash(j.e.rel)
	}
	err = unchanged(w.file, j.e.info)
	w.release()
	if err != nil {
		return false, pathErr(err)
	}
	return true, nil
}

// unchanged checks that the open file is the enumerated one, with the same
// size and modification time.
func unchanged(f *os.File, want fs.FileInfo) error {
	got, err := f.Stat()
	if err != nil {
		return err
	}
	switch {
	case !os.SameFile(got, want):
		return fmt.Errorf("%w: replaced by another file", ErrChanged)
	case got.Size() != want.Size():
		return fmt.Errorf("%w: size %d, was %d", ErrChanged, got.Size(), want.Size())
	case !got.ModTime().Equal(want.ModTime()):
		return fmt.Errorf("%w: modification time %s, was %s", ErrChanged, got.ModTime(), want.ModTime())
	}
	return nil
}
