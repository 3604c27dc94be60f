package gguf

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file finds names assembled at render time. The token patterns in
// template.go see pieces that are joined or transformed in place; payloads
// also build a dunder name from values Jinja computes: characters indexed
// or sliced out of strings or out of an object's text ((lipsum|string)[18]),
// %-formatting, dict keys (dict(_=1)|first), and values carried between
// tags by {% set %} and namespace() attributes. The evaluator below folds
// the constant part of every expression, left to right across tags, and
// reports a derived string that spells a dunder name. Everything it cannot
// know (messages, loop variables, filters it does not model) is unknown and
// absorbs whatever it touches, so ordinary templates, which index messages
// and slice their content, yield no known strings to report.

// Budgets of the evaluator, on top of the lexer's token budget.
const (
	maxEvalString = 4 << 10  // longest string value tracked; longer is unknown
	maxEvalBytes  = 1 << 20  // bytes of derived strings built per template
	maxEvalItems  = 256      // elements tracked per list, tuple or dict
	maxEvalDepth  = 64       // expression nesting followed
	maxEvalVars   = 4 << 10  // variables and namespace attributes tracked
	wildcard      = '\uFFFF' // a character of an object's text that is not known
)

// how records the operations that built a value.
type how uint16

const (
	hConcat how = 1 << iota
	hRepeat
	hIndex
	hFormat
	hKeys
	hText
	hCarry
	hJoin
	hCase
	hReplace
	hReverse
	hBlock
)

var howNames = []string{"concatenation", "repetition", "indexing or slicing", "%-formatting", "dict keys",
	"an object's text", "set/namespace", "join", "case change", "replace", "reversal", "a {% set %} block"}

func (h how) String() string {
	var parts []string
	for i, n := range howNames {
		if h&(1<<i) != 0 {
			parts = append(parts, n)
		}
	}
	return strings.Join(parts, ", ")
}

// derived reports whether the value was computed rather than written.
func (h how) derived() bool { return h&^hCarry != 0 }

type vkind uint8

const (
	vUnknown vkind = iota
	vStr
	vInt
	vSeq  // tuple or list
	vDict // keys and values
	vNS   // namespace()
	vObj  // a Jinja global or something reached from one
	vFunc // dict or namespace, callable
)

type value struct {
	kind  vkind
	s     string // vStr: the text, wildcard for unknown characters; vObj, vFunc: the name
	n     int    // vInt
	items []value
	vals  []value          // vDict: the value of items[i]
	attrs map[string]value // vNS
	how   how              // vStr: how it was built
	text  string           // vObj: its text as |string renders it
	from  string           // vStr with hText: the object whose text it came from
}

var unknown = value{}

// objectText is how |string renders Jinja's globals; the lipsum address is
// not known.
var objectText = map[string]string{
	"lipsum":    "<function generate_lorem_ipsum at 0x" + strings.Repeat(string(wildcard), 12) + ">",
	"cycler":    "<class 'jinja2.utils.Cycler'>",
	"joiner":    "<class 'jinja2.utils.Joiner'>",
	"namespace": "<class 'jinja2.utils.Namespace'>",
	"range":     "<class 'range'>",
	"dict":      "<class 'dict'>",
}

// evaluator folds constant expressions over the tags of one template.
type evaluator struct {
	src    string
	tags   []tag
	vars   map[string]value
	budget int
	inds   []indicator
	seen   map[string]bool
	ti     int
	toks   []token
	pos    int
	depth  int
}

// assembleNames returns the indicators of names assembled at render time.
func assembleNames(src string, tags []tag) []indicator {
	ev := &evaluator{src: src, tags: tags, vars: map[string]value{}, budget: maxEvalBytes, seen: map[string]bool{}}
	for ti := range tags {
		ev.tag(ti)
	}
	return ev.inds
}

func (ev *evaluator) add(c class, desc string, pos int) {
	key := strconv.Itoa(ev.ti) + "\x00" + desc
	if ev.seen[key] {
		return
	}
	ev.seen[key] = true
	ev.inds = append(ev.inds, indicator{c, desc, ev.ti, pos})
}

func (ev *evaluator) peek() token { return ev.at(ev.pos) }

func (ev *evaluator) at(i int) token {
	if i < 0 || i >= len(ev.toks) {
		return token{}
	}
	return ev.toks[i]
}

