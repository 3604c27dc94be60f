package secrets

import (
	"bytes"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	ahocorasick "github.com/BobuSumisu/aho-corasick"
	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/zricethezav/gitleaks/v8/config"
)

// Match priorities: when rules match overlapping secrets on one line, the
// highest priority wins, so one secret is one finding.
const (
	prioGeneric  = 1 // gitleaks' generic-api-key and other generic-* rules
	prioGitleaks = 2 // specific gitleaks rules and user rules
	prioPalisade = 3 // Palisade's own rules
)

// Private-key body bounds: a pending key block is judged after this many
// lines or body bytes, whichever comes first.
const (
	maxKeyLines = 200
	maxKeyBody  = 16 << 10
	minKeyBody  = 64 // base64 characters a real key has at least
	saWindow    = 40 // lines after "service_account" within which a key is a GCP key file
)

// rule is one compiled detector.
type rule struct {
	meta     scan.Rule
	source   string // gitleaks rule ID; "" for Palisade rules
	kind     string // what the secret is, for messages
	re       *regexp.Regexp
	group    int
	entropy  float64
	keywords []string
	path     *regexp.Regexp // gitleaks path condition
	allow    []*config.Allowlist
	global   []*config.Allowlist // global allowlists that apply to this rule
	check    func(secret, line, lower []byte) bool
	url      bool
	palisade bool
	generic  bool
	// minRun, when set, is a sound prefilter for gitleaks' default
	// generic-api-key rule: a reported secret is a run of at least minRun
	// token characters holding a digit, '=', '+' or '/' (its letters-only
	// allowlist rejects the rest, and its entropy floor sets the length).
	minRun   int
	needs    []need // literal and class-run conditions every match meets
	priority int
	skip     bool // gitleaks skipReport: matched but never reported
	index    int
}

// target is what a keyword triggers.
type target struct {
	rules []int
	begin bool // a private key BEGIN marker may be on the line
	sa    bool // a GCP service-account marker may be on the line
}

// matcher holds every compiled rule and the keyword automaton. It is
// immutable after construction and shared by concurrent scans.
type matcher struct {
	rules    []*rule
	trie     *ahocorasick.Trie
	targets  []target
	always   []int // rules without keywords: run on every line
	pathOnly []int // gitleaks rules with a path and no regex
	keyRule  *rule // SEC002
	saRule   *rule // SEC110
	maxLine  int
}

