package deps

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/google/osv-scalibr/extractor"

	"github.com/palisade-sec/palisade/internal/scan"
)

// reqEntry is a requirement the hygiene rules judge, with its position.
type reqEntry struct {
	Line    int
	Pointer string
	Req     requirement
}

// optEntry is a pip global option with its position.
type optEntry struct {
	Line    int
	Pointer string
	Option  string
	Value   string
}

// extractConda reads an environment.yml with the package's own reader.
func (fs *fileScan) extractConda() ([]Package, error) {
	deps, err := parseCondaEnvironment(fs.data)
	if err != nil {
		if errors.Is(err, errCondaLimit) {
			return nil, &limitErr{msg: err.Error()}
		}
		return nil, err
	}
	var out []Package
	for _, d := range deps {
		if d.Name == "" {
			continue
		}
		p := Package{Name: d.Name, Version: d.Version, Line: d.Line, Pointer: d.Pointer, Ecosystem: ecosystemConda}
		if d.Pip {
			p.Ecosystem = EcosystemPyPI
		}
		out = append(out, p)
	}
	return out, nil
}

// extractPyproject reads the PEP 621 dependency lists of a pyproject.toml
// with osv-scalibr's extractor and locates each requirement string, and
// Poetry's dependency tables with the package's own reader.
func (fs *fileScan) extractPyproject(ctx context.Context) ([]Package, error) {
	entries, err := fs.pyprojectEntries(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Package, 0, len(entries))
	for _, e := range entries {
		if e.Req.Name == "" {
			continue
		}
		v, _ := e.Req.Pinned()
		out = append(out, Package{Name: e.Req.Name, Version: v, Ecosystem: EcosystemPyPI, Line: e.Line, Pointer: e.Pointer})
	}
	return out, nil
}

func (fs *fileScan) pyprojectEntries(ctx context.Context) ([]reqEntry, error) {
	if depth := nestingDepth(fs.data, false); depth > maxNesting {
		return nil, &limitErr{msg: fmt.Sprintf("nests brackets deeper than %d", maxNesting)}
	}
	raw, err := fs.runExtractor(ctx, fs.s.pyproject)
	if err != nil {
		return nil, err
	}
	out, err := poetryEntries(fs.data)
	if err != nil {
		return nil, err
	}
	loc := newLocator(fs.data)
	add := func(ptr string, list []string) {
		for i, d := range list {
			r := parseRequirement(d)
			if r.Name == "" && r.URL == "" {
				continue
			}
			out = append(out, reqEntry{Line: loc.find(d), Pointer: fmt.Sprintf("%s[%d]", ptr, i), Req: r})
		}
	}
	for _, p := range raw {
		deps, optional := pyprojectLists(p)
		add("project.dependencies", deps)
		groups := make([]string, 0, len(optional))
		for g := range optional {
			groups = append(groups, g)
		}
		sort.Strings(groups)
		for _, g := range groups {
			add("project.optional-dependencies."+g, optional[g])
		}
	}
	return out, nil
}

// locator finds the line of each quoted requirement string, in order of
// appearance for repeated strings.
type locator struct {
	data string
	seen map[string]int
}

func newLocator(data []byte) *locator { return &locator{data: string(data), seen: map[string]int{}} }

func (l *locator) find(s string) int {
	for _, q := range []string{`"` + s + `"`, `'` + s + `'`} {
		from := 0
		for n := 0; ; n++ {
			i := strings.Index(l.data[from:], q)
			if i < 0 {
				break
			}
			if n == l.seen[q] {
				l.seen[q]++
				return 1 + strings.Count(l.data[:from+i], "\n")
			}
			from += i + len(q)
		}
	}
	return 0
}

// requirementEntries returns the requirements and global options the
// hygiene rules judge, for the kinds that have them.
func (fs *fileScan) requirementEntries() ([]reqEntry, []optEntry) {
	var reqs []reqEntry
	var opts []optEntry
	switch fs.kind {
	case KindRequirements:
		for _, l := range parseRequirements(fs.data) {
			switch l.Kind {
			case lineRequirement:
				reqs = append(reqs, reqEntry{Line: l.Line, Req: l.Req})
			case lineOption:
				opts = append(opts, optEntry{Line: l.Line, Option: l.Option, Value: l.Value})
			}
		}
	case KindSetupCfg:
		for _, r := range parseSetupCfg(fs.data) {
			reqs = append(reqs, reqEntry(r))
		}
	case KindConda:
		deps, _ := parseCondaEnvironment(fs.data)
		for _, d := range deps {
			if !d.Pip {
				continue
			}
			if d.Name == "" && d.Req.URL == "" {
				if rl, ok := parseLogical(strings.TrimSpace(stripComment(d.Req.Raw))); ok && rl.Kind == lineOption {
					opts = append(opts, optEntry{Line: d.Line, Pointer: d.Pointer, Option: rl.Option, Value: rl.Value})
				}
				continue
			}
			reqs = append(reqs, reqEntry{Line: d.Line, Pointer: d.Pointer, Req: d.Req})
		}
	case KindPyproject:
		reqs, _ = fs.pyprojectEntries(context.Background())
	case KindPoetryLock, KindUVLock, KindPipfileLock:
		reqs, opts = lockSources(fs.kind, fs.data)
	}
	return reqs, opts
}