func (ev *evaluator) eatOp(s string) bool {
	if ev.peek().isOp(s) {
		ev.pos++
		return true
	}
	return false
}

func (ev *evaluator) eatName(s string) bool {
	if ev.peek().isName(s) {
		ev.pos++
		return true
	}
	return false
}

// str makes a derived string value, or unknown past the budgets, and
// reports it when it spells a dunder name.
func (ev *evaluator) str(s string, h how, from string, pos int) value {
	if len(s) > maxEvalString || !ev.charge(len(s)) {
		return unknown
	}
	v := value{kind: vStr, s: s, how: h, from: from}
	if h.derived() {
		if d := dunderIn(strings.ReplaceAll(s, string(wildcard), "_")); d != "" {
			ev.add(classDunder, d+" built at render time by "+h.String(), pos)
		}
	}
	return v
}

// charge takes n bytes of work from the budget, reporting whether there
// were enough.
func (ev *evaluator) charge(n int) bool {
	if ev.budget < n {
		return false
	}
	ev.budget -= n
	return true
}

// tag evaluates the expressions of tag ti and applies its assignments.
func (ev *evaluator) tag(ti int) {
	ev.ti, ev.toks, ev.pos = ti, ev.tags[ti].toks, 0
	if ev.peek().isOp("-") || ev.peek().isOp("+") {
		ev.pos++
	}
	if ev.tags[ti].stmt {
		switch kw := ev.peek(); {
		case kw.isName("set"):
			ev.pos++
			ev.set()
		case kw.isName("for"):
			ev.pos++
			ev.forStmt()
		case kw.isName("with"):
			ev.pos++
			ev.with()
		case kw.isName("macro"):
			ev.pos++
			ev.macro()
		case kw.kind == tkName && !kw.isName("not"):
			ev.pos++ // if, elif, print, do, call, filter ...
		}
	}
	for ev.pos < len(ev.toks) {
		p := ev.pos
		ev.expr()
		if ev.pos == p {
			ev.pos++
		}
	}
}

// assign binds name (or name.attr) to v.
func (ev *evaluator) assign(name, attr string, v value) {
	if attr != "" {
		ns, ok := ev.vars[name]
		if ok && ns.kind == vNS && (len(ns.attrs) < maxEvalVars || hasKey(ns.attrs, attr)) {
			ns.attrs[attr] = carried(v)
		}
		return
	}
	if _, ok := ev.vars[name]; !ok {
		if len(ev.vars) >= maxEvalVars {
			return
		}
	}
	if v.kind == vUnknown {
		delete(ev.vars, name)
		return
	}
	ev.vars[name] = carried(v)
}

func hasKey(m map[string]value, k string) bool {
	_, ok := m[k]
	return ok
}

func carried(v value) value {
	if v.kind == vStr {
		v.how |= hCarry
	}
	return v
}

type target struct{ name, attr string }

// targets reads "a", "ns.a" or "a, b" before = or in.
func (ev *evaluator) targets() []target {
	var ts []target
	for {
		ev.eatOp("(")
		t := ev.peek()
		if t.kind != tkName {
			return ts
		}
		ev.pos++
		tg := target{name: t.text}
		if ev.peek().isOp(".") && ev.at(ev.pos+1).kind == tkName {
			tg.attr = ev.at(ev.pos + 1).text
			ev.pos += 2
		}
		ts = append(ts, tg)
		ev.eatOp(")")
		if !ev.eatOp(",") {
			return ts
		}
	}
}

func (ev *evaluator) bind(ts []target, v value) {
	if len(ts) == 1 {
		ev.assign(ts[0].name, ts[0].attr, v)
		return
	}
	for i, t := range ts {
		item := unknown
		if v.kind == vSeq && len(v.items) == len(ts) {
			item = v.items[i]
		}
		ev.assign(t.name, t.attr, item)
	}
}

func (ev *evaluator) set() {
	ts := ev.targets()
	if ev.eatOp("=") {
		ev.bind(ts, ev.expr())
		return
	}
	// {% set x %}text{% endset %} captures the text between the tags.
	if len(ts) != 1 || ts[0].attr != "" {
		return
	}
	v := unknown
	trim := ev.peek().isOp("-")
	if trim || ev.peek().isOp("+") {
		ev.pos++
	}
	if ti := ev.ti; ti+1 < len(ev.tags) && ev.tags[ti+1].stmt && firstName(ev.tags[ti+1].toks) == "endset" && ev.pos >= len(ev.toks) {
		text := ev.src[ev.tags[ti].end:ev.tags[ti+1].start]
		if trim {
			text = strings.TrimLeftFunc(text, unicode.IsSpace)
		}
		if nt := ev.tags[ti+1].toks; len(nt) > 0 && nt[0].isOp("-") {
			text = strings.TrimRightFunc(text, unicode.IsSpace)
		}
		v = ev.str(text, hBlock, "", ev.tags[ti].start)
	}
	ev.bind(ts, v)
}

