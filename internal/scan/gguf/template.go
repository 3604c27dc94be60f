package gguf

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/palisade-sec/palisade/internal/scan"
)

// This file finds server-side template injection in Jinja templates by
// static analysis of the expressions inside {{ }} and {% %} tags: literal
// text is output, not code, and is ignored. The template is tokenised as
// Jinja does (strings with Python escapes, names, numbers, operators,
// bracket balance), and each tag is searched for the building blocks of
// published payloads: attribute walks to dunder members, the same names
// reached through subscripts, the attr filter or assembled from pieces,
// Jinja globals used as stepping stones, and code-execution names.

// class is the weight of an indicator.
type class uint8

const (
	classExecLit    class = iota + 1 // a string naming an execution primitive: raises a dunder walk to critical, nothing alone
	classSuspicious                  // medium on its own
	classExec                        // a name, attribute or subscript naming an execution primitive
	classDunder                      // reaches Python object internals: high on its own
)

type indicator struct {
	class class
	desc  string
	tag   int // index of the tag
	pos   int // byte offset in the template
}

// verdict is the outcome of analysing one template.
type verdict struct {
	severity scan.Severity // SeverityNone when nothing was found
	summary  string        // what the template does, for the message
	reasons  []string      // distinct indicators, most severe first
	snippet  string        // the tag that shows the worst indicator, sanitised
	at       int           // byte offset of the snippet in the template
}

