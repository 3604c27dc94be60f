package pickle

import (
	"strings"

	"github.com/palisade-sec/palisade/internal/scan"
)

// The allow and deny lists. Sources: the picklescan, modelscan and fickling
// lists (docs: ../shared/specs/model-scanning.md sections 3 and 4), every
// published bypass of them, and the globals real PyTorch, NumPy, joblib,
// scikit-learn, pandas and transformers pickles contain. Entries use
// canonical names (after moduleAliases): posix.system is listed as
// os.system, __builtin__.eval as builtins.eval.

// allowList holds exact known-safe globals. No entry may be covered by a
// deny entry (a test checks).
var allowList = setOf(
	// Python: containers, scalars and the helpers pickle itself emits.
	"builtins.set", "builtins.frozenset", "builtins.bytearray", "builtins.bytes", "builtins.str",
	"builtins.int", "builtins.float", "builtins.complex", "builtins.bool", "builtins.list",
	"builtins.tuple", "builtins.dict", "builtins.slice", "builtins.range", "builtins.object",
	"builtins.len", "builtins.abs", "builtins.sum", "builtins.min", "builtins.max", "builtins.round",
	"builtins.pow", "builtins.divmod", "builtins.sorted", "builtins.reversed", "builtins.enumerate",
	"builtins.zip", "builtins.map", "builtins.filter", "builtins.iter", "builtins.next", "builtins.all",
	"builtins.any", "builtins.hash", "builtins.id", "builtins.repr", "builtins.ascii", "builtins.bin",
	"builtins.hex", "builtins.oct", "builtins.ord", "builtins.chr", "builtins.isinstance",
	"builtins.issubclass", "builtins.callable", "builtins.format", "builtins.memoryview",
	"builtins.NotImplemented", "builtins.Ellipsis",
	"builtins.BaseException", "builtins.Exception", "builtins.ValueError", "builtins.TypeError",
	"builtins.KeyError", "builtins.IndexError", "builtins.AttributeError", "builtins.RuntimeError",
	"builtins.NotImplementedError", "builtins.StopIteration", "builtins.AssertionError",
	"builtins.ArithmeticError", "builtins.ZeroDivisionError", "builtins.OverflowError",
	"builtins.LookupError", "builtins.OSError", "builtins.IOError", "builtins.EOFError",
	"builtins.ImportError", "builtins.ModuleNotFoundError", "builtins.NameError",
	"builtins.UnicodeError", "builtins.UnicodeDecodeError", "builtins.UnicodeEncodeError",
	"builtins.Warning", "builtins.UserWarning", "builtins.DeprecationWarning",
	"builtins.FutureWarning", "builtins.RuntimeWarning",
	"collections.OrderedDict", "collections.defaultdict", "collections.deque", "collections.Counter",
	"collections.ChainMap",
	"copyreg._reconstructor", "copyreg.__newobj__", "copyreg.__newobj_ex__",
	"_codecs.encode", "io.BytesIO", "io.StringIO",
	"datetime.datetime", "datetime.date", "datetime.time", "datetime.timedelta", "datetime.timezone",
	"datetime.tzinfo",
	"decimal.Decimal", "fractions.Fraction", "uuid.UUID", "argparse.Namespace", "types.SimpleNamespace",
	"re._compile", "array.array", "array._array_reconstructor",
	"pathlib.Path", "pathlib.PosixPath", "pathlib.WindowsPath", "pathlib.PurePath",
	"pathlib.PurePosixPath", "pathlib.PureWindowsPath",
	"pathlib._local.Path", "pathlib._local.PosixPath", "pathlib._local.WindowsPath",
	"pathlib._local.PurePath", "pathlib._local.PurePosixPath", "pathlib._local.PureWindowsPath",

	// PyTorch tensors, storages, dtypes and layouts.
	"torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
	"torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
	"torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor",
	"torch._utils._rebuild_sparse_csr_tensor", "torch._utils._rebuild_nested_tensor",
	"torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_meta_tensor_no_storage",
	"torch._utils._rebuild_wrapper_subclass", "torch._utils._rebuild_xla_tensor",
	"torch._utils._rebuild_mps_tensor", "torch._utils._rebuild_device_tensor_from_cpu_tensor",
	"torch._tensor._rebuild_from_type", "torch._tensor._rebuild_from_type_v2",
	"torch.serialization._get_layout",
	"torch.Size", "torch.device", "torch.Tensor", "torch._tensor.Tensor",
	"torch.nn.parameter.Parameter", "torch.nn.Parameter", "torch.nn.parameter.Buffer",
	"torch.nn.parameter.UninitializedParameter", "torch.nn.parameter.UninitializedBuffer",
	"torch.storage.UntypedStorage", "torch.storage.TypedStorage", "torch.storage._TypedStorage",
	"torch.UntypedStorage", "torch.TypedStorage",
	"torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage",
	"torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage",
	"torch.ByteStorage", "torch.BoolStorage", "torch.ComplexFloatStorage", "torch.ComplexDoubleStorage",
	"torch.QUInt8Storage", "torch.QInt8Storage", "torch.QInt32Storage", "torch.QUInt4x2Storage",
	"torch.QUInt2x4Storage",
	"torch.cuda.FloatStorage", "torch.cuda.DoubleStorage", "torch.cuda.HalfStorage",
	"torch.cuda.BFloat16Storage", "torch.cuda.LongStorage", "torch.cuda.IntStorage",
	"torch.cuda.ShortStorage", "torch.cuda.CharStorage", "torch.cuda.ByteStorage",
	"torch.cuda.BoolStorage",
	"torch.float32", "torch.float", "torch.float64", "torch.double", "torch.float16", "torch.half",
	"torch.bfloat16", "torch.complex32", "torch.complex64", "torch.cfloat", "torch.complex128",
	"torch.cdouble", "torch.uint8", "torch.uint16", "torch.uint32", "torch.uint64", "torch.int8",
	"torch.int16", "torch.short", "torch.int32", "torch.int", "torch.int64", "torch.long",
	"torch.bool", "torch.qint8", "torch.quint8", "torch.qint32", "torch.quint4x2", "torch.quint2x4",
	"torch.float8_e4m3fn", "torch.float8_e5m2", "torch.float8_e4m3fnuz", "torch.float8_e5m2fnuz",
	"torch.strided", "torch.sparse_coo", "torch.sparse_csr", "torch.sparse_csc", "torch.sparse_bsr",
	"torch.sparse_bsc", "torch._mkldnn", "torch.contiguous_format", "torch.channels_last",
	"torch.channels_last_3d", "torch.preserve_format", "torch.per_tensor_affine",
	"torch.per_channel_affine", "torch.per_tensor_symmetric", "torch.per_channel_symmetric",
	"torch.per_channel_affine_float_qparams",

	// NumPy arrays, dtypes, scalars and random states.
	"numpy.ndarray", "numpy.dtype", "numpy.matrix",
	"numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
	"numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
	"numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
	"numpy.ma.core._mareconstruct", "numpy.matrixlib.defmatrix.matrix",
	"numpy.random._pickle.__randomstate_ctor", "numpy.random._pickle.__generator_ctor",
	"numpy.random._pickle.__bit_generator_ctor", "numpy.random.mtrand.RandomState",
	"numpy.random.__RandomState_ctor", "numpy.random.mtrand.__RandomState_ctor",
	"numpy.random._mt19937.MT19937", "numpy.random._pcg64.PCG64", "numpy.random._pcg64.PCG64DXSM",
	"numpy.random._philox.Philox", "numpy.random._sfc64.SFC64", "numpy.random._generator.Generator",
	"numpy.random.bit_generator.SeedSequence",
	"numpy.bool_", "numpy.bool", "numpy.int8", "numpy.int16", "numpy.int32", "numpy.int64",
	"numpy.uint8", "numpy.uint16", "numpy.uint32", "numpy.uint64", "numpy.intc", "numpy.uintc",
	"numpy.longlong", "numpy.ulonglong", "numpy.float16", "numpy.float32", "numpy.float64",
	"numpy.float128", "numpy.half", "numpy.single", "numpy.double", "numpy.longdouble",
	"numpy.complex64", "numpy.complex128", "numpy.complex256", "numpy.csingle", "numpy.cdouble",
	"numpy.clongdouble", "numpy.str_", "numpy.bytes_", "numpy.void", "numpy.object_",
	"numpy.datetime64", "numpy.timedelta64",

	// joblib, SciPy sparse matrices, pandas unpickling helpers.
	"joblib.numpy_pickle.NumpyArrayWrapper",
	"scipy.sparse._csr.csr_matrix", "scipy.sparse._csc.csc_matrix", "scipy.sparse._coo.coo_matrix",
	"scipy.sparse.csr.csr_matrix", "scipy.sparse.csc.csc_matrix", "scipy.sparse.coo.coo_matrix",
	"scipy.sparse._csr.csr_array", "scipy.sparse._csc.csc_array", "scipy.sparse._coo.coo_array",
	"pandas._libs.internals._unpickle_block", "pandas.core.internals.blocks.new_block",
	"pandas.core.indexes.base._new_Index", "pandas._libs.tslibs.timestamps._unpickle_timestamp",
	"pandas._libs.tslibs.timedeltas._timedelta_unpickle", "pandas._libs.tslibs.nattype.__nat_unpickle",
	"pandas._libs.arrays.__pyx_unpickle_NDArrayBacked",
)

