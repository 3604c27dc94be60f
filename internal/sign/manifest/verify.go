package manifest

import (
	"context"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
)

// Compare reports how got (the model as hashed now) differs from want (the
// signed manifest): nil when they hold the same resource names with the
// same algorithms and digests, else a *MismatchError.
func Compare(got, want *Manifest) error {
	type value struct{ alg, digest string }
	index := func(m *Manifest) map[string]value {
		out := make(map[string]value, len(m.Resources))
		for _, r := range m.Resources {
			out[r.Name()] = value{r.Algorithm, hex.EncodeToString(r.Digest)}
		}
		return out
	}
	g, w := index(got), index(want)
	var e MismatchError
	for _, r := range got.Resources {
		n := r.Name()
		wv, ok := w[n]
		switch {
		case !ok:
			e.Extra = append(e.Extra, n)
		case wv != g[n]:
			e.Changed = append(e.Changed, n)
		}
	}
	for _, r := range want.Resources {
		if _, ok := g[r.Name()]; !ok {
			e.Missing = append(e.Missing, r.Name())
		}
	}
	if len(e.Extra)+len(e.Missing)+len(e.Changed) == 0 {
		return nil
	}
	return &e
}

// Verify hashes the model at modelPath the way want was serialized (its
// method, hash, shard size and symlink permission; its ignore paths are
// added to opts.IgnorePaths) and compares the result with want. It returns
// a *MismatchError naming extra, missing and changed files, or the error
// that stopped hashing.
func Verify(ctx context.Context, modelPath string, want *Manifest, opts Options) error {
	s := want.Serialization
	opts.Hash, opts.Method, opts.ShardSize = s.Hash, s.Method, s.ShardSize
	opts.AllowSymlinks = s.AllowSymlinks
	if !s.AllowSymlinks {
		opts.AllowEscapingSymlinks = false
	}
	opts.IgnorePaths = append(append([]string(nil), opts.IgnorePaths...), s.IgnorePaths...)
	got, err := Build(ctx, modelPath, opts)
	if err != nil {
		return err
	}
	return Compare(got, want)
}

// UnsignedPaths lists what lies in the model directory at modelPath but
// is neither a file named in m nor a directory on the way to one, as
// paths relative to the model root, so that adding them to
// Options.IgnorePaths hashes only what m names (extra files, links and
// special files are then tolerated, missing or changed named files still
// fail). A directory holding nothing named is listed once, not walked.
// For a single-file model it returns nothing.
func UnsignedPaths(ctx context.Context, modelPath string, m *Manifest) ([]string, error) {
	fi, err := os.Stat(modelPath)
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	if !fi.IsDir() {
		return nil, nil
	}
	named := make(map[string]bool, len(m.Resources))
	dirs := map[string]bool{".": true}
	for _, r := range m.Resources {
		named[r.Path] = true
		for d := path.Dir(r.Path); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	var out []string
	err = filepath.WalkDir(modelPath, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(modelPath, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		switch {
		case rel == ".":
			return nil
		case d.IsDir() && dirs[rel]:
			return nil
		case !d.IsDir() && named[rel]:
			return nil
		}
		out = append(out, rel)
		if d.IsDir() {
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list unsigned files: %w", err)
	}
	return out, nil
}
