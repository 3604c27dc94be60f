package container

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/palisade-sec/palisade/internal/scan"
)

//go:embed policy/*.rego
var builtinPolicies embed.FS

// Entry points: the packages whose deny and findings sets are queried.
const (
	pkgDocker     = "palisade.docker"
	pkgKubernetes = "palisade.kubernetes"
	pkgCluster    = "palisade.cluster"
)

// Limits on user policy directories.
const (
	maxPolicyFiles = 1000
	maxPolicyBytes = 1 << 20
)

// refusedBuiltins are OPA built-ins that reach outside the process or
// expose its environment; policies that call them do not compile.
var refusedBuiltins = map[string]bool{
	"http.send": true, "net.lookup_ip_addr": true, "opa.runtime": true,
}

// ruleID matches the form of every rule ID: three upper-case letters or
// digits starting with a letter, then three digits (PKL001, K8S001).
var ruleID = regexp.MustCompile(`^[A-Z][A-Z0-9]{2}[0-9]{3}$`)

// ErrPolicy is wrapped by every error about a policy file: it does not
// parse, compile, or declare its rules properly.
var ErrPolicy = errors.New("invalid policy")

// PolicyError is a problem in one policy file, at a line when known.
type PolicyError struct {
	File string
	Line int
	Msg  string
}

func (e *PolicyError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("policy %s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("policy %s: %s", e.File, e.Msg)
}

// Unwrap makes every PolicyError match ErrPolicy.
func (e *PolicyError) Unwrap() error { return ErrPolicy }

// policies is the compiled policy set: one prepared query per entry
// point, shared by every scan and safe for concurrent use.
type policies struct {
	docker, kubernetes, cluster rego.PreparedEvalQuery
	rules                       []scan.Rule
	byID                        map[string]scan.Rule
	ruleFile                    map[string]string // rule ID to the file declaring it
}

// loadPolicies parses the embedded policies and every *.rego file under
// dirs (tests, *_test.rego, excluded), compiles them together and
// prepares the three queries.
func loadPolicies(ctx context.Context, dirs []string) (*policies, error) {
	modules := map[string]*ast.Module{}
	opts := ast.ParserOptions{ProcessAnnotation: true, RegoVersion: ast.RegoV1}
	err := fs.WalkDir(builtinPolicies, "policy", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := builtinPolicies.ReadFile(p)
		if err != nil {
			return err
		}
		name := "builtin/" + p
		m, err := ast.ParseModuleWithOpts(name, string(src), opts)
		if err != nil {
			return policyError(name, err)
		}
		modules[name] = m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load built-in policies: %w", err)
	}
	for _, dir := range dirs {
		if err := loadDir(dir, modules, opts); err != nil {
			return nil, err
		}
	}

	caps := ast.CapabilitiesForThisVersion()
	caps.Builtins = slices.DeleteFunc(slices.Clone(caps.Builtins), func(b *ast.Builtin) bool { return refusedBuiltins[b.Name] })
	comp := ast.NewCompiler().WithCapabilities(caps).WithEnablePrintStatements(false)
	comp.Compile(modules)
	if comp.Failed() {
		return nil, compileError(comp.Errors)
	}

	p := &policies{byID: map[string]scan.Rule{}, ruleFile: map[string]string{}}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range modules {
			if !yield(k) {
				return
			}
		}
	})
	for _, name := range names {
		if err := p.collectRules(name, modules[name]); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(p.rules, func(a, b scan.Rule) int { return strings.Compare(a.ID, b.ID) })

	prepare := func(pkg string) (rego.PreparedEvalQuery, error) {
		q := fmt.Sprintf("out := {f | some f in data.%s.deny} | {f | some f in data.%s.findings}", pkg, pkg)
		pq, err := rego.New(rego.Query(q), rego.Compiler(comp), rego.Capabilities(caps)).PrepareForEval(ctx)
		if err != nil {
			return pq, fmt.Errorf("prepare %s query: %w", pkg, err)
		}
		return pq, nil
	}
	if p.docker, err = prepare(pkgDocker); err != nil {
		return nil, err
	}
	if p.kubernetes, err = prepare(pkgKubernetes); err != nil {
		return nil, err
	}
	if p.cluster, err = prepare(pkgCluster); err != nil {
		return nil, err
	}
	return p, nil
}

// loadDir parses the policy files under dir.
func loadDir(dir string, modules map[string]*ast.Module, opts ast.ParserOptions) error {
	count := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".rego") || strings.HasSuffix(p, "_test.rego") {
			return nil
		}
		if count++; count > maxPolicyFiles {
			return fmt.Errorf("more than %d policy files in %s", maxPolicyFiles, dir)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > maxPolicyBytes {
			return &PolicyError{File: p, Msg: fmt.Sprintf("larger than %d bytes", maxPolicyBytes)}
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		m, err := ast.ParseModuleWithOpts(p, string(src), opts)
		if err != nil {
			return policyError(p, err)
		}
		modules[p] = m
		return nil
	})
	if err != nil {
		return fmt.Errorf("load policy directory %s: %w", dir, err)
	}
	return nil
}

