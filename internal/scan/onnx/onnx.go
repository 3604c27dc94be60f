package onnx

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/scan/protowalk"
)

const (
	// maxName bounds names read for messages; maxIdent bounds op types and
	// domains, which decide findings.
	maxName  = 256
	maxIdent = 1024
	// maxPerRule bounds the findings one rule reports for one model; the
	// rest are counted in a closing finding.
	maxPerRule = 100
	// maxTracked bounds the sets the scanner keeps (functions, domains,
	// operator names); maxChecked the locations remembered as checked.
	maxTracked = 100_000
	maxChecked = 10_000
	// maxLocsPerTensor bounds the location entries kept per tensor; the
	// last one, which the loader uses, is always kept.
	maxLocsPerTensor = 32
	// dataLocationExternal is TensorProto.DataLocation EXTERNAL.
	dataLocationExternal = 1
)

// standardDomains are the operator-set domains the ONNX standard defines.
var standardDomains = map[string]bool{
	"": true, "ai.onnx": true, "ai.onnx.ml": true, "ai.onnx.training": true, "ai.onnx.preview.training": true,
}

// contribDomains are operator domains built into ONNX Runtime itself (no
// library is loaded for them).
var contribDomains = map[string]bool{
	"com.microsoft": true, "com.microsoft.nchwc": true, "com.microsoft.experimental": true, "com.ms.internal.nhwc": true,
}

// Scanner analyses ONNX models (scan.FormatONNX).
type Scanner struct{}

var _ scan.Scanner = (*Scanner)(nil)

// New returns an ONNX scanner.
func New() *Scanner { return &Scanner{} }

// Rules lists the rules the scanner reports.
func (*Scanner) Rules() []scan.Rule { return slices.Clone(allRules) }

// Scan walks the model's protobuf encoding field by field through a bounded
// window of obj.R and reports external-data locations that leave the model
// directory, linked external-data files (when obj is a file on disk),
// custom operator domains and malformed encoding.
func (*Scanner) Scan(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	st := &state{
		w:         protowalk.NewReader(ctx, obj.R, obj.Size),
		domains:   map[string]*domainUse{},
		functions: map[funcKey]bool{},
		funcDoms:  map[string]bool{},
		checked:   map[string]bool{},
	}
	st.rep = scan.NewCapped(&st.buf, maxPerRule)
	if obj.DiskPath != "" {
		st.dir = filepath.Dir(obj.DiskPath)
	}
	err := st.model(0, obj.Size)
	var me *protowalk.MalformedError
	switch {
	case errors.As(err, &me):
		if obj.Tentative && !st.sawGraph {
			return nil // not an ONNX model after all
		}
		f := RuleMalformed.Finding(
			fmt.Sprintf("the model is not well-formed ONNX protobuf at offset %d: %s; nothing after that point was analysed", me.Offset, me.Reason),
			me.Reason)
		f.Offset, f.Pointer = me.Offset, me.Pointer
		st.rep.Report(f)
	case err != nil:
		return fmt.Errorf("read onnx model: %w", err)
	case obj.Tentative && !st.sawGraph:
		return nil
	}
	st.finish()
	st.rep.Flush()
	st.buf.FlushTo(sess)
	return nil
}

type funcKey struct{ domain, name string }

// opUse is the first node found using an operator of a non-standard domain.
type opUse struct {
	count int
	node  string
	ptr   string
	off   int64
}

// domainUse collects how a non-standard domain is used.
type domainUse struct {
	imported  bool
	importPtr string
	importOff int64
	ops       map[string]*opUse
	opOrder   []string
}

// locRef is one external_data "location" entry of a tensor.
type locRef struct {
	val   protowalk.Field // the value field; val.Len < 0 when the entry has no value
	off   int64           // offset of the entry
	where string
}

// state is the walk of one model.
type state struct {
	w        *protowalk.Reader
	dir      string         // model directory, when the model is a file on disk
	path     protowalk.Path // where the walk is, e.g. "graph.node[3].attribute[0].g"
	sawGraph bool
	buf      scan.Buffer
	rep      *scan.Capped

	domains   map[string]*domainUse
	domOrder  []string
	functions map[funcKey]bool
	funcDoms  map[string]bool
	checked   map[string]bool // locations already reported or checked on disk
}

