package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/palisade-sec/palisade/internal/atomicfile"

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
	// Repository scanning.
	policyDirs     []string
	gitleaksConfig string
	advisoryDB     string
}

// maxWorkers caps --workers: more parallel files than this only adds
// memory pressure, since scanning is bound by CPUs and disks.
const maxWorkers = 256

func newScanCommand(svc Services) *cobra.Command {
	var fl scanFlags
	cmd := &cobra.Command{
		Use:   "scan PATH...",
		Short: "Find unsafe model files, secrets, vulnerable dependencies and insecure containers",
		Long: `Scan files and directories of an ML repository: malicious or unsafe model
files, secrets, vulnerable or unpinned dependencies, and insecure Dockerfiles
and Kubernetes manifests.

Model formats are recognised by content, not by extension: pickle (protocols
0-5, joblib, dill), PyTorch (zip, legacy, tar, TorchScript), NumPy .npy/.npz,
Keras (.keras, .h5), ONNX, safetensors, GGUF and TensorFlow SavedModel,
inside zip, tar, 7z and gzip/bzip2/xz/lzma/zlib/lz4 containers, nested.
Nothing scanned is ever loaded or executed.

Every text file is searched for secrets (gitleaks' default rules plus ML
ones; notebooks are decoded; secrets are never printed, only a masked prefix
and a fingerprint). Requirements files, pyproject.toml, Python lockfiles,
site-packages metadata, conda environment.yml, go.mod and package-lock.json
are checked for hygiene and, with a database filled by 'palisade db import',
for known vulnerabilities, offline. Dockerfiles and Kubernetes manifests are
checked by Rego policies; --policy DIR adds your own.

Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it,
2 usage error, bad project file or policy, a path that could not be read, or
an interrupted scan.

The project file, .palisade.yaml, is looked up in the current directory
and then in each parent directory (the first found wins), or named with
--config FILE. It can set scan.fail_on and suppress accepted findings by
rule and path, each with a reason and an expiry date; suppression paths are
globs relative to the directory holding the project file. See the README
and docs/scanning.md.

Large archive members are spilled to temporary files under $TMPDIR (on a
tmpfs /tmp they use memory). The scan tunes the Go garbage collector for
throughput unless GOGC or GOMEMLIMIT is set.`,
		Example: `  palisade scan ./models
  palisade scan --format sarif --output palisade.sarif .
  palisade scan --fail-on medium model.pt
  palisade scan --explain model.pkl`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &exitError{code: ExitError, err: errors.New("palisade scan needs at least one PATH; run 'palisade scan --help'")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if fl.explain {
				return runExplain(cmd, svc, fl, args)
			}
			return runScan(cmd, svc, fl, args)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&fl.format, "format", "f", "table", "output format: table, json or sarif (any case)")
	f.StringVarP(&fl.output, "output", "o", "", "write the report to FILE instead of standard output (- is standard output); the file is replaced atomically and keeps its permissions")
	f.StringVar(&fl.failOn, "fail-on", "", "exit 1 when a finding is at or above this severity: info, low, medium, high, critical, or none to never fail (default high, or scan.fail_on from the project file)")
	f.StringVar(&fl.configPath, "config", "", "project file with settings and suppressions (default: "+config.ProjectFileName+" in the current directory or the nearest parent directory that has one)")
	f.StringArrayVar(&fl.policyDirs, "policy", nil, "also evaluate the Rego policies in `DIR` against Dockerfiles and Kubernetes manifests (repeatable; default scan.policy_dirs from the project file)")
	f.StringVar(&fl.gitleaksConfig, "gitleaks-config", "", "honour the rules and allowlists of this gitleaks configuration `FILE` when looking for secrets (default scan.gitleaks_config)")
	f.StringVar(&fl.advisoryDB, "advisory-db", "", "the OSV database `DIR` filled by 'palisade db import' (default advisories.database, or "+config.DefaultAdvisoryDB()+")")
	f.BoolVar(&fl.explain, "explain", false, "print what the pickles in FILE would do when loaded, instead of scanning (text on standard output)")
	f.BoolVar(&fl.noProgress, "no-progress", false, "never show the progress bar (it is shown on a terminal only)")
	f.IntVar(&fl.workers, "workers", 0, fmt.Sprintf("files scanned in parallel, at most %d (default one per CPU; 0 keeps the default)", maxWorkers))
	f.IntVar(&fl.maxDepth, "max-depth", 0, fmt.Sprintf("deepest nesting of archives and embedded payloads (default %d; 0 keeps the default)", scan.DefaultLimits().MaxDepth))
	f.IntVar(&fl.maxEntries, "max-entries", 0, fmt.Sprintf("most archive members and payloads inspected per file (default %d; 0 keeps the default)", scan.DefaultLimits().MaxEntries))
	f.StringVar(&fl.maxExpanded, "max-expanded", "", "most bytes decompressed per file, e.g. 64GiB (default 64GiB)")
	f.Float64Var(&fl.maxRatio, "max-ratio", 0, fmt.Sprintf("largest compression ratio accepted for outputs over 16MiB (default %.0f; 0 keeps the default)", scan.DefaultLimits().MaxRatio))
	return cmd
}

// checkLimitFlags reports every bad numeric flag at once.
func checkLimitFlags(fl scanFlags) error {
	var problems []error
	for _, c := range []struct {
		name string
		neg  bool
	}{
		{"--workers", fl.workers < 0},
		{"--max-depth", fl.maxDepth < 0},
		{"--max-entries", fl.maxEntries < 0},
		{"--max-ratio", fl.maxRatio < 0 || math.IsNaN(fl.maxRatio)},
	} {
		if c.neg {
			problems = append(problems, fmt.Errorf("%s must be 0 or more (0 keeps the default)", c.name))
		}
	}
	if fl.workers > maxWorkers {
		problems = append(problems, fmt.Errorf("--workers %d is more than the maximum of %d; use at most %d (0 means one per CPU)", fl.workers, maxWorkers, maxWorkers))
	}
	return errors.Join(problems...)
}

func runScan(cmd *cobra.Command, svc Services, fl scanFlags, paths []string) error {
	usage := func(err error) error { return &exitError{code: ExitError, err: err} }
	format, err := report.ParseFormat(fl.format)
	if err != nil {
		return usage(err)
	}
	if err := checkLimitFlags(fl); err != nil {
		return usage(err)
	}
	limits := scan.Limits{MaxDepth: fl.maxDepth, MaxEntries: fl.maxEntries, MaxRatio: fl.maxRatio}
	if fl.maxExpanded != "" {
		n, err := parseSize(fl.maxExpanded)
		if err != nil {
			return usage(fmt.Errorf("--max-expanded: %w", err))
		}
		limits.MaxExpandedBytes = n
		limits.MaxMemberBytes = n
	}
	if err := checkOutput(fl.output); err != nil {
		return usage(err)
	}

	stderr := cmd.ErrOrStderr()
	proj, projErr := readProject(fl.configPath)
	if proj == nil && projErr != nil {
		return usage(projErr)
	}
	warn := warner(stderr)
	bar := newProgress(stderr, !fl.noProgress)
	engine, warnings, err := svc.ScanEngine(cmd.Context(), scan.Options{Limits: limits, Workers: fl.workers, Progress: bar.update},
		repository(fl, proj, warn))
	if err != nil {
		return usage(err)
	}
	var settings settings
	if proj != nil {
		if settings, err = checkProject(proj, projErr, engine.Rules()); err != nil {
			return usage(err)
		}
	}
	for _, w := range warnings {
		warn(w)
	}
	failOn, err := resolveFailOn(fl.failOn, settings.failOn)
	if err != nil {
		return usage(err)
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return usage(fmt.Errorf("cannot scan %s: %w", printable(p), unwrapPathError(err)))
		}
	}
	if err := cmd.Context().Err(); err != nil {
		return usage(err)
	}

	tuneGC(fl.workers)
	res, err := engine.ScanPaths(cmd.Context(), paths)
	bar.finish()
	if err != nil {
		return usage(err)
	}
	if err := cmd.Context().Err(); err != nil {
		return usage(err) // interrupted: the result is incomplete, write nothing
	}

	kept, hidden, expired := applySuppressions(res.Findings, settings.suppressions, settings.dir, time.Now())
	for _, s := range expired {
		fmt.Fprintf(stderr, "palisade: warning: the suppression of %s on %s expired on %s and no longer applies\n",
			printable(s.Rule), printable(s.Path), s.Expires.Format(time.DateOnly))
	}
	res.Findings = kept

	in := report.Input{Result: res, Suppressed: hidden, Rules: engine.Rules(), FailOn: failOn, Build: version.Get()}
	if err := writeReport(cmd.OutOrStdout(), fl.output, format, in); err != nil {
		return usage(err)
	}
	if len(res.Errors) > 0 {
		for _, e := range res.Errors {
			fmt.Fprintf(stderr, "palisade: cannot read %s: %s\n", printable(e.Path), printable(unwrapPathError(e.Err).Error()))
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

func runExplain(cmd *cobra.Command, svc Services, fl scanFlags, args []string) error {
	usage := func(err error) error { return &exitError{code: ExitError, err: err} }
	if cmd.Flags().Changed("format") && !strings.EqualFold(strings.TrimSpace(fl.format), string(report.FormatTable)) {
		return usage(fmt.Errorf("--explain prints text to standard output; it cannot be combined with --format %s (drop --format, or drop --explain to scan)", fl.format))
	}
	if cmd.Flags().Changed("output") {
		return usage(errors.New("--explain prints text to standard output; it cannot be combined with --output (redirect standard output instead: palisade scan --explain FILE > listing.txt)"))
	}
	if len(args) != 1 {
		return usage(errors.New("--explain takes exactly one FILE"))
	}
	if err := svc.Explain(cmd.Context(), args[0], cmd.OutOrStdout()); err != nil {
		return usage(err)
	}
	return nil
}

// settings are the project file's scan settings in the scanner's terms.
type settings struct {
	dir          string // absolute directory of the project file; "" without one
	failOn       string // scan.fail_on, checked
	suppressions []scan.Suppression
}

// loadSettings reads the project file named by --config, or the nearest
// one in the current directory or its parents, and checks it against the
// engine's rules. Every problem in the file is reported at once.
func loadSettings(explicit string, rules []scan.Rule) (settings, error) {
	p, err := readProject(explicit)
	if p == nil {
		return settings{}, err
	}
	return checkProject(p, err, rules)
}

// readProject reads the project file named by --config, or the nearest one
// in the current directory or its parents. It returns nil and no error
// when there is none, and the project along with its problems when the
// file decodes but has some (checkProject reports them with its own).
func readProject(explicit string) (*config.Project, error) {
	path := explicit
	if path == "" {
		found, err := config.FindProject(".")
		if err != nil || found == "" {
			return nil, err
		}
		path = found
	}
	return config.LoadProject(path)
}

// checkProject checks a project file against the engine's rules and
// reports every problem, the file's own (loadErr) included, at once.
func checkProject(p *config.Project, loadErr error, rules []scan.Rule) (settings, error) {
	var problems []error
	if loadErr != nil {
		// LoadProject wraps the file's problems with its name; unwrap them
		// to list them beside ours under one heading.
		if inner := errors.Unwrap(loadErr); inner != nil {
			loadErr = inner
		}
		problems = append(problems, loadErr)
	}
	s, more := convertProject(p, rules)
	problems = append(problems, more...)
	if len(problems) > 0 {
		return settings{}, fmt.Errorf("project file %s: %w", printable(p.Path), errors.Join(problems...))
	}
	return s, nil
}

// repository resolves the repository-scan settings: flags first, then the
// project file (its paths relative to its directory), then the defaults.
func repository(fl scanFlags, p *config.Project, warn func(string)) config.Repository {
	r := config.Repository{PolicyDirs: fl.policyDirs, GitleaksConfig: fl.gitleaksConfig, AdvisoryDB: fl.advisoryDB, Warn: warn}
	if p == nil {
		return r
	}
	resolve := func(path string) string {
		if path == "" || filepath.IsAbs(path) || p.Dir == "" {
			return path
		}
		return filepath.Join(p.Dir, path)
	}
	if len(r.PolicyDirs) == 0 {
		for _, d := range p.PolicyDirs {
			r.PolicyDirs = append(r.PolicyDirs, resolve(d))
		}
	}
	if r.GitleaksConfig == "" {
		r.GitleaksConfig = resolve(p.GitleaksConfig)
	}
	if r.AdvisoryDB == "" {
		r.AdvisoryDB = resolve(p.AdvisoryDB)
	}
	r.AdvisoryMaxAge = time.Duration(p.AdvisoryMaxAgeDays) * 24 * time.Hour
	return r
}

// warner prints warnings to w, one line each, safely from several
// goroutines.
func warner(w io.Writer) func(string) {
	var mu sync.Mutex
	return func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(w, "palisade: warning: %s\n", printableLines(msg))
	}
}

// convertProject turns the project file's plain data into severities and
// suppressions, returning what does not fit the scanner.
func convertProject(p *config.Project, rules []scan.Rule) (settings, []error) {
	var problems []error
	s := settings{dir: p.Dir, failOn: p.FailOn}
	if p.FailOn != "" {
		if _, err := scan.ParseSeverity(p.FailOn); err != nil {
			problems = append(problems, fmt.Errorf("scan.fail_on: %w", err))
		}
	}
	ids := make(map[string]bool, len(rules))
	for _, r := range rules {
		ids[r.ID] = true
	}
	for i, e := range p.Suppressions {
		usable := true
		if e.Rule != "" && !ids[e.Rule] {
			problems = append(problems, unknownRule(e.Rule, i, rules))
			usable = false
		}
		sup := scan.Suppression{Rule: e.Rule, Path: e.Path, Reason: e.Reason, Expires: e.Expires}
		if e.Rule == "" || e.Path == "" || strings.TrimSpace(e.Reason) == "" || e.Expires.IsZero() {
			continue // config reported what is missing
		}
		if err := sup.Validate(); err != nil { // the glob
			problems = append(problems, fmt.Errorf("scan.suppressions[%d]: %w", i, err))
			continue
		}
		if usable {
			s.suppressions = append(s.suppressions, sup)
		}
	}
	return s, problems
}

// unknownRule explains a suppression's rule ID that no scanner reports,
// suggesting the ID it differs from only in case.
func unknownRule(id string, index int, rules []scan.Rule) error {
	for _, r := range rules {
		if strings.EqualFold(r.ID, id) {
			return fmt.Errorf("unknown rule %s in suppressions[%d]; rule IDs are case-sensitive: did you mean %s?", printable(id), index, r.ID)
		}
	}
	return fmt.Errorf("unknown rule %s in suppressions[%d]; 'palisade rules' lists every rule ID", printable(id), index)
}

// applySuppressions hides the findings a suppression covers. A suppression
// path is relative to the project file's directory, dir, so each finding
// is matched both as printed and by its path relative to dir: the same
// project file then works from a subdirectory and with absolute paths.
func applySuppressions(findings []scan.Finding, sups []scan.Suppression, dir string, now time.Time) (kept []scan.Finding, hidden []scan.SuppressedFinding, expired []scan.Suppression) {
	_, _, expired = scan.ApplySuppressions(nil, sups, now)
	kept = make([]scan.Finding, 0, len(findings))
	for _, f := range findings {
		candidates := []scan.Finding{f}
		if rel, ok := relativeTo(dir, f.Path); ok && rel != f.Path {
			c := f
			c.Path = rel
			candidates = append(candidates, c)
		}
		var by []scan.SuppressedFinding
		for _, c := range candidates {
			if _, by, _ = scan.ApplySuppressions([]scan.Finding{c}, sups, now); len(by) > 0 {
				break
			}
		}
		if len(by) == 0 {
			kept = append(kept, f)
			continue
		}
		hidden = append(hidden, scan.SuppressedFinding{Finding: f, Reason: by[0].Reason, Expires: by[0].Expires})
	}
	return kept, hidden, expired
}

// relativeTo returns path relative to dir when path lies inside dir.
func relativeTo(dir, path string) (string, bool) {
	if dir == "" {
		return "", false
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(dir, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return rel, true
}

func resolveFailOn(flag, project string) (scan.Severity, error) {
	v, what := flag, "--fail-on"
	if v == "" {
		v, what = project, "scan.fail_on"
	}
	if v == "" {
		return scan.SeverityHigh, nil
	}
	s, err := scan.ParseSeverity(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	return s, nil
}

// checkOutput makes sure the report can be written to output before the
// scan starts, so a typo does not cost a long scan.
func checkOutput(output string) error {
	if output == "" || output == "-" {
		return nil
	}
	shown := printable(output)
	if info, err := os.Stat(output); err == nil && info.IsDir() {
		return fmt.Errorf("cannot write report to %s: it is a directory; name a file inside it, e.g. %s", shown, printable(filepath.Join(output, "report")))
	}
	if info, err := os.Lstat(output); err == nil && !info.Mode().IsRegular() {
		return fmt.Errorf("cannot write report to %s: it is not a regular file (a link, device or pipe would be replaced); name a regular file, or use - for standard output", shown)
	}
	dir := filepath.Dir(output)
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("cannot write report to %s: directory %s does not exist; create it or choose another path", shown, printable(dir))
	case err != nil:
		return fmt.Errorf("cannot write report to %s: %w", shown, unwrapPathError(err))
	case !info.IsDir():
		return fmt.Errorf("cannot write report to %s: %s is not a directory; choose another path", shown, printable(dir))
	}
	return nil
}

// writeReport renders the report to stdout or, atomically, to a file: the
// file appears complete or not at all. A file that already exists keeps
// its permissions; a new one gets 0644.
func writeReport(stdout io.Writer, output string, format report.Format, in report.Input) error {
	if output == "" || output == "-" {
		return report.Write(stdout, format, in)
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, format, in); err != nil {
		return err
	}
	return atomicfile.Write(output, buf.Bytes(), 0o644)
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