// torchScriptHelpers are the functions TorchScript archives (torch.jit.save)
// pickle to rebuild typed lists and tensors. They live under torch.jit, which
// the deny list covers as a whole, so they are admitted by this separate,
// exact list: each only builds a list or tensor from its arguments, both
// under torch.jit.load's restricted C++ unpickler and under Python's.
var torchScriptHelpers = setOf(
	"torch.jit._pickle.build_intlist", "torch.jit._pickle.build_tensorlist",
	"torch.jit._pickle.build_doublelist", "torch.jit._pickle.build_boollist",
	"torch.jit._pickle.build_tensor_from_id", "torch.jit._pickle.restore_type_tag",
)

// torchScriptClassRoot is the module under which TorchScript archives name
// their compiled classes (__torch__.torch.nn.modules.linear.Linear).
// torch.jit.load resolves these to compiled TorchScript classes, not Python
// imports, and Python's unpickler fails on them because no module of that
// name exists.
const torchScriptClassRoot = "__torch__"

// frameworkTier admits the classes (not functions) of framework modules
// whose classes only store state when unpickled: estimators, data frames,
// configuration and enum classes, neural-network modules. A class a deny
// entry covers is never admitted.
var frameworkTier = []tier{
	{prefix: "sklearn.", exclude: []string{"sklearn.datasets", "sklearn.utils._testing", "sklearn.externals", "sklearn.experimental", "sklearn.conftest"}},
	{prefix: "pandas.", exclude: []string{"pandas.io", "pandas.core.computation", "pandas.testing", "pandas._testing", "pandas.util", "pandas.conftest"}},
	{prefix: "transformers.", modules: []string{"configuration_", "training_args", "trainer_utils", "trainer_callback", "generic", "debug_utils", "quantization_config"}},
	{prefix: "torch.nn.modules."},
	{prefix: "torch.optim."},
	{prefix: "numpy.dtypes.", suffix: "DType"},
}

