package pickle

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// maxExplainDepth bounds the nested payloads Explain expands inline.
const maxExplainDepth = 4

// Explain writes a readable listing of what loading the pickle stream in r
// would do, in Python-like form: the imports, each call with its
// arguments, state set with BUILD, and the result, one block per pickle of
// a stacked stream, with a line where the stream breaks or stops being a
// pickle. Nested payloads of pickle.loads and similar loaders are listed
// inline as comments. Nothing is executed.
func Explain(ctx context.Context, r io.ReaderAt, size int64, w io.Writer) error {
	return explain(ctx, r, size, w, 0)
}

func explain(ctx context.Context, r io.ReaderAt, size int64, w io.Writer, depth int) error {
	x := &explainer{ra: r, out: w, depth: depth}
	x.render = renderer{name: x.nameOf, strLimit: 200, items: 32, depth: 8, budget: 4000}
	err := runStream(ctx, r, size, &defaultLimits, x, false)
	if err != nil {
		return err
	}
	if x.blocks == 0 && size == 0 {
		x.write("# empty input: no pickle\n")
	}
	return x.err
}

// explainer is the sink that writes the listing.
type explainer struct {
	ra     io.ReaderAt
	out    io.Writer
	err    error
	depth  int
	render renderer
	blocks int

	// Per pickle.
	buf     bytes.Buffer
	index   int
	start   int64
	vars    int
	names   map[*value]string // imported globals and variables
	locals  map[string]string // local name -> "module\x00name" it is bound to
	imports map[string]string // "module\x00first" -> local name
}

func (x *explainer) write(s string) {
	if x.err == nil {
		_, x.err = io.WriteString(x.out, s)
	}
}

func (x *explainer) begin(n int, start int64) {
	x.buf.Reset()
	x.index, x.start, x.vars = n, start, 0
	x.names = map[*value]string{}
	x.locals = map[string]string{}
	x.imports = map[string]string{}
}

func (x *explainer) dangerous() bool { return false }

func (x *explainer) end(_ context.Context, seg *segment, keep bool) error {
	if !keep {
		return nil
	}
	if x.blocks > 0 {
		x.write("\n")
	}
	x.blocks++
	proto := "no PROTO opcode (protocol 0 or 1)"
	if seg.proto >= 0 {
		proto = "protocol " + strconv.Itoa(seg.proto)
	}
	x.write(fmt.Sprintf("# pickle %d at offset %d, %s\n", x.index+1, x.start, proto))
	x.write(x.buf.String())
	if seg.err != nil {
		x.write(fmt.Sprintf("# the stream breaks at offset %d: %s\n", seg.err.off, seg.err.msg))
		return nil
	}
	x.write("result = " + x.render.render(seg.result) + "\n")
	return nil
}

func (x *explainer) trailing(off, n int64, kind trailingKind, what string) {
	if x.blocks > 0 {
		x.write("\n")
	}
	x.blocks++
	switch kind {
	case trailingTorch:
		x.write(fmt.Sprintf("# %d bytes from offset %d: legacy PyTorch storage data, read raw by torch.load (not pickles)\n", n, off))
	case trailingFormat:
		x.write(fmt.Sprintf("# %d bytes from offset %d: %s (a polyglot: pickle.load stops before it)\n", n, off, what))
	default:
		x.write(fmt.Sprintf("# %d bytes from offset %d: not a pickle\n", n, off))
	}
}

func (x *explainer) line(s string) {
	x.buf.WriteString(s)
	x.buf.WriteByte('\n')
}

func (x *explainer) nameOf(v *value) (string, bool) {
	n, ok := x.names[v]
	return n, ok
}

// assign binds v to a new variable and writes "_varN = expr".
func (x *explainer) assign(v *value, expr, comment string) {
	name := "_var" + strconv.Itoa(x.vars)
	x.vars++
	s := name + " = " + expr
	if comment != "" {
		s += "  # " + comment
	}
	x.line(s)
	x.names[v] = name
}

func (x *explainer) event(ctx context.Context, m *machine, e *event) error {
	switch e.kind {
	case evImport:
		x.imported(e.v)
	case evCall:
		expr := x.render.render(e.v)
		x.assign(e.v, expr, "")
		return x.nested(ctx, e.v)
	case evPersID:
		x.assign(e.v, "persistent_load("+x.render.render(e.v.items[0])+")", "")
	case evMutate:
		x.mutated(e)
	case evArray:
		x.assign(e.v, "read_array("+x.render.render(e.v.items[0])+")",
			fmt.Sprintf("joblib: %d bytes of raw %s array data at offset %d, skipped", e.v.num, e.v.s, e.v.aux))
	case evSubPickle:
		x.line(fmt.Sprintf("# joblib object array: a nested pickle follows at offset %d", e.off))
		x.assign(e.v, "read_array("+x.render.render(e.v.items[0])+")", "the nested pickle's objects are listed below")
	case evTamper, evExpansion:
		x.line("# note: " + e.msg)
	}
	return nil
}

