package deps

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/osv-scalibr/extractor"
	"github.com/google/osv-scalibr/extractor/filesystem"
	"github.com/google/osv-scalibr/extractor/filesystem/language/golang/gomod"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/packagelockjson"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/pdmlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/pipfilelock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/poetrylock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/pylock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/pyprojecttoml"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/requirements"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/uvlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/wheelegg"
	"github.com/google/osv-scalibr/inventory/location"
	"github.com/google/osv-scalibr/purl"

	"github.com/palisade-sec/palisade/internal/scan"
)

// Ecosystems, spelled as OSV spells them.
const (
	EcosystemPyPI = "PyPI"
	EcosystemGo   = "Go"
	EcosystemNPM  = "npm"
)

// Advisories answers which advisories affect a package version. The
// composition root supplies the local OSV database.
type Advisories interface {
	// Query returns the advisories affecting ecosystem/name@version
	// ("PyPI", "Go", "npm"). PyPI names are PEP 503-normalised; Go
	// versions carry no "v" prefix. Withdrawn advisories are not returned.
	Query(ctx context.Context, ecosystem, name, version string) ([]Advisory, error)
}

// Advisory is one vulnerability record as the scanner reports it.
type Advisory struct {
	ID       string
	Aliases  []string
	Summary  string
	Severity scan.Severity // SeverityNone: the rule's default (high)
	Fixed    []string      // versions that fix it, smallest first where known
	URL      string        // a page about the advisory, "" if none
}

// Options configure the scanner.
type Options struct {
	// Advisories matches packages against advisories; nil means no
	// vulnerability matching, only hygiene rules.
	Advisories Advisories
	// PopularPackages are the names typosquats are measured against; nil
	// means the built-in list of popular ML and Python packages.
	PopularPackages []string
	// MaxFileBytes is the largest manifest or lockfile read; 0 means
	// DefaultMaxFileBytes.
	MaxFileBytes int64
}

// DefaultMaxFileBytes bounds the manifests and lockfiles read; a large
// monorepo package-lock.json is a few tens of MiB.
const DefaultMaxFileBytes = 64 << 20

// maxPerRule bounds how many findings of one rule one file produces.
const maxPerRule = 200

// Scanner extracts packages from dependency manifests, lockfiles and
// installed-package metadata, matches them against advisories and checks
// dependency hygiene. It is safe for concurrent use.
type Scanner struct {
	adv      Advisories
	squat    *typosquatIndex
	maxBytes int64

	requirements, pyproject, poetry, pipfile, pdm, uv, pylock, wheel, gomod, npm filesystem.Extractor
}

var _ scan.Scanner = (*Scanner)(nil)

// New returns a dependency scanner for scan.FormatDependencies.
func New(opts Options) (*Scanner, error) {
	s := &Scanner{adv: opts.Advisories, maxBytes: opts.MaxFileBytes}
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultMaxFileBytes
	}
	popular := opts.PopularPackages
	if popular == nil {
		popular = defaultPopular
	}
	s.squat = newTyposquatIndex(popular)
	for _, e := range []struct {
		dst  *filesystem.Extractor
		name string
		mk   func() (filesystem.Extractor, error)
	}{
		{&s.requirements, requirements.Name, func() (filesystem.Extractor, error) { return requirements.New(nil) }},
		{&s.pyproject, pyprojecttoml.Name, func() (filesystem.Extractor, error) { return pyprojecttoml.New(nil) }},
		{&s.poetry, poetrylock.Name, func() (filesystem.Extractor, error) { return poetrylock.New(nil) }},
		{&s.pipfile, pipfilelock.Name, func() (filesystem.Extractor, error) { return pipfilelock.New(nil) }},
		{&s.pdm, pdmlock.Name, func() (filesystem.Extractor, error) { return pdmlock.New(nil) }},
		{&s.uv, uvlock.Name, func() (filesystem.Extractor, error) { return uvlock.New(nil) }},
		{&s.pylock, pylock.Name, func() (filesystem.Extractor, error) { return pylock.New(nil) }},
		{&s.wheel, wheelegg.Name, func() (filesystem.Extractor, error) { return wheelegg.New(nil) }},
		{&s.gomod, gomod.Name, func() (filesystem.Extractor, error) { return gomod.New(nil) }},
		{&s.npm, packagelockjson.Name, func() (filesystem.Extractor, error) { return packagelockjson.New(nil) }},
	} {
		x, err := e.mk()
		if err != nil {
			return nil, fmt.Errorf("create %s extractor: %w", e.name, err)
		}
		*e.dst = x
	}
	return s, nil
}

