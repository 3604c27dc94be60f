package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

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
	// ScanEngine returns an engine with every scanner registered.
	ScanEngine(opts scan.Options) *scan.Engine
	// Explain writes a readable listing of what the pickles in the file at
	// path would do when loaded.
	Explain(ctx context.Context, path string, w io.Writer) error
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
func Main(args []string, svc Services) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args[1:], svc, os.Stdin, os.Stdout, os.Stderr)
}

// run is Main with its streams injected, for tests.
func run(ctx context.Context, args []string, svc Services, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCommand(svc)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "palisade: %v\n", ee.err)
		}
		return ee.code
	}
	// Anything else is a usage error from flag parsing or argument checks.
	fmt.Fprintf(stderr, "palisade: %v\nRun 'palisade --help' for usage.\n", err)
	return ExitError
}

func newRootCommand(svc Services) *cobra.Command {
	root := &cobra.Command{
		Use:   "palisade",
		Short: "Security controls for AI development: model scanning and more",
		Long: `Palisade is the security control plane for MLOps teams.

'palisade scan' finds malicious or unsafe model files (pickle, PyTorch,
joblib, NumPy, Keras, ONNX, safetensors, GGUF, TensorFlow SavedModel) without
ever loading them.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version.Get().Version,
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(newScanCommand(svc), newRulesCommand(svc), newVersionCommand())
	return root
}