// newMatcher compiles the effective gitleaks rules and Palisade's rules.
func newMatcher(rs *ruleSet, maxLine int) (*matcher, error) {
	m := &matcher{maxLine: maxLine}
	defaultGlobal := append(append([]*config.Allowlist(nil), rs.defaultAllw...), rs.userAllow...)
	var keyAllow []*config.Allowlist
	for _, gr := range rs.rules {
		if gr.RuleID == "private-key" {
			// Multi-line: replaced by the streaming detector (SEC002),
			// which keeps the rule's allowlists.
			keyAllow = gr.Allowlists
			continue
		}
		r := &rule{
			meta: RuleGitleaks, source: gr.RuleID, kind: strings.TrimSpace(gr.Description),
			re: gr.Regex, group: gr.SecretGroup, entropy: gr.Entropy, keywords: gr.Keywords,
			path: gr.Path, allow: gr.Allowlists, global: defaultGlobal, priority: prioGitleaks,
			skip: gr.SkipReport,
		}
		if !rs.defaultIDs[gr.RuleID] {
			r.meta = RuleCustom
		}
		if strings.HasPrefix(gr.RuleID, "generic") {
			r.generic, r.priority = true, prioGeneric
		}
		if gr.Regex != nil && gr.Regex.String() == rs.genericRegex && hasLettersOnlyAllowlist(gr.Allowlists) {
			r.minRun = max(10, int(math.Floor(math.Exp2(gr.Entropy)))+1)
		}
		if r.kind == "" {
			r.kind = "secret"
		}
		m.rules = append(m.rules, r)
	}
	for _, mr := range mlRules {
		re, err := regexp.Compile(mr.re)
		if err != nil {
			return nil, fmt.Errorf("compile %s: %w", mr.meta.ID, err)
		}
		m.rules = append(m.rules, &rule{
			meta: mr.meta, kind: mr.kind, re: re, group: mr.group, entropy: mr.entropy,
			keywords: mr.keywords, check: mr.check, url: mr.url, palisade: true,
			priority: prioPalisade, global: rs.userAllow,
		})
	}
	m.keyRule = &rule{meta: RulePrivateKey, kind: "private key", palisade: true, priority: prioPalisade,
		allow: keyAllow, global: defaultGlobal}
	m.saRule = &rule{meta: RuleGCPServiceAccount, kind: "GCP service-account private key", palisade: true,
		priority: prioPalisade, allow: keyAllow, global: defaultGlobal}

	// One automaton over every keyword, lower-cased; each pattern maps to
	// the rules (and special detectors) it triggers.
	index := map[string]int{}
	var patterns []string
	addKeyword := func(k string) *target {
		k = strings.ToLower(k)
		i, ok := index[k]
		if !ok {
			i = len(patterns)
			index[k] = i
			patterns = append(patterns, k)
			m.targets = append(m.targets, target{})
		}
		return &m.targets[i]
	}
	for i, r := range m.rules {
		r.index = i
		if r.re != nil {
			r.needs = needsOf(r.re.String())
		}
		switch {
		case r.re == nil && r.path != nil:
			m.pathOnly = append(m.pathOnly, i)
		case r.re == nil:
		case len(r.keywords) == 0:
			m.always = append(m.always, i)
		default:
			for _, k := range r.keywords {
				t := addKeyword(k)
				if !slices.Contains(t.rules, i) {
					t.rules = append(t.rules, i)
				}
			}
		}
	}
	addKeyword("-----begin").begin = true
	addKeyword("service_account").sa = true
	m.trie = ahocorasick.NewTrieBuilder().AddStrings(patterns).Build()
	return m, nil
}

// hit is one accepted match, before it becomes a finding.
type hit struct {
	rule   *rule
	line   int   // 1-based line in the stream
	offset int64 // byte offset of the secret in the object, or -1
	secret string
}

// kwHit is one keyword occurrence: the index of its last byte in the
// block and the pattern number.
type kwHit struct {
	end, pat int32
}

// pendingKey is a private key block whose body is still being read.
type pendingKey struct {
	line   int
	offset int64
	sa     bool
	body   []byte
	lines  int
}

// lineScanner runs the matcher over one object's lines. It is used by one
// goroutine; state carries across blocks of the same stream.
type lineScanner struct {
	m        *matcher
	path     string
	skip     []bool // rules not run on this path (allowlisted or path-restricted)
	lower    []byte
	kw       []kwHit
	seen     []uint32
	gen      uint32
	cands    []int
	lineHits []hit
	key      *pendingKey
	saLine   int
	out      []hit
	base     int64 // object offset of the current block, or -1 when offsets are unknown
}

// newLineScanner prepares a scan of the object at path (used for
// gitleaks' path rules and allowlists; "" when unknown).
func newLineScanner(m *matcher, path string) *lineScanner {
	ls := &lineScanner{m: m, path: path, skip: make([]bool, len(m.rules)), seen: make([]uint32, len(m.rules)), gen: 1}
	if path == "" {
		return ls
	}
	cache := map[*config.Allowlist]bool{}
	pathAllowed := func(as []*config.Allowlist) bool {
		for _, a := range as {
			v, ok := cache[a]
			if !ok {
				v = objectAllowed(a, path)
				cache[a] = v
			}
			if v {
				return true
			}
		}
		return false
	}
	for i, r := range m.rules {
		ls.skip[i] = pathAllowed(r.global) || pathAllowed(r.allow) || (r.path != nil && !r.path.MatchString(path))
	}
	return ls
}

