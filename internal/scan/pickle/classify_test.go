package pickle

import (
	"strings"
	"testing"

	"github.com/palisade-sec/palisade/internal/scan"
)

// TestClassify checks the allow list, the deny list with its severities
// (every gadget of the reference scanners' lists and published bypasses)
// and the review tier.
func TestClassify(t *testing.T) {
	t.Parallel()
	const (
		allow  = -1
		review = 0
	)
	tests := []struct {
		module, name string
		want         int // allow, review or a severity
	}{
		// Allow list and framework tier.
		{"collections", "OrderedDict", allow},
		{"_collections", "OrderedDict", allow},
		{"torch._utils", "_rebuild_tensor_v2", allow},
		{"torch", "_utils._rebuild_tensor_v2", allow},
		{"torch._utils", "_rebuild_parameter_with_state", allow},
		{"torch._tensor", "_rebuild_from_type_v2", allow},
		{"torch", "FloatStorage", allow},
		{"torch", "bfloat16", allow},
		{"torch", "Size", allow},
		{"numpy.core.multiarray", "_reconstruct", allow},
		{"numpy._core.multiarray", "_reconstruct", allow},
		{"numpy", "dtype", allow},
		{"numpy.core.multiarray", "scalar", allow},
		{"_codecs", "encode", allow},
		{"copy_reg", "_reconstructor", allow},
		{"__builtin__", "set", allow},
		{"builtins", "slice", allow},
		{"joblib.numpy_pickle", "NumpyArrayWrapper", allow},
		{"sklearn.externals.joblib.numpy_pickle", "NumpyArrayWrapper", allow},
		{"sklearn.linear_model._base", "LinearRegression", allow},
		{"sklearn.tree._tree", "Tree", allow},
		{"pandas.core.frame", "DataFrame", allow},
		{"transformers.training_args", "TrainingArguments", allow},
		{"transformers.trainer_utils", "IntervalStrategy", allow},
		{"transformers.models.bert.configuration_bert", "BertConfig", allow},
		{"torch.nn.modules.linear", "Linear", allow},
		{"uuid", "UUID", allow},
		{"pathlib", "PosixPath", allow},
		// Review: neither allowed nor denied.
		{"sklearn.linear_model._base", "make_dataset", review},
		{"transformers.modeling_utils", "PreTrainedModel", review},
		{"mypkg", "Model", review},
		{"__main__", "Net", review},
		{"numpy", "core.multiarray._reconstruct.extra", review},
		{"zlib", "decompress", review},
		// Critical: execution, import machinery, deserializers, installers, tampering.
		{"os", "system", int(scan.SeverityCritical)},
		{"posix", "system", int(scan.SeverityCritical)},
		{"nt", "spawnv", int(scan.SeverityCritical)},
		{"os.path", "join", int(scan.SeverityCritical)},
		{"subprocess", "Popen", int(scan.SeverityCritical)},
		{"commands", "getoutput", int(scan.SeverityCritical)},
		{"builtins", "eval", int(scan.SeverityCritical)},
		{"__builtin__", "exec", int(scan.SeverityCritical)},
		{"builtins", "compile", int(scan.SeverityCritical)},
		{"builtins", "getattr", int(scan.SeverityCritical)},
		{"builtins", "__import__", int(scan.SeverityCritical)},
		{"builtins", "breakpoint", int(scan.SeverityCritical)},
		{"__builtin__", "apply", int(scan.SeverityCritical)},
		{"builtins", "globals", int(scan.SeverityCritical)},
		{"builtins", "vars", int(scan.SeverityCritical)},
		{"runpy", "_run_code", int(scan.SeverityCritical)},
		{"pty", "spawn", int(scan.SeverityCritical)},
		{"importlib", "import_module", int(scan.SeverityCritical)},
		{"marshal", "loads", int(scan.SeverityCritical)},
		{"types", "CodeType", int(scan.SeverityCritical)},
		{"types", "FunctionType", int(scan.SeverityCritical)},
		{"pickle", "loads", int(scan.SeverityCritical)},
		{"_pickle", "loads", int(scan.SeverityCritical)},
		{"cPickle", "loads", int(scan.SeverityCritical)},
		{"pkgutil", "resolve_name", int(scan.SeverityCritical)},
		{"pydoc", "locate", int(scan.SeverityCritical)},
		{"pydoc", "pipepager", int(scan.SeverityCritical)},
		{"operator", "attrgetter", int(scan.SeverityCritical)},
		{"_operator", "methodcaller", int(scan.SeverityCritical)},
		{"operator", "itemgetter", int(scan.SeverityCritical)},
		{"functools", "partial", int(scan.SeverityCritical)},
		{"ctypes", "CDLL", int(scan.SeverityCritical)},
		{"code", "InteractiveInterpreter.runcode", int(scan.SeverityCritical)},
		{"codeop", "compile_command", int(scan.SeverityCritical)},
		{"cProfile", "run", int(scan.SeverityCritical)},
		{"profile", "Profile.run", int(scan.SeverityCritical)},
		{"trace", "Trace.runctx", int(scan.SeverityCritical)},
		{"timeit", "timeit", int(scan.SeverityCritical)},
		{"pdb", "run", int(scan.SeverityCritical)},
		{"bdb", "Bdb.run", int(scan.SeverityCritical)},
		{"doctest", "debug_script", int(scan.SeverityCritical)},
		{"idlelib.pyshell", "ModifiedInterpreter.runcode", int(scan.SeverityCritical)},
		{"idlelib.autocomplete", "AutoComplete.get_entity", int(scan.SeverityCritical)},
		{"lib2to3.pgen2.grammar", "Grammar.loads", int(scan.SeverityCritical)},
		{"uuid", "_get_command_stdout", int(scan.SeverityCritical)},
		{"_osx_support", "_read_output", int(scan.SeverityCritical)},
		{"_aix_support", "_read_cmd_output", int(scan.SeverityCritical)},
		{"_pyrepl.pager", "pipe_pager", int(scan.SeverityCritical)},
		{"imaplib", "IMAP4_stream", int(scan.SeverityCritical)},
		{"mailcap", "findmatch", int(scan.SeverityCritical)},
		{"multiprocessing.util", "spawnv_passfds", int(scan.SeverityCritical)},
		{"asyncio.unix_events", "_UnixSubprocessTransport._start", int(scan.SeverityCritical)},
		{"pip", "main", int(scan.SeverityCritical)},
		{"pip._internal.cli.main", "main", int(scan.SeverityCritical)},
		{"ensurepip", "_run_pip", int(scan.SeverityCritical)},
		{"venv", "create", int(scan.SeverityCritical)},
		{"distutils.file_util", "write_file", int(scan.SeverityCritical)},
		{"_interpreters", "run_string", int(scan.SeverityCritical)},
		{"_xxsubinterpreters", "run_string", int(scan.SeverityCritical)},
		{"cloudpickle.cloudpickle", "_make_function", int(scan.SeverityCritical)},
		{"joblib.externals.cloudpickle.cloudpickle", "subimport", int(scan.SeverityCritical)},
		{"dill", "loads", int(scan.SeverityCritical)},
		{"dill._dill", "_create_code", int(scan.SeverityCritical)},
		{"inspect", "getattr_static", int(scan.SeverityCritical)},
		{"sys", "modules", int(scan.SeverityCritical)},
		{"test.support.script_helper", "assert_python_ok", int(scan.SeverityCritical)},
		{"numpy.f2py.crackfortran", "getlincoef", int(scan.SeverityCritical)},
		{"numpy.testing._private.utils", "runstring", int(scan.SeverityCritical)},
		{"numpy", "loads", int(scan.SeverityCritical)},
		{"torch._inductor.codecache", "compile_file", int(scan.SeverityCritical)},
		{"torch._dynamo.guards", "GuardBuilder.get", int(scan.SeverityCritical)},
		{"torch.fx.experimental.symbolic_shapes", "ShapeEnv.evaluate_guards_expression", int(scan.SeverityCritical)},
		{"torch.jit.unsupported_tensor_ops", "execWrapper", int(scan.SeverityCritical)},
		{"torch.utils.bottleneck.__main__", "run_cprofile", int(scan.SeverityCritical)},
		{"torch.utils.collect_env", "run", int(scan.SeverityCritical)},
		{"torch.utils._config_module", "ConfigModule.load_config", int(scan.SeverityCritical)},
		{"torch.utils.data.datapipes.utils.decoder", "basichandlers", int(scan.SeverityCritical)},
		{"torch.storage", "_load_from_bytes", int(scan.SeverityCritical)},
		{"mlflow.projects.backend.local", "_run_entry_point", int(scan.SeverityCritical)},
		{"picklescan.scanner", "_safe_globals", int(scan.SeverityCritical)},
		{"modelscan", "settings", int(scan.SeverityCritical)},
		{"fickling", "analysis", int(scan.SeverityCritical)},
		{"gzip", "os.system", int(scan.SeverityCritical)},
		{"gzip", "posix.system", int(scan.SeverityCritical)},
		{"logging", "urllib2.urlopen", int(scan.SeverityHigh)},
		{"pathlib", "os.system", int(scan.SeverityCritical)},
		{"pickletools", "pickle.loads", int(scan.SeverityCritical)},
		{"six.moves.cPickle", "loads", int(scan.SeverityCritical)},
		{"numpy", "__builtins__", int(scan.SeverityCritical)},
		{"collections", "OrderedDict.__init__.__globals__", int(scan.SeverityCritical)},
		{"logging.config", "listen", int(scan.SeverityCritical)},
		{"yaml", "unsafe_load", int(scan.SeverityCritical)},
		{"pandas", "eval", int(scan.SeverityCritical)},
		// High: network, files, loaders.
		{"webbrowser", "open", int(scan.SeverityHigh)},
		{"socket", "create_connection", int(scan.SeverityHigh)},
		{"ssl", "get_server_certificate", int(scan.SeverityHigh)},
		{"smtplib", "SMTP", int(scan.SeverityHigh)},
		{"ftplib", "FTP", int(scan.SeverityHigh)},
		{"urllib.request", "urlopen", int(scan.SeverityHigh)},
		{"urllib2", "urlopen", int(scan.SeverityHigh)},
		{"httplib", "HTTPSConnection", int(scan.SeverityHigh)},
		{"http.client", "HTTPConnection", int(scan.SeverityHigh)},
		{"requests.api", "get", int(scan.SeverityHigh)},
		{"aiohttp.client", "ClientSession", int(scan.SeverityHigh)},
		{"xmlrpc.client", "ServerProxy", int(scan.SeverityHigh)},
		{"pandas", "read_csv", int(scan.SeverityHigh)},
		{"builtins", "open", int(scan.SeverityHigh)},
		{"io", "FileIO", int(scan.SeverityHigh)},
		{"_io", "FileIO", int(scan.SeverityHigh)},
		{"logging", "FileHandler", int(scan.SeverityHigh)},
		{"shutil", "rmtree", int(scan.SeverityHigh)},
		{"tempfile", "mkdtemp", int(scan.SeverityHigh)},
		{"tarfile", "open", int(scan.SeverityHigh)},
		{"zipfile", "ZipFile", int(scan.SeverityHigh)},
		{"pathlib", "Path.write_text", int(scan.SeverityHigh)},
		{"torch", "load", int(scan.SeverityHigh)},
		{"torch.serialization", "load", int(scan.SeverityHigh)},
		{"joblib", "load", int(scan.SeverityHigh)},
		{"numpy", "load", int(scan.SeverityHigh)},
		{"builtins", "type", review},
		{"collections", "OrderedDict.__new__", int(scan.SeverityHigh)},
		// Medium.
		{"builtins", "input", int(scan.SeverityMedium)},
		{"mypkg.test", "Model", int(scan.SeverityMedium)},
	}
	for _, tt := range tests {
		t.Run(tt.module+"."+tt.name, func(t *testing.T) {
			t.Parallel()
			c := classifyGlobal(tt.module, tt.name)
			got := int(c.sev)
			switch c.verdict {
			case verdictAllowed:
				got = allow
			case verdictReview:
				got = review
			}
			if got != tt.want {
				t.Errorf("classify(%s, %s) = %d (%+v), want %d", tt.module, tt.name, got, c, tt.want)
			}
		})
	}
}

