package pickle

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/palisade-sec/palisade/internal/scan"
)

// verdict is the outcome of classifying a global.
type verdict uint8

const (
	verdictReview  verdict = iota // neither allowed nor denied: reported at low severity
	verdictAllowed                // a known-safe framework global
	verdictDenied                 // a deny-list entry covers it
)

// class is the classification of one imported global.
type class struct {
	verdict verdict
	sev     scan.Severity // for verdictDenied
	path    string        // the canonical dotted path, e.g. "os.system"
	reached string        // the part a deny entry matched when the path reaches it through a stepping stone ("os.system" in "gzip.os.system")
	entry   string        // the deny entry, e.g. "os"
	what    string        // why the entry is dangerous
}

// maxComponents bounds the dotted components examined; longer paths are
// denied outright (no real global is that deep).
const maxComponents = 64

// moduleAliases maps modules to the module the unpickler or the runtime
// makes them: Python 2 names (_compat_pickle), private C accelerators and
// the platform modules os re-exports.
var moduleAliases = map[string]string{
	"__builtin__":      "builtins",
	"exceptions":       "builtins",
	"copy_reg":         "copyreg",
	"_pickle":          "pickle",
	"cPickle":          "pickle",
	"_operator":        "operator",
	"_io":              "io",
	"posix":            "os",
	"nt":               "os",
	"_functools":       "functools",
	"_collections":     "collections",
	"_socket":          "socket",
	"_ssl":             "ssl",
	"commands":         "subprocess",
	"urllib2":          "urllib.request",
	"httplib":          "http.client",
	"xmlrpclib":        "xmlrpc.client",
	"SocketServer":     "socketserver",
	"cookielib":        "http.cookiejar",
	"BaseHTTPServer":   "http.server",
	"SimpleHTTPServer": "http.server",
	"CGIHTTPServer":    "http.server",
	"UserDict":         "collections",
	"UserList":         "collections",
	"UserString":       "collections",
	"StringIO":         "io",
	"cStringIO":        "io",
	"Tkinter":          "tkinter",
	"_tkinter":         "tkinter",
	"thread":           "_thread",
	"Queue":            "queue",
	"urlparse":         "urllib.parse",
	"robotparser":      "urllib.robotparser",
	"anydbm":           "dbm",
	"whichdb":          "dbm",
	"dumbdbm":          "dbm.dumb",
	"gdbm":             "dbm.gnu",
	"dbhash":           "dbm.bsd",
	"_ctypes":          "ctypes",
	"_sqlite3":         "sqlite3",
	"_signal":          "signal",
	"_winreg":          "winreg",
}

// vendoredPrefixes are packages that re-export other packages under their
// own name: their prefix is dropped before classification, so
// "six.moves.cPickle" is pickle and "joblib.externals.cloudpickle" is
// cloudpickle.
var vendoredPrefixes = [][]string{
	{"six", "moves"},
	{"future", "moves"},
	{"future", "builtins"},
	{"past", "builtins"},
	{"pip", "_vendor"},
	{"joblib", "externals"},
	{"sklearn", "externals", "joblib"},
}

// vendoredReplacement is what a vendored prefix stands for ("" = nothing:
// the next component is a top-level package).
var vendoredReplacement = map[string]string{
	"future.builtins":          "builtins",
	"past.builtins":            "builtins",
	"sklearn.externals.joblib": "joblib",
}

// canonical splits module and name into dotted components with aliases
// applied. boundary is the number of components that came from the module.
func canonical(module, name string) (comps []string, boundary int) {
	mc := canonicalComponents(splitDots(module))
	nc := splitDots(name)
	comps = make([]string, 0, len(mc)+len(nc))
	comps = append(comps, mc...)
	comps = append(comps, nc...)
	return comps, len(mc)
}

// canonicalName returns the canonical dotted path of module.name. Results
// are cached: the same few globals recur in every model.
func canonicalName(module, name string) string {
	key := [2]string{module, name}
	if v, ok := canonicalCache.Load(key); ok {
		return v.(string)
	}
	comps, _ := canonical(module, name)
	path := strings.Join(comps, ".")
	if canonicalCacheSize.Add(1) <= maxCanonicalCache {
		canonicalCache.Store(key, path)
	}
	return path
}

// maxCanonicalCache bounds the cache, which hostile names could otherwise
// grow without limit.
const maxCanonicalCache = 1 << 14

var (
	canonicalCache     sync.Map // [2]string -> string
	canonicalCacheSize atomic.Int64
)

// canonicalPath canonicalises a dotted path whose first component is a
// module (the argument of __import__ or pkgutil.resolve_name).
func canonicalPath(path string) string {
	return strings.Join(canonicalComponents(splitDots(path)), ".")
}

func splitDots(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ".")
}

// canonicalComponents applies vendored prefixes and module aliases to a
// module path.
func canonicalComponents(c []string) []string {
	for changed := true; changed && len(c) > 0; {
		changed = false
		for _, p := range vendoredPrefixes {
			if len(c) > len(p) && hasPrefix(c, p) {
				rest := c[len(p):]
				if r := vendoredReplacement[strings.Join(p, ".")]; r != "" {
					c = append(splitDots(r), rest...)
				} else {
					c = append([]string(nil), rest...)
				}
				changed = true
				break
			}
		}
		if a, ok := moduleAliases[c[0]]; ok {
			c = append(splitDots(a), c[1:]...)
			changed = true
		}
	}
	return c
}

func hasPrefix(c, p []string) bool {
	for i := range p {
		if c[i] != p[i] {
			return false
		}
	}
	return true
}