// hygiene applies the rules that need no advisory database.
func (fs *fileScan) hygiene(pkgs []Package) {
	reqs, opts := fs.requirementEntries()
	base := strings.ToLower(path.Base(strings.ReplaceAll(fs.obj.Name, "\\", "/")))
	// pip-tools inputs (*.in) are loose by design; the compiled file is
	// what gets pinned.
	checkPins := !strings.HasSuffix(base, ".in")
	hashed := false
	for _, r := range reqs {
		if len(r.Req.Hashes) > 0 {
			hashed = true
		}
	}
	for _, r := range reqs {
		req := r.Req
		evidence := scan.Clip(maskURL(req.Raw), 200)
		switch {
		case req.URL != "":
			if strings.Contains(req.URL, "://") || isURL(req.URL) {
				what := "a URL"
				if isVCS(req.URL) {
					what = "a version-control repository"
				} else if strings.HasPrefix(strings.ToLower(req.URL), "file:") {
					what = "a local file URL"
				}
				msg := fmt.Sprintf("%s is installed from %s, %s", displayName(req), what, scan.Quote(maskURL(req.URL), 160))
				if strings.HasPrefix(strings.ToLower(req.URL), "http://") || strings.Contains(strings.ToLower(req.URL), "+http://") {
					msg += ", over plain HTTP"
				}
				fs.add(RuleDirectURL, r.Line, r.Pointer, msg, evidence)
			}
		case req.Name != "" && checkPins:
			if _, ok := req.Pinned(); !ok {
				spec := req.Specifier
				if spec == "" {
					spec = "no version"
				}
				fs.add(RuleUnpinned, r.Line, r.Pointer,
					fmt.Sprintf("%s is not pinned to one version (%s)", req.Name, scan.Clip(spec, 80)), evidence)
			}
		}
		if hashed && fs.kind == KindRequirements && len(req.Hashes) == 0 && !req.Editable {
			fs.add(RuleMissingHash, r.Line, r.Pointer,
				fmt.Sprintf("%s has no --hash although other requirements in this file are hash-pinned", displayName(req)), evidence)
		}
	}
	for _, o := range opts {
		fs.indexOption(o)
	}
	fs.typosquats(reqs, pkgs)
	if fs.inc != nil {
		fs.refusals(opts)
	}
}

func displayName(r requirement) string {
	if r.Name != "" {
		return r.Name
	}
	return "a package"
}

// indexOption reports package sources other than PyPI.
func (fs *fileScan) indexOption(o optEntry) {
	val := strings.Trim(o.Value, `"'`)
	evidence := scan.Clip(o.Option+" "+maskURL(val), 200)
	switch o.Option {
	case "--extra-index-url":
		if isPyPIIndex(val) {
			return
		}
		fs.add(RuleIndexURL, o.Line, o.Pointer, fmt.Sprintf("--extra-index-url adds %s next to PyPI: pip takes the highest version from either, so a public package can shadow a private name (dependency confusion)", scan.Quote(maskURL(val), 160)), evidence)
	case "-i", "--index-url":
		if isPyPIIndex(val) {
			return
		}
		f := RuleIndexURL.Finding(fmt.Sprintf("--index-url replaces PyPI with %s; make sure it owns your private names and proxies PyPI only for the rest", scan.Quote(maskURL(val), 160)), evidence)
		f.Severity = scan.SeverityMedium
		fs.report(f, o.Line, o.Pointer)
	case "-f", "--find-links":
		if !strings.Contains(val, "://") {
			return
		}
		fs.add(RuleIndexURL, o.Line, o.Pointer, fmt.Sprintf("--find-links fetches packages from %s, outside any index", scan.Quote(maskURL(val), 160)), evidence)
	case "--trusted-host":
		f := RuleIndexURL.Finding(fmt.Sprintf("--trusted-host %s disables TLS certificate checks for that host", scan.Quote(val, 120)), evidence)
		f.Severity = scan.SeverityMedium
		fs.report(f, o.Line, o.Pointer)
	}
}

// typosquats reports names close to popular packages, once per name.
func (fs *fileScan) typosquats(reqs []reqEntry, pkgs []Package) {
	seen := map[string]bool{}
	check := func(name string, line int, ptr string) {
		n := normalize(name)
		if n == "" || seen[n] {
			return
		}
		seen[n] = true
		if p := fs.s.squat.check(n); p != "" {
			fs.add(RuleTyposquat, line, ptr,
				fmt.Sprintf("%s is one or two edits from the popular package %s but is not it", scan.Quote(name, 80), p), name)
		}
	}
	for _, r := range reqs {
		if r.Req.Name != "" {
			check(r.Req.Name, r.Line, r.Pointer)
		}
	}
	for _, p := range pkgs {
		if p.Ecosystem == EcosystemPyPI && p.Via == "" {
			check(p.Name, p.Line, p.Pointer)
		}
	}
}