// TestAllowListNotDenied checks that no allow-list entry is covered by a
// deny entry: the allow list is checked first, so an overlap would
// silence a dangerous global.
func TestAllowListNotDenied(t *testing.T) {
	t.Parallel()
	for path := range allowList {
		comps := strings.Split(path, ".")
		for i := range comps {
			for j := i + 1; j <= len(comps); j++ {
				if _, ok := denyList[strings.Join(comps[i:j], ".")]; ok {
					t.Errorf("allow-list entry %s is covered by deny entry %s", path, strings.Join(comps[i:j], "."))
				}
			}
		}
		if c := canonicalPath(path); c != path {
			t.Errorf("allow-list entry %s is not canonical (%s)", path, c)
		}
	}
	for path := range denyList {
		if allowList[path] {
			t.Errorf("%s is on both lists", path)
		}
	}
}

// TestTorchScriptGlobals checks that TorchScript archives' own globals are
// admitted without opening torch.jit or the __torch__ root to anything else.
func TestTorchScriptGlobals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		module, name string
		want         verdict
	}{
		{"torch.jit._pickle", "build_intlist", verdictAllowed},
		{"torch.jit._pickle", "restore_type_tag", verdictAllowed},
		{"__torch__.torch.nn.modules.linear", "Linear", verdictAllowed},
		{"__torch__.torch.nn.modules.linear.___torch_mangle_0", "Linear", verdictAllowed},
		{"torch.jit._pickle", "loads", verdictDenied},
		{"torch.jit.unsupported_tensor_ops", "execWrapper", verdictDenied},
		{"__torch__.os", "system", verdictDenied},
		{"__torch__", "__globals__", verdictDenied},
	}
	for _, tt := range tests {
		if got := classifyGlobal(tt.module, tt.name); got.verdict != tt.want {
			t.Errorf("classifyGlobal(%s, %s) = %v, want %v", tt.module, tt.name, got.verdict, tt.want)
		}
	}
}

// TestCanonical checks alias handling.
func TestCanonical(t *testing.T) {
	t.Parallel()
	tests := map[[2]string]string{
		{"__builtin__", "eval"}:                           "builtins.eval",
		{"copy_reg", "_reconstructor"}:                    "copyreg._reconstructor",
		{"posix", "system"}:                               "os.system",
		{"six.moves.urllib.request", "urlopen"}:           "urllib.request.urlopen",
		{"joblib.externals.loky.backend", "popen_loky"}:   "loky.backend.popen_loky",
		{"sklearn.externals.joblib.numpy_pickle", "load"}: "joblib.numpy_pickle.load",
		{"urllib2", "urlopen"}:                            "urllib.request.urlopen",
		{"gzip", "os.system"}:                             "gzip.os.system",
	}
	for in, want := range tests {
		if got := canonicalName(in[0], in[1]); got != want {
			t.Errorf("canonicalName(%q, %q) = %q, want %q", in[0], in[1], got, want)
		}
	}
}
