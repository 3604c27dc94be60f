package pickle

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/scan"
)

// Scanner analyses pickle streams (raw pickles, joblib files, legacy
// PyTorch files and pickles embedded in other formats). It implements
// scan.Scanner for scan.FormatPickle.
type Scanner struct {
	lim limits
}

var _ scan.Scanner = (*Scanner)(nil)

// New returns a pickle scanner with the default limits.
func New() *Scanner {
	return &Scanner{lim: defaultLimits}
}

// Rules lists every rule the scanner reports.
func (s *Scanner) Rules() []scan.Rule {
	return append([]scan.Rule(nil), allRules...)
}

// Scan analyses obj as a stream of pickles and reports what loading it
// would import and call. It returns an error only when the object cannot
// be read or a nested scan hits a budget limit; a malformed stream is a
// finding.
func (s *Scanner) Scan(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	a := &analyzer{sess: sess, ra: obj.R, tentative: obj.Tentative, classes: map[[2]string]class{}}
	a.committed.reset()
	a.seg.reset()
	err := runStream(ctx, obj.R, obj.Size, &s.lim, a, obj.Tentative)
	if err != nil {
		// Whatever the pickle did before the failure still counts.
		a.settle()
		a.commit()
		a.finish()
		var ioe *ioError
		if errors.As(err, &ioe) {
			return fmt.Errorf("scan pickle %s: %w", obj.Name, ioe.err)
		}
		return err
	}
	a.finish()
	return nil
}

const (
	// maxCallFindings is how many calls of one callable are listed per
	// object; further calls are counted in one summary finding.
	maxCallFindings = 8
	// maxRuleFindings is how many findings of one rule are listed per
	// object; further ones are counted in one summary finding.
	maxRuleFindings = 256
	// maxKeys bounds the keys remembered to merge repeated findings.
	maxKeys = 1 << 16
	// maxClassCache bounds the per-object classification cache.
	maxClassCache = 4096
)

// analyzer turns machine events into findings. Findings of the current
// pickle wait in pending until the stream driver knows whether the bytes
// were a pickle at all. Repeated findings are merged and each rule's list
// is capped as findings arrive, so a hostile stream cannot make the
// report (or memory) grow with its length.
type analyzer struct {
	sess      *scan.Session
	ra        io.ReaderAt
	tentative bool
	classes   map[[2]string]class
	danger    bool // the current pickle imported or called something high or critical
	deferred  []*deferredImport
	index     int
	start     int64

	committed tally // findings reported
	pending   []scan.Finding
	seg       tally // findings of the current pickle
}

// tally counts findings by merge key, callee and rule.
type tally struct {
	keys  map[string]bool
	calls map[string]int      // listed calls per callee
	rules map[string]int      // listed findings per rule
	more  map[string]*summary // calls past maxCallFindings (by callee) and findings past maxRuleFindings (by rule)
}

// summary stands for findings that were counted but not listed.
type summary struct {
	f     scan.Finding // the first one, at the worst severity seen
	count int
	what  string
}

func (t *tally) reset() {
	if t.keys == nil {
		t.keys, t.calls, t.rules, t.more = map[string]bool{}, map[string]int{}, map[string]int{}, map[string]*summary{}
		return
	}
	clear(t.keys)
	clear(t.calls)
	clear(t.rules)
	clear(t.more)
}

func (a *analyzer) begin(n int, start int64) {
	a.pending = a.pending[:0]
	a.seg.reset()
	a.danger = false
	a.deferred = a.deferred[:0]
	a.index, a.start = n, start
}

// judgedByUse are deny-listed globals with common legitimate uses that
// the analysis can tell apart from gadgets: their import is reported only
// if some use of the imported value was not a call the analysis judged
// on its own (getattr of a method of an allow-listed object, a partial of
// an allow-listed class).
var judgedByUse = setOf("builtins.getattr", "functools.partial")

// maxDeferred bounds the imports whose finding waits for their uses.
const maxDeferred = 256

