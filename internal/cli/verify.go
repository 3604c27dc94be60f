package cli

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/sign"
	"github.com/palisade-sec/palisade/internal/sign/keys"
	"github.com/palisade-sec/palisade/internal/sign/manifest"
)

type verifyFlags struct {
	signature      string
	key            string
	certChain      []string
	certValidNow   bool
	identity       string
	issuer         string
	trustedRoot    string
	ignore         []string
	ignoreUnsigned bool
	allowEscaping  bool
	workers        int
	json           bool
}

func newVerifyCommand() *cobra.Command {
	var fl verifyFlags
	cmd := &cobra.Command{
		Use:   "verify PATH [--signature FILE] (--key PUB | --cert-chain CA | --identity ID --issuer URL --trusted-root FILE)",
		Short: "Verify a model's signature (OpenSSF Model Signing)",
		Long: `Verify that a model, a file or a directory, is byte for byte what an OpenSSF
Model Signing signature says, and that a trusted signer made it. Signatures
from the reference model_signing tool (every released format: v0.1 digests
with model_signing 0.2's legacy encoding, v1.0 with legacy or current key
material) and from 'palisade sign' verify.

Methods (exactly one):
  --key PUB              the signer's ECDSA public key (PEM)
  --cert-chain CA        trust anchors (PEM; repeatable): the bundle's
                         certificate must chain to one; checked at the
                         certificate's notBefore, as the reference does,
                         or also now with --cert-valid-now
  --identity ID --issuer URL --trusted-root FILE
                         keyless (Sigstore) signatures: the Fulcio
                         certificate's SAN and OIDC issuer must equal ID and
                         URL exactly; FILE is a Sigstore trusted root JSON
                         (such as the public-good instance's
                         trusted_root.json), since no network is used

The model is re-hashed the way the signature says (method, hash, shard size,
symlinks; its recorded ignore paths are honoured). --signature (default
model.sig inside the model directory, or beside a single-file model) and
--ignore PATH are not hashed. --ignore-unsigned-files hashes only the files
the signature names, so extra local files are tolerated.

Exit codes: 0 verified, 1 verification failed (bad or untrusted signature,
wrong key or identity, a model that differs: extra, missing or changed
files, added symlinks or special files), 2 usage or I/O error.`,
		Example: `  palisade verify ./model --key signing.pub
  palisade verify ./model --signature model.sig --cert-chain ca.pem
  palisade verify ./model --identity ml-release@example.com \
      --issuer https://accounts.google.com --trusted-root trusted_root.json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &exitError{code: ExitError, err: errors.New("palisade verify needs exactly one PATH; run 'palisade verify --help'")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd, args[0], fl)
		},
	}
	f := cmd.Flags()
	f.StringVar(&fl.signature, "signature", "", "the signature `FILE` (default model.sig inside the model directory)")
	f.StringVar(&fl.key, "key", "", "verify with the ECDSA public key in `FILE` (PEM)")
	f.StringArrayVar(&fl.certChain, "cert-chain", nil, "trust anchor certificates `FILE` (PEM; repeatable)")
	f.BoolVar(&fl.certValidNow, "cert-valid-now", false, "with --cert-chain, also require the certificates to be valid now")
	f.StringVar(&fl.identity, "identity", "", "keyless: the signer's identity (certificate SAN), exactly")
	f.StringVar(&fl.issuer, "issuer", "", "keyless: the identity's OIDC issuer URL, exactly")
	f.StringVar(&fl.trustedRoot, "trusted-root", "", "keyless: Sigstore trusted root JSON `FILE`")
	f.StringArrayVar(&fl.ignore, "ignore", nil, "ignore `PATH`, relative to the model root (repeatable)")
	f.BoolVar(&fl.ignoreUnsigned, "ignore-unsigned-files", false, "hash only the files the signature names; tolerate extra files")
	f.BoolVar(&fl.allowEscaping, "allow-external-symlinks", false, "follow symlinks that point outside the model, when the signature allows symlinks")
	f.IntVar(&fl.workers, "workers", 0, "files or shards hashed at once (0: one per CPU)")
	f.BoolVar(&fl.json, "json", false, "print the result as JSON")
	return cmd
}

func runVerify(cmd *cobra.Command, path string, fl verifyFlags) error {
	usage := func(err error) error { return &exitError{code: ExitError, err: err} }
	v, err := verifierFor(fl)
	if err != nil {
		return usage(err)
	}
	if fl.workers < 0 {
		return usage(errors.New("--workers must not be negative"))
	}
	sigPath := fl.signature
	if sigPath == "" {
		sigPath = sign.DefaultSignaturePath(path)
	}
	data, err := sign.ReadSignature(sigPath)
	if err != nil {
		return usage(fmt.Errorf("read signature: %w", err))
	}
	opts := sign.VerifyOptions{
		Manifest: manifest.Options{
			IgnorePaths:           fl.ignore,
			SignatureFile:         sigPath,
			AllowEscapingSymlinks: fl.allowEscaping,
			Workers:               fl.workers,
		},
		IgnoreUnsignedFiles: fl.ignoreUnsigned,
	}
	res, err := sign.Verify(cmd.Context(), path, data, v, opts)
	if err != nil {
		return verifyFailure(cmd, path, fl.json, err)
	}
	errOut := cmd.ErrOrStderr()
	for _, w := range res.Warnings {
		fmt.Fprintf(errOut, "palisade: warning: %s\n", w)
	}
	digest := "(v0.1 signature: no root digest)"
	if !res.Manifest.Legacy {
		root := res.Manifest.RootDigest()
		digest = "sha256:" + hex.EncodeToString(root[:])
	}
	out := cmd.OutOrStdout()
	if fl.json {
		return writeJSON(out, verifyResult{
			Verified: true, Model: path, Digest: digest, Resources: len(res.Manifest.Resources),
			Signer: res.Signer, Warnings: res.Warnings,
		})
	}
	_, err = fmt.Fprintf(out, "verified %s (%s, %s), signed by %s\n",
		printable(path), resourceCount(len(res.Manifest.Resources)), digest, printable(res.Signer))
	return err
}

type verifyResult struct {
	Verified  bool     `json:"verified"`
	Model     string   `json:"model"`
	Digest    string   `json:"digest,omitempty"`
	Resources int      `json:"resources,omitempty"`
	Signer    string   `json:"signer,omitempty"`
	Warnings  []string `json:"warnings,omitempty"`
	Error     string   `json:"error,omitempty"`
	Extra     []string `json:"extra_files,omitempty"`
	Missing   []string `json:"missing_files,omitempty"`
	Changed   []string `json:"changed_files,omitempty"`
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return &exitError{code: ExitError, err: fmt.Errorf("encode output: %w", err)}
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// verifierFor builds the one verifier the flags ask for.
func verifierFor(fl verifyFlags) (sign.Verifier, error) {
	methods := 0
	for _, set := range []bool{fl.key != "", len(fl.certChain) > 0, fl.identity != "" || fl.issuer != "" || fl.trustedRoot != ""} {
		if set {
			methods++
		}
	}
	if methods != 1 {
		return nil, errors.New("choose exactly one way to verify: --key PUB, --cert-chain CA, or --identity ID --issuer URL --trusted-root FILE")
	}
	if fl.certValidNow && len(fl.certChain) == 0 {
		return nil, errors.New("--cert-valid-now applies to --cert-chain only")
	}
	switch {
	case fl.key != "":
		return sign.LoadKeyVerifier(fl.key)
	case len(fl.certChain) > 0:
		var now func() time.Time
		if fl.certValidNow {
			now = time.Now
		}
		return sign.LoadCertificateVerifier(fl.certChain, now)
	default:
		if fl.identity == "" || fl.issuer == "" || fl.trustedRoot == "" {
			return nil, errors.New("keyless verification needs --identity, --issuer and --trusted-root (a Sigstore trusted_root.json)")
		}
		return sign.LoadSigstoreVerifier(fl.trustedRoot, fl.identity, fl.issuer)
	}
}

// verificationFailures are the errors that mean "not verified" (exit 1)
// rather than "could not check" (exit 2).
var verificationFailures = []error{
	sign.ErrBundle, sign.ErrBadSignature, sign.ErrKeyMismatch, sign.ErrUntrusted,
	sign.ErrCertUsage, sign.ErrIdentity, sign.ErrWrongMethod, keys.ErrUnsupportedKey,
	manifest.ErrMismatch, manifest.ErrRootDigest, manifest.ErrMalformed,
	manifest.ErrSymlink, manifest.ErrSymlinkEscapes, manifest.ErrSymlinkDir,
	manifest.ErrSpecialFile, manifest.ErrBadName,
}

func verifyFailure(cmd *cobra.Command, path string, asJSON bool, err error) error {
	code := ExitError
	for _, target := range verificationFailures {
		if errors.Is(err, target) {
			code = ExitFindings
			break
		}
	}
	msg := err.Error()
	var mm *manifest.MismatchError
	isMismatch := errors.As(err, &mm)
	if isMismatch {
		msg = describeMismatch(mm)
	} else if code == ExitError {
		msg = explainHashError(err).Error()
	}
	if code == ExitFindings {
		msg = "verification failed: " + msg
	}
	if asJSON {
		r := verifyResult{Model: path, Error: msg}
		if isMismatch {
			r.Error, r.Extra, r.Missing, r.Changed = "verification failed: the model does not match the signature", mm.Extra, mm.Missing, mm.Changed
		}
		if werr := writeJSON(cmd.OutOrStdout(), r); werr != nil {
			return werr
		}
	}
	return &exitError{code: code, err: errors.New(msg)}
}

// describeMismatch lists the differences one kind per line.
func describeMismatch(mm *manifest.MismatchError) string {
	var b strings.Builder
	b.WriteString("the model does not match the signature")
	list := func(what string, names []string) {
		if len(names) == 0 {
			return
		}
		const show = 20
		fmt.Fprintf(&b, "\n  %s (%d): ", what, len(names))
		shown := names
		if len(shown) > show {
			shown = shown[:show]
		}
		for i, n := range shown {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(printable(n))
		}
		if len(names) > show {
			fmt.Fprintf(&b, ", and %d more", len(names)-show)
		}
	}
	list("extra files, not in the signature", mm.Extra)
	list("missing files, signed but not found", mm.Missing)
	list("changed files, digest differs", mm.Changed)
	return b.String()
}