// objectAllowed reports whether allowlist a excludes the whole object at
// path, as gitleaks decides before matching: an OR list by its paths, an
// AND list by its paths when it has no content conditions (commits never
// match outside git history).
func objectAllowed(a *config.Allowlist, path string) bool {
	if a.MatchCondition == config.AllowlistMatchAnd {
		if len(a.Regexes) > 0 || len(a.StopWords) > 0 || len(a.Commits) > 0 || len(a.Paths) == 0 {
			return false
		}
	}
	return a.PathAllowed(path)
}

// pathHits reports gitleaks' path-only rules that match the object.
func (ls *lineScanner) pathHits() {
	for _, i := range ls.m.pathOnly {
		if !ls.skip[i] {
			ls.out = append(ls.out, hit{rule: ls.m.rules[i], line: 0, offset: -1})
		}
	}
}

// reset prepares the scanner for a new stream (a notebook string).
func (ls *lineScanner) reset() {
	ls.key = nil
	ls.saLine = 0
	ls.out = ls.out[:0]
}

// lowerASCII is the ASCII lower-case table used for keyword matching.
var lowerASCII = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
		if i >= 'A' && i <= 'Z' {
			t[i] = byte(i) + 'a' - 'A'
		}
	}
	return t
}()

// block scans b, which holds whole lines (the last may lack its newline),
// the first of them numbered first.
func (ls *lineScanner) block(b []byte, first int) {
	m := ls.m
	if cap(ls.lower) < len(b) {
		ls.lower = make([]byte, len(b))
	}
	lower := ls.lower[:len(b)]
	for i, c := range b {
		lower[i] = lowerASCII[c]
	}
	ls.kw = ls.kw[:0]
	m.trie.Walk(lower, func(end, _, pat int64) bool {
		ls.kw = append(ls.kw, kwHit{int32(end), int32(pat)})
		return true
	})
	everyLine := len(m.always) > 0
	k, pos, line := 0, 0, first
	for pos < len(b) {
		if ls.key == nil && !everyLine {
			if k >= len(ls.kw) {
				return
			}
			// Jump to the line holding the next keyword.
			at := int(ls.kw[k].end)
			if nl := bytes.LastIndexByte(b[pos:at], '\n'); nl >= 0 {
				line += bytes.Count(b[pos:pos+nl+1], []byte{'\n'})
				pos += nl + 1
			}
		}
		end := bytes.IndexByte(b[pos:], '\n')
		if end < 0 {
			end = len(b)
		} else {
			end += pos
		}
		ls.cands = ls.cands[:0]
		begin, sa := false, false
		for k < len(ls.kw) && int(ls.kw[k].end) < end {
			t := &m.targets[ls.kw[k].pat]
			for _, ri := range t.rules {
				if ls.seen[ri] != ls.gen {
					ls.seen[ri] = ls.gen
					ls.cands = append(ls.cands, ri)
				}
			}
			begin = begin || t.begin
			sa = sa || t.sa
			k++
		}
		ls.gen++
		ls.cands = append(ls.cands, m.always...)
		ls.doLine(b[pos:end], lower[pos:end], line, pos, begin, sa)
		pos = end + 1
		line++
	}
}