// deferredImport is the finding of an import of a judgedByUse global,
// held back until the end of the pickle.
type deferredImport struct {
	g      *value
	f      scan.Finding
	key    string
	judged int64 // calls of g judged on their own
}

// judged records that a call of fn was judged on its own.
func (a *analyzer) judged(fn *value) {
	for _, d := range a.deferred {
		if d.g == fn {
			d.judged++
			return
		}
	}
}

// otherUse reports whether d's global was pushed (imported, GET, DUP)
// more often than it was called in a judged call.
func (d *deferredImport) otherUse() bool { return d.judged < 1+d.g.aux }

// settle reports the deferred imports that had other uses.
func (a *analyzer) settle() {
	for _, d := range a.deferred {
		if d.otherUse() {
			a.add(d.f, d.f.Offset, d.key)
		}
	}
	a.deferred = a.deferred[:0]
}

func (a *analyzer) dangerous() bool {
	if a.danger {
		return true
	}
	for _, d := range a.deferred {
		if d.otherUse() {
			return true
		}
	}
	return false
}

// add queues a finding. One with a key already seen is dropped; past
// maxRuleFindings of its rule it is only counted.
func (a *analyzer) add(f scan.Finding, off int64, key string) {
	if f.Severity >= scan.SeverityHigh {
		a.danger = true
	}
	f.Offset = off
	if key != "" {
		if a.committed.keys[key] || a.seg.keys[key] {
			return
		}
		if len(a.committed.keys)+len(a.seg.keys) < maxKeys {
			a.seg.keys[key] = true
		}
	}
	if a.committed.rules[f.RuleID]+a.seg.rules[f.RuleID] >= maxRuleFindings {
		a.countMore("rule:"+f.RuleID, f, fmt.Sprintf("%s findings beyond the %d listed", f.RuleID, maxRuleFindings))
		return
	}
	a.seg.rules[f.RuleID]++
	a.pending = append(a.pending, f)
}

// addCall queues a call finding; past maxCallFindings calls of one callee
// they are only counted.
func (a *analyzer) addCall(f scan.Finding, off int64, callee string) {
	if a.committed.calls[callee]+a.seg.calls[callee] >= maxCallFindings {
		if f.Severity >= scan.SeverityHigh {
			a.danger = true
		}
		f.Offset = off
		a.countMore("call:"+callee, f, fmt.Sprintf("%s: more calls like the %d listed", callee, maxCallFindings))
		return
	}
	a.seg.calls[callee]++
	a.add(f, off, "")
}

func (a *analyzer) countMore(key string, f scan.Finding, what string) {
	s := a.seg.more[key]
	if s == nil {
		s = &summary{f: f, what: what}
		a.seg.more[key] = s
	}
	if f.Severity > s.f.Severity {
		s.f.Severity = f.Severity
	}
	s.count++
}

// commit reports the pending findings of the current pickle.
func (a *analyzer) commit() {
	for _, f := range a.pending {
		a.sess.Report(f)
	}
	a.pending = a.pending[:0]
	for k := range a.seg.keys {
		a.committed.keys[k] = true
	}
	for c, n := range a.seg.calls {
		a.committed.calls[c] += n
	}
	for r, n := range a.seg.rules {
		a.committed.rules[r] += n
	}
	for k, s := range a.seg.more {
		if old := a.committed.more[k]; old != nil {
			old.count += s.count
			old.f.Severity = max(old.f.Severity, s.f.Severity)
		} else {
			a.committed.more[k] = s
		}
	}
	a.seg.reset()
}

