package cli

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/sign"
)

type signFlags struct {
	hashFlags
	key       string
	kms       string
	cert      string
	certChain []string
	signature string
	pass      passphraseFlags
	json      bool
}

func newSignCommand() *cobra.Command {
	var fl signFlags
	cmd := &cobra.Command{
		Use:   "sign PATH --key KEY [--cert CERT --cert-chain CHAIN]",
		Short: "Sign a model (OpenSSF Model Signing)",
		Long: `Sign a model, a file or a directory, in the OpenSSF Model Signing (OMS)
format: a Sigstore bundle whose DSSE envelope carries an in-toto statement
listing every file's digest. Signatures verify with 'palisade verify' and
with the reference model_signing tool.

Methods:
  --key KEY                         ECDSA private key (P-256, P-384, P-521; PEM,
                                    see 'palisade keys generate'); the bundle
                                    records the public key's hint
  --key KEY --cert CERT --cert-chain CHAIN
                                    the same key with its X.509 certificate
                                    and the intermediates up to the root; the
                                    certificate must match the key, be valid
                                    now and allow digital signatures or code
                                    signing
  --kms URI                         an ECDSA key in a KMS, through sigstore's
                                    KMS support (awskms://, gcpkms://,
                                    azurekms://, hashivault:// in a build
                                    with -tags kms; other schemes through a
                                    sigstore-kms-<scheme> plugin on PATH);
                                    verify with its exported public key

An encrypted key's passphrase comes from --passphrase-file, the environment
variable named by --passphrase-env, or a prompt on a terminal.

The signature goes to --signature (default model.sig inside the model
directory, or beside a single-file model), written atomically; when it lies
inside the model it is not hashed. Hashing options are those of
'palisade digest': --hash, --shards, --ignore, --no-ignore-git-paths,
--allow-symlinks, --allow-external-symlinks, --workers.

Exit codes: 0 signed, 2 usage error, unreadable key, or a model that cannot
be hashed.`,
		Example: `  palisade keys generate --out signing
  palisade sign ./model --key signing.key
  palisade sign ./model --key signing.key --cert signing.crt --cert-chain ca-chain.pem
  palisade sign model.safetensors --key signing.key --hash blake3 --signature model.safetensors.sig`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &exitError{code: ExitError, err: errors.New("palisade sign needs exactly one PATH; run 'palisade sign --help'")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSign(cmd, args[0], fl)
		},
	}
	fl.register(cmd)
	f := cmd.Flags()
	f.StringVar(&fl.key, "key", "", "sign with the ECDSA private key in `FILE` (PEM)")
	f.StringVar(&fl.kms, "kms", "", "sign with the KMS key at `URI` (see above)")
	f.StringVar(&fl.cert, "cert", "", "signing certificate `FILE` (PEM) for --key: the certificate method")
	f.StringArrayVar(&fl.certChain, "cert-chain", nil, "certificate chain `FILE` (PEM; intermediates, optionally the root; repeatable)")
	f.StringVar(&fl.signature, "signature", "", "write the signature to `FILE` (default model.sig inside the model directory)")
	f.BoolVar(&fl.json, "json", false, "print the result as JSON")
	fl.pass.register(cmd)
	return cmd
}

func runSign(cmd *cobra.Command, path string, fl signFlags) error {
	usage := func(err error) error { return &exitError{code: ExitError, err: err} }
	opts, err := fl.options()
	if err != nil {
		return usage(err)
	}
	switch {
	case fl.key == "" && fl.kms == "":
		return usage(errors.New("say how to sign: --key KEY, --key KEY with --cert CERT and --cert-chain CHAIN, or --kms URI"))
	case fl.key != "" && fl.kms != "":
		return usage(errors.New("--key and --kms are two ways to sign: give one"))
	case fl.kms != "" && (fl.cert != "" || fl.pass.given()):
		return usage(errors.New("--kms signs with the KMS key alone: drop --cert and the passphrase flags"))
	case fl.cert == "" && len(fl.certChain) > 0:
		return usage(errors.New("--cert-chain needs --cert, the signing certificate"))
	}
	pass := func() ([]byte, error) { return fl.pass.read(cmd, false) }
	var signer sign.Signer
	switch {
	case fl.kms != "":
		signer, err = sign.LoadKMSSigner(cmd.Context(), fl.kms)
	case fl.cert != "":
		signer, err = sign.LoadCertificateSigner(fl.key, fl.cert, fl.certChain, pass, time.Now())
	default:
		signer, err = sign.LoadKeySigner(fl.key, pass)
	}
	if err != nil {
		return usage(err)
	}
	sigPath := fl.signature
	if sigPath == "" {
		sigPath = sign.DefaultSignaturePath(path)
	}
	res, err := sign.Sign(cmd.Context(), path, sigPath, signer, opts)
	if err != nil {
		return usage(explainHashError(err))
	}
	root := res.Manifest.RootDigest()
	digest := "sha256:" + hex.EncodeToString(root[:])
	out := cmd.OutOrStdout()
	if fl.json {
		b, err := json.MarshalIndent(struct {
			Model     string `json:"model"`
			Digest    string `json:"digest"`
			Resources int    `json:"resources"`
			Signer    string `json:"signer"`
			Signature string `json:"signature"`
		}{path, digest, len(res.Manifest.Resources), res.Signer, res.Path}, "", "  ")
		if err != nil {
			return usage(fmt.Errorf("encode output: %w", err))
		}
		_, err = fmt.Fprintf(out, "%s\n", b)
		return err
	}
	_, err = fmt.Fprintf(out, "signed %s (%s, %s) with %s\nsignature: %s\n",
		printable(path), resourceCount(len(res.Manifest.Resources)), digest, printable(res.Signer), printable(res.Path))
	return err
}
