package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/version"
)

// Exit codes.
const (
	ExitOK       = 0
	ExitFindings = 1
	ExitError    = 2
)

// Services are what the commands need from the composition root.
type Services interface {
	// ScanEngine returns an engine with every scanner registered, the
	// repository scanners configured by repo, and warnings for the user
	// (a missing or stale advisory database).
	ScanEngine(ctx context.Context, opts scan.Options, repo config.Repository) (*scan.Engine, []string, error)
	// Explain writes a readable listing of what the pickles in the file at
	// path would do when loaded.
	Explain(ctx context.Context, path string, w io.Writer) error
	// SBOM writes a CycloneDX 1.6 JSON bill of materials of the packages
	// and models under paths to w, and returns warnings for the user.
	// Nothing is written when the error is not nil.
	SBOM(ctx context.Context, paths []string, w io.Writer) ([]string, error)
	// Server runs the server with cfg until ctx is done, printing a
	// generated admin token once to out and logging JSON lines to logOut.
	Server(ctx context.Context, cfg config.Server, out, logOut io.Writer) error
}

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error // nil when the command already printed what happened
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Main runs the command line with args (args[0] is the program name) and
// returns the process exit code.
//
// The first interrupt (Ctrl-C) or SIGTERM cancels the running command,
// which then exits with ExitError; it also restores the default signal
// handling, so a second one terminates the process at once even when a
// scan is stuck in a read that does not watch the context.
func Main(args []string, svc Services) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The server stops on a signal by design; anything else was cut short.
	server := len(args) > 1 && args[1] == "server"
	stopHandler := context.AfterFunc(ctx, func() {
		stop()
		if context.Cause(ctx) != context.Canceled && !server { // a signal, not the stop below
			fmt.Fprintln(os.Stderr, "palisade: interrupted")
		}
	})
	defer stopHandler()
	return run(ctx, args[1:], svc, os.Stdin, os.Stdout, os.Stderr)
}

// run is Main with its streams injected, for tests.
func run(ctx context.Context, args []string, svc Services, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand(svc)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if ctx.Err() != nil && err == nil && cmd != nil && cmd.Annotations[runsUntilSignal] == "true" {
		return ExitOK // a server stopped by a signal, cleanly
	}
	if ctx.Err() != nil {
		// Interrupted: whatever the command did is incomplete, and Main has
		// said so; "context canceled" would only confuse.
		return ExitError
	}
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "palisade: %s\n", printableLines(ee.err.Error()))
		}
		return ee.code
	}
	// Anything else is a usage error from flag parsing or argument checks.
	fmt.Fprintf(stderr, "palisade: %s\nRun 'palisade --help' for usage.\n", printableLines(err.Error()))
	return ExitError
}

// printable makes a string from the file system or scanned content safe to
// print on a terminal: when it holds control characters (escape sequences,
// newlines) it is quoted with those characters escaped, so a hostile file
// or member name can neither forge lines nor colour the output.
func printable(s string) string {
	if strings.IndexFunc(s, isControl) < 0 {
		return s
	}
	return strconv.Quote(s)
}

// printableLines applies printable to each line of a message, keeping the
// line breaks errors.Join puts between problems.
func printableLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = printable(l)
	}
	return strings.Join(lines, "\n")
}

func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError
}

func newRootCommand(svc Services) *cobra.Command {
	root := &cobra.Command{
		Use:   "palisade",
		Short: "Security controls for AI development: model scanning and more",
		Long: `Palisade is the security control plane for MLOps teams.

'palisade scan' finds malicious or unsafe model files (pickle, PyTorch,
joblib, NumPy, Keras, ONNX, safetensors, GGUF, TensorFlow SavedModel) without
ever loading them, and secrets, vulnerable or unpinned dependencies and
insecure Dockerfiles and Kubernetes manifests across the repository ('palisade
db' keeps the offline advisory database). 'palisade sbom' writes a CycloneDX
AI bill of materials. 'palisade sign' and 'palisade verify' sign models and
verify model signatures in the OpenSSF Model Signing format ('palisade keys
generate' makes a key pair); 'palisade digest' prints a model's root digest.

'palisade server' runs the registry: an OCI registry for models, datasets
and images that encrypts every blob at rest and allows each user only what
their role, token and clearance permit. 'palisade login' (also --sso),
'whoami', 'project', 'push', 'pull', 'ls', 'inspect', 'rm', 'classify',
'dataset check', 'token', 'user', 'audit' (the tamper-evident audit log:
tail, search, export, proof, verify, monitor) and 'admin' (key rotation,
crypto-shredding, fsck, gc) talk to it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version prints the first line of 'palisade version'.
		Version: version.Get().Headline(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(newScanCommand(svc), newRulesCommand(svc), newDigestCommand(),
		newSignCommand(), newVerifyCommand(), newKeysCommand(), newDBCommand(), newSBOMCommand(svc), newVersionCommand(),
		newServerCommand(svc, os.LookupEnv), newLoginCommand(os.LookupEnv), newProjectCommand(os.LookupEnv),
		newLsCommand(os.LookupEnv), newInspectCommand(os.LookupEnv), newRmCommand(os.LookupEnv),
		newAdminCommand(os.LookupEnv), newPushCommand(os.LookupEnv), newPullCommand(os.LookupEnv),
		newDatasetCommand(os.LookupEnv), newWhoamiCommand(os.LookupEnv), newTokenCommand(os.LookupEnv),
		newUserCommand(os.LookupEnv), newClassifyCommand(os.LookupEnv), newAuditCommand(os.LookupEnv))
	return root
}