func (a *analyzer) end(ctx context.Context, seg *segment, keep bool) error {
	if !keep {
		a.pending = a.pending[:0]
		a.deferred = a.deferred[:0]
		a.seg.reset()
		return nil
	}
	a.settle()
	if e := seg.err; e != nil {
		where := ""
		if a.index > 0 {
			where = fmt.Sprintf(" (pickle %d, starting at offset %d)", a.index+1, a.start)
		}
		if e.limit {
			a.add(RuleLimit.Finding(
				fmt.Sprintf("analysis stopped at offset %d%s: %s; the rest of the stream was not analysed", e.off, where, e.msg),
				opName(e.op)), e.off, "")
		} else {
			a.add(RuleBrokenStream.Finding(
				fmt.Sprintf("the pickle stream breaks at offset %d%s: %s; everything before it runs when the file is loaded", e.off, where, e.msg),
				opName(e.op)), e.off, "")
		}
	}
	a.commit()
	return nil
}

func (a *analyzer) trailing(off, n int64, kind trailingKind, what string) {
	switch kind {
	case trailingTorch:
		return
	case trailingFormat:
		f := RuleTrailingData.Finding(
			fmt.Sprintf("%d bytes of %s follow the pickle at offset %d: the file is a pickle/%s polyglot, and pickle.load runs the pickle while other tools see only the second format", n, what, off, strings.TrimPrefix(strings.TrimPrefix(what, "a "), "an ")),
			what)
		f.Severity = scan.SeverityMedium
		f.Offset = off
		a.sess.Report(f)
	default:
		if a.tentative {
			return
		}
		f := RuleTrailingData.Finding(
			fmt.Sprintf("%d bytes after the last pickle (from offset %d) do not parse as a pickle", n, off), "")
		f.Offset = off
		a.sess.Report(f)
	}
}

// finish reports what was counted but not listed.
func (a *analyzer) finish() {
	keys := make([]string, 0, len(a.committed.more))
	for k := range a.committed.more {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		s := a.committed.more[k]
		f := s.f
		f.Message = fmt.Sprintf("%s: %d not listed (the first is shown)", s.what, s.count)
		a.sess.Report(f)
	}
	clear(a.committed.more)
}

func (a *analyzer) event(ctx context.Context, m *machine, e *event) error {
	switch e.kind {
	case evImport:
		a.imported(e.v)
	case evCall:
		return a.called(ctx, e.v)
	case evMutate:
		a.mutated(e)
	case evTamper:
		a.add(RuleProtocolAnomaly.Finding(e.msg, opName(e.op)), e.off, "tamper:"+e.key)
	case evExpansion:
		a.add(RuleExpansion.Finding(e.msg, evidence.render(e.v)), e.off, "expansion")
	}
	return nil
}

// classify classifies a global, with a per-object cache.
func (a *analyzer) classify(module, name string) class {
	key := [2]string{module, name}
	c, ok := a.classes[key]
	if !ok {
		c = classifyGlobal(module, name)
		if len(a.classes) < maxClassCache {
			a.classes[key] = c
		}
	}
	return c
}

// classifyPath classifies a dynamically reached path, with the cache.
func (a *analyzer) classifyPath(path string) class {
	key := [2]string{"\x00", path}
	c, ok := a.classes[key]
	if !ok {
		c = classifyPath(path)
		if len(a.classes) < maxClassCache {
			a.classes[key] = c
		}
	}
	return c
}

// written renders a global as the stream spells it.
func written(v *value) string {
	return pyName(v.module()) + "." + pyName(v.name())
}

// pyName renders a module or name, escaping what is not printable.
func pyName(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] >= 0x7f || s[i] == '\\' {
			return pyStr(s, false, 0, 120)
		}
	}
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}

// describe explains a deny-list classification.
func describe(c class, v *value) string {
	var b strings.Builder
	b.WriteString(c.path)
	if w := v.module() + "." + v.name(); w != c.path {
		b.WriteString(" (written " + pyName(v.module()) + " " + pyName(v.name()) + ")")
	}
	if c.reached != "" {
		b.WriteString(", which reaches " + c.reached + " through an attribute or alias")
	}
	b.WriteString("; " + c.entry + " " + c.what)
	return b.String()
}

