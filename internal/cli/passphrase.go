package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// passphraseFlags name where a private key passphrase comes from. A
// passphrase is never a flag value: it would show in the process list and
// shell history.
type passphraseFlags struct {
	file string // read the first line of this file
	env  string // read this environment variable
}

func (p *passphraseFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&p.file, "passphrase-file", "", "read the private key passphrase from the first line of `FILE`")
	cmd.Flags().StringVar(&p.env, "passphrase-env", "", "read the private key passphrase from the environment variable `NAME`")
}

func (p *passphraseFlags) given() bool { return p.file != "" || p.env != "" }

// read returns the passphrase from the file or the environment variable;
// with neither, it prompts on the terminal (twice when confirm is set),
// and fails when stdin is not a terminal.
func (p *passphraseFlags) read(cmd *cobra.Command, confirm bool) ([]byte, error) {
	switch {
	case p.file != "" && p.env != "":
		return nil, errors.New("give the passphrase with --passphrase-file or --passphrase-env, not both")
	case p.file != "":
		f, err := os.Open(p.file)
		if err != nil {
			return nil, fmt.Errorf("--passphrase-file: %w", err)
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, 64<<10))
		if err != nil {
			return nil, fmt.Errorf("--passphrase-file: %w", err)
		}
		if i := bytes.IndexAny(data, "\r\n"); i >= 0 {
			data = data[:i]
		}
		if len(data) == 0 {
			return nil, fmt.Errorf("--passphrase-file %s: the first line is empty", p.file)
		}
		return data, nil
	case p.env != "":
		v, ok := os.LookupEnv(p.env)
		if !ok || v == "" {
			return nil, fmt.Errorf("--passphrase-env: the environment variable %s is not set or empty", p.env)
		}
		return []byte(v), nil
	}
	return prompt(cmd, confirm)
}

// prompt reads a passphrase from the terminal without echo.
func prompt(cmd *cobra.Command, confirm bool) ([]byte, error) {
	in, ok := cmd.InOrStdin().(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return nil, errors.New("a passphrase is needed and stdin is not a terminal: give it with --passphrase-file or --passphrase-env")
	}
	errOut := cmd.ErrOrStderr()
	fmt.Fprint(errOut, "Passphrase: ")
	first, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(errOut)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	if !confirm {
		return first, nil
	}
	fmt.Fprint(errOut, "Passphrase again: ")
	second, err := term.ReadPassword(int(in.Fd()))
	fmt.Fprintln(errOut)
	if err != nil {
		return nil, fmt.Errorf("read passphrase: %w", err)
	}
	if !bytes.Equal(first, second) {
		return nil, errors.New("the passphrases differ")
	}
	return first, nil
}