func (st *state) model(start, end int64) error {
	var opsets, trainings, functions protowalk.Counter
	return st.w.Walk(modelSpec, start, end, func(f protowalk.Field) error {
		switch f.Num {
		case 7:
			st.sawGraph = true
			return st.path.Descend(f, "graph", -1, st.graph)
		case 8:
			return st.path.Descend(f, "opset_import", opsets.Next(), st.opset)
		case 14:
			return st.w.Validate(entrySpec, f)
		case 20:
			return st.path.Descend(f, "training_info", trainings.Next(), st.training)
		case 25:
			return st.path.Descend(f, "functions", functions.Next(), st.function)
		}
		return nil
	})
}

func (st *state) training(tf protowalk.Field) error {
	return st.w.Walk(trainingSpec, tf.Start, tf.End, func(f protowalk.Field) error {
		switch f.Num {
		case 1:
			return st.path.Descend(f, "initialization", -1, st.graph)
		case 2:
			return st.path.Descend(f, "algorithm", -1, st.graph)
		case 3, 4:
			return st.w.Validate(entrySpec, f)
		}
		return nil
	})
}

func (st *state) opset(of protowalk.Field) error {
	var dom protowalk.Field
	has := false
	err := st.w.Walk(opsetSpec, of.Start, of.End, func(f protowalk.Field) error {
		if f.Num == 1 {
			dom, has = f, true
		}
		return nil
	})
	if err != nil || !has {
		return err // an absent domain is the default domain
	}
	return st.importDomain(dom, of.Offset)
}

func (st *state) graph(gf protowalk.Field) error {
	var nodes, inits, sparse, inputs, outputs, infos protowalk.Counter
	return st.w.Walk(graphSpec, gf.Start, gf.End, func(f protowalk.Field) error {
		switch f.Num {
		case 1:
			return st.path.Descend(f, "node", nodes.Next(), st.node)
		case 5:
			return st.path.Descend(f, "initializer", inits.Next(), st.tensor)
		case 15:
			return st.path.Descend(f, "sparse_initializer", sparse.Next(), st.sparse)
		case 11:
			return st.path.Descend(f, "input", inputs.Next(), st.valueInfo)
		case 12:
			return st.path.Descend(f, "output", outputs.Next(), st.valueInfo)
		case 13:
			return st.path.Descend(f, "value_info", infos.Next(), st.valueInfo)
		case 16:
			return st.w.Validate(entrySpec, f)
		}
		return nil
	})
}

func (st *state) valueInfo(vf protowalk.Field) error {
	return st.w.Walk(valueInfoSpec, vf.Start, vf.End, func(f protowalk.Field) error {
		if f.Num == 4 {
			return st.w.Validate(entrySpec, f)
		}
		return nil
	})
}

func (st *state) node(nf protowalk.Field) error {
	var name, op, dom protowalk.Field
	var hasName, hasOp, hasDom bool
	var attrs protowalk.Counter
	err := st.w.Walk(nodeSpec, nf.Start, nf.End, func(f protowalk.Field) error {
		switch f.Num {
		case 3:
			name, hasName = f, true
		case 4:
			op, hasOp = f, true
		case 7:
			dom, hasDom = f, true
		case 5:
			return st.path.Descend(f, "attribute", attrs.Next(), st.attribute)
		case 9:
			return st.w.Validate(entrySpec, f)
		}
		return nil
	})
	if err != nil || !hasDom {
		return err // no domain: the default ONNX domain
	}
	if std, err := st.isStandard(dom); std || err != nil {
		return err
	}
	domain, err := st.w.Text(dom, maxIdent)
	if err != nil {
		return err
	}
	opType, nodeName := "", ""
	if hasOp {
		if opType, err = st.w.Text(op, maxIdent); err != nil {
			return err
		}
	}
	if hasName {
		if nodeName, err = st.w.Text(name, maxName); err != nil {
			return err
		}
	}
	st.useOp(domain, opType, nodeName, nf.Offset)
	return nil
}

// isStandard reports whether a domain field names a standard domain,
// without allocating.
func (st *state) isStandard(dom protowalk.Field) (bool, error) {
	if dom.Len > 64 {
		return false, nil
	}
	b, err := st.w.At(dom.Start, int(dom.Len))
	if err != nil {
		return false, err
	}
	return standardDomains[string(b)], nil
}