// Kind is the type of dependency file, decided by its name.
type Kind string

// Kinds of dependency files.
const (
	KindRequirements Kind = "requirements"
	KindPyproject    Kind = "pyproject.toml"
	KindPoetryLock   Kind = "poetry.lock"
	KindPipfileLock  Kind = "Pipfile.lock"
	KindPDMLock      Kind = "pdm.lock"
	KindUVLock       Kind = "uv.lock"
	KindPylock       Kind = "pylock.toml"
	KindMetadata     Kind = "python-metadata"
	KindGoMod        Kind = "go.mod"
	KindPackageLock  Kind = "package-lock.json"
	KindConda        Kind = "environment.yml"
	KindSetupCfg     Kind = "setup.cfg"
)

// KindOf returns the kind of dependency file a path names, or "" when the
// scanner does not read it. Installed-package METADATA and PKG-INFO count
// only inside a *.dist-info, *.egg-info or EGG-INFO directory.
func KindOf(p string) Kind {
	p = strings.ReplaceAll(p, "\\", "/")
	base := strings.ToLower(path.Base(p))
	switch base {
	case "pyproject.toml":
		return KindPyproject
	case "poetry.lock":
		return KindPoetryLock
	case "pipfile.lock":
		return KindPipfileLock
	case "pdm.lock":
		return KindPDMLock
	case "uv.lock":
		return KindUVLock
	case "pylock.toml":
		return KindPylock
	case "go.mod":
		return KindGoMod
	case "package-lock.json":
		return KindPackageLock
	case "environment.yml", "environment.yaml":
		return KindConda
	case "setup.cfg":
		return KindSetupCfg
	case "requirements.in":
		return KindRequirements
	case "metadata", "pkg-info":
		dir := strings.ToLower(path.Base(path.Dir(p)))
		if strings.HasSuffix(dir, ".dist-info") || strings.HasSuffix(dir, ".egg-info") || dir == "egg-info" {
			return KindMetadata
		}
		return ""
	}
	switch {
	case strings.HasPrefix(base, "pylock.") && strings.HasSuffix(base, ".toml"):
		return KindPylock
	case strings.HasSuffix(base, ".txt") && (strings.HasPrefix(base, "requirements") ||
		strings.HasSuffix(base, "requirements.txt") || strings.HasPrefix(base, "constraints")):
		return KindRequirements
	}
	return ""
}

// Package is one dependency found in a file.
type Package struct {
	Name      string // as written in the file
	Version   string // the exact version, "" when the file does not pin one
	Ecosystem string // EcosystemPyPI, EcosystemGo, EcosystemNPM, or "conda"
	Line      int    // 1-based line in the scanned file, 0 when unknown
	Pointer   string // position in structured content, e.g. "dependencies[3].pip[0]"
	Via       string // for a package from an included file: "base.txt:4"
}

// queryName returns the ecosystem and name to query advisories with, or
// false when the package cannot be matched.
func (p Package) query() (eco, name string, ok bool) {
	if p.Version == "" || p.Name == "" {
		return "", "", false
	}
	switch p.Ecosystem {
	case EcosystemPyPI:
		return EcosystemPyPI, normalize(p.Name), true
	case EcosystemGo, EcosystemNPM:
		return p.Ecosystem, p.Name, true
	case ecosystemConda:
		n := normalize(p.Name)
		if condaNotPython[n] {
			return "", "", false
		}
		if m, ok := condaToPyPI[n]; ok {
			n = m
		}
		return EcosystemPyPI, n, true
	}
	return "", "", false
}

// ecosystemConda marks conda packages, matched against PyPI by name.
const ecosystemConda = "conda"

// sink receives findings: a *scan.Session or a test recorder.
type sink = scan.FindingSink

// fileScan is the state of one scan.
type fileScan struct {
	s    *Scanner
	obj  scan.Object
	kind Kind
	data []byte
	rep  *scan.Capped
	inc  *includeFS
}

