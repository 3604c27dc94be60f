package deps

import (
	"net/url"
	"regexp"
	"strings"
)

// reqLine is one logical line of a pip requirements file: a requirement,
// a global option, or (Kind == 0) nothing.
type reqLine struct {
	Line int // 1-based line where the logical line starts
	Kind lineKind
	// Requirement fields.
	Req requirement
	// Option fields: the option as written ("--extra-index-url") and its value.
	Option string
	Value  string
}

type lineKind uint8

const (
	lineNone lineKind = iota
	lineRequirement
	lineOption
)

// requirement is one PEP 508 requirement or pip direct reference.
type requirement struct {
	Raw       string   // the requirement text without per-requirement options
	Name      string   // as written; "" for a bare URL without #egg=
	Specifier string   // version specifier, "" when none
	URL       string   // direct reference (name @ URL, bare URL, -e URL), "" when none
	Editable  bool     // -e / --editable
	Hashes    []string // --hash values
}

// Pinned reports whether the requirement names exactly one version, and
// that version: "==X" without a wildcard, or "===X".
func (r requirement) Pinned() (string, bool) {
	s := strings.TrimSpace(r.Specifier)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "("), ")")
	switch {
	case strings.HasPrefix(s, "==="):
		v := strings.TrimSpace(s[3:])
		return v, v != "" && !strings.ContainsAny(v, ",")
	case strings.HasPrefix(s, "=="):
		v := strings.TrimSpace(s[2:])
		return v, v != "" && !strings.ContainsAny(v, ",*<>=!~ ")
	}
	return "", false
}

var (
	reName  = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?`)
	reEgg   = regexp.MustCompile(`[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)`)
	reCreds = regexp.MustCompile(`//[^/@\s]*@`)
)

// maxLogicalLine bounds a logical line joined from continuations.
const maxLogicalLine = 1 << 16