// doLine runs the candidate rules on one line.
func (ls *lineScanner) doLine(line, lower []byte, n, pos int, begin, sa bool) {
	if len(line) > ls.m.maxLine {
		line, lower = line[:ls.m.maxLine], lower[:ls.m.maxLine]
	}
	if sa {
		ls.saLine = n
	}
	beginAt := -1
	if begin {
		if loc := reKeyBegin.FindIndex(line); loc != nil {
			beginAt = loc[0]
		}
	}
	if ls.key != nil {
		upto := len(line)
		if beginAt >= 0 {
			upto = beginAt
		}
		ls.feedKey(line[:upto], lower[:upto])
	}
	if beginAt >= 0 {
		ls.finishKey()
		loc := reKeyBegin.FindIndex(line[beginAt:])
		ls.key = &pendingKey{line: n, offset: ls.offset(pos + beginAt),
			sa: (ls.saLine > 0 && n-ls.saLine <= saWindow) || bytes.Contains(lower, []byte("gserviceaccount"))}
		rest := beginAt + loc[1]
		ls.feedKey(line[rest:], lower[rest:])
	}
	ls.lineHits = ls.lineHits[:0]
	for _, ri := range ls.cands {
		if !ls.skip[ri] {
			ls.runRule(ls.m.rules[ri], line, lower, n, pos)
		}
	}
	if len(ls.lineHits) == 0 {
		return
	}
	// One secret, one finding: keep the highest-priority match of each
	// overlapping group.
	slices.SortStableFunc(ls.lineHits, func(a, b hit) int {
		if a.rule.priority != b.rule.priority {
			return b.rule.priority - a.rule.priority
		}
		return a.rule.index - b.rule.index
	})
	kept := ls.lineHits[:0]
	for _, h := range ls.lineHits {
		overlaps := false
		for _, k := range kept {
			if h.offset < k.offset+int64(len(k.secret)) && k.offset < h.offset+int64(len(h.secret)) {
				overlaps = true
				break
			}
		}
		if !overlaps {
			kept = append(kept, h)
		}
	}
	for _, h := range kept {
		if !h.rule.skip {
			if ls.base < 0 {
				h.offset = -1
			}
			ls.out = append(ls.out, h)
		}
	}
}

// offset returns the object offset of position pos in the current block.
// When offsets are unknown (notebook strings) it still returns a
// position, used only to compare matches on one line.
func (ls *lineScanner) offset(pos int) int64 {
	if ls.base < 0 {
		return int64(pos)
	}
	return ls.base + int64(pos)
}

// runRule runs one rule's expression on a line and keeps the matches
// that pass the entropy, example, placeholder and allowlist checks.
func (ls *lineScanner) runRule(r *rule, line, lower []byte, n, pos int) {
	if r.minRun > 0 && !hasTokenRun(line, r.minRun) {
		return
	}
	for i := range r.needs {
		if !r.needs[i].met(line, lower) {
			return
		}
	}
	for _, loc := range r.re.FindAllSubmatchIndex(line, -1) {
		s, e := secretSpan(loc, r.group)
		if s < 0 || e <= s {
			continue
		}
		secret := line[s:e]
		if r.entropy > 0 && entropy(secret) <= r.entropy {
			continue
		}
		match := line[loc[0]:loc[1]]
		if isKnownExample(match) {
			continue
		}
		if r.palisade {
			if r.url {
				if urlPlaceholder(secret, line[:s]) {
					continue
				}
			} else if isPlaceholder(secret) {
				continue
			}
		}
		if r.generic && genericLookalike(secret, lower) {
			continue
		}
		if r.check != nil && !r.check(secret, line, lower) {
			continue
		}
		if bytes.Contains(line, []byte("gitleaks:allow")) {
			continue
		}
		if ls.allowed(r, secret, match, line) {
			continue
		}
		ls.lineHits = append(ls.lineHits, hit{rule: r, line: n, offset: ls.offset(pos + s), secret: string(secret)})
	}
}

// secretSpan returns the secret's bounds in a submatch index: the given
// capture group, or (group 0) the first non-empty group, or the whole
// match when the expression has no groups.
func secretSpan(loc []int, group int) (int, int) {
	if group > 0 {
		if 2*group+1 < len(loc) {
			return loc[2*group], loc[2*group+1]
		}
		return -1, -1
	}
	for g := 1; 2*g+1 < len(loc); g++ {
		if loc[2*g] >= 0 && loc[2*g+1] > loc[2*g] {
			return loc[2*g], loc[2*g+1]
		}
	}
	return loc[0], loc[1]
}

// allowed applies the global and the rule's allowlists to a match, as
// gitleaks does: the regexes test the secret, the match or the line
// (regexTarget), stop words the secret; an AND list needs every condition
// it sets, its paths included.
func (ls *lineScanner) allowed(r *rule, secret, match, line []byte) bool {
	return ls.allowedBy(r.global, secret, match, line) || ls.allowedBy(r.allow, secret, match, line)
}

