package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/palisade-sec/palisade/internal/config"
	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/scan/report"
	"github.com/palisade-sec/palisade/internal/version"
)

type scanFlags struct {
	format      string
	output      string
	failOn      string
	configPath  string
	explain     bool
	noProgress  bool
	workers     int
	maxDepth    int
	maxEntries  int
	maxExpanded string
	maxRatio    float64
}

func newScanCommand(svc Services) *cobra.Command {
	var fl scanFlags
	cmd := &cobra.Command{
		Use:   "scan PATH...",
		Short: "Find malicious or unsafe model files",
		Long: `Scan files and directories for malicious or unsafe ML model files.

Formats are recognised by content, not by extension: pickle (protocols 0-5,
joblib, dill), PyTorch (zip, legacy, tar, TorchScript), NumPy .npy/.npz,
Keras (.keras, .h5), ONNX, safetensors, GGUF and TensorFlow SavedModel,
inside zip, tar, 7z and gzip/bzip2/xz/lzma/zlib/lz4 containers, nested.
Nothing scanned is ever loaded or executed.

Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it,
2 usage error or unreadable input.

A .palisade.yaml in the current directory (or --config FILE) can set
scan.fail_on and suppress accepted findings by rule and path, each with a
reason and an expiry date; see docs/scanning.md.`,
		Example: `  palisade scan ./models
  palisade scan --format sarif --output palisade.sarif .
  palisade scan --fail-on medium model.pt
  palisade scan --explain model.pkl`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if fl.explain {
				return runExplain(cmd, svc, args)
			}
			return runScan(cmd, svc, fl, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&fl.format, "format", "f", "table", "output format: table, json or sarif")
	f.StringVarP(&fl.output, "output", "o", "", "write the report to FILE instead of standard output")
	f.StringVar(&fl.failOn, "fail-on", "", "exit 1 when a finding is at or above this severity: info, low, medium, high, critical, or none to never fail (default high, or scan.fail_on from the project file)")
	f.StringVar(&fl.configPath, "config", "", "project file with suppressions (default ./"+config.ProjectFileName+" when present)")
	f.BoolVar(&fl.explain, "explain", false, "print what the pickles in FILE would do when loaded, instead of scanning")
	f.BoolVar(&fl.noProgress, "no-progress", false, "never show the progress bar (it is shown on a terminal only)")
	f.IntVar(&fl.workers, "workers", 0, "files scanned in parallel (default: one per CPU)")
	f.IntVar(&fl.maxDepth, "max-depth", 0, fmt.Sprintf("deepest nesting of archives and embedded payloads (default %d)", scan.DefaultLimits().MaxDepth))
	f.IntVar(&fl.maxEntries, "max-entries", 0, fmt.Sprintf("most archive members and payloads inspected per file (default %d)", scan.DefaultLimits().MaxEntries))
	f.StringVar(&fl.maxExpanded, "max-expanded", "", "most bytes decompressed per file, e.g. 64GiB (default 64GiB)")
	f.Float64Var(&fl.maxRatio, "max-ratio", 0, fmt.Sprintf("largest compression ratio accepted for outputs over 16MiB (default %.0f)", scan.DefaultLimits().MaxRatio))
	return cmd
}

func runScan(cmd *cobra.Command, svc Services, fl scanFlags, paths []string) error {
	format, err := report.ParseFormat(fl.format)
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	project, err := loadProject(fl.configPath)
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	failOn, err := resolveFailOn(fl.failOn, project)
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}
	limits := scan.Limits{MaxDepth: fl.maxDepth, MaxEntries: fl.maxEntries, MaxRatio: fl.maxRatio}
	if fl.maxExpanded != "" {
		n, err := parseSize(fl.maxExpanded)
		if err != nil {
			return &exitError{code: ExitError, err: fmt.Errorf("--max-expanded: %w", err)}
		}
		limits.MaxExpandedBytes = n
		limits.MaxMemberBytes = n
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return &exitError{code: ExitError, err: fmt.Errorf("cannot scan %s: %w", p, unwrapPathError(err))}
		}
	}

	tuneGC(fl.workers)
	stderr := cmd.ErrOrStderr()
	bar := newProgress(stderr, !fl.noProgress)
	engine := svc.ScanEngine(scan.Options{Limits: limits, Workers: fl.workers, Progress: bar.update})
	res, err := engine.ScanPaths(cmd.Context(), paths)
	bar.finish()
	if err != nil {
		return &exitError{code: ExitError, err: err}
	}

	var sups []scan.Suppression
	if project != nil {
		sups, _ = project.Suppressions() // validated when loaded
	}
	kept, hidden, expired := scan.ApplySuppressions(res.Findings, sups, time.Now())
	for _, s := range expired {
		fmt.Fprintf(stderr, "palisade: warning: the suppression of %s on %s expired on %s and no longer applies\n",
			s.Rule, s.Path, s.Expires.Format(time.DateOnly))
	}
	res.Findings = kept

	in := report.Input{Result: res, Suppressed: hidden, Rules: engine.Rules(), FailOn: failOn, Build: version.Get()}
	if err := writeReport(cmd.OutOrStdout(), fl.output, format, in); err != nil {
		return &exitError{code: ExitError, err: err}
	}
	if len(res.Errors) > 0 {
		for _, e := range res.Errors {
			fmt.Fprintf(stderr, "palisade: cannot read %s: %v\n", e.Path, unwrapPathError(e.Err))
		}
		return &exitError{code: ExitError}
	}
	if failOn != scan.SeverityNone {
		for _, f := range res.Findings {
			if f.Severity >= failOn {
				return &exitError{code: ExitFindings}
			}
		}
	}
	return nil
}