func (a *analyzer) imported(v *value) {
	op := opName(v.op)
	switch {
	case v.kind == kExt:
		a.extImport(v)
	case v.flags&fDynamic != 0:
		a.addCall(RuleDynamicImport.Finding(
			"STACK_GLOBAL imports a module and name that are not constant strings; what it imports is computed at load time",
			truncateEvidence(evidence.render(v))), v.off, "computed STACK_GLOBAL import")
	case v.flags&fTrunc != 0:
		a.add(RuleDynamicImport.Finding(
			fmt.Sprintf("%s imports a global whose name is longer than the %d bytes examined", op, defaultLimits.maxName),
			truncateEvidence(written(v))), v.off, "long:"+v.s)
	default:
		c := a.classify(v.target())
		switch c.verdict {
		case verdictAllowed:
		case verdictReview:
			a.add(RuleUnknownGlobal.Finding(
				fmt.Sprintf("%s imports %s, which is not a known-safe global: loading the file imports its module and may call it", op, c.path),
				written(v)), v.off, "global:"+c.path)
		case verdictDenied:
			f := RuleDangerousGlobal.Finding(fmt.Sprintf("%s imports %s", op, describe(c, v)), written(v))
			f.Severity = c.sev
			if judgedByUse[c.path] && len(a.deferred) < maxDeferred {
				f.Offset = v.off
				a.deferred = append(a.deferred, &deferredImport{g: v, f: f, key: "global:" + c.path})
				return
			}
			a.add(f, v.off, "global:"+c.path)
		}
	}
}

// extImport reports EXT1/EXT2/EXT4.
func (a *analyzer) extImport(v *value) {
	op := opName(v.op)
	ev := fmt.Sprintf("%s %d", op, v.num)
	key := "ext:" + strconv.FormatInt(v.num, 10)
	if len(v.items) == 0 {
		a.add(RuleExtensionImport.Finding(
			fmt.Sprintf("%s imports extension code %d through the copyreg extension registry; the stream does not name the global, so it cannot be checked", op, v.num),
			ev), v.off, key)
		return
	}
	g := v.items[0]
	c := a.classify(g.target())
	f := RuleExtensionImport.Finding(
		fmt.Sprintf("%s imports extension code %d, which the stream registered as %s", op, v.num, c.path),
		ev+" = "+written(g))
	if c.verdict == verdictDenied && c.sev > f.Severity {
		f.Severity = c.sev
		f.Message += "; " + c.entry + " " + c.what
	}
	a.add(f, v.off, key+"="+c.path)
}

// called reports a call at the severity of what it reaches, and scans a
// nested deserializer's constant payload.
func (a *analyzer) called(ctx context.Context, v *value) error {
	op := opName(v.op)
	ce, ok := calleeOf(v)
	if !ok {
		a.dynamicCall(v)
		return nil
	}
	fn := v.fn()
	if fn.kind == kGlobal && ce.via == "" {
		judged, benign := false, false
		switch ce.path {
		case "builtins.getattr":
			judged, benign = a.instanceGetattr(v)
		case "functools.partial":
			judged, benign = true, a.partialBuilt(v, "", "", v.off)
		}
		if benign {
			a.judged(fn)
		}
		if judged {
			return nil
		}
	}
	var c class
	if fn.kind == kGlobal && ce.via == "" {
		c = a.classify(fn.target())
	} else {
		c = a.classifyPath(ce.path)
	}
	worst, how := c, ""
	consider := func(path, relation string) {
		// At equal severity the reached global is the more telling one.
		if rc := a.classifyPath(path); rc.verdict == verdictDenied && (worst.verdict != verdictDenied || rc.sev >= worst.sev) {
			worst, how = rc, relation
		}
	}
	if ws, ok := callWrappers[ce.path]; ok {
		// Allowed wrappers call their arguments: rank by what they reach.
		for _, i := range ws {
			if i < len(ce.args) {
				if p, _, ok := reach(ce.args[i], 0); ok {
					consider(p, "calls")
				}
			}
		}
	}
	if p, ok := refOf(v, 0); ok {
		// Import functions and getattr return what they name.
		consider(p, "returns")
	}
	if worst.verdict == verdictDenied {
		msg := fmt.Sprintf("%s calls %s", op, ce.path)
		if ce.via != "" {
			msg += " through " + ce.via
		}
		if how != "" {
			msg += ", which " + how + " " + worst.path
		}
		msg += "; " + worst.entry + " " + worst.what
		ev := evidence.render(v)
		if eff := effectiveCall(ce); eff != ev && (ce.via != "" || fn.kind != kGlobal) {
			// Show the call the wrapper makes, then the stream's own form.
			ev = eff + "  <- " + ev
		}
		f := RuleDangerousCall.Finding(msg, truncateEvidence(ev))
		f.Severity = worst.sev
		a.addCall(f, v.off, worst.path)
	}
	if arg := nestedPayloadArg(ce.path, ce.args); arg != nil {
		return a.nested(ctx, ce.path, arg)
	}
	return nil
}