func (ev *evaluator) forStmt() {
	ts := ev.targets()
	if !ev.eatName("in") {
		return
	}
	v := ev.expr()
	// A loop over one repeated element binds it whatever the iteration.
	item := unknown
	switch v.kind {
	case vStr:
		if r, size := utf8.DecodeRuneInString(v.s); size > 0 && strings.Count(v.s, string(r)) == utf8.RuneCountInString(v.s) {
			item = value{kind: vStr, s: string(r), how: v.how | hIndex, from: v.from}
		}
	case vSeq:
		if len(v.items) > 0 {
			item = v.items[0]
			for _, it := range v.items[1:] {
				if it.kind != vStr || item.kind != vStr || it.s != item.s {
					item = unknown
					break
				}
			}
		}
	}
	ev.bind(ts, item)
}

func (ev *evaluator) with() {
	for {
		ts := ev.targets()
		if len(ts) == 0 || !ev.eatOp("=") {
			return
		}
		ev.bind(ts, ev.expr())
		if !ev.eatOp(",") {
			return
		}
	}
}

func (ev *evaluator) macro() {
	if ev.peek().kind != tkName {
		return
	}
	ev.pos++
	if !ev.eatOp("(") {
		return
	}
	for ev.pos < len(ev.toks) && !ev.peek().isOp(")") {
		p := ev.pos
		if t := ev.peek(); t.kind == tkName {
			ev.pos++
			v := unknown
			if ev.eatOp("=") {
				v = ev.expr()
			}
			ev.assign(t.text, "", v)
		}
		ev.eatOp(",")
		if ev.pos == p {
			return
		}
	}
	ev.eatOp(")")
}

// Expressions, with Jinja's precedence.

func (ev *evaluator) expr() value {
	if ev.depth >= maxEvalDepth {
		ev.pos++
		return unknown
	}
	ev.depth++
	defer func() { ev.depth-- }()
	v := ev.binary(1)
	if ev.eatName("if") {
		ev.binary(1)
		if ev.eatName("else") {
			ev.expr()
		}
	}
	return v
}

// binop returns the operator at the cursor, its width in tokens and its
// precedence (0 when there is none).
func (ev *evaluator) binop() (string, int, int) {
	t := ev.peek()
	switch {
	case t.isName("or"):
		return "or", 1, 1
	case t.isName("and"):
		return "and", 1, 2
	case t.isName("in"):
		return "in", 1, 3
	case t.isName("not") && ev.at(ev.pos+1).isName("in"):
		return "not in", 2, 3
	case t.kind != tkOp:
		return "", 0, 0
	}
	switch t.text {
	case "==", "!=", "<", ">", "<=", ">=":
		return t.text, 1, 3
	case "+", "-":
		return t.text, 1, 4
	case "~":
		return t.text, 1, 5
	case "*", "/", "//", "%":
		return t.text, 1, 6
	case "**":
		return t.text, 1, 7
	}
	return "", 0, 0
}

func (ev *evaluator) binary(minPrec int) value {
	left := ev.unary()
	for {
		op, width, prec := ev.binop()
		if prec == 0 || prec < minPrec {
			return left
		}
		pos := ev.peek().pos
		ev.pos += width
		right := ev.binary(prec + 1)
		left = ev.apply(op, left, right, pos)
	}
}

func (ev *evaluator) unary() value {
	if ev.depth >= maxEvalDepth {
		ev.pos++
		return unknown
	}
	t := ev.peek()
	if t.isOp("-") || t.isOp("+") || t.isName("not") {
		ev.depth++
		ev.pos++
		v := ev.unary()
		ev.depth--
		if t.isOp("-") && v.kind == vInt {
			return value{kind: vInt, n: -v.n}
		}
		if t.isOp("+") && v.kind == vInt {
			return v
		}
		return unknown
	}
	return ev.postfix(ev.primary())
}