func (ls *lineScanner) allowedBy(as []*config.Allowlist, secret, match, line []byte) bool {
	for _, a := range as {
		target := secret
		switch a.RegexTarget {
		case "match":
			target = match
		case "line":
			target = line
		}
		regexOK := len(a.Regexes) > 0 && a.RegexAllowed(string(target))
		stopOK := false
		if len(a.StopWords) > 0 {
			stopOK, _ = a.ContainsStopWord(string(secret))
		}
		if a.MatchCondition != config.AllowlistMatchAnd {
			if regexOK || stopOK {
				return true
			}
			continue
		}
		ok := true
		if len(a.Commits) > 0 {
			ok = false // never in a commit outside git history
		}
		if len(a.Paths) > 0 && !a.PathAllowed(ls.path) {
			ok = false
		}
		if len(a.Regexes) > 0 && !regexOK {
			ok = false
		}
		if len(a.StopWords) > 0 && !stopOK {
			ok = false
		}
		if ok {
			return true
		}
	}
	return false
}

// feedKey adds a line of a pending private key block: its base64
// characters (escaped newlines of a JSON string skipped) up to an END
// marker, which completes the block.
func (ls *lineScanner) feedKey(seg, lower []byte) {
	k := ls.key
	if k == nil {
		return
	}
	k.lines++
	done := false
	if i := bytes.Index(lower, []byte("-----end")); i >= 0 {
		seg, done = seg[:i], true
	}
	for i := 0; i < len(seg) && len(k.body) < maxKeyBody; i++ {
		c := seg[i]
		switch {
		case c == '\\' && i+1 < len(seg) && (seg[i+1] == 'n' || seg[i+1] == 'r'):
			i++
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/', c == '=':
			k.body = append(k.body, c)
		}
	}
	if done || k.lines >= maxKeyLines || len(k.body) >= maxKeyBody {
		ls.finishKey()
	}
}

// finishKey judges a pending key block and reports it when it holds key
// material.
func (ls *lineScanner) finishKey() {
	k := ls.key
	if k == nil {
		return
	}
	ls.key = nil
	if len(k.body) < minKeyBody || entropy(k.body) <= 3.5 || isPlaceholder(k.body) {
		return
	}
	r := ls.m.keyRule
	if k.sa {
		r = ls.m.saRule
	}
	if ls.allowed(r, k.body, k.body, k.body) {
		return
	}
	off := k.offset
	if ls.base < 0 {
		off = -1
	}
	ls.out = append(ls.out, hit{rule: r, line: k.line, offset: off, secret: string(k.body)})
}

// entropy is the Shannon entropy of b in bits per byte.
func entropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	n := float64(len(b))
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// isKnownExample reports whether a match holds a published example
// credential.
func isKnownExample(match []byte) bool {
	for _, ex := range knownExamples {
		if bytes.Contains(match, []byte(ex)) {
			return true
		}
	}
	return false
}

// placeholderMarks are substrings of templated or elided values.
var placeholderMarks = []string{"xxxx", "****", "....", "your", "<", ">", "${", "{{", "%(", "placeholder", "changeme", "redacted", "insert"}

// isPlaceholder reports whether a token-shaped secret is a placeholder:
// a template marker, an elision, or one character repeated.
func isPlaceholder(secret []byte) bool {
	l := strings.ToLower(string(secret))
	for _, p := range placeholderMarks {
		if strings.Contains(l, p) {
			return true
		}
	}
	distinct := map[byte]bool{}
	for i := 0; i < len(secret) && len(distinct) < 4; i++ {
		distinct[secret[i]] = true
	}
	return len(distinct) < 4
}

// urlPlaceholder reports whether a URL password is an example: a word
// such as "password", a template, a variable, or the user name repeated
// (the default credentials of a local container). before is the line up
// to the password, whose end is "user:".
func urlPlaceholder(secret, before []byte) bool {
	l := strings.ToLower(string(secret))
	if urlPlaceholders[l] || isPlaceholderURLPart(l) {
		return true
	}
	if i := bytes.LastIndexAny(before, "/@"); i >= 0 {
		user := strings.TrimSuffix(string(before[i+1:]), ":")
		if strings.EqualFold(user, l) {
			return true
		}
	}
	return false
}