// effectiveCall renders the call a wrapper makes, e.g. os.system('id') for
// functools.partial(os.system, 'id')().
func effectiveCall(ce callee) string {
	args := &value{kind: kTuple, items: ce.args, num: int64(len(ce.args))}
	call := &value{kind: kCall, op: opReduce, items: []*value{globalValue("", ce.path, -1, opGlobal), args, nil, nil}}
	return evidence.render(call)
}

// truncateEvidence caps evidence at a rune boundary.
func truncateEvidence(s string) string { return scan.Clip(s, 600) }

// dynamicCall reports a call whose callable cannot be resolved.
func (a *analyzer) dynamicCall(v *value) {
	fn := v.fn()
	op := opName(v.op)
	switch fn.kind {
	case kGlobal:
		if fn.flags&fDynamic != 0 {
			f := RuleDangerousCall.Finding(fmt.Sprintf("%s calls a global imported under a computed name", op), truncateEvidence(evidence.render(v)))
			a.addCall(f, v.off, "STACK_GLOBAL")
		}
	case kCall, kPersID, kExt, kBuffer, kArray:
		what := map[kind]string{
			kCall: "the result of another call", kPersID: "an object returned by persistent_load",
			kExt: "a global imported through the extension registry", kBuffer: "an out-of-band buffer",
			kArray: "a joblib array",
		}[fn.kind]
		f := RuleDynamicCall.Finding(
			fmt.Sprintf("%s calls %s, which cannot be resolved statically", op, what),
			truncateEvidence(evidence.render(v)))
		if fn.kind == kCall {
			if cls, name, ok := instanceAttr(fn); ok {
				a.methodCall(v, cls, name)
				return
			}
			if why := a.gadgetOrigin(fn); why != "" {
				f.Severity = scan.SeverityHigh
				f.Message += "; the value comes from " + why + " (a gadget chain)"
			}
		}
		a.addCall(f, v.off, "calls of values produced at load time")
	}
}

// gadgetOrigin says why calling the result of the call v is a gadget: the
// callable that produced it is not an allow-listed global (an unknown or
// denied global, getattr, attrgetter, a partial, another call result).
// It returns "" for an allow-listed global's result (an instance of a
// known class, whose __call__ is the class's own code), the one case
// PKL012 stays medium for.
func (a *analyzer) gadgetOrigin(v *value) string {
	return a.gadgetOriginDepth(v, 0)
}

// maxOriginDepth bounds how far gadgetOrigin follows the arguments of
// allow-listed callables (next(iter(<gadget>)) passes a gadget's result on).
const maxOriginDepth = 4

func (a *analyzer) gadgetOriginDepth(v *value, depth int) string {
	c, ok := a.classifyValue(v.fn())
	switch {
	case !ok:
		return "a callable computed at load time (attribute walks, wrappers or call results)"
	case c.verdict != verdictAllowed:
		return "a call of " + c.path + ", which is not a known-safe global"
	case depth >= maxOriginDepth:
		return ""
	}
	// An allow-listed callable can hand on what it is given.
	for _, arg := range v.args() {
		if arg == nil {
			continue
		}
		items := []*value{arg}
		if arg.isContainer() {
			items = arg.items
		}
		for _, it := range items {
			if it != nil && it.kind == kCall {
				if why := a.gadgetOriginDepth(it, depth+1); why != "" {
					return why
				}
			}
		}
	}
	return ""
}