func (ev *evaluator) primary() value {
	t := ev.peek()
	switch t.kind {
	case tkString:
		ev.pos++
		v := value{kind: vStr, s: t.text}
		for ev.peek().kind == tkString { // 'a' 'b' is one string
			v = ev.str(v.s+ev.peek().text, v.how|hConcat, "", t.pos)
			ev.pos++
		}
		if len(v.s) > maxEvalString {
			return unknown
		}
		return v
	case tkNumber:
		ev.pos++
		if n, err := strconv.ParseInt(strings.ReplaceAll(t.text, "_", ""), 0, 32); err == nil {
			return value{kind: vInt, n: int(n)}
		}
		return unknown
	case tkName:
		ev.pos++
		if v, ok := ev.vars[t.text]; ok {
			return v
		}
		switch t.text {
		case "dict", "namespace":
			return value{kind: vFunc, s: t.text, text: objectText[t.text]}
		}
		if steppingGlobals[t.text] || objectText[t.text] != "" {
			return ev.object(t.text, objectText[t.text])
		}
		return unknown
	case tkOp:
		switch t.text {
		case "(":
			ev.pos++
			if ev.eatOp(")") {
				return value{kind: vSeq}
			}
			v := ev.expr()
			if ev.peek().isOp(",") {
				v = ev.sequence(v, ")")
			}
			ev.eatOp(")")
			return v
		case "[":
			ev.pos++
			var v value
			if ev.peek().isOp("]") {
				v = value{kind: vSeq}
			} else {
				v = ev.sequence(ev.expr(), "]")
			}
			ev.eatOp("]")
			return v
		case "{":
			ev.pos++
			return ev.dict()
		}
	}
	return unknown
}

func (ev *evaluator) object(name, text string) value {
	if text == "" {
		text = strings.Repeat(string(wildcard), 24)
	}
	return value{kind: vObj, s: name, text: text}
}

// sequence reads the rest of a tuple or list whose first element is first.
func (ev *evaluator) sequence(first value, closer string) value {
	v := value{kind: vSeq, items: []value{first}}
	for ev.eatOp(",") {
		if ev.peek().isOp(closer) || ev.pos >= len(ev.toks) {
			break
		}
		p := ev.pos
		it := ev.expr()
		if v.items != nil && len(v.items) < maxEvalItems {
			v.items = append(v.items, it)
		} else {
			v.items = nil
		}
		if ev.pos == p {
			break
		}
	}
	if v.items == nil {
		return unknown
	}
	return v
}

func (ev *evaluator) dict() value {
	v := value{kind: vDict}
	ok := true
	for ev.pos < len(ev.toks) && !ev.peek().isOp("}") {
		p := ev.pos
		k := ev.expr()
		var val value
		if ev.eatOp(":") {
			val = ev.expr()
		}
		if k.kind == vStr && len(v.items) < maxEvalItems {
			v.items, v.vals = append(v.items, k), append(v.vals, val)
		} else {
			ok = false
		}
		if !ev.eatOp(",") || ev.pos == p {
			break
		}
	}
	ev.eatOp("}")
	if !ok {
		return unknown
	}
	return v
}

func (ev *evaluator) postfix(v value) value {
	for {
		t := ev.peek()
		switch {
		case t.isOp(".") && ev.at(ev.pos+1).kind == tkName:
			name := ev.at(ev.pos + 1).text
			ev.pos += 2
			if ev.peek().isOp("(") && (v.kind == vStr || v.kind == vSeq || v.kind == vDict) {
				ev.pos++
				args, _ := ev.args()
				v = ev.method(v, name, args, t.pos)
				continue
			}
			v = ev.attr(v, name)
		case t.isOp("["):
			ev.pos++
			v = ev.subscript(v, t.pos)
		case t.isOp("("):
			ev.pos++
			args, kw := ev.args()
			v = ev.call(v, args, kw)
		case t.isOp("|") && ev.at(ev.pos+1).kind == tkName:
			name := ev.at(ev.pos + 1).text
			ev.pos += 2
			var args []value
			if ev.eatOp("(") {
				args, _ = ev.args()
			}
			v = ev.filter(v, name, args, t.pos)
		case t.isName("is"):
			ev.pos++
			ev.eatName("not")
			if ev.peek().kind == tkName {
				ev.pos++
			}
			if ev.eatOp("(") {
				ev.args()
			}
			v = unknown
		default:
			return v
		}
	}
}