// imported writes the import of a global and binds a local name to it.
func (x *explainer) imported(v *value) {
	switch {
	case v.kind == kExt:
		if len(v.items) > 0 {
			g := v.items[0]
			x.imported(g)
			x.names[v] = x.names[g]
			x.line(fmt.Sprintf("# %s %d is %s, registered earlier with copyreg.add_extension", opName(v.op), v.num, written(g)))
			return
		}
		x.assign(v, fmt.Sprintf("copyreg._inverted_registry[%d]", v.num), opName(v.op)+": an import by number through the copyreg extension registry")
		return
	case v.flags&fDynamic != 0:
		x.assign(v, "find_class("+x.render.render(v.items[0])+", "+x.render.render(v.items[1])+")", "STACK_GLOBAL with computed arguments")
		return
	}
	module, name := v.target()
	parts := splitDots(name)
	if !dottedIdentifier(module) || !dottedIdentifier(name) {
		x.assign(v, "find_class("+pyStr(module, false, 0, 200)+", "+pyStr(name, false, 0, 200)+")", "")
		return
	}
	first := parts[0]
	key := module + "\x00" + first
	local, ok := x.imports[key]
	if !ok {
		local = first
		for i := 1; x.locals[local] != "" && x.locals[local] != key; i++ {
			local = first + "_" + strconv.Itoa(i)
		}
		x.locals[local] = key
		x.imports[key] = local
		if local == first {
			x.line("from " + module + " import " + first)
		} else {
			x.line("from " + module + " import " + first + " as " + local)
		}
	}
	x.names[v] = strings.Join(append([]string{local}, parts[1:]...), ".")
}

func dottedIdentifier(s string) bool {
	for _, p := range splitDots(s) {
		if !isIdentifier(p) {
			return false
		}
	}
	return s != ""
}

func (x *explainer) mutated(e *event) {
	t := x.render.render(e.target)
	switch e.op {
	case opBuild:
		x.line(t + ".__setstate__(" + x.render.render(e.arg) + ")")
	case opSetItem, opSetItems:
		a := e.arg
		for i := 0; i+1 < len(a.items); i += 2 {
			x.line(t + "[" + x.render.render(a.items[i]) + "] = " + x.render.render(a.items[i+1]))
		}
		if int64(len(a.items)/2) < a.num {
			x.line(fmt.Sprintf("# ... and %d more items", a.num-int64(len(a.items)/2)))
		}
	case opAppend:
		x.line(t + ".append(" + x.render.render(e.arg.items[0]) + ")")
	case opAppends:
		x.line(t + ".extend(" + strings.TrimSuffix(strings.TrimPrefix(x.render.render(e.arg), "("), ")") + ")")
	case opAddItems:
		for _, it := range e.arg.items {
			x.line(t + ".add(" + x.render.render(it) + ")")
		}
	}
}

// nested lists the constant payload of a nested deserializer inline.
func (x *explainer) nested(ctx context.Context, call *value) error {
	ce, ok := calleeOf(call)
	if !ok {
		return nil
	}
	arg := nestedPayloadArg(ce.path, ce.args)
	if arg == nil {
		return nil
	}
	p, ok := openPayload(x.ra, arg, 0)
	if !ok {
		return nil
	}
	if x.depth >= maxExplainDepth {
		x.line("# (a nested payload too deep to list)")
		return nil
	}
	ra, size := p.ra, p.size
	if ra == nil {
		data, err := io.ReadAll(io.LimitReader(p.r, maxDecode+1))
		if err != nil || len(data) > maxDecode {
			x.line("# (the nested payload does not decode, or is too large to list)")
			return nil
		}
		ra, size = bytes.NewReader(data), int64(len(data))
	}
	how := ""
	if p.how != "" {
		how = ", after " + p.how + " decoding"
	}
	x.line(fmt.Sprintf("# the %d-byte argument of %s%s, which it deserializes:", size, ce.path, how))
	var sub bytes.Buffer
	if err := explain(ctx, ra, size, &sub, x.depth+1); err != nil {
		return err
	}
	for _, l := range strings.SplitAfter(strings.TrimRight(sub.String(), "\n"), "\n") {
		x.buf.WriteString("#   " + strings.TrimRight(l, "\n") + "\n")
	}
	return nil
}