var (
	// dangerDunders are the members payloads walk through; a string that
	// contains one is a dunder reference even when it is not exactly one.
	dangerDunders = []string{
		"__class__", "__base__", "__bases__", "__mro__", "__subclasses__", "__globals__",
		"__builtins__", "__init__", "__import__", "__getattribute__", "__dict__", "__code__",
		"__func__", "__self__", "__module__", "__loader__", "__spec__", "__reduce__",
		"__reduce_ex__", "__getitem__", "__call__", "__closure__",
	}
	// assembledWords are names worth assembling from pieces besides the
	// dunders (no short words: "o"+"s" occurs by accident).
	assembledWords = []string{
		"popen", "subprocess", "system", "eval", "exec", "import", "getattr",
		"globals", "builtins", "check_output", "spawn",
	}
	// attrExec are attributes and subscript keys that name execution or
	// file primitives.
	attrExec = set("popen", "system", "os", "eval", "exec", "subprocess", "spawn", "spawnl", "spawnlp",
		"spawnv", "spawnve", "spawnvp", "execl", "execlp", "execv", "execve", "execvp", "check_output",
		"check_call", "getoutput", "getstatusoutput", "import_module", "open", "read", "write",
		"getattr", "globals", "builtins", "modules", "sys", "posix", "pty", "load_module", "import")
	// bareExec are free names that are not Jinja globals and name
	// execution primitives.
	bareExec = set("os", "eval", "exec", "subprocess", "getattr", "setattr", "compile", "open",
		"globals", "locals", "vars", "sys", "importlib", "builtins", "popen", "breakpoint")
	// literalExec are string values that name execution primitives, e.g.
	// the argument of __import__('os').
	literalExec = set("os", "popen", "eval", "exec", "subprocess", "import_module", "importlib",
		"check_output", "spawn", "posix", "pty", "sys", "builtins")
	// steppingGlobals are Jinja (and Flask) globals whose attributes lead
	// to Python internals.
	steppingGlobals = set("cycler", "joiner", "namespace", "lipsum", "range", "config", "request",
		"self", "url_for", "get_flashed_messages")
	// loadStatements load other templates; chat templates never need them.
	loadStatements = set("import", "include", "extends", "from")
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// Budgets that keep the analysis linear and its memory bounded whatever the
// template: real chat templates have a few thousand tokens.
const (
	maxTokens      = 1 << 18  // tokens lexed per template; the rest is reported as unanalysed
	maxExpansion   = 64 << 10 // bytes added by expanding 'x'*N repetitions, per template
	maxReplaceView = 4        // distinct replace(a, b) views checked per tag
)

// analyzeTemplate grades the template src.
func analyzeTemplate(src string) verdict {
	lx := &lexer{src: src, budget: maxTokens}
	tags := lx.template()
	var inds []indicator
	if lx.truncated {
		at := len(src)
		if len(tags) > 0 {
			at = tags[len(tags)-1].start
		}
		if len(tags) == 0 {
			tags = append(tags, tag{start: 0, end: min(len(src), maxSnippet)})
		}
		inds = append(inds, indicator{classSuspicious, fmt.Sprintf("more than %d tokens; the rest of the template was not analysed", maxTokens), len(tags) - 1, at})
	}
	expansion := maxExpansion
	var pieces []string // every string literal, in order, for names assembled across tags
	var owners []int    // the tag of each piece
	for ti := range tags {
		inds, pieces, owners = analyzeTag(tags, ti, inds, pieces, owners, &expansion)
	}
	if len(pieces) > 1 {
		joined := strings.Join(pieces, "")
		if name, at := assembled(joined, pieces, dangerDunders); name != "" {
			ti := owners[pieceAt(pieces, at+len(name)-1)]
			inds = append(inds, indicator{classDunder, name + " assembled from string pieces", ti, tags[ti].start})
		}
	}
	for _, in := range assembleNames(src, tags) {
		if in.class != classDunder || !sameDunder(inds, in) {
			inds = append(inds, in)
		}
	}
	return grade(src, tags, inds)
}

// sameDunder reports whether inds already hold a dunder indicator naming
// the dunder that in names, so that one assembly is reported once.
func sameDunder(inds []indicator, in indicator) bool {
	name, _, _ := strings.Cut(in.desc, " ")
	if !isDunder(name) {
		return false
	}
	for _, x := range inds {
		if x.class == classDunder && strings.Contains(x.desc, name) {
			return true
		}
	}
	return false
}

// pieceAt returns the index of the piece holding byte i of their join.
func pieceAt(pieces []string, i int) int {
	for k, p := range pieces {
		if i < len(p) {
			return k
		}
		i -= len(p)
	}
	return len(pieces) - 1
}

// analyzeTag appends the indicators of tag ti.
func analyzeTag(tags []tag, ti int, inds []indicator, all []string, owners []int, expansion *int) ([]indicator, []string, []int) {
	tg := tags[ti]
	toks := tg.toks
	at := func(i int) token {
		if i < 0 || i >= len(toks) {
			return token{}
		}
		return toks[i]
	}
	add := func(c class, desc string, pos int) {
		inds = append(inds, indicator{c, desc, ti, pos})
	}
	var (
		pieces                     []string
		reverse, lower, format, pc bool
		replaces                   [][2]string
		codes                      []rune
	)
	firstName := -1
	for i, t := range toks {
		if t.kind == tkName {
			firstName = i
			break
		}
	}
	for i, t := range toks {
		prev, next := at(i-1), at(i+1)
		switch t.kind {
		case tkName:
			name := t.text
			afterDot, afterPipe := prev.isOp("."), prev.isOp("|")
			switch {
			case isDunder(name) && afterDot:
				add(classDunder, "attribute "+name, t.pos)
			case isDunder(name):
				add(classDunder, "name "+name, t.pos)
			case afterDot && strings.HasPrefix(name, "_"):
				add(classSuspicious, "private attribute "+name, t.pos)
			}
			if afterDot && attrExec[name] {
				add(classExec, "attribute ."+name, t.pos)
			}
			free := !afterDot && !afterPipe && !prev.isName("is")
			if free && bareExec[name] {
				add(classExec, "name "+name, t.pos)
			}
			if free && steppingGlobals[name] && (next.isOp(".") || next.isOp("[") || next.isOp("|")) {
				add(classSuspicious, "Jinja global "+name+" used as a stepping stone", t.pos)
			}
			if tg.stmt && i == firstName && loadStatements[name] {
				add(classSuspicious, "{% "+name+" %} loads another template", t.pos)
			}
			if afterDot || afterPipe {
				switch name {
				case "lower":
					lower = true
				case "format":
					format = true
				}
			}
			if !afterPipe {
				continue
			}
			switch name {
			case "attr":
				inds = attrFilter(toks, i, ti, inds)
			case "reverse":
				reverse = true
			case "replace":
				if at(i+1).isOp("(") && at(i+2).kind == tkString && at(i+3).isOp(",") && at(i+4).kind == tkString {
					r := [2]string{at(i + 2).text, at(i + 4).text}
					if len(replaces) < maxReplaceView && !slices.Contains(replaces, r) {
						replaces = append(replaces, r)
					}
				}
			case "string":
				if next.isOp("|") && at(i+2).isName("list") {
					add(classSuspicious, "string|list splits an object's text into characters", t.pos)
				}
			}
		case tkString:
			v := t.text
			if t.escaped {
				add(classSuspicious, "escaped characters in string "+scan.Quote(v, 40), t.pos)
			}
			if d := dunderIn(v); d != "" {
				add(classDunder, "string "+scan.Quote(d, 40), t.pos)
			}
			if prev.isOp("[") && next.isOp("]") {
				switch {
				case attrExec[v]:
					add(classExec, "subscript ["+scan.Quote(v, 40)+"]", t.pos)
				case strings.HasPrefix(v, "_") && !isDunder(v):
					add(classSuspicious, "private attribute ["+scan.Quote(v, 40)+"]", t.pos)
				}
			}
			if literalExec[v] {
				add(classExecLit, "string "+scan.Quote(v, 40), t.pos)
			}
			if strings.Contains(v, "%c") {
				pc = true
			}
			piece := v
			n, ok := repeatCount(at(i+1), at(i+2))
			if !ok {
				n, ok = repeatCount(at(i-1), at(i-2))
			}
			if ok && len(v)*n-len(v) <= *expansion {
				piece = strings.Repeat(v, n)
				*expansion -= len(piece) - len(v)
			}
			pieces = append(pieces, piece)
			all = append(all, piece)
			owners = append(owners, ti)
		case tkNumber:
			if n, err := strconv.ParseInt(strings.ReplaceAll(t.text, "_", ""), 0, 32); err == nil && n > 0 && n <= unicode.MaxRune {
				codes = append(codes, rune(n))
			}
		case tkOp:
			if t.text == "%" && prev.kind == tkString && strings.Contains(prev.text, "%c") {
				format = true
			}
			if t.text == "[" && next.isOp(":") && at(i+2).isOp(":") && at(i+3).isOp("-") && at(i+4).text == "1" {
				reverse = true
			}
		}
	}

	check := func(s, how string) {
		if name, _ := assembled(s, pieces, dangerDunders); name != "" {
			add(classDunder, name+" assembled from string pieces"+how, tg.start)
		} else if name, _ := assembled(s, pieces, assembledWords); name != "" {
			add(classExec, name+" assembled from string pieces"+how, tg.start)
		}
	}
	joined := strings.Join(pieces, "")
	if len(pieces) > 1 {
		check(joined, "")
	}
	if reverse {
		check(reversed(joined), ", reversed")
	}
	if lower {
		// Only dunders: lower-casing benign upper-case text ("SYSTEM")
		// yields ordinary words.
		if name, _ := assembled(strings.ToLower(joined), pieces, dangerDunders); name != "" {
			add(classDunder, name+" assembled from string pieces, lower-cased", tg.start)
		}
	}
	for _, r := range replaces {
		if r[0] != "" && len(r[1]) <= 16 {
			check(strings.ReplaceAll(joined, r[0], r[1]), ", with replace")
		}
	}
	if pc && format && len(codes) > 0 {
		add(classSuspicious, "%c formatting builds characters from numbers", tg.start)
		if slices.Contains(codes, '_') {
			// Nothing but a dunder name needs an underscore spelled as 95.
			add(classDunder, "underscore built from a character code", tg.start)
		}
		check(string(codes), " from character codes")
	}
	return inds, all, owners
}

// attrFilter grades the attr filter at toks[i] by its argument.
func attrFilter(toks []token, i, ti int, inds []indicator) []indicator {
	pos := toks[i].pos
	var arg *token
	if i+2 < len(toks) && toks[i+1].isOp("(") && toks[i+2].kind == tkString {
		arg = &toks[i+2]
	}
	switch {
	case arg == nil:
		return append(inds, indicator{classSuspicious, "attr filter with a computed name", ti, pos})
	case dunderIn(arg.text) != "":
		return append(inds, indicator{classDunder, "attr filter fetching " + scan.Quote(dunderIn(arg.text), 40), ti, pos})
	case attrExec[arg.text]:
		return append(inds, indicator{classExec, "attr filter fetching " + scan.Quote(arg.text, 40), ti, pos})
	}
	return append(inds, indicator{classSuspicious, "attr filter fetching " + scan.Quote(arg.text, 40), ti, pos})
}

// repeatCount recognises "* N" after (or "N *" before) a string literal.
func repeatCount(op, num token) (int, bool) {
	if !op.isOp("*") || num.kind != tkNumber {
		return 0, false
	}
	n, err := strconv.Atoi(num.text)
	if err != nil || n < 0 || n > 64 {
		return 0, false
	}
	return n, true
}

func reversed(s string) string {
	r := []rune(s)
	slices.Reverse(r)
	return string(r)
}

// assembled returns the first target that s contains but no single piece
// does, and where it starts in s.
func assembled(s string, pieces []string, targets []string) (string, int) {
	for _, w := range targets {
		i := strings.Index(s, w)
		if i < 0 {
			continue
		}
		inPiece := false
		for _, p := range pieces {
			if strings.Contains(p, w) {
				inPiece = true
				break
			}
		}
		if !inPiece {
			return w, i
		}
	}
	return "", -1
}

// isDunder reports whether s is a double-underscore name like __class__.
func isDunder(s string) bool {
	if len(s) < 5 || !strings.HasPrefix(s, "__") || !strings.HasSuffix(s, "__") {
		return false
	}
	core := s[2 : len(s)-2]
	if strings.Trim(core, "_") == "" {
		return false
	}
	for i := 0; i < len(core); i++ {
		c := core[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// dunderIn returns the dunder name s is, or a dangerous one it contains.
func dunderIn(s string) string {
	if t := strings.TrimSpace(s); isDunder(t) {
		return t
	}
	for _, d := range dangerDunders {
		if strings.Contains(s, d) {
			return d
		}
	}
	return ""
}

// grade turns indicators into a verdict.
func grade(src string, tags []tag, inds []indicator) verdict {
	if len(inds) == 0 {
		return verdict{}
	}
	var dunder, exec, execLit, susp bool
	score := make([]int, len(tags))
	for _, in := range inds {
		switch in.class {
		case classDunder:
			dunder = true
			score[in.tag] |= 4
		case classExec:
			exec = true
			score[in.tag] |= 2
		case classExecLit:
			execLit = true
			score[in.tag] |= 1
		case classSuspicious:
			susp = true
			score[in.tag] |= 1
		}
	}
	var v verdict
	switch {
	case dunder && (exec || execLit):
		v.severity, v.summary = scan.SeverityCritical, "walks Python object internals to code execution when rendered"
	case dunder:
		v.severity, v.summary = scan.SeverityHigh, "walks Python object internals (server-side template injection)"
	case exec || susp:
		v.severity, v.summary = scan.SeverityMedium, "uses constructs that template-injection payloads rely on"
	default:
		return verdict{} // execution words in plain strings only
	}
	best := 0
	for ti, s := range score {
		if s > score[best] {
			best = ti
		}
	}
	slices.SortStableFunc(inds, func(a, b indicator) int { return int(b.class) - int(a.class) })
	focus := tags[best].start
	for _, in := range inds {
		if in.tag == best {
			focus = in.pos
			break
		}
	}
	seen := map[string]bool{}
	for _, in := range inds {
		if in.class == classExecLit && v.severity != scan.SeverityCritical {
			continue
		}
		if !seen[in.desc] {
			seen[in.desc] = true
			v.reasons = append(v.reasons, in.desc)
		}
	}
	v.snippet, v.at = snippet(src, tags[best], focus)
	return v
}

// maxSnippet bounds the evidence taken from a template.
const maxSnippet = 240

// snippet renders tag (around focus when it is long) for a report.
func snippet(src string, tg tag, focus int) (string, int) {
	start, end := tg.start, min(tg.end, len(src))
	prefix, suffix := "", ""
	if end-start > maxSnippet {
		s := max(start, min(focus, end)-maxSnippet/3)
		e := min(end, s+maxSnippet)
		if s > start {
			prefix = "..."
		}
		if e < end {
			suffix = "..."
		}
		start, end = s, e
	}
	for start < end && !utf8.RuneStart(src[start]) {
		start++
	}
	for end < len(src) && end > start && !utf8.RuneStart(src[end]) {
		end--
	}
	return prefix + sanitize(src[start:end]) + suffix, start
}

// sanitize escapes control, bidirectional-override and invalid bytes so
// that evidence cannot drive a terminal or hide text.
func sanitize(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029':
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Lexer.

type tokKind uint8

const (
	tkNone tokKind = iota
	tkName
	tkString
	tkNumber
	tkOp
)

// token is one lexical token of a tag. For strings, text is the decoded
// value.
type token struct {
	kind    tokKind
	text    string
	pos     int  // byte offset in the template
	escaped bool // a string spelled printable ASCII with \x, \u, \U, octal or \N escapes
}

func (t token) isOp(s string) bool   { return t.kind == tkOp && t.text == s }
func (t token) isName(s string) bool { return t.kind == tkName && t.text == s }

// tag is one {{ }} or {% %} block.
type tag struct {
	start, end int // byte range, delimiters included
	stmt       bool
	toks       []token
}

var endRaw = regexp.MustCompile(`\{%[-+]?\s*endraw\s*[-+]?%\}`)

// lexer splits a template into tags and tokens within a token budget.
type lexer struct {
	src       string
	budget    int  // tokens left
	truncated bool // the budget ran out
}

// template splits the source into its tags, skipping comments and raw
// blocks.
func (lx *lexer) template() []tag {
	src := lx.src
	var tags []tag
	for i := 0; i < len(src) && !lx.truncated; {
		j := strings.IndexByte(src[i:], '{')
		if j < 0 || i+j+1 >= len(src) {
			break
		}
		j += i
		switch src[j+1] {
		case '#':
			k := strings.Index(src[j+2:], "#}")
			if k < 0 {
				return tags
			}
			i = j + 2 + k + 2
		case '{', '%':
			stmt := src[j+1] == '%'
			closer := "}}"
			if stmt {
				closer = "%}"
			}
			toks, end := lx.tag(j+2, closer)
			if stmt && len(toks) > 0 && firstName(toks) == "raw" {
				loc := endRaw.FindStringIndex(src[end:])
				if loc == nil {
					return tags
				}
				i = end + loc[1]
				continue
			}
			tags = append(tags, tag{start: j, end: end, stmt: stmt, toks: toks})
			i = end
		default:
			i = j + 1
		}
	}
	return tags
}

func firstName(toks []token) string {
	for _, t := range toks {
		if t.kind == tkName {
			return t.text
		}
	}
	return ""
}

// twoCharOps are Jinja's two-character operators.
var twoCharOps = set("**", "//", "==", "!=", "<=", ">=")

// tag tokenises from i to the closer at bracket depth zero and returns the
// tokens and the offset after the closer (len(src) when unclosed or when
// the token budget runs out).
func (lx *lexer) tag(i int, closer string) ([]token, int) {
	src := lx.src
	var toks []token
	depth := 0
	for i < len(src) {
		if lx.budget == 0 {
			lx.truncated = true
			return toks, len(src)
		}
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case depth == 0 && strings.HasPrefix(src[i:], closer):
			return toks, i + len(closer)
		}
		lx.budget--
		switch {
		case c == '\'' || c == '"':
			t, n := lexString(src, i)
			toks = append(toks, t)
			i = n
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(src) && (isAlnum(src[j]) || src[j] == '_' || src[j] == '.' && j+1 < len(src) && src[j+1] >= '0' && src[j+1] <= '9') {
				j++
			}
			toks = append(toks, token{kind: tkNumber, text: src[i:j], pos: i})
			i = j
		default:
			r, size := utf8.DecodeRuneInString(src[i:])
			if r == '_' || unicode.IsLetter(r) {
				j := i + size
				for j < len(src) {
					r2, s2 := utf8.DecodeRuneInString(src[j:])
					if r2 != '_' && !unicode.IsLetter(r2) && !unicode.IsDigit(r2) {
						break
					}
					j += s2
				}
				toks = append(toks, token{kind: tkName, text: src[i:j], pos: i})
				i = j
				continue
			}
			if i+1 < len(src) && twoCharOps[src[i:i+2]] {
				size = 2
			}
			op := src[i : i+size]
			switch op {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				if depth > 0 {
					depth--
				}
			}
			toks = append(toks, token{kind: tkOp, text: op, pos: i})
			i += size
		}
	}
	return toks, len(src)
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// namedEscapes decodes the \N{...} names worth knowing; others stay as
// written (and mark the string as escaped all the same).
var namedEscapes = map[string]rune{"LOW LINE": '_', "FULL STOP": '.', "LEFT SQUARE BRACKET": '[', "RIGHT SQUARE BRACKET": ']'}

// lexString reads the string literal at src[i] and decodes its escapes as
// Jinja does (Python unicode-escape). It returns the token and the offset
// after the closing quote.
func lexString(src string, i int) (token, int) {
	q := src[i]
	j := i + 1
	k := j
	for k < len(src) && src[k] != q && src[k] != '\\' {
		k++
	}
	if k >= len(src) {
		return token{kind: tkString, text: src[j:], pos: i}, len(src)
	}
	if src[k] == q {
		return token{kind: tkString, text: src[j:k], pos: i}, k + 1
	}
	var b strings.Builder
	b.WriteString(src[j:k])
	escaped := false
	emit := func(r rune) {
		if r > 0x20 && r < 0x7f {
			escaped = true
		}
		b.WriteRune(r)
	}
	for k < len(src) {
		c := src[k]
		if c == q {
			return token{kind: tkString, text: b.String(), pos: i, escaped: escaped}, k + 1
		}
		if c != '\\' || k+1 >= len(src) {
			b.WriteByte(c)
			k++
			continue
		}
		e := src[k+1]
		k += 2
		switch e {
		case '\\', '\'', '"':
			b.WriteByte(e)
		case '\n':
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte(8)
		case 'f':
			b.WriteByte(12)
		case 'v':
			b.WriteByte(11)
		case 'x', 'u', 'U':
			n := 2
			switch e {
			case 'u':
				n = 4
			case 'U':
				n = 8
			}
			if k+n <= len(src) {
				if v, err := strconv.ParseUint(src[k:k+n], 16, 32); err == nil && v <= unicode.MaxRune {
					emit(rune(v))
					k += n
					continue
				}
			}
			b.WriteByte('\\')
			b.WriteByte(e)
		case '0', '1', '2', '3', '4', '5', '6', '7':
			end := k - 1
			for end < len(src) && end < k+2 && src[end] >= '0' && src[end] <= '7' {
				end++
			}
			v, _ := strconv.ParseUint(src[k-1:end], 8, 32)
			emit(rune(v))
			k = end
		case 'N':
			escaped = true
			if k < len(src) && src[k] == '{' {
				if close := strings.IndexByte(src[k:], '}'); close > 0 {
					if r, ok := namedEscapes[strings.ToUpper(src[k+1:k+close])]; ok {
						b.WriteRune(r)
						k += close + 1
						continue
					}
				}
			}
			b.WriteString(`\N`)
		default:
			b.WriteByte('\\')
			b.WriteByte(e)
		}
	}
	return token{kind: tkString, text: b.String(), pos: i, escaped: escaped}, len(src)
}