// Scan extracts obj's packages, matches them and checks their hygiene.
func (s *Scanner) Scan(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	return s.scan(ctx, obj, sess)
}

func (s *Scanner) scan(ctx context.Context, obj scan.Object, out sink) error {
	name := obj.Name
	if obj.DiskPath != "" {
		name = obj.DiskPath
	}
	kind := KindOf(name)
	if kind == "" {
		return nil
	}
	rep := scan.NewCapped(out, maxPerRule)
	defer rep.Flush()
	fs := &fileScan{s: s, obj: obj, kind: kind, rep: rep}
	if obj.Size > s.maxBytes {
		rep.Add(RuleLimit, -1, "", fmt.Sprintf("the %s file is %d bytes, beyond the limit of %d; it was not analysed", kind, obj.Size, s.maxBytes), "")
		return nil
	}
	data, err := io.ReadAll(io.NewSectionReader(obj.R, 0, obj.Size))
	if err != nil {
		return fmt.Errorf("read %s: %w", kind, err)
	}
	fs.data = data
	pkgs, err := fs.extract(ctx)
	if err != nil {
		var le *limitErr
		if errors.As(err, &le) {
			rep.Add(RuleLimit, -1, "", fmt.Sprintf("the %s file %s; it was not analysed", kind, le.msg), "")
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rep.Add(RuleInvalid, -1, "", fmt.Sprintf("the %s file could not be parsed: %s", kind, scan.Clip(err.Error(), 300)), "")
	}
	fs.hygiene(pkgs)
	if s.adv != nil {
		if err := fs.match(ctx, pkgs); err != nil {
			return err
		}
	}
	return nil
}

// Extract returns the packages a dependency file lists, for inventories
// and SBOMs. A file of a kind the scanner does not read yields nothing.
func (s *Scanner) Extract(ctx context.Context, obj scan.Object) ([]Package, error) {
	name := obj.Name
	if obj.DiskPath != "" {
		name = obj.DiskPath
	}
	kind := KindOf(name)
	if kind == "" {
		return nil, nil
	}
	if obj.Size > s.maxBytes {
		return nil, &limitErr{msg: fmt.Sprintf("is %d bytes, beyond the limit of %d", obj.Size, s.maxBytes)}
	}
	data, err := io.ReadAll(io.NewSectionReader(obj.R, 0, obj.Size))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", kind, err)
	}
	var discard scan.Buffer
	fs := &fileScan{s: s, obj: obj, kind: kind, data: data, rep: scan.NewCapped(&discard, maxPerRule)}
	return fs.extract(ctx)
}

// limitErr is a file beyond a reader limit.
type limitErr struct{ msg string }

func (e *limitErr) Error() string { return e.msg }

// extract returns the file's packages.
func (fs *fileScan) extract(ctx context.Context) ([]Package, error) {
	switch fs.kind {
	case KindConda:
		return fs.extractConda()
	case KindSetupCfg:
		var out []Package
		for _, r := range parseSetupCfg(fs.data) {
			v, _ := r.Req.Pinned()
			out = append(out, Package{Name: r.Req.Name, Version: v, Ecosystem: EcosystemPyPI, Line: r.Line, Pointer: r.Pointer})
		}
		return out, nil
	case KindPyproject:
		return fs.extractPyproject(ctx)
	}
	if depth := nestingDepth(fs.data, fs.kind == KindPipfileLock || fs.kind == KindPackageLock); depth > maxNesting {
		return nil, &limitErr{msg: fmt.Sprintf("nests brackets deeper than %d", maxNesting)}
	}
	var x filesystem.Extractor
	switch fs.kind {
	case KindRequirements:
		x = fs.s.requirements
	case KindPoetryLock:
		x = fs.s.poetry
	case KindPipfileLock:
		x = fs.s.pipfile
	case KindPDMLock:
		x = fs.s.pdm
	case KindUVLock:
		x = fs.s.uv
	case KindPylock:
		x = fs.s.pylock
	case KindMetadata:
		x = fs.s.wheel
	case KindGoMod:
		x = fs.s.gomod
	case KindPackageLock:
		x = fs.s.npm
	default:
		return nil, nil
	}
	raw, err := fs.runExtractor(ctx, x)
	if err != nil {
		return nil, err
	}
	return fs.convert(raw), nil
}

