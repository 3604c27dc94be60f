package manifest

import (
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

// Read buffer sizes: large sequential reads; BLAKE3 gets larger ones
// because its implementation hashes the chunks of one write in parallel.
const (
	readBufSize   = 1 << 20
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

// hashEntries hashes every file or shard with a bounded pool of workers.
func hashEntries(ctx context.Context, entries []entry, ser Serialization, opts Options) ([]Resource, error) {
	var tasks []task
	for i := range entries {
		e := &entries[i]
		size := e.info.Size()
		if ser.Method != Shards {
			tasks = append(tasks, task{e: e, end: size})
			continue
		}
		for start := int64(0); start < size; start += ser.ShardSize {
			tasks = append(tasks, task{e: e, start: start, end: min(start+ser.ShardSize, size), sharded: true})
		}
	}
	// Largest first, so that one big file does not start last.
	slices.SortStableFunc(tasks, func(a, b task) int { return cmpInt(b.end-b.start, a.end-a.start) })

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
	bufs := sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

	alg := ser.algorithm()
	resources := make([]Resource, len(tasks))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i, t := range tasks {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			buf := bufs.Get().(*[]byte)
			defer bufs.Put(buf)
			h := ser.Hash.newHash()
			if err := hashRange(gctx, t, h, *buf, opts.afterHash); err != nil {
				return err
			}
			r := Resource{Path: t.e.rel, Algorithm: alg, Digest: h.Sum(nil)}
			if t.sharded {
				r.Start, r.End, r.Sharded = t.start, t.end, true
			}
			resources[i] = r
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

// hashRange writes bytes [t.start, t.end) of the task's file to h. The file
// must be the one enumerated, with the same size and modification time,
// when it is opened and after the range was read.
func hashRange(ctx context.Context, t task, h hash.Hash, buf []byte, afterHash func(string)) error {
	pathErr := func(err error) error { return &PathError{Path: t.e.shown, Err: err} }
	f, err := os.Open(t.e.abs)
	if err != nil {
		return pathErr(err)
	}
	defer f.Close()
	if err := unchanged(f, t.e.info); err != nil {
		return pathErr(err)
	}
	for off := t.start; off < t.end; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := int(min(int64(len(buf)), t.end-off))
		k, err := f.ReadAt(buf[:n], off)
		h.Write(buf[:k])
		off += int64(k)
		if k < n {
			if errors.Is(err, io.EOF) {
				return pathErr(fmt.Errorf("%w: shorter than %d bytes", ErrChanged, t.e.info.Size()))
			}
			return pathErr(err)
		}
	}
	if afterHash != nil {
		afterHash(t.e.rel)
	}
	if err := unchanged(f, t.e.info); err != nil {
		return pathErr(err)
	}
	return nil
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
