package app

import (
	"go/parser"
	"go/token"
	"io/fs"

	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/palisade-sec/palisade"

// goPackage is one directory of non-test Go files.
type goPackage struct {
	dir     string // relative to the module root, slash-separated
	hasDoc  bool
	imports map[string]bool
}

// modulePackages parses every package under cmd/ and internal/.
func modulePackages(t *testing.T) []goPackage {
	t.Helper()
	root := filepath.Join("..", "..")
	byDir := map[string]*goPackage{}
	for _, top := range []string{"cmd", "internal"} {
		err := filepath.WalkDir(filepath.Join(root, top), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly|parser.ParseComments)
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, filepath.Dir(path))
			rel = filepath.ToSlash(rel)
			p := byDir[rel]
			if p == nil {
				p = &goPackage{dir: rel, imports: map[string]bool{}}
				byDir[rel] = p
			}
			if f.Doc != nil && strings.TrimSpace(f.Doc.Text()) != "" {
				p.hasDoc = true
			}
			for _, imp := range f.Imports {
				v, _ := strconv.Unquote(imp.Path.Value)
				p.imports[v] = true
			}
			return nil
		})
		if err != nil {
			t.Fatalf("walk %s: %v", top, err)
		}
	}
	var out []goPackage
	for _, p := range byDir {
		out = append(out, *p)
	}
	if len(out) < 5 {
		t.Fatalf("found only %d packages; is the test running from internal/app?", len(out))
	}
	return out
}

// TestEveryPackageHasDocComment enforces the style guide: every package
// states its responsibility in a doc comment.
func TestEveryPackageHasDocComment(t *testing.T) {
	t.Parallel()
	for _, p := range modulePackages(t) {
		if !p.hasDoc {
			t.Errorf("package %s has no package doc comment", p.dir)
		}
	}
}

// TestImportLayers enforces the import rules of the style guide that
// matter so far: scanner packages never import each other, leaves import
// no internal package, infrastructure does not import the scan domain, and
// only app imports the scanners.
func TestImportLayers(t *testing.T) {
	t.Parallel()
	leaves := map[string]bool{"internal/version": true, "internal/atomicfile": true, "internal/digest": true, "internal/identity": true, "internal/logging": true,
		"internal/access": true, "internal/throttle": true, "internal/oidc": true}
	// Infrastructure may import leaves and each other, never the domain
	// or delivery layers.
	infraRoots := []string{"internal/config", "internal/crypto", "internal/auditlog", "internal/blob", "internal/store"}
	upper := []string{"internal/scan", "internal/sign", "internal/osv", "internal/sbom", "internal/cli", "internal/app",
		"internal/registry", "internal/api", "internal/auth", "internal/sso", "internal/client"}
	under := func(dir string, roots []string) bool {
		for _, r := range roots {
			if dir == r || strings.HasPrefix(dir, r+"/") {
				return true
			}
		}
		return false
	}
	for _, p := range modulePackages(t) {
		for imp := range p.imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			target := strings.TrimPrefix(imp, module+"/")
			switch {
			case leaves[p.dir]:
				t.Errorf("leaf package %s imports %s", p.dir, target)
			case target == "internal/testutil":
				t.Errorf("%s imports internal/testutil outside a test file", p.dir)
			case under(p.dir, infraRoots) && under(target, upper):
				t.Errorf("infrastructure package %s imports the higher-layer package %s", p.dir, target)
			case isScanner(p.dir) && isScanner(target):
				t.Errorf("scanner %s imports scanner %s; hand nested content to the session instead", p.dir, target)
			case isScanner(target) && p.dir != "internal/app":
				t.Errorf("%s imports scanner %s; only internal/app wires scanners", p.dir, target)
			}
		}
	}
}

// scanSupport are the packages under internal/scan that are not format
// scanners: scanners and the CLI may import them.
var scanSupport = map[string]bool{"report": true, "protowalk": true}

// isScanner reports whether dir is a format scanner package.
func isScanner(dir string) bool {
	rest, ok := strings.CutPrefix(dir, "internal/scan/")
	return ok && !scanSupport[rest] && !strings.Contains(rest, "/")
}
