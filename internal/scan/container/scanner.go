package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/palisade-sec/palisade/internal/scan"
)

// Default size limits. Real Dockerfiles are a few kilobytes and real
// manifests rarely pass a megabyte; rendered Helm output for a whole
// cluster can be larger.
const (
	DefaultMaxDockerfileBytes = 1 << 20
	DefaultMaxYAMLBytes       = 16 << 20
)

// maxPerFile bounds the findings of one rule in one file.
const maxPerFile = 64

// Options configure a Scanner.
type Options struct {
	// PolicyDirs are directories of extra Rego policies (*.rego, searched
	// recursively, *_test.rego skipped), compiled with the built-in ones.
	PolicyDirs []string
	// MaxDockerfileBytes and MaxYAMLBytes bound the files read; 0 means
	// the defaults. A larger file is not analysed and the scan reports it
	// as incomplete.
	MaxDockerfileBytes int64
	MaxYAMLBytes       int64
}

// Scanner evaluates the container policies on Dockerfiles
// (scan.FormatDockerfile) and Kubernetes manifests
// (scan.FormatKubernetes). The compiled policies are shared and Scan is
// safe for concurrent use. The scanner also records every Kubernetes
// object it sees, for the cross-file rules that Finish evaluates; use
// Fork for a scanner with its own record when scans run concurrently.
type Scanner struct {
	pol     *policies
	maxDock int64
	maxYAML int64
	inv     *inventory
}

var _ scan.Scanner = (*Scanner)(nil)

// inventory is the scan-wide record of Kubernetes objects.
type inventory struct {
	mu      sync.Mutex
	objects []any
}

// maxInventory bounds the objects recorded for Finish.
const maxInventory = 200_000

// New compiles the built-in policies and those under opts.PolicyDirs. A
// policy that does not parse or compile, or declares a rule badly, is a
// *PolicyError naming the file and line.
func New(ctx context.Context, opts Options) (*Scanner, error) {
	pol, err := loadPolicies(ctx, opts.PolicyDirs)
	if err != nil {
		return nil, err
	}
	s := &Scanner{pol: pol, maxDock: opts.MaxDockerfileBytes, maxYAML: opts.MaxYAMLBytes, inv: &inventory{}}
	if s.maxDock <= 0 {
		s.maxDock = DefaultMaxDockerfileBytes
	}
	if s.maxYAML <= 0 {
		s.maxYAML = DefaultMaxYAMLBytes
	}
	return s, nil
}

// Fork returns a scanner that shares s's compiled policies but records
// Kubernetes objects for its own Finish.
func (s *Scanner) Fork() *Scanner {
	c := *s
	c.inv = &inventory{}
	return &c
}

// Rules lists every rule the policies declare, built-in and user rules,
// sorted by ID.
func (s *Scanner) Rules() []scan.Rule { return append([]scan.Rule(nil), s.pol.rules...) }

// Scan evaluates the policies of obj's format on obj.
func (s *Scanner) Scan(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	return s.scan(ctx, obj, sess)
}

func (s *Scanner) scan(ctx context.Context, obj scan.Object, sink scan.FindingSink) error {
	rep := scan.NewCapped(sink, maxPerFile)
	defer rep.Flush()
	switch obj.Format {
	case scan.FormatDockerfile:
		data, err := readAll(obj, s.maxDock)
		if err != nil {
			return err
		}
		return s.scanDockerfile(ctx, data, rep)
	case scan.FormatKubernetes:
		data, err := readAll(obj, s.maxYAML)
		if err != nil {
			return err
		}
		return s.scanKubernetes(ctx, obj, data, rep)
	}
	return nil
}

// readAll reads a whole object of at most limit bytes.
func readAll(obj scan.Object, limit int64) ([]byte, error) {
	if obj.Size > limit {
		return nil, fmt.Errorf("%s is %d bytes, over the %d-byte limit: %w", obj.Format, obj.Size, limit, ErrTooLarge)
	}
	buf := make([]byte, obj.Size)
	n, err := obj.R.ReadAt(buf, 0)
	if err != nil && !(errors.Is(err, io.EOF) && int64(n) == obj.Size) {
		return nil, fmt.Errorf("read %s: %w", obj.Format, err)
	}
	return buf, nil
}