// parseRequirements splits a requirements file into logical lines:
// comments removed, backslash continuations joined, options separated
// from requirements. It never fails: what it cannot understand is skipped.
func parseRequirements(data []byte) []reqLine {
	var out []reqLine
	lines := strings.Split(string(data), "\n")
	for i := 0; i < len(lines); i++ {
		start := i + 1
		var b strings.Builder
		for {
			l := strings.TrimRight(lines[i], "\r")
			l = stripComment(l)
			if strings.HasSuffix(l, `\`) && i+1 < len(lines) && b.Len() < maxLogicalLine {
				b.WriteString(l[:len(l)-1])
				b.WriteByte(' ')
				i++
				continue
			}
			b.WriteString(strings.TrimSuffix(l, `\`))
			break
		}
		if rl, ok := parseLogical(strings.TrimSpace(b.String())); ok {
			rl.Line = start
			out = append(out, rl)
		}
	}
	return out
}

// stripComment removes a '#' comment that starts the line or follows
// whitespace, as pip does; a '#' inside a URL fragment is kept.
func stripComment(l string) string {
	for i := 0; i < len(l); i++ {
		if l[i] == '#' && (i == 0 || l[i-1] == ' ' || l[i-1] == '\t') {
			return strings.TrimRight(l[:i], " \t")
		}
	}
	return l
}

// parseLogical interprets one logical line.
func parseLogical(l string) (reqLine, bool) {
	if l == "" {
		return reqLine{}, false
	}
	if strings.HasPrefix(l, "-") {
		opt, val := splitOption(l)
		if opt == "-e" || opt == "--editable" {
			r := parseRequirement(val)
			r.Editable = true
			return reqLine{Kind: lineRequirement, Req: r}, true
		}
		return reqLine{Kind: lineOption, Option: opt, Value: val}, true
	}
	return reqLine{Kind: lineRequirement, Req: parseRequirement(l)}, true
}

// shortOptions are pip's one-letter options that take a value and may be
// written glued to it ("-rbase.txt").
var shortOptions = map[byte]string{'r': "-r", 'c': "-c", 'i': "-i", 'f': "-f", 'e': "-e"}

// splitOption splits "--opt=value", "--opt value" and "-rvalue".
func splitOption(l string) (opt, val string) {
	if strings.HasPrefix(l, "--") {
		end := strings.IndexAny(l, "= \t")
		if end < 0 {
			return l, ""
		}
		return l[:end], strings.TrimSpace(strings.TrimLeft(l[end:], "= \t"))
	}
	if len(l) >= 2 {
		if o, ok := shortOptions[l[1]]; ok {
			return o, strings.TrimSpace(l[2:])
		}
	}
	opt, val, _ = strings.Cut(l, " ")
	return opt, strings.TrimSpace(val)
}

// parseRequirement parses "name[extras] spec ; marker --hash=...",
// "name @ URL ; marker" and bare URLs.
func parseRequirement(s string) requirement {
	var r requirement
	// Per-requirement options start at the first " --".
	fields := strings.Fields(s)
	var kept []string
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if !strings.HasPrefix(f, "--") {
			kept = append(kept, f)
			continue
		}
		opt, val, hasVal := strings.Cut(f, "=")
		if !hasVal && i+1 < len(fields) && !strings.HasPrefix(fields[i+1], "--") {
			i++
			val = fields[i]
		}
		if opt == "--hash" && val != "" {
			r.Hashes = append(r.Hashes, val)
		}
	}
	s = strings.Join(kept, " ")
	r.Raw = s
	if isURL(s) || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "/") {
		// A bare URL or path, name (if any) in #egg=.
		ref, _, _ := strings.Cut(s, " ;")
		r.URL = strings.TrimSpace(ref)
		if m := reEgg.FindStringSubmatch(r.URL); m != nil {
			r.Name = m[1]
		}
		return r
	}
	name := reName.FindString(s)
	r.Name = name
	rest := strings.TrimSpace(s[len(name):])
	if strings.HasPrefix(rest, "[") {
		if end := strings.IndexByte(rest, ']'); end >= 0 {
			rest = strings.TrimSpace(rest[end+1:])
		}
	}
	if after, ok := strings.CutPrefix(rest, "@"); ok {
		ref := strings.TrimSpace(after)
		// The marker of a URL requirement is separated by " ;".
		if i := strings.Index(ref, " ;"); i >= 0 {
			ref = ref[:i]
		}
		r.URL = strings.TrimSpace(ref)
		return r
	}
	spec, _, _ := strings.Cut(rest, ";")
	r.Specifier = strings.TrimSpace(spec)
	return r
}

// isURL reports whether s starts with a URL scheme pip accepts for direct
// references, VCS ones included.
func isURL(s string) bool {
	ls := strings.ToLower(s)
	for _, p := range []string{"http://", "https://", "file:", "ftp://", "git+", "hg+", "svn+", "bzr+", "git://"} {
		if strings.HasPrefix(ls, p) {
			return true
		}
	}
	return false
}

// isVCS reports whether a direct reference names a version-control system.
func isVCS(u string) bool {
	lu := strings.ToLower(u)
	for _, p := range []string{"git+", "hg+", "svn+", "bzr+", "git://"} {
		if strings.HasPrefix(lu, p) {
			return true
		}
	}
	return false
}

// maskURL hides credentials in a URL: user names, passwords and tokens in
// the userinfo part become "***", and query parameters that look like
// secrets are blanked.
func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return reCreds.ReplaceAllString(s, "//***@")
	}
	if u.User != nil {
		u.User = url.User("***")
	}
	if q := u.Query(); len(q) > 0 {
		changed := false
		for k := range q {
			lk := strings.ToLower(k)
			if strings.Contains(lk, "token") || strings.Contains(lk, "key") || strings.Contains(lk, "sig") ||
				strings.Contains(lk, "pass") || strings.Contains(lk, "secret") || strings.Contains(lk, "auth") {
				q.Set(k, "***")
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return strings.Replace(u.String(), "%2A%2A%2A", "***", -1)
}

// isPyPIIndex reports whether an index URL is the public PyPI.
func isPyPIIndex(s string) bool {
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	return u.Scheme == "https" && (h == "pypi.org" || h == "pypi.python.org" || h == "files.pythonhosted.org")
}