func isPlaceholderURLPart(l string) bool {
	if l == "" || strings.HasPrefix(l, "$") || strings.HasPrefix(l, "%") || strings.HasPrefix(l, "{") {
		return true
	}
	for _, p := range placeholderMarks {
		if strings.Contains(l, p) {
			return true
		}
	}
	return strings.Trim(l, "*x.-_") == ""
}

// Hash and identifier shapes the generic rule mistakes for keys.
var (
	reHexDigest = regexp.MustCompile(`^(?:[a-fA-F0-9]{32}|[a-fA-F0-9]{40}|[a-fA-F0-9]{64}|[a-fA-F0-9]{128})$`)
	reUUID      = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	hashWords   = []string{"sha", "hash", "digest", "checksum", "md5", "etag", "commit", "revision", "fingerprint"}
)

// genericLookalike reports a generic-rule match that is a digest on a
// line about hashing, or a UUID (an identifier, not a key).
func genericLookalike(secret, lower []byte) bool {
	if reUUID.Match(secret) {
		return true
	}
	if !reHexDigest.Match(secret) {
		return false
	}
	for _, w := range hashWords {
		if bytes.Contains(lower, []byte(w)) {
			return true
		}
	}
	return false
}

// lettersOnly is the allowlist regex of gitleaks' generic rule that drops
// secrets made of letters, '_', '.' and '-' only.
const lettersOnly = `^[a-zA-Z_.-]+$`

// hasLettersOnlyAllowlist reports whether one of as drops letters-only
// secrets (an OR list testing the secret).
func hasLettersOnlyAllowlist(as []*config.Allowlist) bool {
	for _, a := range as {
		if a.MatchCondition != config.AllowlistMatchOr || a.RegexTarget != "" {
			continue
		}
		for _, re := range a.Regexes {
			if re.String() == lettersOnly {
				return true
			}
		}
	}
	return false
}

// tokenClass marks the characters of the generic rule's secret classes
// ([\w.=-] and [a-z0-9+/=]): 1 for letters and '_', '.', '-'; 2 for
// digits, '=', '+' and '/'.
var tokenClass = func() (t [256]uint8) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = 1, 1
	}
	for _, c := range "_.-" {
		t[c] = 1
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = 2
	}
	for _, c := range "=+/" {
		t[c] = 2
	}
	return t
}()

// Characters that may come right before and right after the generic
// rule's secret: the end of its assignment operator or quote, and its
// terminator.
var (
	beforeSecret = charSet("=>:|,`'\" \t\n\f\r")
	afterSecret  = charSet("`'\" \t\n\f\r;\\")
)

func charSet(s string) (t [256]bool) {
	for i := 0; i < len(s); i++ {
		t[s[i]] = true
	}
	return t
}

// hasTokenRun reports whether line may hold a secret the generic rule
// reports. Its secret is made of token characters and followed by a
// terminator that is not one, so it ends where a maximal run of token
// characters ends; it starts after an operator or quote, so at the run's
// start or after an '=' inside it; it is at least n characters long and
// holds a digit, '=', '+' or '/'. Lines with no such run are skipped
// without running the expression.
func hasTokenRun(line []byte, n int) bool {
	for i := 0; i < len(line); {
		if tokenClass[line[i]] == 0 {
			i++
			continue
		}
		// A maximal run line[i:j]; first is the earliest place a secret
		// may start in it, lastMixed the last digit, '=', '+' or '/'.
		first, lastMixed := -1, -1
		if i > 0 && beforeSecret[line[i-1]] {
			first = i
		}
		j := i
		for ; j < len(line) && tokenClass[line[j]] != 0; j++ {
			if tokenClass[line[j]] == 2 {
				lastMixed = j
			}
			if line[j] == '=' && first < 0 {
				first = j + 1
			}
		}
		if (j == len(line) || afterSecret[line[j]]) && first >= 0 && j-first >= n && lastMixed >= first {
			return true
		}
		i = j
	}
	return false
}