// classifyValue classifies what a callable value refers to: a global as
// imported (so framework classes are recognised), anything else by the
// path it resolves to, through getattr, import functions and partials.
func (a *analyzer) classifyValue(v *value) (class, bool) {
	if v != nil && v.kind == kGlobal && v.flags&fDynamic == 0 && v.flags&fTrunc == 0 {
		return a.classify(v.target()), true
	}
	if isPartial(v, 0) {
		fn, _ := partialParts(v)
		return a.classifyValue(fn)
	}
	if p, ok := refOf(v, 0); ok {
		return a.classifyPath(p), true
	}
	return class{}, false
}

// instanceGetattr judges getattr(obj, 'name') where obj is an instance the
// pickle built of an allow-listed class and name a constant, non-special
// attribute: how torch.save stores a bound method (a scheduler's
// anneal_func is getattr(<OneCycleLR>, '_annealing_cos')). The fetch is a
// low finding for review unless the attribute is deny-listed (a file
// writer such as pathlib.Path.write_text); calling the result is judged
// by methodCall. It reports whether it judged the call, and whether the
// call was benign (rated low).
func (a *analyzer) instanceGetattr(v *value) (judged, benign bool) {
	cls, name, ok := instanceAttr(v)
	if !ok || isDunder(name) || strings.HasPrefix(name, "__") {
		return false, false
	}
	cc := a.classify(cls.target())
	if cc.verdict != verdictAllowed || !isClassName(cc.path[strings.LastIndexByte(cc.path, '.')+1:]) {
		return false, false
	}
	attr := cc.path + "." + name
	f := RuleDangerousCall.Finding(
		fmt.Sprintf("%s calls builtins.getattr to fetch the attribute %s of a %s the pickle built (how a bound method is pickled); check that the model is expected to store it", opName(v.op), name, cc.path),
		truncateEvidence(evidence.render(v)))
	f.Severity = scan.SeverityLow
	if c := a.classifyPath(attr); c.verdict == verdictDenied {
		f.Message = fmt.Sprintf("%s calls builtins.getattr to fetch %s from a %s the pickle built; %s %s", opName(v.op), attr, cc.path, c.entry, c.what)
		f.Severity = c.sev
	}
	a.addCall(f, v.off, attr)
	return true, f.Severity == scan.SeverityLow
}

// methodCall reports a call of getattr(<instance of cls>, name): at least
// high, since the method runs with arguments from the pickle.
func (a *analyzer) methodCall(v, cls *value, name string) {
	path := canonicalPath(strings.Join(append(splitDots(a.classify(cls.target()).path), name), "."))
	f := RuleDynamicCall.Finding(
		fmt.Sprintf("%s calls %s, a method fetched with getattr from an object the pickle built, with arguments from the pickle (a gadget)", opName(v.op), path),
		truncateEvidence(evidence.render(v)))
	f.Severity = scan.SeverityHigh
	if c := a.classifyPath(path); c.verdict == verdictDenied {
		f = RuleDangerousCall.Finding(
			fmt.Sprintf("%s calls %s, a method fetched with getattr from an object the pickle built; %s %s", opName(v.op), path, c.entry, c.what),
			truncateEvidence(evidence.render(v)))
		f.Severity = max(c.sev, scan.SeverityHigh)
	}
	a.addCall(f, v.off, path)
}

