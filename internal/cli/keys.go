package cli

import (
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/sign/keys"
)

func newKeysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage signing keys",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	cmd.AddCommand(newKeysGenerateCommand())
	return cmd
}

func newKeysGenerateCommand() *cobra.Command {
	var (
		out          string
		curve        string
		noPassphrase bool
		force        bool
		pass         passphraseFlags
	)
	cmd := &cobra.Command{
		Use:   "generate --out NAME",
		Short: "Generate an ECDSA key pair for 'palisade sign'",
		Long: `Generate an ECDSA key pair (P-256 by default; P-384 and P-521 with --curve)
and write NAME.key, the private key as PKCS#8 PEM (mode 0600), and NAME.pub,
the public key as PEM.

The private key is encrypted (PBES2: PBKDF2-HMAC-SHA256, AES-256-CBC; readable
by OpenSSL and the reference model_signing tool) with a passphrase read from
--passphrase-file, from the environment variable named by --passphrase-env,
or from a prompt when stdin is a terminal. --no-passphrase writes it
unencrypted. Existing files are kept unless --force.

Exit codes: 0 written, 2 usage or I/O error.`,
		Example: `  palisade keys generate --out signing
  PALISADE_KEY_PASS=... palisade keys generate --out ci --curve P-384 --passphrase-env PALISADE_KEY_PASS
  palisade keys generate --out throwaway --no-passphrase`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			usage := func(err error) error { return &exitError{code: ExitError, err: err} }
			if out == "" {
				return usage(errors.New("--out NAME is required: the key pair is written to NAME.key and NAME.pub"))
			}
			c, err := keys.ParseCurve(curve)
			if err != nil {
				return usage(err)
			}
			var passphrase []byte
			switch {
			case noPassphrase && pass.given():
				return usage(errors.New("--no-passphrase contradicts --passphrase-file/--passphrase-env"))
			case !noPassphrase:
				passphrase, err = pass.read(cmd, true)
				if err != nil {
					return usage(fmt.Errorf("%w (or pass --no-passphrase to write an unencrypted key)", err))
				}
				if len(passphrase) == 0 {
					return usage(errors.New("the passphrase is empty: enter one, or pass --no-passphrase to write an unencrypted key"))
				}
			}
			p, err := keys.WritePair(out, c, passphrase, rand.Reader, force)
			if err != nil {
				return usage(err)
			}
			state := "encrypted"
			if len(passphrase) == 0 {
				state = "unencrypted"
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%s private key, %s) and %s (public key)\n",
				printable(p.Private), state, c, printable(p.Public))
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "write `NAME`.key and NAME.pub")
	f.StringVar(&curve, "curve", "P-256", "elliptic curve: P-256, P-384 or P-521")
	f.BoolVar(&noPassphrase, "no-passphrase", false, "write the private key unencrypted")
	f.BoolVar(&force, "force", false, "overwrite existing key files")
	pass.register(cmd)
	return cmd
}