// policyError turns a parse error into a PolicyError at its first
// location.
func policyError(file string, err error) error {
	var errs ast.Errors
	if errors.As(err, &errs) && len(errs) > 0 {
		return compileError(errs)
	}
	return &PolicyError{File: file, Msg: err.Error()}
}

// compileError reports the first compile error (with how many others
// there were) as a PolicyError.
func compileError(errs ast.Errors) error {
	if len(errs) == 0 {
		return &PolicyError{File: "?", Msg: "compilation failed"}
	}
	e := errs[0]
	pe := &PolicyError{File: "?", Msg: e.Message}
	if e.Location != nil {
		pe.File, pe.Line = e.Location.File, e.Location.Row
	}
	if len(errs) > 1 {
		pe.Msg += fmt.Sprintf(" (and %d more errors)", len(errs)-1)
	}
	return pe
}

// collectRules turns the METADATA annotations with a custom id into
// rules. Each must name, describe, grade and remediate the rule, and no ID
// may be declared twice.
func (p *policies) collectRules(file string, m *ast.Module) error {
	for _, a := range m.Annotations {
		id, _ := a.Custom["id"].(string)
		if id == "" {
			continue
		}
		line := 0
		if a.Location != nil {
			line = a.Location.Row
		}
		bad := func(msg string) error {
			return &PolicyError{File: file, Line: line, Msg: fmt.Sprintf("rule %s: %s", id, msg)}
		}
		if !ruleID.MatchString(id) {
			return bad("id must be three upper-case letters or digits then three digits")
		}
		if prev, ok := p.ruleFile[id]; ok {
			return bad("id already declared in " + prev)
		}
		sevName, _ := a.Custom["severity"].(string)
		sev, err := scan.ParseSeverity(sevName)
		if err != nil || sev == scan.SeverityNone {
			return bad("custom.severity must be one of info, low, medium, high, critical")
		}
		rem, _ := a.Custom["remediation"].(string)
		switch {
		case a.Title == "":
			return bad("missing title (the kebab-case rule name)")
		case a.Description == "":
			return bad("missing description (the one-sentence summary)")
		case strings.TrimSpace(rem) == "":
			return bad("missing custom.remediation")
		}
		r := scan.Rule{
			ID: id, Name: a.Title, Severity: sev,
			Summary: oneLine(a.Description), Remediation: oneLine(rem),
		}
		p.rules = append(p.rules, r)
		p.byID[id] = r
		p.ruleFile[id] = file
	}
	return nil
}

// oneLine folds YAML block text into one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// rawFinding is one element of a policy's deny set.
type rawFinding struct {
	id, message, severity, remediation, path, file string
	line, object                                   int
}

// eval runs a prepared query on input and decodes its findings.
func eval(ctx context.Context, pq rego.PreparedEvalQuery, input ast.Value) ([]rawFinding, error) {
	rs, err := pq.Eval(ctx, rego.EvalParsedInput(input))
	if err != nil {
		return nil, fmt.Errorf("evaluate policies: %w", err)
	}
	var out []rawFinding
	for _, r := range rs {
		set, _ := r.Bindings["out"].([]any)
		for _, x := range set {
			m, ok := x.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("evaluate policies: a finding is %T, not an object", x)
			}
			f := rawFinding{object: -1}
			f.id, _ = m["id"].(string)
			f.message, _ = m["message"].(string)
			f.severity, _ = m["severity"].(string)
			f.remediation, _ = m["remediation"].(string)
			f.path, _ = m["path"].(string)
			f.file, _ = m["file"].(string)
			f.line = intField(m["line"])
			if _, ok := m["object"]; ok {
				f.object = intField(m["object"])
			}
			if f.id == "" {
				return nil, errors.New("evaluate policies: a finding has no id")
			}
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b rawFinding) int {
		if a.line != b.line {
			return a.line - b.line
		}
		if c := strings.Compare(a.id, b.id); c != 0 {
			return c
		}
		return strings.Compare(a.message, b.message)
	})
	return out, nil
}

// intField reads a JSON number as an int; anything else is 0.
func intField(v any) int {
	switch n := v.(type) {
	case interface{ Int64() (int64, error) }:
		i, err := n.Int64()
		if err == nil && i >= 0 && i <= 1<<31 {
			return int(i)
		}
	case float64:
		if n >= 0 && n <= 1<<31 {
			return int(n)
		}
	}
	return 0
}

// finding turns a raw finding into a scan.Finding of its declared rule.
// An ID no annotation declares still becomes a finding (of severity
// medium unless the policy gives one), so a careless user rule is never
// silently dropped.
func (p *policies) finding(f rawFinding) scan.Finding {
	r, ok := p.byID[f.id]
	if !ok {
		r = scan.Rule{ID: f.id, Name: "user-policy", Severity: scan.SeverityMedium}
	}
	out := r.Finding(f.message, "")
	if sev, err := scan.ParseSeverity(f.severity); err == nil && sev != scan.SeverityNone {
		out.Severity = sev
	}
	if f.remediation != "" {
		out.Remediation = f.remediation
	}
	out.Line = f.line
	out.Pointer = f.path
	return out
}