type kwarg struct {
	name string
	v    value
}

// args reads call arguments after "(" and the ")".
func (ev *evaluator) args() ([]value, []kwarg) {
	var args []value
	var kw []kwarg
	for ev.pos < len(ev.toks) && !ev.peek().isOp(")") {
		p := ev.pos
		if ev.peek().isOp("*") || ev.peek().isOp("**") {
			ev.pos++
		}
		if t := ev.peek(); t.kind == tkName && ev.at(ev.pos+1).isOp("=") {
			ev.pos += 2
			if len(kw) < maxEvalItems {
				kw = append(kw, kwarg{t.text, ev.expr()})
			} else {
				ev.expr()
			}
		} else {
			v := ev.expr()
			if len(args) < maxEvalItems {
				args = append(args, v)
			}
		}
		if !ev.eatOp(",") || ev.pos == p {
			break
		}
	}
	ev.eatOp(")")
	return args, kw
}

func (ev *evaluator) attr(v value, name string) value {
	switch v.kind {
	case vNS:
		if x, ok := v.attrs[name]; ok {
			return x
		}
	case vDict:
		return lookup(v, name)
	case vObj, vFunc:
		return ev.object(v.s+"."+name, "")
	}
	return unknown
}

func lookup(d value, key string) value {
	for i, k := range d.items {
		if k.s == key {
			return d.vals[i]
		}
	}
	return unknown
}

func (ev *evaluator) call(f value, args []value, kw []kwarg) value {
	if f.kind != vFunc {
		return unknown
	}
	switch f.s {
	case "dict":
		d := value{kind: vDict}
		for _, k := range kw {
			d.items = append(d.items, value{kind: vStr, s: k.name, how: hKeys})
			d.vals = append(d.vals, k.v)
		}
		return d
	case "namespace":
		ns := value{kind: vNS, attrs: map[string]value{}}
		for _, k := range kw {
			ns.attrs[k.name] = carried(k.v)
		}
		return ns
	}
	return unknown
}

// subscript reads [index] or [start:stop:step] after "[" and applies it.
func (ev *evaluator) subscript(v value, pos int) value {
	var parts [3]value
	var given [3]bool
	n := 0
	for ev.pos < len(ev.toks) && !ev.peek().isOp("]") {
		p := ev.pos
		if ev.eatOp(":") {
			if n++; n > 2 {
				break
			}
			continue
		}
		parts[n], given[n] = ev.expr(), true
		if ev.pos == p {
			break
		}
	}
	ev.eatOp("]")
	if n == 0 {
		return ev.index(v, parts[0], pos)
	}
	var bounds [3]*int
	for i := range parts {
		if !given[i] {
			continue
		}
		if parts[i].kind != vInt {
			return unknown
		}
		bounds[i] = &parts[i].n
	}
	return ev.slice(v, bounds, pos)
}

func (ev *evaluator) index(v, k value, pos int) value {
	switch v.kind {
	case vStr:
		if k.kind != vInt || !ev.charge(len(v.s)) {
			return unknown
		}
		r := []rune(v.s)
		i := k.n
		if i < 0 {
			i += len(r)
		}
		if i < 0 || i >= len(r) {
			return unknown
		}
		return ev.char(v, string(r[i]), pos)
	case vSeq:
		if k.kind == vInt {
			i := k.n
			if i < 0 {
				i += len(v.items)
			}
			if i >= 0 && i < len(v.items) {
				if it := v.items[i]; it.kind == vStr && it.how&hText != 0 {
					return ev.char(it, it.s, pos)
				}
				return v.items[i]
			}
		}
	case vDict:
		if k.kind == vStr {
			return lookup(v, k.s)
		}
	case vNS:
		if k.kind == vStr {
			return ev.attr(v, k.s)
		}
	case vObj, vFunc:
		if k.kind == vStr {
			ev.computedName(k, "subscript", pos)
			return ev.object(v.s+"["+k.s+"]", "")
		}
	}
	return unknown
}

// char is characters taken out of the string v.
func (ev *evaluator) char(v value, s string, pos int) value {
	if v.how&hText != 0 {
		ev.add(classSuspicious, "characters taken from the text of "+v.from, pos)
		if strings.Contains(s, "_") {
			// Nothing but a dunder name needs an underscore cut out of
			// an object's text.
			ev.add(classDunder, "underscore taken from the text of "+v.from, pos)
		}
	}
	return ev.str(s, v.how|hIndex, v.from, pos)
}