// denyEntry ranks a deny-list entry.
type denyEntry struct {
	sev  scan.Severity
	what string // completes "X ..." in a finding message
}

const (
	whatExec       = "runs code or shell commands"
	whatImport     = "imports modules or reaches attributes by name, so it can reach any callable"
	whatWrapper    = "calls, or fetches attributes and items of, objects it is given (a gadget for reaching any callable)"
	whatDeserial   = "deserializes nested data, which can run code"
	whatInstall    = "installs or builds packages"
	whatTamper     = "imports a model scanner, which a payload can disable (scanner tampering)"
	whatNetwork    = "opens network connections or URLs"
	whatFile       = "reads, writes or deletes files"
	whatLoader     = "loads another model file, which can run code"
	whatIntrospect = "reaches interpreter internals (loaded modules, every object)"
	whatState      = "changes interpreter or process state"
	whatBlock      = "blocks on the terminal or exits the process"
	whatImportRun  = "runs code when imported or launches a program"
)

// denyList maps dotted paths to entries. An entry covers its path and
// everything below it (submodules and attributes), and matches at every
// component of a global: "gzip.os.system" is covered by "os".
var denyList = func() map[string]denyEntry {
	m := map[string]denyEntry{}
	add := func(sev scan.Severity, what string, paths ...string) {
		for _, p := range paths {
			m[p] = denyEntry{sev: sev, what: what}
		}
	}
	crit, high, med := scan.SeverityCritical, scan.SeverityHigh, scan.SeverityMedium

	// Code and command execution.
	add(crit, whatExec,
		"os", "subprocess", "_posixsubprocess", "pty", "pipes", "popen2", "runpy", "code", "codeop",
		"marshal", "ctypes", "cffi", "_winapi", "msvcrt", "_overlapped", "platform", "site",
		"builtins.eval", "builtins.exec", "builtins.execfile", "builtins.compile",
		"builtins.__build_class__", "builtins.breakpoint", "builtins.apply",
		"eval", "exec", "execfile", "system", "popen", "spawnv", "spawnve", "execv", "execve",
		"types.CodeType", "types.FunctionType", "types.LambdaType", "types.MethodType",
		"types.ModuleType", "types.new_class", "types.CellType", "types.coroutine",
		"pdb", "bdb", "cProfile", "profile", "_lsprof", "trace", "timeit", "doctest", "idlelib",
		"lib2to3", "turtledemo", "unittest", "test", "_osx_support", "_aix_support", "_pyrepl",
		"mailcap", "imaplib.IMAP4_stream", "multiprocessing", "_multiprocessing", "asyncio",
		"threading", "_thread", "atexit", "_interpreters", "_xxsubinterpreters", "interpreters",
		"concurrent.interpreters", "_interpqueues", "_interpchannels", "_xxinterpchannels",
		"uuid._get_command_stdout", "uuid._popen", "uuid.getnode", "uuid.uuid1", "uuid._find_mac",
		"uuid._find_mac_near_keyword", "uuid._find_mac_under_heading", "uuid._ifconfig_getnode",
		"uuid._ip_getnode", "uuid._arp_getnode", "uuid._lanscan_getnode", "uuid._netstat_getnode",
		"uuid._ipconfig_getnode", "uuid._netbios_getnode", "uuid._unix_getnode",
		"uuid._windll_getnode", "uuid._load_system_functions", "uuid._generate_time_safe",
		"logging.config", "IPython", "ipykernel", "jupyter_client", "pexpect", "sh", "plumbum",
		"loky",
		"torch.hub", "torch.jit", "torch._dynamo", "torch._inductor", "torch.compile",
		"torch.fx.experimental.symbolic_shapes.ShapeEnv.evaluate_guards_expression",
		"torch.utils.collect_env", "torch.utils.bottleneck", "torch.utils._config_module",
		"torch.utils.cpp_extension", "torch.package", "torch.distributed", "torch.multiprocessing",
		"torch.ops.load_library", "torch.classes.load_library", "torch.testing._internal",
		"numpy.f2py", "numpy.testing", "numpy.distutils", "numpy.ctypeslib",
		"pandas.eval", "pandas.core.computation", "query",
		"sklearn.utils._testing", "mlflow.projects",
	)
	// Import machinery and attribute gadgets.
	add(crit, whatImport,
		"builtins.__import__", "builtins.getattr", "builtins.setattr", "builtins.delattr",
		"builtins.globals", "builtins.locals", "builtins.vars", "builtins.reload",
		"__import__", "getattr", "setattr", "getattr_static",
		"importlib", "importlib_metadata", "imp", "_imp", "zipimport", "_frozen_importlib",
		"_frozen_importlib_external", "pkgutil", "pkg_resources", "pydoc", "inspect",
		"copyreg.add_extension", "copyreg.remove_extension", "copyreg.clear_extension_cache",
	)
	add(crit, whatIntrospect, "sys", "gc")
	// Code execution from source text or files that library helpers
	// compile and exec or eval.
	add(crit, whatExec,
		"torch.fx.graph_module.reduce_graph_module", "torch.fx.graph_module.reduce_package_graph_module",
		"torch.fx.graph_module.reduce_deploy_graph_module", "torch.fx.graph_module._deserialize_graph_module",
		"torch.fx.graph_module._forward_from_src", "torch.fx.graph_module._method_from_src",
		"torch.fx.graph_module._exec_with_source", "_forward_from_src", "_method_from_src",
		"_exec_with_source",
		"typing._eval_type", "typing.get_type_hints", "typing.evaluate_forward_ref",
		"typing_extensions._eval_type", "typing_extensions.get_type_hints",
		"typing_extensions.evaluate_forward_ref", "ForwardRef._evaluate", "ForwardRef.evaluate",
		"annotationlib",
		"dataclasses._create_fn", "dataclasses._FuncBuilder", "attr._make._make_method",
		"attr._make._linecache_and_compile",
		"npy_load_module", "numpy.compat.py3k.npy_load_module", "numpy.compat.npy_load_module",
		"torch.utils.benchmark",
		"torch._ops.ops.load_library", "torch._ops.ops.import_module", "torch._ops._Ops",
		"torch.ops.import_module", "torch._classes.classes.load_library", "torch._classes._Classes",
		"load_library", "load_op_library", "tensorflow.load_library", "tensorflow.load_op_library",
	)
	// Import by name.
	add(crit, whatImport,
		"_import_dotted_name", "torch._utils._import_dotted_name", "torch._utils._type",
		"import_optional_dependency", "pandas.compat._optional.import_optional_dependency",
		"warnings._getcategory", "warnings._setoption", "warnings._processoptions",
		"_py_warnings._getcategory", "_py_warnings._setoption", "_py_warnings._processoptions",
		"numpy.lib.utils.lookfor", "numpy.lib.utils._lookfor_generate_cache",
		"hydra.utils.get_method", "hydra.utils.get_class", "hydra.utils.get_object",
		"hydra.utils.instantiate", "hydra.utils.call", "hydra._internal.utils._locate",
		"django.utils.module_loading.import_string", "werkzeug.utils.import_string",
		"transformers.dynamic_module_utils",
		// string.Formatter walks attributes and items named in a field:
		// get_field('0.system', (os,), {}) returns os.system.
		"string.Formatter.get_field", "string.Formatter.get_value", "string.Formatter.vformat",
		"string.Formatter._vformat", "string.Formatter.format", "string.Formatter.format_field",
		"_string.formatter_field_name_split",
	)
	// Model downloaders that torch.load what they fetch.
	add(crit, whatLoader+" from a URL",
		"torch.utils.model_zoo", "load_state_dict_from_url", "torch.hub.load_state_dict_from_url",
		"torchvision.models.utils", "torchvision._internally_replaced_utils",
	)
	add(crit, whatWrapper, "operator", "functools")
	// Nested deserializers.
	add(crit, whatDeserial,
		"pickle", "dill", "cloudpickle", "shelve", "jsonpickle",
		"yaml.load", "yaml.load_all", "yaml.unsafe_load", "yaml.unsafe_load_all", "yaml.full_load",
		"yaml.full_load_all", "yaml.UnsafeLoader", "yaml.Loader", "yaml.FullLoader",
		"yaml.unsafe_load", "numpy.loads", "numpy.core.numeric.loads", "numpy.ma.loads",
		"numpy.ma.core.loads", "torch.storage._load_from_bytes",
		"torch.utils.data.datapipes.utils.decoder",
		// pickle.loads behind other names: pandas' compatibility
		// unpickler and pickle._Unpickler re-exported as Unpickler.
		"pandas.compat.pickle_compat", "Unpickler", "_Unpickler",
		"joblib.numpy_pickle_utils.Unpickler", "joblib.numpy_pickle.Unpickler",
		"joblib.numpy_pickle_compat.Unpickler",
	)
	// Package installers and build tools.
	add(crit, whatInstall, "pip", "ensurepip", "venv", "virtualenv", "distutils", "_distutils_hack",
		"setuptools", "pipx", "conda")
	// Scanner tampering.
	add(crit, whatTamper, "picklescan", "modelscan", "fickling", "model_unpickler", "saferpickle",
		"modelaudit", "palisade")
	// Nested model loaders (a file path, or bytes through io.BytesIO).
	add(high, whatLoader,
		"torch.load", "torch.serialization.load", "torch.serialization._load",
		"torch.serialization._legacy_load", "joblib.load", "joblib.numpy_pickle.load",
		"joblib.numpy_pickle.NumpyUnpickler", "joblib.numpy_pickle.load_compatibility",
		"numpy.load", "numpy.lib.npyio.load", "numpy.lib._npyio_impl.load",
		"numpy.lib.format.read_array", "numpy.lib.format.open_memmap",
		"pandas.read_pickle", "pandas.io.pickle",
		"keras.models.load_model", "keras.saving.load_model", "keras.saving.saving_api.load_model",
		"keras.src.saving.saving_api.load_model", "keras.saving.saving_lib.load_model",
		"tensorflow.keras.models.load_model", "tf_keras.models.load_model",
		"tensorflow.saved_model.load", "from_pretrained",
		"mlflow.pyfunc.load_model", "mlflow.pytorch.load_model", "mlflow.sklearn.load_model",
		// scikit-learn's re-export of joblib (joblib.load among it).
		"sklearn.utils._joblib", "sklearn.utils.joblib",
	)
	add(med, "reads arrays from files named in the pickle (pre-0.10 joblib format)",
		"joblib.numpy_pickle_compat")
	// Network.
	add(high, whatNetwork,
		"socket", "ssl", "socketserver", "asynchat", "asyncore", "http", "urllib", "urllib3",
		"requests", "httpx", "aiohttp", "httplib2", "pycurl", "smtplib", "smtpd", "ftplib", "poplib",
		"nntplib", "telnetlib", "xmlrpc", "webbrowser", "antigravity", "wsgiref", "imaplib", "paramiko",
		"huggingface_hub", "dns", "sklearn.datasets", "urllib2", "httplib", "xmlrpclib", "SocketServer",
		"BaseHTTPServer", "SimpleHTTPServer", "CGIHTTPServer", "cookielib", "pandas.io.common", "pandas.io.html",
		"pandas.io.parsers", "pandas.io.json", "pandas.io.sql", "pandas.io.excel",
		"pandas.io.clipboards", "pandas.io.clipboard", "pandas.io.gbq", "pandas.io.parquet",
		"pandas.io.feather_format", "pandas.io.orc", "pandas.io.xml", "pandas.io.stata",
		"pandas.io.sas", "pandas.io.spss", "pandas.io.pytables",
		"pandas.read_csv", "pandas.read_table", "pandas.read_fwf", "pandas.read_json",
		"pandas.read_html", "pandas.read_xml", "pandas.read_excel", "pandas.read_sql",
		"pandas.read_sql_query", "pandas.read_sql_table", "pandas.read_parquet",
		"pandas.read_feather", "pandas.read_orc", "pandas.read_hdf", "pandas.read_stata",
		"pandas.read_sas", "pandas.read_spss", "pandas.read_clipboard", "pandas.read_gbq",
		"numpy.DataSource", "numpy.lib._datasource", "numpy.lib.npyio.DataSource",
		"torchvision.datasets.utils", "xml.sax.parse", "xml.sax.parseString", "xml.dom.pulldom",
	)
	// File system.
	add(high, whatFile,
		"builtins.open", "builtins.file", "io.FileIO", "io.open", "io.open_code", "codecs.open",
		"codecs.EncodedFile", "logging.FileHandler", "logging.handlers", "shutil", "tempfile",
		"tarfile", "zipfile", "zipapp", "glob", "fileinput", "filecmp", "linecache", "mmap",
		"sqlite3", "dbm", "anydbm", "dumbdbm", "gdbm", "dbhash", "whichdb", "netrc", "mailbox",
		"py_compile", "compileall",
		"gzip.open", "gzip.GzipFile", "bz2.open", "bz2.BZ2File", "lzma.open", "lzma.LZMAFile",
		"importlib_resources", "tensorflow.io", "tensorflow.compat.v1.gfile",
		"numpy.save", "numpy.savez", "numpy.savez_compressed", "numpy.savetxt", "numpy.loadtxt",
		"numpy.genfromtxt", "numpy.fromfile", "numpy.fromregex", "numpy.memmap",
		"numpy.ndarray.tofile", "numpy.ndarray.dump", "numpy.lib.npyio", "numpy.lib._npyio_impl",
		"joblib.dump", "joblib.numpy_pickle.dump", "torch.save", "torch.serialization.save",
		"numpy.core.memmap", "numpy._core.memmap", "numpy.core.records.fromfile",
		"numpy._core.records.fromfile", "numpy.rec.fromfile", "numpy.recarray.tofile",
		"numpy.core.multiarray.fromfile", "numpy._core.multiarray.fromfile",
		"numpy.lib.format.write_array", "numpy.matrix.tofile", "numpy.matrix.dump",
		"wave", "aifc", "sunau", "sndhdr", "imghdr",
		"xml.etree.ElementInclude", "xml.dom.minidom.parse", "torch.utils.tensorboard",
		"torch.utils.hipify",
	)
	// ElementTree reads and writes files by name, under every spelling.
	for _, mod := range []string{"xml.etree.ElementTree", "xml.etree.cElementTree", "_elementtree"} {
		for _, fn := range []string{"ElementTree.write", "ElementTree.parse", "parse", "iterparse", "ElementTree._write"} {
			add(high, whatFile, mod+"."+fn)
		}
	}
	// pandas writers: DataFrame.to_csv(path) and the like write files (a
	// .pth file in site-packages runs code at the next start), to_sql and
	// to_gbq reach databases and the network, to_clipboard runs a program.
	for _, cls := range []string{"DataFrame", "Series", "NDFrame", "Styler", "DataFrameRenderer"} {
		for _, meth := range []string{"to_csv", "to_pickle", "to_parquet", "to_json", "to_excel", "to_hdf",
			"to_sql", "to_feather", "to_stata", "to_orc", "to_html", "to_latex", "to_markdown", "to_xml",
			"to_clipboard", "to_gbq", "to_string"} {
			add(high, whatFile, cls+"."+meth)
		}
	}
	// Interpreter and process state.
	add(high, whatState, "signal", "winreg", "resource", "tkinter",
		"copyreg.pickle", "copyreg.constructor", "copyreg._extension_registry",
		"copyreg._inverted_registry", "copyreg.dispatch_table",
	)
	// pathlib's classes are allowed (paths are common in configurations);
	// their methods that touch the file system are not.
	for _, cls := range []string{"Path", "PosixPath", "WindowsPath", "_local.Path", "_local.PosixPath", "_local.WindowsPath"} {
		for _, meth := range []string{"open", "read_text", "read_bytes", "write_text", "write_bytes",
			"unlink", "rmdir", "rename", "replace", "touch", "mkdir", "chmod", "lchmod", "symlink_to",
			"hardlink_to", "link_to", "iterdir", "glob", "rglob", "walk", "readlink", "copy", "move"} {
			add(high, whatFile, "pathlib."+cls+"."+meth)
		}
	}
	add(med, whatBlock, "builtins.input", "builtins.raw_input", "builtins.help", "builtins.exit",
		"builtins.quit")
	return m
}()

