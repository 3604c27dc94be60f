package cli

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/sign"
	"github.com/palisade-sec/palisade/internal/sign/manifest"
)

type digestFlags struct {
	hashFlags
	json bool
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
	fl.register(cmd)
	f := cmd.Flags()
	f.BoolVar(&fl.json, "json", false, "print the digest and the manifest (in-toto statement) as JSON")
	return cmd
}

func runDigest(cmd *cobra.Command, path string, fl digestFlags) error {
	opts, err := fl.options()
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	opts.SignatureFile = sign.DefaultSignaturePath(path)
	m, err := manifest.Build(cmd.Context(), path, opts)
	if err != nil {
		return &exitError{code: ExitError, err: explainHashError(err)}
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