func (ev *evaluator) slice(v value, b [3]*int, pos int) value {
	var n int
	switch v.kind {
	case vStr:
		if !ev.charge(len(v.s)) {
			return unknown
		}
		n = utf8.RuneCountInString(v.s)
	case vSeq:
		n = len(v.items)
	default:
		return unknown
	}
	idx, ok := sliceIndices(n, b)
	if !ok {
		return unknown
	}
	if v.kind == vSeq {
		out := value{kind: vSeq, items: make([]value, 0, len(idx))}
		for _, i := range idx {
			out.items = append(out.items, v.items[i])
		}
		return out
	}
	r := []rune(v.s)
	out := make([]rune, 0, len(idx))
	for _, i := range idx {
		out = append(out, r[i])
	}
	return ev.char(v, string(out), pos)
}

// sliceIndices returns the indices s[start:stop:step] selects from a
// sequence of n, as Python does.
func sliceIndices(n int, b [3]*int) ([]int, bool) {
	step := 1
	if b[2] != nil {
		step = *b[2]
	}
	if step == 0 {
		return nil, false
	}
	clamp := func(p *int, def, lo, hi int) int {
		if p == nil {
			return def
		}
		i := *p
		if i < 0 {
			i += n
		}
		return max(lo, min(hi, i))
	}
	var idx []int
	if step > 0 {
		start, stop := clamp(b[0], 0, 0, n), clamp(b[1], n, 0, n)
		for i := start; i < stop; i += step {
			idx = append(idx, i)
		}
	} else {
		start, stop := clamp(b[0], n-1, -1, n-1), clamp(b[1], -1, -1, n-1)
		if b[1] != nil && *b[1] < -n {
			stop = -1
		}
		for i := start; i > stop; i += step {
			idx = append(idx, i)
		}
	}
	return idx, true
}

// computedName reports a derived name used to reach an attribute or item.
func (ev *evaluator) computedName(k value, where string, pos int) {
	if k.kind == vStr && k.how.derived() && attrExec[k.s] {
		ev.add(classExec, where+" "+strconv.Quote(k.s)+" built at render time by "+k.how.String(), pos)
	}
}

// toText is str(v) where it is known.
func toText(v value) (string, how, bool) {
	switch v.kind {
	case vStr:
		return v.s, v.how, true
	case vInt:
		return strconv.Itoa(v.n), 0, true
	}
	return "", 0, false
}

func (ev *evaluator) apply(op string, a, b value, pos int) value {
	switch op {
	case "~", "+":
		if op == "+" && a.kind == vInt && b.kind == vInt {
			return value{kind: vInt, n: a.n + b.n}
		}
		if op == "+" && (a.kind != vStr || b.kind != vStr) {
			return unknown
		}
		sa, ha, ok1 := toText(a)
		sb, hb, ok2 := toText(b)
		if !ok1 || !ok2 {
			return unknown
		}
		return ev.str(sa+sb, ha|hb|hConcat, a.from+b.from, pos)
	case "-":
		if a.kind == vInt && b.kind == vInt {
			return value{kind: vInt, n: a.n - b.n}
		}
	case "*":
		switch {
		case a.kind == vInt && b.kind == vInt:
			if a.n > -1<<15 && a.n < 1<<15 && b.n > -1<<15 && b.n < 1<<15 {
				return value{kind: vInt, n: a.n * b.n}
			}
		case a.kind == vStr && b.kind == vInt:
			return ev.repeat(a, b.n, pos)
		case a.kind == vInt && b.kind == vStr:
			return ev.repeat(b, a.n, pos)
		}
	case "//":
		if a.kind == vInt && b.kind == vInt && b.n != 0 {
			return value{kind: vInt, n: a.n / b.n}
		}
	case "%":
		if a.kind == vStr {
			args := []value{b}
			if b.kind == vSeq {
				args = b.items
			}
			return ev.format(a, args, pos)
		}
		if a.kind == vInt && b.kind == vInt && b.n != 0 {
			return value{kind: vInt, n: a.n % b.n}
		}
	}
	return unknown
}

