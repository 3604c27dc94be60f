package savedmodel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/palisade-sec/palisade/internal/scan"
	"github.com/palisade-sec/palisade/internal/scan/protowalk"
)

const (
	// maxName bounds node and function names; maxIdent bounds op names.
	maxName  = 4096
	maxIdent = 1024
	// maxPath bounds the constant paths and attribute values read.
	maxPath = 4096
	// maxPerRule bounds the findings one rule reports for one file; the
	// rest are counted in a closing finding.
	maxPerRule = 100
	// maxTracked bounds the maps the scanner keeps (functions, unknown
	// ops, queued node findings); maxConsts the string constants kept per
	// graph or function.
	maxTracked = 100_000
	maxConsts  = 10_000
	// dtString is tensorflow.DataType DT_STRING.
	dtString = 7
	// kerasMetadataName is the file that holds Keras layer metadata next
	// to saved_model.pb.
	kerasMetadataName = "keras_metadata.pb"
)

// Scanner analyses TensorFlow SavedModel files (scan.FormatSavedModel):
// saved_model.pb, and keras_metadata.pb next to it.
type Scanner struct{}

var _ scan.Scanner = (*Scanner)(nil)

// New returns a SavedModel scanner.
func New() *Scanner { return &Scanner{} }

// Rules lists the rules the scanner reports.
func (*Scanner) Rules() []scan.Rule { return slices.Clone(allRules) }

// nestedError carries an error of sess.Nested, which Scan returns
// unchanged.
type nestedError struct{ err error }

func (e *nestedError) Error() string { return e.err.Error() }

