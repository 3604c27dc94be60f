package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/sign/manifest"
)

// hashFlags are the model hashing options digest and sign share.
type hashFlags struct {
	hash          string
	shards        string
	ignore        []string
	noIgnoreGit   bool
	allowSymlinks bool
	allowEscaping bool
	workers       int
}

func (h *hashFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&h.hash, "hash", "sha256", "resource hash: sha256, blake2b or blake3")
	f.StringVar(&h.shards, "shards", "", "hash files in shards of `SIZE` (e.g. 1GB, 1GiB), in parallel; the reference default is 1GB")
	f.StringArrayVar(&h.ignore, "ignore", nil, "ignore `PATH`, relative to the model root (repeatable)")
	f.BoolVar(&h.noIgnoreGit, "no-ignore-git-paths", false, "also hash .git, .gitattributes, .github and .gitignore at the model root")
	f.BoolVar(&h.allowSymlinks, "allow-symlinks", false, "follow symlinks to files inside the model")
	f.BoolVar(&h.allowEscaping, "allow-external-symlinks", false, "also follow symlinks that point outside the model")
	f.IntVar(&h.workers, "workers", 0, "files or shards hashed at once (0: one per CPU)")
}

// options turns the flags into manifest options.
func (h *hashFlags) options() (manifest.Options, error) {
	alg, err := manifest.ParseHash(h.hash)
	if err != nil {
		return manifest.Options{}, fmt.Errorf("--hash: %w", err)
	}
	if h.workers < 0 {
		return manifest.Options{}, errors.New("--workers must not be negative")
	}
	opts := manifest.Options{
		Hash:                  alg,
		IgnorePaths:           h.ignore,
		NoDefaultIgnores:      h.noIgnoreGit,
		AllowSymlinks:         h.allowSymlinks,
		AllowEscapingSymlinks: h.allowEscaping,
		Workers:               h.workers,
	}
	if h.shards != "" {
		n, err := parseSize(h.shards)
		if err != nil {
			return manifest.Options{}, fmt.Errorf("--shards: %w", err)
		}
		opts.Method, opts.ShardSize = manifest.Shards, n
	}
	return opts, nil
}

// explainHashError adds the fix to a hashing error.
func explainHashError(err error) error {
	var fix string
	switch {
	case errors.Is(err, manifest.ErrSymlink):
		fix = "pass --allow-symlinks to hash the target's bytes under the link's name, or --ignore the link"
	case errors.Is(err, manifest.ErrSymlinkEscapes):
		fix = "copy the target into the model, pass --allow-external-symlinks if the target is trusted, or --ignore the link"
	case errors.Is(err, manifest.ErrSymlinkDir):
		fix = "symlinks to directories are never followed: copy the directory into the model or --ignore the link"
	case errors.Is(err, manifest.ErrSpecialFile):
		fix = "models hold only regular files and directories: remove it or --ignore it"
	case errors.Is(err, manifest.ErrChanged):
		fix = "wait until whatever writes the model has finished, then run the command again"
	case errors.Is(err, manifest.ErrBadName):
		fix = "rename the file (names must be UTF-8, and without ':' for --shards) or --ignore it"
	case errors.Is(err, fs.ErrNotExist):
		fix = "check the path"
	case errors.Is(err, fs.ErrPermission), errors.Is(err, os.ErrPermission):
		fix = "make it readable by this user or --ignore it"
	default:
		return err
	}
	return fmt.Errorf("%w; %s", err, fix)
}

// resourceCount says "1 resource" or "N resources".
func resourceCount(n int) string {
	if n == 1 {
		return "1 resource"
	}
	return fmt.Sprintf("%d resources", n)
}