func (ev *evaluator) repeat(v value, n, pos int) value {
	if n <= 0 {
		return ev.str("", v.how|hRepeat, v.from, pos)
	}
	if len(v.s) > 0 && n > maxEvalString/len(v.s) {
		return unknown
	}
	return ev.str(strings.Repeat(v.s, n), v.how|hRepeat, v.from, pos)
}

// format applies printf-style formatting as Python's str % args does, for
// the conversions that matter here.
func (ev *evaluator) format(f value, args []value, pos int) value {
	var b strings.Builder
	h := f.how | hFormat
	from := f.from
	s := f.s
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		j := i + 1
		for j < len(s) && strings.IndexByte("-+ #0123456789.", s[j]) >= 0 {
			j++
		}
		if j >= len(s) {
			return unknown
		}
		verb := s[j]
		i = j
		if verb == '%' {
			b.WriteByte('%')
			continue
		}
		if len(args) == 0 {
			return unknown
		}
		a := args[0]
		args = args[1:]
		switch verb {
		case 's':
			t, ah, ok := toText(a)
			if !ok {
				return unknown
			}
			b.WriteString(t)
			h |= ah
			from += a.from
		case 'd', 'i', 'u':
			if a.kind != vInt {
				return unknown
			}
			b.WriteString(strconv.Itoa(a.n))
		case 'c':
			switch {
			case a.kind == vInt && a.n >= 0 && a.n <= unicode.MaxRune:
				b.WriteRune(rune(a.n))
			case a.kind == vStr && utf8.RuneCountInString(a.s) == 1:
				b.WriteString(a.s)
				h |= a.how
			default:
				return unknown
			}
		default:
			return unknown
		}
		if b.Len() > maxEvalString {
			return unknown
		}
	}
	if len(args) != 0 {
		return unknown
	}
	return ev.str(b.String(), h, from, pos)
}

// braceFormat applies str.format with automatic and numbered fields.
func (ev *evaluator) braceFormat(f value, args []value, pos int) value {
	var b strings.Builder
	h := f.how | hFormat
	s := f.s
	next := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '}' && i+1 < len(s) && s[i+1] == '}' || c == '{' && i+1 < len(s) && s[i+1] == '{' {
			b.WriteByte(c)
			i++
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return unknown
		}
		field := s[i+1 : i+end]
		n := next
		if field != "" {
			var err error
			if n, err = strconv.Atoi(field); err != nil {
				return unknown
			}
		} else {
			next++
		}
		if n < 0 || n >= len(args) {
			return unknown
		}
		t, ah, ok := toText(args[n])
		if !ok {
			return unknown
		}
		b.WriteString(t)
		h |= ah
		i += end
		if b.Len() > maxEvalString {
			return unknown
		}
	}
	return ev.str(b.String(), h, f.from, pos)
}

func (ev *evaluator) join(v value, sep string, pos int) value {
	items := v.items
	var b strings.Builder
	h := hJoin | v.how
	from := v.from
	for _, it := range items {
		t, ih, ok := toText(it)
		if !ok {
			return unknown
		}
		if b.Len()+len(t)+len(sep) > maxEvalString {
			return unknown
		}
		b.WriteString(t)
		b.WriteString(sep)
		h |= ih
		from += it.from
	}
	out := b.String()
	if len(items) > 0 {
		out = out[:len(out)-len(sep)]
	}
	return ev.str(out, h, from, pos)
}

// iterable returns what iterating v yields where it is known.
func iterable(v value) (value, bool) {
	switch v.kind {
	case vSeq:
		return v, true
	case vDict:
		return value{kind: vSeq, items: v.items, how: hKeys}, true
	}
	return unknown, false
}

func (ev *evaluator) method(v value, name string, args []value, pos int) value {
	if v.kind == vDict {
		if name == "keys" {
			return value{kind: vSeq, items: v.items}
		}
		if name == "values" {
			return value{kind: vSeq, items: v.vals}
		}
		return unknown
	}
	if v.kind != vStr {
		return unknown
	}
	switch name {
	case "join":
		if len(args) == 1 {
			if seq, ok := iterable(args[0]); ok {
				return ev.join(seq, v.s, pos)
			}
			if args[0].kind == vStr {
				return ev.join(value{kind: vSeq, items: runes(args[0])}, v.s, pos)
			}
		}
		return unknown
	case "format":
		return ev.braceFormat(v, args, pos)
	}
	return ev.strFunc(v, name, args, pos)
}

