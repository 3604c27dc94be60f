package pickle

import (
	"strconv"
	"strings"
)

// renderer writes values as Python-like expressions.
type renderer struct {
	// name, when set, returns how to refer to v instead of spelling it out
	// (Explain's variables and imported names).
	name     func(v *value) (string, bool)
	strLimit int // characters of a str or bytes shown
	items    int // items of a container shown
	depth    int // nesting levels shown
	budget   int // length of the whole rendering, roughly
}

// evidence renders values for findings: short, self-contained, with
// globals spelled as module.name.
var evidence = renderer{strLimit: 80, items: 8, depth: 6, budget: 400}

func (r *renderer) render(v *value) string {
	var b strings.Builder
	r.write(&b, v, 0)
	return b.String()
}

func (r *renderer) write(b *strings.Builder, v *value, depth int) {
	if v == nil {
		b.WriteString("?")
		return
	}
	if r.name != nil {
		if n, ok := r.name(v); ok {
			b.WriteString(n)
			return
		}
	}
	if depth > r.depth || b.Len() > r.budget {
		b.WriteString("...")
		return
	}
	switch v.kind {
	case kNone:
		b.WriteString("None")
	case kBool:
		if v.num != 0 {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case kInt:
		if v.flags&fBig != 0 {
			b.WriteString(v.s)
		} else {
			b.WriteString(strconv.FormatInt(v.num, 10))
		}
	case kFloat:
		b.WriteString(pyFloat(v.float()))
	case kStr:
		b.WriteString(pyStr(v.s, v.flags&fTrunc != 0, v.num, r.strLimit))
	case kBytes:
		b.WriteString(pyBytes(v.s, v.flags&fTrunc != 0, v.num, r.strLimit))
	case kByteArray:
		b.WriteString("bytearray(")
		b.WriteString(pyBytes(v.s, v.flags&fTrunc != 0, v.num, r.strLimit))
		b.WriteString(")")
	case kTuple:
		b.WriteString("(")
		r.writeItems(b, v, depth)
		if v.num == 1 {
			b.WriteString(",")
		}
		b.WriteString(")")
	case kList:
		b.WriteString("[")
		r.writeItems(b, v, depth)
		b.WriteString("]")
	case kDict:
		b.WriteString("{")
		r.writeItems(b, v, depth)
		b.WriteString("}")
	case kSet:
		if v.num == 0 {
			b.WriteString("set()")
			return
		}
		b.WriteString("{")
		r.writeItems(b, v, depth)
		b.WriteString("}")
	case kFrozenSet:
		if v.num == 0 {
			b.WriteString("frozenset()")
			return
		}
		b.WriteString("frozenset({")
		r.writeItems(b, v, depth)
		b.WriteString("})")
	case kGlobal:
		if v.flags&fDynamic != 0 {
			b.WriteString("STACK_GLOBAL(")
			r.write(b, v.items[0], depth+1)
			b.WriteString(", ")
			r.write(b, v.items[1], depth+1)
			b.WriteString(")")
			return
		}
		if v.num > 0 {
			b.WriteString(pyName(v.module()))
			b.WriteString(".")
		}
		b.WriteString(pyName(v.name()))
	case kExt:
		if len(v.items) > 0 && v.items[0] != nil {
			r.write(b, v.items[0], depth)
			return
		}
		b.WriteString("copyreg._inverted_registry[")
		b.WriteString(strconv.FormatInt(v.num, 10))
		b.WriteString("]")
	case kCall:
		r.writeCall(b, v, depth)
	case kPersID:
		b.WriteString("persistent_load(")
		r.write(b, v.items[0], depth+1)
		b.WriteString(")")
	case kBuffer:
		b.WriteString("next_buffer()")
	case kArray:
		b.WriteString("read_array(")
		r.write(b, v.items[0], depth+1)
		b.WriteString(")")
	}
}

// writeItems writes a container's kept items, "..." for the rest.
func (r *renderer) writeItems(b *strings.Builder, v *value, depth int) {
	shown := 0
	step := 1
	if v.kind == kDict {
		step = 2
	}
	for i := 0; i+step-1 < len(v.items); i += step {
		if shown >= r.items || b.Len() > r.budget {
			break
		}
		if shown > 0 {
			b.WriteString(", ")
		}
		r.write(b, v.items[i], depth+1)
		if step == 2 {
			b.WriteString(": ")
			r.write(b, v.items[i+1], depth+1)
		}
		shown++
	}
	if int64(shown) < v.num {
		if shown > 0 {
			b.WriteString(", ")
		}
		b.WriteString("...")
	}
}

// writeCall writes fn(args) for REDUCE, OBJ and INST and
// fn.__new__(fn, args) for NEWOBJ and NEWOBJ_EX.
func (r *renderer) writeCall(b *strings.Builder, v *value, depth int) {
	fn := v.fn()
	newobj := v.op == opNewObj || v.op == opNewObjEx
	r.writeCallee(b, fn, depth)
	if newobj {
		b.WriteString(".__new__(")
		r.writeCallee(b, fn, depth)
	} else {
		b.WriteString("(")
	}
	n := 0
	if newobj {
		n = 1
	}
	args := v.items[callArgs]
	switch {
	case args == nil:
	case args.kind == kTuple:
		for i, a := range args.items {
			if i >= r.items || b.Len() > r.budget {
				b.WriteString(", ...")
				break
			}
			if n > 0 {
				b.WriteString(", ")
			}
			r.write(b, a, depth+1)
			n++
		}
		if int64(len(args.items)) < args.num && len(args.items) < r.items {
			b.WriteString(", ...")
		}
	default:
		if n > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*")
		r.write(b, args, depth+1)
		n++
	}
	if kw := v.items[callKwargs]; kw != nil {
		if kw.kind == kDict && kw.flags&fTrunc == 0 && allStrKeys(kw) {
			for i := 0; i+1 < len(kw.items); i += 2 {
				if n > 0 {
					b.WriteString(", ")
				}
				k, _ := kw.items[i].str()
				b.WriteString(k)
				b.WriteString("=")
				r.write(b, kw.items[i+1], depth+1)
				n++
			}
		} else {
			if n > 0 {
				b.WriteString(", ")
			}
			b.WriteString("**")
			r.write(b, kw, depth+1)
		}
	}
	b.WriteString(")")
}

// writeCallee writes the callable of a call, parenthesised when it is not
// a plain name or call.
func (r *renderer) writeCallee(b *strings.Builder, fn *value, depth int) {
	if fn == nil {
		b.WriteString("?")
		return
	}
	if r.name == nil {
		switch fn.kind {
		case kGlobal, kCall, kExt, kPersID:
		default:
			b.WriteString("(")
			r.write(b, fn, depth+1)
			b.WriteString(")")
			return
		}
	}
	r.write(b, fn, depth+1)
}

func allStrKeys(d *value) bool {
	for i := 0; i < len(d.items); i += 2 {
		s, ok := d.items[i].str()
		if !ok || !isIdentifier(s) {
			return false
		}
	}
	return true
}

// isIdentifier reports whether s is an ASCII Python identifier.
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