// runExtractor runs one osv-scalibr extractor on the object's bytes.
func (fs *fileScan) runExtractor(ctx context.Context, x filesystem.Extractor) (pkgs []*extractor.Package, err error) {
	p := fs.obj.Name
	inc := &includeFS{}
	if fs.obj.DiskPath != "" {
		if abs, err := filepath.Abs(fs.obj.DiskPath); err == nil {
			p = abs
			inc.root = filepath.Dir(filepath.Dir(abs))
		}
	}
	if fs.kind == KindRequirements {
		fs.inc = inc
	} else {
		inc = &includeFS{} // other extractors (go.sum for old go.mod) read nothing else
	}
	defer func() {
		// A third-party parser must not take the scan down with it.
		if r := recover(); r != nil {
			pkgs, err = nil, fmt.Errorf("%s extractor failed: %v", x.Name(), r)
		}
	}()
	inv, err := x.Extract(ctx, &filesystem.ScanInput{
		FS: inc, Path: p, Root: "/", Info: memInfo{name: path.Base(p), size: int64(len(fs.data))},
		Reader: bytes.NewReader(fs.data),
	})
	if err != nil {
		return nil, err
	}
	return inv.Packages, nil
}

// convert turns extractor packages into Packages with lines in the
// scanned file.
func (fs *fileScan) convert(raw []*extractor.Package) []Package {
	top := ""
	if len(raw) > 0 {
		top = fs.topPath()
	}
	// includeLine maps an included file to the line of the scanned file
	// whose -r led to it.
	includeLine := map[string]int{}
	out := make([]Package, 0, len(raw))
	for _, r := range raw {
		p := Package{Name: r.Name, Version: r.Version, Line: lineOf(r.Location.Descriptor)}
		switch r.PURLType {
		case purl.TypePyPi:
			p.Ecosystem = EcosystemPyPI
		case purl.TypeGolang:
			p.Ecosystem = EcosystemGo
		case purl.TypeNPM:
			p.Ecosystem = EcosystemNPM
		default:
			continue
		}
		if md, ok := r.Metadata.(*requirements.Metadata); ok {
			// The extractor keeps the bound of a range ("torch>=2" -> 2):
			// only exact pins are versions.
			if md.VersionComparator != "==" && md.VersionComparator != "===" {
				p.Version = ""
			}
		}
		if desc := pathOf(r.Location.Descriptor); fs.kind == KindRequirements && desc != top && len(r.Location.Related) == 0 {
			continue
		}
		if len(r.Location.Related) > 0 && fs.kind == KindRequirements {
			// From an included file: Descriptor is the -r line in the file
			// that included it, Related[0] the package's own line.
			own := r.Location.Related[0]
			via := pathOf(r.Location.Descriptor)
			incPath := pathOf(&own)
			line := lineOf(r.Location.Descriptor)
			for hops := 0; via != top && hops < maxIncludes; hops++ {
				l, ok := includeLine[via]
				if !ok {
					line = 0
					break
				}
				line, via = l, top
			}
			if _, ok := includeLine[incPath]; !ok && line > 0 {
				includeLine[incPath] = line
			}
			p.Line = line
			p.Via = fmt.Sprintf("%s:%d", filepath.Base(incPath), lineOf(&own))
		}
		out = append(out, p)
	}
	slices.SortStableFunc(out, func(a, b Package) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// topPath is the path the scanned file was given to the extractor as.
func (fs *fileScan) topPath() string {
	if fs.obj.DiskPath != "" {
		if abs, err := filepath.Abs(fs.obj.DiskPath); err == nil {
			return filepath.ToSlash(abs)
		}
	}
	return filepath.ToSlash(fs.obj.Name)
}

func lineOf(l *location.Location) int {
	if l == nil || l.File == nil {
		return 0
	}
	return l.File.LineNumber
}

func pathOf(l *location.Location) string { return l.PathOrEmpty() }

// pyprojecttomlMetadata is osv-scalibr's pyproject.toml metadata.
type pyprojecttomlMetadata = pyprojecttoml.Metadata