func (st *state) attribute(af protowalk.Field) error {
	var tensors, graphs, sparse protowalk.Counter
	return st.w.Walk(attributeSpec, af.Start, af.End, func(f protowalk.Field) error {
		switch f.Num {
		case 5:
			return st.path.Descend(f, "t", -1, st.tensor)
		case 6:
			return st.path.Descend(f, "g", -1, st.graph)
		case 10:
			return st.path.Descend(f, "tensors", tensors.Next(), st.tensor)
		case 11:
			return st.path.Descend(f, "graphs", graphs.Next(), st.graph)
		case 22:
			return st.path.Descend(f, "sparse_tensor", -1, st.sparse)
		case 23:
			return st.path.Descend(f, "sparse_tensors", sparse.Next(), st.sparse)
		}
		return nil
	})
}

func (st *state) sparse(sf protowalk.Field) error {
	return st.w.Walk(sparseSpec, sf.Start, sf.End, func(f protowalk.Field) error {
		switch f.Num {
		case 1:
			return st.path.Descend(f, "values", -1, st.tensor)
		case 2:
			return st.path.Descend(f, "indices", -1, st.tensor)
		}
		return nil
	})
}

func (st *state) tensor(tf protowalk.Field) error {
	var name protowalk.Field
	hasName, external := false, false
	var locs []locRef
	var entries protowalk.Counter
	err := st.w.Walk(tensorSpec, tf.Start, tf.End, func(f protowalk.Field) error {
		switch f.Num {
		case 8:
			name, hasName = f, true
		case 14:
			external = f.Value == dataLocationExternal
		case 13:
			return st.path.Descend(f, "external_data", entries.Next(), func(ef protowalk.Field) error {
				loc, ok, err := st.locationEntry(ef)
				if err != nil || !ok {
					return err
				}
				if len(locs) == maxLocsPerTensor {
					locs[len(locs)-1] = loc // keep the last: the loader uses it
				} else {
					locs = append(locs, loc)
				}
				return nil
			})
		case 16:
			return st.w.Validate(entrySpec, f)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(locs) == 0 && !external {
		return nil
	}
	tensorName := ""
	if hasName {
		if tensorName, err = st.w.Text(name, maxName); err != nil {
			return err
		}
	}
	if len(locs) == 0 {
		f := RuleExternalPath.Finding(
			fmt.Sprintf("tensor %q has data_location EXTERNAL but no external_data location (the loader opens the model directory itself)", tensorName),
			"data_location=EXTERNAL, no location")
		f.Offset, f.Pointer = tf.Offset, st.path.String()
		st.rep.Report(f)
		return nil
	}
	for _, l := range locs {
		if err := st.checkLocation(tensorName, l); err != nil {
			return err
		}
	}
	return nil
}

// locationEntry reads one external_data entry and reports whether it is
// the "location" key.
func (st *state) locationEntry(ef protowalk.Field) (locRef, bool, error) {
	var key protowalk.Field
	val := protowalk.Field{Len: -1}
	hasKey := false
	err := st.w.Walk(entrySpec, ef.Start, ef.End, func(f protowalk.Field) error {
		switch f.Num {
		case 1:
			key, hasKey = f, true
		case 2:
			val = f
		}
		return nil
	})
	if err != nil || !hasKey {
		return locRef{}, false, err
	}
	isLoc, err := st.w.Equal(key, "location")
	if err != nil || !isLoc {
		return locRef{}, false, err
	}
	return locRef{val: val, off: ef.Offset, where: st.path.String()}, true, nil
}

// checkLocation validates one external-data location as a string and, for
// a model on disk, the file it names.
func (st *state) checkLocation(tensorName string, l locRef) error {
	loc, truncated := "", false
	if l.val.Len > 0 {
		b, t, err := st.w.Bytes(l.val, maxLocation)
		if err != nil {
			return err
		}
		loc, truncated = string(b), t
	}
	if st.checked[loc] {
		return nil
	}
	if len(st.checked) < maxChecked {
		st.checked[loc] = true
	}
	evidence := "location=" + strconv.Quote(loc)
	if truncated {
		evidence = "location=" + strconv.Quote(loc) + "..."
	}
	if prob := locationProblem(loc, truncated); prob != "" {
		f := RuleExternalPath.Finding(
			fmt.Sprintf("tensor %q stores its data in external file %s, which %s", tensorName, strconv.Quote(loc), prob),
			evidence)
		f.Offset, f.Pointer = l.off, l.where
		st.rep.Report(f)
		return nil
	}
	if st.dir == "" {
		return nil
	}
	p := checkOnDisk(st.dir, loc)
	if p == nil {
		return nil
	}
	rule := RuleExternalLink
	if p.missing {
		rule = RuleExternalMissing
	}
	f := rule.Finding(
		fmt.Sprintf("tensor %q stores its data in external file %s; on disk %s %s", tensorName, strconv.Quote(loc), strconv.Quote(p.path), p.msg),
		evidence)
	f.Offset, f.Pointer = l.off, l.where
	st.rep.Report(f)
	return nil
}

func (st *state) function(ff protowalk.Field) error {
	var name, dom protowalk.Field
	var hasName bool
	var nodes, attrs, opsets, infos protowalk.Counter
	err := st.w.Walk(functionSpec, ff.Start, ff.End, func(f protowalk.Field) error {
		switch f.Num {
		case 1:
			name, hasName = f, true
		case 10:
			dom = f
		case 7:
			return st.path.Descend(f, "node", nodes.Next(), st.node)
		case 11:
			return st.path.Descend(f, "attribute_proto", attrs.Next(), st.attribute)
		case 9:
			return st.path.Descend(f, "opset_import", opsets.Next(), st.opset)
		case 12:
			return st.path.Descend(f, "value_info", infos.Next(), st.valueInfo)
		case 14:
			return st.w.Validate(entrySpec, f)
		}
		return nil
	})
	if err != nil || !hasName {
		return err
	}
	fn, err := st.w.Text(name, maxIdent)
	if err != nil {
		return err
	}
	domain := ""
	if dom.Len > 0 {
		if domain, err = st.w.Text(dom, maxIdent); err != nil {
			return err
		}
	}
	if len(st.functions) < maxTracked {
		st.functions[funcKey{domain, fn}] = true
		st.funcDoms[domain] = true
	}
	return nil
}

// domain returns the record of a non-standard domain, or nil when too many
// domains are tracked already.
func (st *state) domain(d string) *domainUse {
	u := st.domains[d]
	if u == nil {
		if len(st.domains) >= maxTracked {
			return nil
		}
		u = &domainUse{ops: map[string]*opUse{}}
		st.domains[d] = u
		st.domOrder = append(st.domOrder, d)
	}
	return u
}

func (st *state) importDomain(dom protowalk.Field, off int64) error {
	if std, err := st.isStandard(dom); std || err != nil {
		return err
	}
	d, err := st.w.Text(dom, maxIdent)
	if err != nil {
		return err
	}
	u := st.domain(d)
	if u == nil || u.imported {
		return nil
	}
	u.imported, u.importPtr, u.importOff = true, st.path.String(), off
	return nil
}

func (st *state) useOp(domain, op, node string, off int64) {
	u := st.domain(domain)
	if u == nil {
		return
	}
	if o := u.ops[op]; o != nil {
		o.count++
		return
	}
	if len(u.ops) >= maxTracked {
		return
	}
	u.ops[op] = &opUse{count: 1, node: node, ptr: st.path.String(), off: off}
	u.opOrder = append(u.opOrder, op)
}

// maxOpsListed bounds the operator names in one finding's evidence.
const maxOpsListed = 20

// finish reports the non-standard domains, once each, leaving out calls to
// model-local functions (whose bodies were checked like the graph).
func (st *state) finish() {
	for _, d := range st.domOrder {
		u := st.domains[d]
		var ops []string
		nodes := 0
		for _, op := range u.opOrder {
			if !st.functions[funcKey{d, op}] {
				ops = append(ops, op)
				nodes += u.ops[op].count
			}
		}
		rule := RuleCustomDomain
		what := "custom operator domain"
		if contribDomains[d] {
			rule, what = RuleContribDomain, "ONNX Runtime contrib domain"
		}
		switch {
		case len(ops) > 0:
			first := u.ops[ops[0]]
			listed := ops[:min(len(ops), maxOpsListed)]
			evidence := d + "::" + strings.Join(listed, ", ")
			if len(ops) > len(listed) {
				evidence += fmt.Sprintf(", ... (%d operators)", len(ops))
			}
			msg := fmt.Sprintf("%d node(s) run operators from the %s %q (first: node %q, operator %q)", nodes, what, d, first.node, ops[0])
			if rule == RuleCustomDomain {
				msg += "; runtimes execute them with native code from a custom-op library"
			}
			f := rule.Finding(msg, evidence)
			f.Offset, f.Pointer = first.off, first.ptr
			st.rep.Report(f)
		case u.imported && len(u.opOrder) == 0 && !st.funcDoms[d]:
			f := rule.Finding(fmt.Sprintf("the model imports the operator set of the %s %q", what, d), "opset_import domain="+strconv.Quote(d))
			f.Offset, f.Pointer = u.importOff, u.importPtr
			st.rep.Report(f)
		}
	}
}
