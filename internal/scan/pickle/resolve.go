package pickle

// Symbolic resolution of what a value refers to and what a call reaches.
// A payload rarely names os.system directly; it fetches it with getattr,
// imports a module with __import__, or wraps it in functools.partial or
// operator.methodcaller. These helpers follow such chains through call
// results whose callables and arguments are known.

// maxResolveDepth bounds the chains followed (values can be cyclic).
const maxResolveDepth = 16

// importFuncs return the module (or module:attribute) their first
// argument names.
var importFuncs = setOf(
	"importlib.import_module", "importlib._bootstrap._gcd_import", "_frozen_importlib._gcd_import",
	"importlib._bootstrap._find_and_load", "_frozen_importlib._find_and_load",
	"pkgutil.resolve_name", "pydoc.locate", "sys.modules.get", "sys.modules.__getitem__",
)

// refOf returns the canonical dotted path v refers to: an imported global,
// a module an import function returned, or an attribute fetched by name
// from either.
func refOf(v *value, depth int) (string, bool) {
	if v == nil || depth > maxResolveDepth {
		return "", false
	}
	switch v.kind {
	case kGlobal:
		if v.flags&fDynamic != 0 {
			return "", false
		}
		return v.path(), true
	case kExt:
		if len(v.items) > 0 {
			return refOf(v.items[0], depth+1)
		}
	case kCall:
		fn := v.fn()
		if fn.kind == kCall {
			// operator.attrgetter('a.b')(obj) is obj.a.b.
			if p, ok := refOf(fn.fn(), depth+1); ok && p == "operator.attrgetter" {
				attr, ok1 := fn.arg(0).str()
				base, ok2 := refOf(v.arg(0), depth+1)
				if ok1 && ok2 {
					return canonicalPath(base + "." + attr), true
				}
			}
			return "", false
		}
		p, ok := refOf(fn, depth+1)
		if !ok {
			return "", false
		}
		switch p {
		case "builtins.getattr", "inspect.getattr_static":
			attr, ok1 := v.arg(1).str()
			base, ok2 := refOf(v.arg(0), depth+1)
			if ok1 && ok2 {
				return canonicalPath(base + "." + attr), true
			}
		case "operator.getitem":
			// sys.modules['os']
			if base, ok := refOf(v.arg(0), depth+1); ok && base == "sys.modules" {
				if name, ok := v.arg(1).str(); ok {
					return canonicalPath(name), true
				}
			}
		case "numpy.core._ufunc_reconstruct", "numpy._core._ufunc_reconstruct":
			// __import__(module, fromlist=[name]) then getattr: how NumPy
			// pickles ufuncs, and a way to import anything.
			mod, ok1 := v.arg(0).str()
			name, ok2 := v.arg(1).str()
			if ok1 && ok2 && mod != "" && name != "" {
				return canonicalPath(mod + "." + name), true
			}
		case "builtins.__import__", "importlib.__import__":
			name, ok := v.arg(0).str()
			if !ok || name == "" {
				return "", false
			}
			if !truthy(v.arg(3)) {
				// Without a fromlist __import__('a.b') returns package a.
				name = splitDots(name)[0]
			}
			return canonicalPath(name), true
		default:
			if importFuncs[p] {
				name, ok := v.arg(0).str()
				if !ok || name == "" || name[0] == '.' {
					return "", false
				}
				for i := 0; i < len(name); i++ {
					if name[i] == ':' {
						name = name[:i] + "." + name[i+1:]
					}
				}
				return canonicalPath(name), true
			}
		}
	}
	return "", false
}

// truthy reports whether a constant is true in Python terms (unknown
// values count as true).
func truthy(v *value) bool {
	if v == nil {
		return false
	}
	switch v.kind {
	case kNone:
		return false
	case kBool, kInt:
		return v.num != 0 || v.flags&fBig != 0
	case kStr, kBytes, kByteArray:
		return v.num != 0
	case kTuple, kList, kDict, kSet, kFrozenSet:
		return v.num != 0
	}
	return true
}