// Scan walks the SavedModel protobuf (every meta graph's graph and function
// library, asset file names and object graph) or, for keras_metadata.pb,
// the Keras metadata, through a bounded window of obj.R. Keras layer JSON
// is handed to the Keras config scanner through sess.Nested. A
// saved_model.pbtxt (or an object otherwise named that opens like one) is
// protobuf text format, transcoded and walked the same way.
func (*Scanner) Scan(ctx context.Context, obj scan.Object, sess *scan.Session) error {
	base := path.Base(strings.ReplaceAll(obj.Name, `\`, "/"))
	switch {
	case strings.EqualFold(base, kerasMetadataName):
		return newState(ctx, obj, sess).run((*state).kerasMetadata)
	case strings.EqualFold(base, textModelName),
		!strings.EqualFold(base, binaryModelName) && looksLikeText(obj.R, obj.Size):
		return scanText(ctx, obj, sess)
	}
	return newState(ctx, obj, sess).run((*state).savedModel)
}

func newState(ctx context.Context, obj scan.Object, sess *scan.Session) *state {
	st := &state{
		ctx:       ctx,
		sess:      sess,
		obj:       obj,
		w:         protowalk.NewReader(ctx, obj.R, obj.Size),
		functions: map[string]bool{},
		unknown:   map[string]*opUse{},
	}
	st.rep = scan.NewCapped(&st.buf, maxPerRule)
	return st
}

// run walks the object with walk (savedModel or kerasMetadata) and reports
// what it found.
func (st *state) run(walk func(st *state, start, end int64) error) error {
	obj := st.obj
	err := walk(st, 0, obj.Size)
	var ne *nestedError
	var me *protowalk.MalformedError
	switch {
	case errors.As(err, &ne):
		st.flush()
		return ne.err
	case errors.As(err, &me):
		if obj.Tentative && !st.recognised {
			return nil
		}
		f := RuleMalformed.Finding(
			fmt.Sprintf("%s is not well-formed protobuf at offset %d: %s; nothing after that point was analysed", obj.Name, me.Offset, me.Reason),
			me.Reason)
		f.Offset, f.Pointer = me.Offset, me.Pointer
		st.rep.Report(f)
	case err != nil:
		return fmt.Errorf("read %s: %w", obj.Name, err)
	case obj.Tentative && !st.recognised:
		return nil
	}
	st.finish()
	st.flush()
	return nil
}

// flush reports the buffered findings; those of a text-format model get
// their offsets in the text, and the text's fault, if any.
func (st *state) flush() {
	if ts := st.text; ts != nil {
		ts.relocate(st.buf)
		if ts.fault != nil {
			st.rep.Report(*ts.fault)
			ts.fault = nil
		}
	}
	st.rep.Flush()
	st.buf.FlushTo(st.sess)
}

// scope is one graph (a meta graph's GraphDef) or one library function:
// the namespace node names and their inputs refer to.
type scope struct {
	meta     int    // index of the meta graph
	function string // function name; "" for the meta graph's graph
	consts   map[string]string
	pending  []nodeFinding
}

func (sc *scope) describe() string {
	if sc.function != "" {
		return fmt.Sprintf("library function %q of meta graph %d", sc.function, sc.meta)
	}
	return fmt.Sprintf("the graph of meta graph %d", sc.meta)
}

// nodeFinding is a finding about one node, completed when its scope ends
// (once the constants its inputs may name are known).
type nodeFinding struct {
	rule   scan.Rule
	op     string
	node   string
	ptr    string
	off    int64
	inputs []string // path inputs to resolve against the scope's constants
	detail string   // attribute evidence, e.g. debug_urls=["file:///tmp"]
	what   string   // what the op does, for the message
}

// opUse is the first node running a non-standard op.
type opUse struct {
	count int
	node  string
	ptr   string
	off   int64
	scope *scope
}

// state is the walk of one file.
type state struct {
	ctx        context.Context
	sess       *scan.Session
	obj        scan.Object
	w          *protowalk.Reader
	path       protowalk.Path // e.g. "meta_graphs[0].graph_def.library.function[2].node_def[5]"
	recognised bool           // a meta graph or Keras node was found
	buf        scan.Buffer
	rep        *scan.Capped
	text       *textSource // set when the object is transcoded text format

	meta      int
	scope     *scope
	functions map[string]bool
	unknown   map[string]*opUse
	unkOrder  []string
}

func (st *state) savedModel(start, end int64) error {
	var metas protowalk.Counter
	return st.w.Walk(savedModelSpec, start, end, func(f protowalk.Field) error {
		if f.Num != 2 {
			return nil
		}
		st.recognised = true
		i := metas.Next()
		return st.path.Descend(f, "meta_graphs", i, func(mf protowalk.Field) error { return st.metaGraph(mf, i) })
	})
}

func (st *state) metaGraph(mf protowalk.Field, idx int) error {
	// Repeated graph_def fields merge into one graph: one scope for all.
	sc := &scope{meta: idx, consts: map[string]string{}}
	prevMeta, prevScope := st.meta, st.scope
	st.meta, st.scope = idx, sc
	defer func() { st.meta, st.scope = prevMeta, prevScope }()
	var assets protowalk.Counter
	err := st.w.Walk(metaGraphSpec, mf.Start, mf.End, func(f protowalk.Field) error {
		switch f.Num {
		case 2:
			return st.path.Descend(f, "graph_def", -1, st.graphDef)
		case 6:
			return st.path.Descend(f, "asset_file_def", assets.Next(), st.assetFile)
		case 7:
			return st.path.Descend(f, "object_graph_def", -1, st.objectGraph)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return st.endScope(sc)
}

func (st *state) graphDef(gf protowalk.Field) error {
	var nodes protowalk.Counter
	return st.w.Walk(graphDefSpec, gf.Start, gf.End, func(f protowalk.Field) error {
		switch f.Num {
		case 1:
			return st.path.Descend(f, "node", nodes.Next(), st.node)
		case 2:
			return st.path.Descend(f, "library", -1, st.library)
		}
		return nil
	})
}

func (st *state) library(lf protowalk.Field) error {
	var fns protowalk.Counter
	return st.w.Walk(librarySpec, lf.Start, lf.End, func(f protowalk.Field) error {
		if f.Num != 1 {
			return nil
		}
		return st.path.Descend(f, "function", fns.Next(), st.function)
	})
}

func (st *state) function(ff protowalk.Field) error {
	sc := &scope{meta: st.meta, consts: map[string]string{}}
	prev := st.scope
	st.scope = sc
	defer func() { st.scope = prev }()
	var nodes protowalk.Counter
	err := st.w.Walk(functionDefSpec, ff.Start, ff.End, func(f protowalk.Field) error {
		switch f.Num {
		case 1:
			return st.path.Descend(f, "signature", -1, func(sf protowalk.Field) error {
				return st.w.Walk(opDefSpec, sf.Start, sf.End, func(f protowalk.Field) error {
					if f.Num != 1 {
						return nil
					}
					name, err := st.w.Text(f, maxName)
					if err != nil {
						return err
					}
					sc.function = name
					if len(st.functions) < maxTracked {
						st.functions[name] = true
					}
					return nil
				})
			})
		case 3:
			return st.path.Descend(f, "node_def", nodes.Next(), st.node)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return st.endScope(sc)
}

// attrKeys are the node attributes the checks read.
var attrKeys = [...]string{"value", "output_stream", "debug_urls", "memory_region_name", "descriptor_source", "token"}

const (
	attrValue = iota
	attrOutputStream
	attrDebugURLs
	attrMemoryRegion
	attrDescriptorSource
	attrToken
)

// nodeAttrs holds the AttrValue fields of the attributes in attrKeys.
type nodeAttrs struct {
	val [len(attrKeys)]protowalk.Field
	has [len(attrKeys)]bool
}

func (st *state) node(nf protowalk.Field) error {
	var name, op protowalk.Field
	var hasName, hasOp bool
	var inputs [2]protowalk.Field
	nIn := 0
	var attrs nodeAttrs
	var nAttr protowalk.Counter
	err := st.w.Walk(nodeDefSpec, nf.Start, nf.End, func(f protowalk.Field) error {
		switch f.Num {
		case 1:
			name, hasName = f, true
		case 2:
			op, hasOp = f, true
		case 3:
			if nIn < len(inputs) {
				inputs[nIn] = f
			}
			nIn++
		case 5:
			return st.path.Descend(f, "attr", nAttr.Next(), func(ef protowalk.Field) error { return st.attrEntry(ef, &attrs) })
		}
		return nil
	})
	if err != nil || !hasOp {
		return err
	}
	// Fast path, without allocating: the bulk of any graph is standard ops.
	if op.Len <= maxIdent {
		b, err := st.w.At(op.Start, int(op.Len))
		if err != nil {
			return err
		}
		switch {
		case string(b) == "Const":
			return st.recordConst(name, hasName, attrs)
		case knownOps[string(b)] && !specialOps[string(b)]:
			return nil
		}
	}
	opName, err := st.w.Text(op, maxIdent)
	if err != nil {
		return err
	}
	nodeName := ""
	if hasName {
		if nodeName, err = st.w.Text(name, maxName); err != nil {
			return err
		}
	}
	input := func(i int) (string, error) {
		if i < 0 || i >= min(nIn, len(inputs)) {
			return "", nil
		}
		return st.w.Text(inputs[i], maxName)
	}
	pend := nodeFinding{op: opName, node: nodeName, off: nf.Offset}
	queue := func(rule scan.Rule, what string, pathInputs []int, detail string) error {
		pend.rule, pend.what, pend.detail, pend.ptr = rule, what, detail, st.path.String()
		for _, i := range pathInputs {
			in, err := input(i)
			if err != nil {
				return err
			}
			pend.inputs = append(pend.inputs, in)
		}
		if len(st.scope.pending) < maxTracked {
			st.scope.pending = append(st.scope.pending, pend)
		}
		return nil
	}
	switch {
	case pyOps[opName]:
		detail, err := st.attrString(attrs, attrToken, "token")
		if err != nil {
			return err
		}
		return queue(RulePyFunc, "calls a Python function registered in the loading process", nil, detail)
	case isFileOp(opName):
		return st.fileOp(attrs, queue, opName)
	case opName == "PrintV2":
		stream, err := st.attrStringValue(attrs, attrOutputStream)
		if err != nil || !attrs.has[attrOutputStream] || standardStreams[stream] {
			return err
		}
		return queue(RuleFileOp, "writes printed tensors to a file", nil, "output_stream="+strconv.Quote(stream))
	case opName == "DecodeProtoV2" || opName == "EncodeProto":
		src, err := st.attrStringValue(attrs, attrDescriptorSource)
		if err != nil || !attrs.has[attrDescriptorSource] || src == "" || src == "local://" {
			return err
		}
		return queue(RuleFileOp, "reads a protobuf descriptor set from a file", nil, "descriptor_source="+strconv.Quote(src))
	case pathOps[opName] != nil:
		return queue(RuleFixedPath, "", pathOps[opName], "")
	case knownOps[opName]:
		return nil
	}
	st.useUnknown(opName, nodeName, nf.Offset)
	return nil
}

func isFileOp(op string) bool {
	_, ok := fileOps[op]
	return ok
}

// fileOp queues a finding for an op of fileOps.
func (st *state) fileOp(attrs nodeAttrs, queue func(scan.Rule, string, []int, string) error, op string) error {
	var detail string
	var err error
	switch {
	case strings.HasPrefix(op, "Debug"):
		detail, err = st.attrString(attrs, attrDebugURLs, "debug_urls")
	case op == "ImmutableConst":
		detail, err = st.attrString(attrs, attrMemoryRegion, "memory_region_name")
	}
	if err != nil {
		return err
	}
	var in []int
	if i := fileOps[op]; i >= 0 {
		in = []int{i}
	}
	return queue(RuleFileOp, fileOpWhat(op), in, detail)
}

func fileOpWhat(op string) string {
	switch {
	case op == "WriteFile" || op == "SaveDataset" || op == "SaveDatasetV2" || op == "DatasetToTFRecord" ||
		op == "ExperimentalDatasetToTFRecord" || strings.HasPrefix(op, "Snapshot") || strings.HasPrefix(op, "CreateSummary"):
		return "writes files"
	case strings.HasPrefix(op, "Debug"):
		return "writes tensor dumps to debug URLs (files)"
	case op == "MatchingFiles" || strings.Contains(op, "MatchingFiles"):
		return "lists files matching a pattern"
	case op == "ImmutableConst":
		return "memory-maps a file"
	case op == "DeleteFile":
		return "deletes files"
	}
	return "reads files"
}

// specialOps are standard ops whose attributes or inputs are checked.
var specialOps = func() map[string]bool {
	m := map[string]bool{"PrintV2": true, "DecodeProtoV2": true, "EncodeProto": true}
	for op := range pathOps {
		m[op] = true
	}
	return m
}()

// standardStreams are PrintV2 output streams that are not files.
var standardStreams = map[string]bool{
	"": true, "stdout": true, "stderr": true, "log(info)": true, "log(warning)": true, "log(error)": true,
}

// attrEntry reads one NodeDef.attr map entry, keeping the value of the
// keys in attrKeys, and validates the AttrValue's framing.
func (st *state) attrEntry(ef protowalk.Field, attrs *nodeAttrs) error {
	var key, val protowalk.Field
	hasKey, hasVal := false, false
	err := st.w.Walk(attrEntrySpec, ef.Start, ef.End, func(f protowalk.Field) error {
		switch f.Num {
		case 1:
			key, hasKey = f, true
		case 2:
			val, hasVal = f, true
		}
		return nil
	})
	if err != nil {
		return err
	}
	if hasVal {
		err := st.w.Walk(attrValueSpec, val.Start, val.End, func(f protowalk.Field) error {
			if f.Num == 1 {
				return st.path.Descend(f, "list", -1, func(lf protowalk.Field) error { return st.w.Validate(listValueSpec, lf) })
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if !hasKey {
		return nil
	}
	for i, k := range attrKeys {
		eq, err := st.w.Equal(key, k)
		if err != nil {
			return err
		}
		if eq {
			if !hasVal {
				val = protowalk.Field{Start: ef.End, End: ef.End} // an empty AttrValue
			}
			attrs.val[i], attrs.has[i] = val, true
			break
		}
	}
	return nil
}

// attrStrings returns the strings of an AttrValue: s, or list.s.
func (st *state) attrStrings(attrs nodeAttrs, i int) ([]string, error) {
	if !attrs.has[i] {
		return nil, nil
	}
	var out []string
	add := func(f protowalk.Field) error {
		if len(out) >= 16 {
			return nil
		}
		s, err := st.w.Text(f, maxPath)
		if err == nil {
			out = append(out, s)
		}
		return err
	}
	v := attrs.val[i]
	err := st.w.Walk(attrValueSpec, v.Start, v.End, func(f protowalk.Field) error {
		switch f.Num {
		case 2:
			out = out[:0] // a later s replaces an earlier one
			return add(f)
		case 1:
			return st.w.Walk(listValueSpec, f.Start, f.End, func(f protowalk.Field) error {
				if f.Num == 2 {
					return add(f)
				}
				return nil
			})
		}
		return nil
	})
	return out, err
}

// attrStringValue returns the single string of an AttrValue.
func (st *state) attrStringValue(attrs nodeAttrs, i int) (string, error) {
	ss, err := st.attrStrings(attrs, i)
	if err != nil || len(ss) == 0 {
		return "", err
	}
	return ss[len(ss)-1], nil
}

// attrString renders an attribute for evidence: key="v" or key=["a", "b"].
func (st *state) attrString(attrs nodeAttrs, i int, key string) (string, error) {
	ss, err := st.attrStrings(attrs, i)
	if err != nil || len(ss) == 0 {
		return "", err
	}
	if len(ss) == 1 {
		return key + "=" + strconv.Quote(ss[0]), nil
	}
	q := make([]string, len(ss))
	for j, s := range ss {
		q[j] = strconv.Quote(s)
	}
	return key + "=[" + strings.Join(q, ", ") + "]", nil
}

// recordConst remembers the first string of a string Const node, so that
// ops reading a path from it can be judged by the path.
func (st *state) recordConst(nameF protowalk.Field, hasName bool, attrs nodeAttrs) error {
	if !hasName || !attrs.has[attrValue] || len(st.scope.consts) >= maxConsts {
		return nil
	}
	v := attrs.val[attrValue]
	var s string
	found, isString := false, false
	err := st.w.Walk(attrValueSpec, v.Start, v.End, func(f protowalk.Field) error {
		if f.Num != 8 {
			return nil
		}
		return st.w.Walk(tensorSpec, f.Start, f.End, func(f protowalk.Field) error {
			switch f.Num {
			case 1:
				isString = f.Value == dtString
			case 8:
				if !found {
					b, _, err := st.w.Bytes(f, maxPath)
					if err != nil {
						return err
					}
					s, found = string(b), true
				}
			}
			return nil
		})
	})
	if err != nil || !found || !isString {
		return err
	}
	name, err := st.w.Text(nameF, maxName)
	if err != nil {
		return err
	}
	st.scope.consts[name] = s
	return nil
}

func (st *state) useUnknown(op, node string, off int64) {
	if u := st.unknown[op]; u != nil {
		u.count++
		return
	}
	if len(st.unknown) >= maxTracked {
		return
	}
	st.unknown[op] = &opUse{count: 1, node: node, ptr: st.path.String(), off: off, scope: st.scope}
	st.unkOrder = append(st.unkOrder, op)
}

// inputNode returns the node an input names: "n", "n:1" and, inside
// functions, "n:output:0" name node n; "^n" is a control input (no data).
func inputNode(in string) (string, bool) {
	if in == "" || strings.HasPrefix(in, "^") {
		return "", false
	}
	if i := strings.IndexByte(in, ':'); i >= 0 {
		in = in[:i]
	}
	return in, true
}

// endScope reports the queued node findings of a scope.
func (st *state) endScope(sc *scope) error {
	for _, p := range sc.pending {
		var paths []string
		fixedBad := ""
		for _, in := range p.inputs {
			n, ok := inputNode(in)
			if !ok {
				continue
			}
			c, isConst := sc.consts[n]
			if !isConst {
				if p.rule.ID == RuleFileOp.ID {
					paths = append(paths, fmt.Sprintf("<%s>", in))
				}
				continue
			}
			paths = append(paths, strconv.Quote(c))
			if prob := pathProblem(c, true); prob != "" && fixedBad == "" {
				fixedBad = fmt.Sprintf("%s %s", strconv.Quote(c), prob)
			}
		}
		evidence := p.op
		args := paths
		if p.detail != "" {
			args = append(args, p.detail)
		}
		if len(args) > 0 {
			evidence += "(" + strings.Join(args, ", ") + ")"
		}
		var msg string
		switch p.rule.ID {
		case RuleFixedPath.ID:
			if fixedBad == "" {
				continue // the path is fed at load time or stays inside the model
			}
			msg = fmt.Sprintf("node %q in %s runs %s on the constant path %s", p.node, sc.describe(), p.op, fixedBad)
		default:
			msg = fmt.Sprintf("node %q in %s runs %s, which %s when the graph runs", p.node, sc.describe(), p.op, p.what)
		}
		f := p.rule.Finding(msg, evidence)
		f.Offset, f.Pointer = p.off, p.ptr
		st.rep.Report(f)
	}
	sc.pending = nil
	return nil
}

// pathProblem says why a path a graph op or the loader opens can leave
// the model directory, or returns "". remote also rejects URLs of other
// file systems (gs://, s3://, hdfs://, http://), which TensorFlow's file
// ops open as well.
func pathProblem(p string, remote bool) string {
	norm := strings.ReplaceAll(p, `\`, "/")
	switch {
	case strings.IndexByte(p, 0) >= 0:
		return "contains a NUL byte"
	case remote && strings.Contains(p, "://"):
		return "names a remote or virtual file system"
	case strings.HasPrefix(norm, "//"):
		return "is a UNC or device path"
	case strings.HasPrefix(norm, "/"):
		return "is an absolute path"
	case len(norm) >= 2 && norm[1] == ':' && (norm[0]|0x20) >= 'a' && (norm[0]|0x20) <= 'z':
		return "names a Windows drive"
	}
	for _, c := range strings.Split(norm, "/") {
		if c == ".." || (strings.Count(c, ".") >= 2 && strings.Trim(c, ". ") == "") {
			return "climbs out with '..'"
		}
	}
	return ""
}

func (st *state) assetFile(af protowalk.Field) error {
	return st.w.Walk(assetFileSpec, af.Start, af.End, func(f protowalk.Field) error {
		if f.Num != 2 {
			return nil
		}
		b, truncated, err := st.w.Bytes(f, maxPath)
		if err != nil {
			return err
		}
		name := string(b)
		prob := pathProblem(name, false)
		if truncated {
			prob = fmt.Sprintf("is longer than %d bytes", maxPath)
		}
		if prob == "" {
			return nil
		}
		rf := RuleAssetPath.Finding(
			fmt.Sprintf("asset file name %s in meta graph %d %s; the loader feeds that file to the graph", strconv.Quote(name), st.meta, prob),
			"filename="+strconv.Quote(name))
		rf.Offset, rf.Pointer = f.Offset, st.path.String()
		st.rep.Report(rf)
		return nil
	})
}

func (st *state) objectGraph(of protowalk.Field) error {
	var nodes protowalk.Counter
	return st.w.Walk(objectGraphSpec, of.Start, of.End, func(f protowalk.Field) error {
		if f.Num != 1 {
			return nil
		}
		i := nodes.Next()
		return st.path.Descend(f, "nodes", i, func(nf protowalk.Field) error {
			return st.w.Walk(savedObjectSpec, nf.Start, nf.End, func(f protowalk.Field) error {
				if f.Num != 4 {
					return nil
				}
				return st.path.Descend(f, "user_object", -1, func(uf protowalk.Field) error {
					return st.w.Walk(userObjectSpec, uf.Start, uf.End, func(f protowalk.Field) error {
						if f.Num != 3 || f.Len == 0 {
							return nil
						}
						return st.handOff(f, fmt.Sprintf("object_graph_def node %d metadata", i), true)
					})
				})
			})
		})
	})
}

func (st *state) kerasMetadata(start, end int64) error {
	var nodes protowalk.Counter
	return st.w.Walk(kerasMetadataSpec, start, end, func(f protowalk.Field) error {
		if f.Num != 1 {
			return nil
		}
		st.recognised = true
		i := nodes.Next()
		return st.path.Descend(f, "nodes", i, func(nf protowalk.Field) error {
			return st.w.Walk(kerasObjectSpec, nf.Start, nf.End, func(f protowalk.Field) error {
				if f.Num != 5 || f.Len == 0 {
					return nil
				}
				return st.handOff(f, fmt.Sprintf("keras_metadata node %d", i), false)
			})
		})
	})
}

// handOff hands a Keras layer JSON string to the Keras config scanner.
// With onlyJSON, a string that does not start like a JSON object is left
// alone (SavedUserObject.metadata of non-Keras objects).
func (st *state) handOff(f protowalk.Field, name string, onlyJSON bool) error {
	if onlyJSON {
		head, err := st.w.At(f.Start, int(min(f.Len, 64)))
		if err != nil {
			return err
		}
		if t := bytes.TrimLeft(head, " \t\r\n"); len(t) > 0 && t[0] != '{' {
			return nil
		}
	}
	r := io.NewSectionReader(st.obj.R, f.Start, f.Len)
	if err := st.sess.Nested(st.ctx, name, r, f.Len, scan.FormatKerasConfig); err != nil {
		return &nestedError{err: err}
	}
	return nil
}

// finish reports the non-standard ops, once per op name, leaving out the
// names of library functions (which graphs call like ops).
func (st *state) finish() {
	for _, op := range st.unkOrder {
		if st.functions[op] {
			continue
		}
		u := st.unknown[op]
		f := RuleUnknownOp.Finding(
			fmt.Sprintf("op %q (node %q in %s; %d node(s) in all) is neither a standard TensorFlow op nor a function of the model's library; running it needs a kernel from a custom library",
				op, u.node, u.scope.describe(), u.count),
			op)
		f.Offset, f.Pointer = u.off, u.ptr
		st.rep.Report(f)
	}
}