func runExplain(cmd *cobra.Command, svc Services, args []string) error {
	if len(args) != 1 {
		return &exitError{code: ExitError, err: errors.New("--explain takes exactly one FILE")}
	}
	if err := svc.Explain(cmd.Context(), args[0], cmd.OutOrStdout()); err != nil {
		return &exitError{code: ExitError, err: err}
	}
	return nil
}

// loadProject reads the project file named by --config, or the one in the
// current directory when present.
func loadProject(explicit string) (*config.Project, error) {
	p := explicit
	if p == "" {
		if _, err := os.Stat(config.ProjectFileName); err != nil {
			return nil, nil
		}
		p = config.ProjectFileName
	}
	return config.LoadProject(p)
}

func resolveFailOn(flag string, project *config.Project) (scan.Severity, error) {
	v := flag
	if v == "" && project != nil {
		v = project.Scan.FailOn
	}
	if v == "" {
		return scan.SeverityHigh, nil
	}
	s, err := scan.ParseSeverity(v)
	if err != nil {
		return 0, fmt.Errorf("--fail-on: %w", err)
	}
	return s, nil
}

// writeReport renders the report to stdout or, atomically, to a file: the
// file appears complete or not at all.
func writeReport(stdout io.Writer, output string, format report.Format, in report.Input) error {
	if output == "" || output == "-" {
		return report.Write(stdout, format, in)
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, format, in); err != nil {
		return err
	}
	dir := filepath.Dir(output)
	tmp, err := os.CreateTemp(dir, ".palisade-report-*")
	if err != nil {
		return fmt.Errorf("write report %s: %w", output, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("write report %s: %w", output, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", output, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write report %s: %w", output, err)
	}
	if err := os.Rename(tmp.Name(), output); err != nil {
		return fmt.Errorf("write report %s: %w", output, err)
	}
	return nil
}

// tuneGC trades garbage-collector frequency for a fixed memory ceiling.
// Scanning allocates many short-lived values (one per pickle opcode) and
// keeps little alive, so with the default GOGC=100 the collector takes a
// core of its own on small machines. A higher GOGC bounded by a soft
// memory limit that grows with the worker count keeps peak memory flat and
// frees that core for scanning. GOGC or GOMEMLIMIT in the environment win.
func tuneGC(workers int) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	debug.SetGCPercent(400)
	debug.SetMemoryLimit(int64(32<<20) + int64(workers)*(16<<20))
}

// parseSize parses a byte count with an optional unit: 1048576, 512MiB,
// 64GiB, 10GB.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{
		{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"B", 1},
	}
	t := strings.TrimSpace(s)
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a positive size: write bytes or a number with KiB, MiB, GiB or TiB", s)
	}
	return n * mult, nil
}

// unwrapPathError drops the operation and path os.PathError repeats, since
// the caller prints the path itself.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// progress shows a byte-based progress bar on a terminal.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	enabled bool
	bar     *progressbar.ProgressBar
	start   time.Time
}

// progressDelay keeps the bar away from scans that finish quickly.
const progressDelay = 500 * time.Millisecond

func newProgress(w io.Writer, wanted bool) *progress {
	enabled := false
	if f, ok := w.(*os.File); ok && wanted {
		enabled = term.IsTerminal(int(f.Fd()))
	}
	return &progress{w: w, enabled: enabled, start: time.Now()}
}

func (p *progress) update(pr scan.Progress) {
	if !p.enabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		if time.Since(p.start) < progressDelay {
			return
		}
		p.bar = progressbar.NewOptions64(pr.BytesTotal,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription("scanning"),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetWidth(30),
		)
	}
	_ = p.bar.Set64(pr.BytesDone)
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
