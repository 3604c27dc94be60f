package sbom

import (
	"strings"
)

// Ecosystems, spelled as OSV and the dependency scanner spell them.
const (
	EcosystemPyPI  = "PyPI"
	EcosystemGo    = "Go"
	EcosystemNPM   = "npm"
	EcosystemConda = "conda"
)

// PURL returns the package URL of a package, or "" for an ecosystem
// without a purl type here. It follows the purl specification's type
// rules: PyPI names are lower-cased with "_" as "-"; Go module paths are
// split into namespace and name, lower-cased, and versions carry their
// "v"; an npm scope is the namespace, its "@" percent-encoded. Every
// segment is percent-encoded except the unreserved characters and ":".
func PURL(p Package) string {
	var typ, ns, name string
	version := p.Version
	switch p.Ecosystem {
	case EcosystemPyPI:
		typ, name = "pypi", pypiName(p.Name)
	case EcosystemGo:
		typ = "golang"
		mod := strings.ToLower(strings.Trim(p.Name, "/"))
		if i := strings.LastIndexByte(mod, '/'); i >= 0 {
			ns, name = mod[:i], mod[i+1:]
		} else {
			name = mod
		}
		version = goVersion(version)
	case EcosystemNPM:
		typ, name = "npm", p.Name
		if strings.HasPrefix(name, "@") {
			if i := strings.IndexByte(name, '/'); i > 0 {
				ns, name = name[:i], name[i+1:]
			}
		}
	case EcosystemConda:
		typ, name = "conda", strings.ToLower(p.Name)
	default:
		return ""
	}
	if name == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString("pkg:")
	b.WriteString(typ)
	b.WriteByte('/')
	if ns != "" {
		for _, seg := range strings.Split(ns, "/") {
			if seg == "" {
				continue
			}
			escape(&b, seg)
			b.WriteByte('/')
		}
	}
	escape(&b, name)
	if version != "" {
		b.WriteByte('@')
		escape(&b, version)
	}
	return b.String()
}

// pypiName is a PyPI name as purls spell it.
func pypiName(n string) string {
	return strings.ToLower(strings.ReplaceAll(n, "_", "-"))
}

// goVersion returns a Go module version with its "v" prefix; the
// dependency scanner drops it, Go and purls keep it.
func goVersion(v string) string {
	if v == "" || strings.HasPrefix(v, "v") {
		return v
	}
	return "v" + v
}

const hexUpper = "0123456789ABCDEF"

// escape percent-encodes one purl segment.
func escape(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == ':' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&0x0f])
	}
}