func (s *Scanner) scanDockerfile(ctx context.Context, data []byte, rep *scan.Capped) error {
	in, err := dockerfileInput(data)
	if err != nil {
		return err
	}
	v, err := ast.InterfaceToValue(in)
	if err != nil {
		return fmt.Errorf("convert dockerfile input: %w", err)
	}
	fs, err := eval(ctx, s.pol.docker, v)
	if err != nil {
		return err
	}
	for _, f := range fs {
		rep.Report(s.pol.finding(f))
	}
	return nil
}

func (s *Scanner) scanKubernetes(ctx context.Context, obj scan.Object, data []byte, rep *scan.Capped) error {
	objs, readErr := readKubernetes(data)
	if readErr != nil && isTemplate(data) {
		// A Helm or other template, not a manifest: nothing to judge.
		return nil
	}
	file := obj.DiskPath
	if file == "" {
		file = obj.Name
	}
	items := make([]any, len(objs))
	summary := make([]any, len(objs))
	for i, o := range objs {
		ps := []any{}
		for _, p := range o.podSpec {
			ps = append(ps, p)
		}
		items[i] = map[string]any{
			"index": i, "doc": o.doc, "line": o.line, "kind": o.kind, "name": o.name,
			"namespace": o.namespace, "workload": o.podSpec != nil, "pod_spec_path": ps, "object": o.value,
		}
		summary[i] = map[string]any{
			"kind": o.kind, "name": o.name, "namespace": o.namespace, "workload": o.podSpec != nil,
			"file": file, "line": o.line,
		}
	}
	s.inv.add(summary)
	if len(objs) > 0 {
		v, err := ast.InterfaceToValue(map[string]any{"objects": items})
		if err != nil {
			return fmt.Errorf("convert kubernetes input: %w", err)
		}
		fs, err := eval(ctx, s.pol.kubernetes, v)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if f.line == 0 && f.object >= 0 && f.object < len(objs) {
				f.line = lineOf(objs[f.object].node, f.path)
			}
			rep.Report(s.pol.finding(f))
		}
	}
	// Objects read before a parse error were judged; the error still
	// marks the rest of the file as unanalysed.
	return readErr
}

// isTemplate reports whether YAML that failed to parse is a template
// (Helm, Jinja) rather than a broken manifest.
func isTemplate(data []byte) bool {
	for i := 0; i+1 < len(data); i++ {
		if data[i] == '{' && (data[i+1] == '{' || data[i+1] == '%') {
			return true
		}
	}
	return false
}

func (inv *inventory) add(objs []any) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	room := maxInventory - len(inv.objects)
	if room < len(objs) {
		objs = objs[:max(room, 0)]
	}
	inv.objects = append(inv.objects, objs...)
}

// Finish evaluates the cross-file rules (package palisade.cluster, such as
// namespaces with workloads and no NetworkPolicy) over every Kubernetes
// object the scanner has recorded since it was created or last finished,
// and clears the record. Call it once after the engine's scan; the
// findings carry the file (Path) and line they refer to. Objects inside
// archives are named by their member name.
func (s *Scanner) Finish(ctx context.Context) ([]scan.Finding, error) {
	s.inv.mu.Lock()
	objs := s.inv.objects
	s.inv.objects = nil
	s.inv.mu.Unlock()
	if len(objs) == 0 {
		return nil, nil
	}
	v, err := ast.InterfaceToValue(map[string]any{"objects": objs})
	if err != nil {
		return nil, fmt.Errorf("convert cluster input: %w", err)
	}
	fs, err := eval(ctx, s.pol.cluster, v)
	if err != nil {
		return nil, err
	}
	var out []scan.Finding
	for _, f := range fs {
		sf := s.pol.finding(f)
		sf.Path = f.file
		out = append(out, sf)
	}
	scan.SortFindings(out)
	return out, nil
}
