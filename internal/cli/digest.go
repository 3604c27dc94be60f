package cli

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/sign/manifest"
)

type digestFlags struct {
	hash          string
	shards        string
	ignore        []string
	allowSymlinks bool
	allowEscaping bool
	json          bool
}

func newDigestCommand() *cobra.Command {
	var fl digestFlags
	cmd := &cobra.Command{
		Use:   "digest PATH",
		Short: "Print a model's OpenSSF Model Signing root digest",
		Long: `Hash a model (a file or a directory) as OpenSSF Model Signing does and
print its root digest, sha256:<hex>, the subject digest a signature over the
model carries, so that other attestations can name the model.

Files are hashed whole (--hash sha256, blake2b or blake3) or, with --shards
SIZE, in shards of SIZE bytes hashed in parallel (blake3 always hashes whole
files). .git, .gitattributes, .github and .gitignore at the model root and
model.sig inside the model are ignored, like any --ignore PATH (relative to
the model root). Symlinks are refused unless --allow-symlinks; links that
point outside the model also need --allow-external-symlinks.

Exit codes: 0 printed, 2 usage error or a model that cannot be hashed
(unreadable path, special file, refused symlink, file changed while hashed).`,
		Example: `  palisade digest ./model
  palisade digest --shards 1GB --json ./model
  palisade digest --hash blake3 model.safetensors`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &exitError{code: ExitError, err: errors.New("palisade digest needs exactly one PATH; run 'palisade digest --help'")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDigest(cmd, args[0], fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.hash, "hash", "sha256", "resource hash: sha256, blake2b or blake3")
	f.StringVar(&fl.shards, "shards", "", "hash files in shards of `SIZE` (e.g. 1GB, 1GiB); the reference default is 1GB")
	f.StringArrayVar(&fl.ignore, "ignore", nil, "ignore `PATH`, relative to the model root (repeatable)")
	f.BoolVar(&fl.allowSymlinks, "allow-symlinks", false, "follow symlinks to files inside the model")
	f.BoolVar(&fl.allowEscaping, "allow-external-symlinks", false, "also follow symlinks that point outside the model")
	f.BoolVar(&fl.json, "json", false, "print the digest and the manifest (in-toto statement) as JSON")
	return cmd
}

func runDigest(cmd *cobra.Command, path string, fl digestFlags) error {
	h, err := manifest.ParseHash(fl.hash)
	if err != nil {
		return &exitError{code: ExitError, err: fmt.Errorf("--hash: %w", err)}
	}
	opts := manifest.Options{
		Hash:                  h,
		IgnorePaths:           fl.ignore,
		AllowSymlinks:         fl.allowSymlinks,
		AllowEscapingSymlinks: fl.allowEscaping,
		SignatureFile:         filepath.Join(path, "model.sig"),
	}
	if fl.shards != "" {
		n, err := parseSize(fl.shards)
		if err != nil {
			return &exitError{code: ExitError, err: fmt.Errorf("--shards: %w", err)}
		}
		opts.Method, opts.ShardSize = manifest.Shards, n
	}
	m, err := manifest.Build(cmd.Context(), path, opts)
	if err != nil {
		return &exitError{code: ExitError, err: explainDigestError(err)}
	}
	root := m.RootDigest()
	digest := "sha256:" + hex.EncodeToString(root[:])
	out := cmd.OutOrStdout()
	if !fl.json {
		_, err := fmt.Fprintln(out, digest)
		return err
	}
	st, err := m.Statement()
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	b, err := json.MarshalIndent(struct {
		Digest    string          `json:"digest"`
		Statement json.RawMessage `json:"statement"`
	}{digest, st}, "", "  ")
	if err != nil {
		return &exitError{code: ExitError, err: fmt.Errorf("encode output: %w", err)}
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}

// explainDigestError adds the fix to a hashing error.
func explainDigestError(err error) error {
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