// genericModuleNames are deny entries that are also common names for a
// package's own submodules ("mypkg.test", "mypkg.code"): inside a module
// path (not at its start) they rank medium, not at the entry's severity.
var genericModuleNames = setOf(
	"test", "code", "types", "trace", "profile", "platform", "signal", "glob", "site", "inspect",
	"gc", "logging", "system", "eval", "exec", "http", "query", "sys", "imp", "conda", "resource",
	"asyncio", "threading", "distributed",
)

// criticalDunders are special attributes that lead from any object to
// builtins, code objects, every class or every module.
var criticalDunders = setOf(
	"__builtins__", "__globals__", "__subclasses__", "__code__", "__getattribute__", "__loader__",
	"__spec__", "__reduce__", "__reduce_ex__", "__class__", "__base__", "__bases__", "__mro__",
	"__dict__", "__self__", "__func__", "__closure__", "__init_subclass__", "__import__",
	"__getattr__", "__setattr__", "__delattr__",
)

// nestedLoaders are callables that deserialize their first argument. A
// constant payload there is scanned as a nested object: bytes (or text) for
// the loads-style functions, a file object over bytes (io.BytesIO(b'...'))
// for the load-style ones, whose str argument is a path instead.
var nestedLoaders = map[string]loaderArg{
	"pickle.loads": argBytes, "pickle._loads": argBytes, "dill.loads": argBytes,
	"cloudpickle.loads": argBytes, "numpy.loads": argBytes, "numpy.core.numeric.loads": argBytes,
	"numpy.ma.loads": argBytes, "numpy.ma.core.loads": argBytes, "marshal.loads": argBytes,
	"torch.storage._load_from_bytes": argBytes, "yaml.load": argBytes, "yaml.unsafe_load": argBytes,
	"yaml.full_load": argBytes, "jsonpickle.decode": argBytes,
	"pickle.load": argFile, "pickle._load": argFile, "pickle.Unpickler": argFile, "dill.load": argFile,
	"cloudpickle.load": argFile, "numpy.load": argFile, "torch.load": argFile,
	"torch.serialization.load": argFile, "joblib.load": argFile, "joblib.numpy_pickle.load": argFile,
	"pandas.read_pickle": argFile, "marshal.load": argFile,
	"pandas.compat.pickle_compat.loads": argBytes, "pandas.compat.pickle_compat.load": argFile,
	"pickle._Unpickler": argFile, "dill.Unpickler": argFile,
}