// runes splits a string value into one-character values.
func runes(v value) []value {
	var out []value
	for _, r := range v.s {
		if len(out) == maxEvalItems {
			return nil
		}
		out = append(out, value{kind: vStr, s: string(r), how: v.how | hIndex, from: v.from})
	}
	return out
}

// strFunc applies the string methods and filters that share a name.
func (ev *evaluator) strFunc(v value, name string, args []value, pos int) value {
	switch name {
	case "lower":
		return ev.str(strings.ToLower(v.s), v.how|hCase, v.from, pos)
	case "upper":
		return ev.str(strings.ToUpper(v.s), v.how|hCase, v.from, pos)
	case "swapcase":
		return ev.str(strings.Map(swapCase, v.s), v.how|hCase, v.from, pos)
	case "strip", "trim":
		if len(args) == 0 {
			return ev.str(strings.TrimSpace(v.s), v.how, v.from, pos)
		}
	case "replace":
		if len(args) >= 2 && args[0].kind == vStr && args[1].kind == vStr && args[0].s != "" {
			n := strings.Count(v.s, args[0].s)
			if len(v.s)+n*len(args[1].s) > maxEvalString {
				return unknown
			}
			return ev.str(strings.ReplaceAll(v.s, args[0].s, args[1].s), v.how|args[1].how|hReplace, v.from+args[1].from, pos)
		}
	}
	return unknown
}

func swapCase(r rune) rune {
	if unicode.IsUpper(r) {
		return unicode.ToLower(r)
	}
	return unicode.ToUpper(r)
}

func (ev *evaluator) filter(v value, name string, args []value, pos int) value {
	switch name {
	case "string", "pprint", "e", "escape", "forceescape":
		switch v.kind {
		case vObj, vFunc:
			if v.text == "" {
				return ev.str(strings.Repeat(string(wildcard), 24), hText, v.s, pos)
			}
			return ev.str(v.text, hText, v.s, pos)
		case vStr:
			return v
		case vInt:
			return ev.str(strconv.Itoa(v.n), hFormat, "", pos)
		}
		return unknown
	case "safe", "default", "d":
		return v
	case "attr":
		if len(args) == 1 {
			ev.computedName(args[0], "attr filter fetching", pos)
			if args[0].kind == vStr {
				return ev.attr(v, args[0].s)
			}
		}
		if v.kind == vObj || v.kind == vFunc {
			return ev.object(v.s+"|attr", "")
		}
		return unknown
	case "list":
		if v.kind == vStr {
			if items := runes(v); items != nil || v.s == "" {
				if v.how&hText != 0 {
					ev.add(classSuspicious, "characters taken from the text of "+v.from, pos)
				}
				return value{kind: vSeq, items: items}
			}
			return unknown
		}
		seq, _ := iterable(v)
		return seq
	case "first", "last":
		if v.kind == vStr {
			if !ev.charge(len(v.s)) {
				return unknown
			}
			r := []rune(v.s)
			if len(r) == 0 {
				return unknown
			}
			if name == "first" {
				return ev.char(v, string(r[0]), pos)
			}
			return ev.char(v, string(r[len(r)-1]), pos)
		}
		if seq, ok := iterable(v); ok && len(seq.items) > 0 {
			it := seq.items[0]
			if name == "last" {
				it = seq.items[len(seq.items)-1]
			}
			if it.kind == vStr && seq.how != 0 {
				it.how |= seq.how
			}
			return it
		}
		return unknown
	case "join":
		sep := ""
		if len(args) > 0 {
			if args[0].kind != vStr {
				return unknown
			}
			sep = args[0].s
		}
		if v.kind == vStr {
			return ev.join(value{kind: vSeq, items: runes(v)}, sep, pos)
		}
		if seq, ok := iterable(v); ok {
			return ev.join(seq, sep, pos)
		}
		return unknown
	case "reverse":
		switch v.kind {
		case vStr:
			return ev.str(reversed(v.s), v.how|hReverse, v.from, pos)
		case vSeq:
			out := value{kind: vSeq, items: make([]value, len(v.items))}
			for i, it := range v.items {
				out.items[len(v.items)-1-i] = it
			}
			return out
		}
		return unknown
	case "format":
		if v.kind == vStr {
			return ev.format(v, args, pos)
		}
		return unknown
	}
	if v.kind == vStr {
		return ev.strFunc(v, name, args, pos)
	}
	return unknown
}