// partialBuilt judges functools.partial(func, ...) by the function it
// wraps (how timm and others pickle a configurable layer, e.g.
// partial(torch.nn.LayerNorm, eps=1e-6)): nothing for an allow-listed
// class or function, the wrapped callable's severity for a denied one,
// high for one computed at load time. An unknown global is reported by
// its own import (PKL003). how describes the operation ("" for the call
// that builds the partial), ev the evidence ("" for the call's own) and
// off the offset of the operation. It reports whether the partial is
// benign (no finding).
func (a *analyzer) partialBuilt(v *value, how, ev string, off int64) bool {
	fn, _ := partialParts(v)
	if how == "" {
		how = opName(v.op) + " builds functools.partial"
	}
	if ev == "" {
		ev = evidence.render(v)
	}
	if fn == nil {
		return false
	}
	c, ok := a.classifyValue(fn)
	if !ok {
		if cls, name, isAttr := instanceAttr(fn); isAttr {
			c = a.classifyPath(canonicalPath(a.classify(cls.target()).path + "." + name))
		}
		if c.verdict != verdictDenied {
			f := RuleDynamicCall.Finding(
				fmt.Sprintf("%s of a callable computed at load time, which cannot be resolved statically (a gadget chain)", how),
				truncateEvidence(ev))
			f.Severity = scan.SeverityHigh
			a.addCall(f, off, "functools.partial")
			return false
		}
	}
	if c.verdict != verdictDenied {
		return true
	}
	f := RuleDangerousCall.Finding(
		fmt.Sprintf("%s of %s; %s %s", how, c.path, c.entry, c.what),
		truncateEvidence(ev))
	f.Severity = c.sev
	a.addCall(f, off, c.path)
	return false
}

// mutated reports BUILD, SETITEM(S), APPEND(S) and ADDITEMS applied to an
// imported global or module rather than to an object the pickle built.
func (a *analyzer) mutated(e *event) {
	t := e.target
	if e.op == opBuild && isPartial(t, 0) {
		a.partialBuilt(t, "BUILD sets the function of a functools.partial",
			evidence.render(t)+".__setstate__("+evidence.render(e.arg)+")", e.off)
		return
	}
	path, ok := refOf(t, 0)
	if !ok {
		if t.kind != kGlobal || t.flags&fDynamic == 0 {
			return
		}
		path = "a global imported under a computed name"
	}
	var ev string
	target := evidence.render(t)
	switch e.op {
	case opBuild:
		ev = target + ".__setstate__(" + evidence.render(e.arg) + ")"
	case opSetItem, opSetItems:
		ev = target + ".update(" + evidence.render(e.arg) + ")"
	case opAppend:
		ev = target + ".append(" + strings.TrimSuffix(strings.TrimPrefix(evidence.render(e.arg), "("), ",)") + ")"
	case opAppends:
		ev = target + ".extend(" + evidence.render(e.arg) + ")"
	default:
		ev = target + ".add(...)"
	}
	f := RuleGlobalMutation.Finding(
		fmt.Sprintf("%s changes %s, an imported module, class or function, instead of an object the pickle created", opName(e.op), path),
		truncateEvidence(ev))
	if c := a.classifyPath(path); c.verdict == verdictDenied && c.sev > f.Severity {
		f.Severity = c.sev
	}
	a.add(f, e.off, "mutate:"+opName(e.op)+":"+path)
}

// nested scans the constant payload of a nested deserializer's argument.
func (a *analyzer) nested(ctx context.Context, loader string, arg *value) error {
	p, ok := openPayload(a.ra, arg, 0)
	if !ok {
		return nil
	}
	name := loader + " argument"
	if p.ra != nil {
		return a.sess.Nested(ctx, name, p.ra, p.size, "")
	}
	exp, err := a.sess.Expand(ctx, name, p.r, p.compressed)
	if err != nil {
		var le *scan.LimitError
		if errors.As(err, &le) || ctx.Err() != nil {
			return err
		}
		// A payload that does not decode cannot be loaded either; the
		// call itself is reported.
		return nil
	}
	err = a.sess.Nested(ctx, name, exp.R, exp.Size, "")
	if cerr := exp.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("release decoded %s: %w", name, cerr)
	}
	return err
}