// unpicklerNames are the names under which pickle.Unpickler and
// pickle._Unpickler are re-exported (joblib.numpy_pickle_utils.Unpickler,
// pandas.compat.pickle_compat.Unpickler): constructing one over a file
// object is how a nested payload is loaded.
var unpicklerNames = setOf("Unpickler", "_Unpickler")

// loaderArg is the kind of payload argument a nested loader takes.
type loaderArg uint8

const (
	argBytes loaderArg = iota + 1 // the serialized bytes themselves
	argFile                       // a file object; only io.BytesIO over constant bytes is followed
)

// nestedPayloadArg returns the argument of a call to loader that holds a
// constant payload, or nil.
func nestedPayloadArg(loader string, args []*value) *value {
	kind := nestedLoaders[loader]
	if kind == 0 && unpicklerNames[loader[strings.LastIndexByte(loader, '.')+1:]] {
		kind = argFile
	}
	if kind == 0 || len(args) == 0 || args[0] == nil {
		return nil
	}
	a := args[0]
	if kind == argFile {
		if a.kind != kCall {
			return nil
		}
		if p, ok := refOf(a.fn(), 0); !ok || p != "io.BytesIO" {
			return nil
		}
	}
	return a
}

// callWrappers are allow-listed callables that call what they are given:
// the severity of calling them is that of the arguments listed.
var callWrappers = map[string][]int{
	"copyreg._reconstructor": {0, 1},
	"copyreg.__newobj__":     {0},
	"copyreg.__newobj_ex__":  {0},
	"builtins.map":           {0},
	"builtins.filter":        {0},
}

func setOf(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, s := range items {
		m[s] = true
	}
	return m
}