// classifyGlobal classifies module.name.
func classifyGlobal(module, name string) class {
	comps, boundary := canonical(module, name)
	return classifyComponents(comps, boundary)
}

// classifyPath classifies a dotted path reached dynamically (through
// __import__, getattr and the like); its first component is a module.
func classifyPath(path string) class {
	return classifyComponents(canonicalComponents(splitDots(path)), 1)
}

// classifyComponents applies the allow list, then the deny list to every
// dotted component sequence, then the special-attribute rules.
func classifyComponents(comps []string, boundary int) class {
	path := strings.Join(comps, ".")
	c := class{path: path}
	if len(comps) == 0 || len(comps) > maxComponents {
		c.verdict, c.sev, c.entry, c.what = verdictDenied, scan.SeverityCritical, path, "is too deep or empty to be a real global"
		return c
	}
	if allowed(comps, boundary) {
		c.verdict = verdictAllowed
		return c
	}
	// Deny entries match at every component: "gzip.os.system" reaches
	// os.system through gzip's attribute os. Single-module aliases apply
	// everywhere too ("gzip.posix.system").
	norm := make([]string, len(comps))
	for i, comp := range comps {
		norm[i] = comp
		if a, ok := moduleAliases[comp]; ok && !strings.Contains(a, ".") {
			norm[i] = a
		}
	}
	for i := range norm {
		key := ""
		for j := i; j < len(norm); j++ {
			if j == i {
				key = norm[i]
			} else {
				key += "." + norm[j]
			}
			e, ok := denyList[key]
			if !ok {
				continue
			}
			sev, what := e.sev, e.what
			if i > 0 && i < boundary && genericModuleNames[norm[i]] && sev > scan.SeverityMedium {
				// A submodule of some package that happens to share a
				// stdlib module's name ("mypkg.test"): not the stdlib
				// module, but worth a look.
				sev = scan.SeverityMedium
				what = "is a submodule named like the dangerous module " + key + ", or an alias of it"
			}
			if c.verdict != verdictDenied || sev > c.sev {
				c.verdict, c.sev, c.entry, c.what = verdictDenied, sev, key, what
				c.reached = strings.Join(norm[i:], ".")
			}
		}
	}
	for i, comp := range comps {
		if !isDunder(comp) {
			continue
		}
		sev, what := scan.SeverityHigh, "walks through the special attribute "+comp
		switch {
		case comp == "__main__" && i == 0:
			// The running program's own module: classes pickled from a
			// script live there, and importing it runs nothing new.
			continue
		case comp == "__main__":
			sev, what = scan.SeverityCritical, "imports a package's __main__ module, which runs its command-line entry point"
		case criticalDunders[comp]:
			sev, what = scan.SeverityCritical, "reaches interpreter internals through "+comp+" (a path to builtins, code objects or every class)"
		}
		if c.verdict != verdictDenied || sev > c.sev {
			c.verdict, c.sev, c.entry, c.what = verdictDenied, sev, comp, what
			c.reached = strings.Join(comps[:i+1], ".")
		}
	}
	if c.reached == path {
		c.reached = ""
	}
	return c
}

func isDunder(s string) bool {
	return len(s) > 4 && strings.HasPrefix(s, "__") && strings.HasSuffix(s, "__")
}

// allowed reports whether the canonical path is a known-safe global: an
// exact allow-list entry or a class of the framework tier.
func allowed(comps []string, boundary int) bool {
	path := strings.Join(comps, ".")
	if allowList[path] || torchScriptHelpers[path] {
		return true
	}
	if comps[0] == torchScriptClassRoot && len(comps) > 1 && !deniedAnywhere(comps[1:]) {
		return true
	}
	if boundary != len(comps)-1 {
		// The framework tier admits classes named directly in their
		// module, never attributes walked from them.
		return false
	}
	name := comps[len(comps)-1]
	if !isClassName(name) {
		return false
	}
	module := strings.Join(comps[:boundary], ".")
	for _, t := range frameworkTier {
		if t.matches(module, name) {
			return !deniedAnywhere(comps)
		}
	}
	return false
}

// deniedAnywhere reports whether a deny entry covers any component
// sequence of comps.
func deniedAnywhere(comps []string) bool {
	for i := range comps {
		key := ""
		for j := i; j < len(comps); j++ {
			if j == i {
				key = comps[i]
			} else {
				key += "." + comps[j]
			}
			if _, ok := denyList[key]; ok {
				return true
			}
		}
		if isDunder(comps[i]) {
			return true
		}
	}
	return false
}

// isClassName reports whether s looks like a class: an identifier starting
// with an upper-case letter, not private.
func isClassName(s string) bool {
	return isIdentifier(s) && s[0] >= 'A' && s[0] <= 'Z'
}

// tier admits the classes of a framework's modules.
type tier struct {
	prefix  string   // module prefix, e.g. "sklearn."
	exclude []string // module prefixes inside it that are never admitted
	modules []string // if set, the module's last component must start with one of these
	suffix  string   // if set, the class name must end with it
}

func (t tier) matches(module, name string) bool {
	if !strings.HasPrefix(module+".", t.prefix) {
		return false
	}
	for _, x := range t.exclude {
		if module == x || strings.HasPrefix(module, x+".") {
			return false
		}
	}
	if len(t.modules) > 0 {
		last := module[strings.LastIndexByte(module, '.')+1:]
		ok := false
		for _, m := range t.modules {
			if strings.HasPrefix(last, m) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return t.suffix == "" || strings.HasSuffix(name, t.suffix)
}