// refusals reports -r includes that were not followed.
func (fs *fileScan) refusals(opts []optEntry) {
	for _, r := range fs.inc.Refused() {
		line := 0
		for _, o := range opts {
			if (o.Option == "-r" || o.Option == "--requirement") && filepath.Base(filepath.FromSlash(o.Value)) == filepath.Base(r.Path) {
				line = o.Line
				break
			}
		}
		fs.add(RuleIncludeSkipped, line, "", fmt.Sprintf("the included requirements file %s was not read: %s", scan.Quote(filepath.Base(r.Path), 120), r.Reason), "")
	}
}

func (fs *fileScan) add(rule scan.Rule, line int, ptr, msg, evidence string) {
	fs.report(rule.Finding(msg, evidence), line, ptr)
}

func (fs *fileScan) report(f scan.Finding, line int, ptr string) {
	f.Line = line
	f.Pointer = ptr
	fs.rep.Report(f)
}

// match queries the advisories for every pinned package and reports one
// finding per package and vulnerability (advisories that alias each other
// are one vulnerability).
func (fs *fileScan) match(ctx context.Context, pkgs []Package) error {
	type key struct{ eco, name, version string }
	cache := map[key][]Advisory{}
	for _, p := range pkgs {
		eco, name, ok := p.query()
		if !ok {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		k := key{eco, name, p.Version}
		advs, done := cache[k]
		if !done {
			var err error
			advs, err = fs.s.adv.Query(ctx, eco, name, p.Version)
			if err != nil {
				return fmt.Errorf("query advisories for %s %s@%s: %w", eco, name, p.Version, err)
			}
			cache[k] = advs
		}
		for _, g := range mergeAliases(advs) {
			fs.reportVuln(p, g)
		}
	}
	return nil
}

// mergeAliases groups advisories that share an ID or alias; the first of
// each group (in query order) leads it.
func mergeAliases(advs []Advisory) [][]Advisory {
	var groups [][]Advisory
	ids := map[string]int{}
	for _, a := range advs {
		g := -1
		for _, id := range append([]string{a.ID}, a.Aliases...) {
			if i, ok := ids[id]; ok {
				g = i
				break
			}
		}
		if g < 0 {
			g = len(groups)
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], a)
		for _, id := range append([]string{a.ID}, a.Aliases...) {
			if _, ok := ids[id]; !ok {
				ids[id] = g
			}
		}
	}
	return groups
}

func (fs *fileScan) reportVuln(p Package, group []Advisory) {
	lead := group[0]
	var others, fixed []string
	sev := scan.SeverityNone
	summary, link := lead.Summary, lead.URL
	for _, a := range group {
		for _, id := range append([]string{a.ID}, a.Aliases...) {
			if id != lead.ID && !slices.Contains(others, id) {
				others = append(others, id)
			}
		}
		for _, f := range a.Fixed {
			if !slices.Contains(fixed, f) {
				fixed = append(fixed, f)
			}
		}
		sev = max(sev, a.Severity)
		if summary == "" {
			summary = a.Summary
		}
		if link == "" {
			link = a.URL
		}
	}
	id := lead.ID
	if len(others) > 0 {
		id += " (" + strings.Join(others, ", ") + ")"
	}
	msg := fmt.Sprintf("%s %s is affected by %s", p.Name, p.Version, id)
	if summary != "" {
		msg += ": " + scan.Clip(oneLine(summary), 200)
	}
	if p.Ecosystem == ecosystemConda {
		msg += " (conda package matched by name against PyPI advisories)"
	}
	if p.Via != "" {
		msg += fmt.Sprintf(" (pinned in %s, included from this file)", p.Via)
	}
	f := RuleVulnerable.Finding(msg, p.Name+"=="+p.Version)
	if sev != scan.SeverityNone {
		f.Severity = sev
	}
	if len(fixed) > 0 {
		f.Remediation = fmt.Sprintf("Upgrade %s to a fixed version (%s) and regenerate the lockfile.", p.Name, strings.Join(fixed, ", "))
	} else {
		f.Remediation = fmt.Sprintf("No fixed version of %s is published: remove or replace it, or isolate the code that uses it.", p.Name)
	}
	if link != "" {
		f.Remediation += " See " + link
	}
	fs.report(f, p.Line, p.Pointer)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// pyprojectLists returns the dependency lists osv-scalibr read from a
// pyproject.toml package.
func pyprojectLists(p *extractor.Package) ([]string, map[string][]string) {
	if md, ok := p.Metadata.(*pyprojecttomlMetadata); ok && md != nil {
		return md.Dependencies, md.OptionalDependencies
	}
	return nil, nil
}