// reach returns what calling v invokes, with the arguments bound before
// the call (functools.partial).
func reach(v *value, depth int) (string, []*value, bool) {
	if v == nil || depth > maxResolveDepth {
		return "", nil, false
	}
	if p, ok := refOf(v, depth); ok {
		return p, nil, true
	}
	if isPartial(v, depth) {
		fn, args := partialParts(v)
		inner, bound, ok := reach(fn, depth+1)
		if !ok {
			return "", nil, false
		}
		if len(args) > 0 {
			bound = append(append([]*value(nil), bound...), args...)
		}
		return inner, bound, true
	}
	return "", nil, false
}

// partialTypes build callables that call the function they wrap.
var partialTypes = setOf("functools.partial", "functools.partialmethod")

// isPartial reports whether v is a functools.partial (or partialmethod)
// the pickle built.
func isPartial(v *value, depth int) bool {
	if v == nil || v.kind != kCall {
		return false
	}
	p, ok := refOf(v.fn(), depth+1)
	return ok && partialTypes[p]
}

// partialParts returns the function a partial calls and the positional
// arguments it binds. partial.__setstate__ (BUILD with the state tuple
// (func, args, kwds, dict) that partial.__reduce__ writes) replaces both,
// so a BUILD state wins over the constructor's arguments.
func partialParts(v *value) (*value, []*value) {
	if st := v.items[callState]; st != nil && st.kind == kTuple && len(st.items) > 0 && st.items[0] != nil {
		var args []*value
		if len(st.items) > 1 && st.items[1] != nil && st.items[1].kind == kTuple {
			args = st.items[1].items
		}
		return st.items[0], args
	}
	args := v.args()
	if len(args) == 0 {
		return nil, nil
	}
	return args[0], args[1:]
}

// instanceCreators build an instance of the class in their first argument.
var instanceCreators = setOf("copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__")

// instanceClass returns the class global of which v is an instance the
// pickle built: cls(...), cls.__new__(cls, ...) (NEWOBJ) or
// copyreg._reconstructor(cls, ...).
func instanceClass(v *value) (*value, bool) {
	if v == nil || v.kind != kCall {
		return nil, false
	}
	fn := v.fn()
	if fn.kind != kGlobal || fn.flags&fDynamic != 0 {
		return nil, false
	}
	if instanceCreators[fn.path()] {
		fn = v.arg(0)
		if fn == nil || fn.kind != kGlobal || fn.flags&fDynamic != 0 {
			return nil, false
		}
	}
	return fn, true
}

// instanceAttr recognises getattr(obj, 'name') where obj is an instance
// the pickle built of the class global cls and name a constant: it
// returns cls and name.
func instanceAttr(v *value) (cls *value, name string, ok bool) {
	if v == nil || v.kind != kCall || len(v.args()) < 2 || len(v.args()) > 3 {
		return nil, "", false
	}
	if p, ok := refOf(v.fn(), 0); !ok || p != "builtins.getattr" {
		return nil, "", false
	}
	name, ok = v.arg(1).str()
	if !ok || !isIdentifier(name) {
		return nil, "", false
	}
	cls, ok = instanceClass(v.arg(0))
	return cls, name, ok
}

// callee is what a call invokes once wrappers are seen through.
type callee struct {
	path string   // canonical dotted path of the callable
	args []*value // the positional arguments it receives
	via  string   // the wrapper, if any ("functools.partial", "operator.methodcaller")
}

// calleeOf resolves what call invokes.
func calleeOf(call *value) (callee, bool) {
	fn := call.fn()
	if p, bound, ok := reach(fn, 0); ok {
		args := call.args()
		if bound != nil {
			args = append(bound, args...)
		}
		return callee{path: p, args: args, via: wrapperName(fn)}, true
	}
	// operator.methodcaller(name, *args)(obj) calls obj.name(*args).
	if fn.kind == kCall {
		if p, ok := refOf(fn.fn(), 0); ok && p == "operator.methodcaller" {
			name, ok1 := fn.arg(0).str()
			base, ok2 := refOf(call.arg(0), 0)
			if ok1 && ok2 {
				var args []*value
				if a := fn.args(); len(a) > 1 {
					args = a[1:]
				}
				return callee{path: canonicalPath(base + "." + name), args: args, via: "operator.methodcaller"}, true
			}
		}
	}
	return callee{}, false
}

// wrapperName names the wrapper or gadget that produced fn.
func wrapperName(fn *value) string {
	if fn.kind != kCall {
		return ""
	}
	if p, ok := refOf(fn.fn(), 0); ok {
		return p
	}
	return ""
}
