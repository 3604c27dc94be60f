package keras

import (
	"strings"

	"github.com/palisade-sec/palisade/internal/scan"
)

// verdict is the classification of a module+name reference.
type verdict struct {
	severity scan.Severity
	reason   string
}

// trustedPackages are the top-level packages of the Keras namespace and of
// the frameworks Keras itself resolves objects from. Keras 3 imports only
// keras, keras_hub, keras_cv and keras_nlp modules after CVE-2025-1550;
// tf_keras and tensorflow.keras are the tf.keras 2 spellings, and
// TensorFlow type specs name tensorflow modules.
var trustedPackages = map[string]bool{
	"keras": true, "tf_keras": true, "tensorflow": true,
	"keras_hub": true, "keras_cv": true, "keras_nlp": true,
}

// deniedModules are top-level modules whose callables run commands,
// evaluate code, deserialize further payloads, or reach files and the
// network (the danger classes of the model-scanning spec, section 1.2).
var deniedModules = setOf(
	"os", "posix", "nt", "posixpath", "ntpath", "subprocess", "sys", "builtins", "__builtin__",
	"importlib", "runpy", "pickle", "_pickle", "cPickle", "pickletools", "dill", "cloudpickle",
	"joblib", "marshal", "shelve", "copyreg", "copy_reg", "socket", "ssl", "select", "selectors",
	"shutil", "pty", "ctypes", "code", "codeop", "types", "operator", "_operator", "functools",
	"pkgutil", "pydoc", "inspect", "multiprocessing", "threading", "_thread", "concurrent",
	"asyncio", "signal", "platform", "uuid", "webbrowser", "http", "httplib", "urllib",
	"urllib2", "urllib3", "requests", "aiohttp", "smtplib", "ftplib", "telnetlib", "imaplib",
	"poplib", "xmlrpc", "mailcap", "io", "_io", "fileinput", "tempfile", "tarfile", "zipfile",
	"glob", "pathlib", "cProfile", "profile", "trace", "timeit", "pdb", "bdb", "doctest",
	"idlelib", "lib2to3", "pip", "ensurepip", "venv", "setuptools", "distutils", "commands",
	"popen2", "_osx_support", "_aix_support", "_pyrepl", "test", "_posixsubprocess",
	"_interpreters", "_xxsubinterpreters", "gc", "logging",
)

// deniedComponents are names that are dangerous wherever they appear as a
// dotted component of a module or name: protocol-4 style attribute walks
// ("gzip" + "os.system") and re-exports inside otherwise harmless modules.
var deniedComponents = setOf(
	"os", "posix", "nt", "subprocess", "builtins", "__builtin__", "sys", "importlib", "runpy",
	"pickle", "_pickle", "cPickle", "dill", "marshal", "pty", "ctypes", "socket", "shutil",
	"eval", "exec", "execfile", "__import__", "system", "popen", "Popen", "popen2", "check_output",
	"check_call", "getoutput", "getstatusoutput", "spawnl", "spawnv", "spawnve", "execv", "execve",
	"execl", "execvp", "run_path", "run_module", "_run_code", "import_module", "__builtins__",
	"__globals__", "__subclasses__", "__reduce__", "__reduce_ex__", "__getattribute__",
)

// dangerousBuiltins are builtins that evaluate code, import modules, open
// files or walk attributes. Keras resolves {"module": "builtins", ...}
// against its own built-in activations and losses first; other builtins
// names (int, tuple, ...) are harmless.
var dangerousBuiltins = setOf(
	"eval", "exec", "execfile", "compile", "__import__", "open", "file", "getattr", "setattr",
	"delattr", "globals", "locals", "vars", "breakpoint", "input", "raw_input", "exit", "quit",
	"help", "apply", "reload", "__build_class__", "__loader__", "memoryview", "copyright",
	"credits", "license",
)

// frameworkDenied are Keras and TensorFlow names that defeat safe_mode,
// deserialize or run code, or touch files: enable_unsafe_deserialization
// switches safe_mode off, func_load unmarshals Python bytecode, get_file
// downloads to a chosen path (CVE-2025-8747), extract_archive and rmtree
// write and delete files, the model_from_* and load_model* functions load
// a second model outside safe_mode, and the TensorFlow file and
// Python-function ops read, write or run arbitrary code.
var frameworkDenied = setOf(
	"enable_unsafe_deserialization", "get_file", "load_model", "save_model", "load_weights",
	"func_load", "extract_archive", "extract_open_archive", "rmtree", "model_from_json",
	"model_from_config", "model_from_yaml", "deserialize_keras_object", "legacy_h5_format",
	"saving_lib", "saving_api", "file_utils", "python_utils",
	"io", "gfile", "file_io", "write_file", "read_file", "WriteFile", "ReadFile", "MatchingFiles",
	"py_func", "py_function", "numpy_function", "eager_py_func", "script_ops", "PyFunc",
	"PyFuncStateless", "EagerPyFunc", "print", "Print", "PrintV2",
)

// frameworkDeniedPrefixes catch the variants of the functions above
// (load_model_from_hdf5, _load_model_from_fileobj, load_weights_from_hdf5_group,
// model_from_saved_model, ...). Leading underscores are ignored. Keras
// class names are CamelCase, so no layer, optimizer or initializer
// matches.
var frameworkDeniedPrefixes = []string{
	"load_model", "load_weights", "load_from_", "model_from_", "func_load", "extract_archive",
	"save_model", "save_weights",
}

// frameworkModuleDenied are Keras modules in which every function reads,
// writes or deserializes: referencing any name in them is high. Their
// components are checked against the module only, so a layer named like
// one is not affected.
var frameworkModuleDenied = setOf("file_utils", "legacy_h5_format", "saving_lib", "saving_api", "python_utils")

// frameworkModuleLoaders are Keras modules whose load* functions load a
// model or weights.
var frameworkModuleLoaders = setOf("saving", "legacy", "models", "export")

// frameworkDangerous reports whether a reference to name in module, both
// in the Keras or TensorFlow namespace, defeats safe_mode, deserializes or
// runs code, or touches files.
func frameworkDangerous(module, name string) bool {
	if anyComponent(frameworkDenied, name) || anyComponent(frameworkModuleDenied, module) {
		return true
	}
	// Module components that name functions (keras.utils.get_file used
	// as a module path).
	if anyComponent(frameworkDenied, module) {
		return true
	}
	if anyComponentPrefix(module) || anyComponentPrefix(name) {
		return true
	}
	// keras.saving.load_*, keras.src.legacy.saving.*.load_*, ...
	last := name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		last = name[i+1:]
	}
	return strings.HasPrefix(strings.TrimLeft(last, "_"), "load") && anyComponent(frameworkModuleLoaders, module)
}

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// classifyReference ranks a reference to name in module:
//   - builtins: high for dangerous builtins, nothing otherwise;
//   - any dotted component on deniedComponents, or a top-level module on
//     deniedModules: high;
//   - the Keras namespace: high for frameworkDenied components, nothing
//     otherwise;
//   - anything else: medium (a custom object).
func classifyReference(module, name string) verdict {
	top, _, _ := strings.Cut(module, ".")
	nameTop, _, nameDotted := strings.Cut(name, ".")

	if top == "builtins" || top == "__builtin__" {
		if module == top && !nameDotted && !dangerousBuiltins[name] {
			return verdict{}
		}
		return verdict{scan.SeverityHigh, "a Python builtin that evaluates code, imports modules or opens files"}
	}
	if anyComponent(deniedComponents, module, name) {
		return verdict{scan.SeverityHigh, "it can run commands or evaluate code when the model is loaded"}
	}
	if deniedModules[top] || deniedModules[nameTop] && nameDotted {
		return verdict{scan.SeverityHigh, "it can run commands, read or write files or reach the network when the model is loaded"}
	}
	if trustedPackages[top] {
		if frameworkDangerous(module, name) {
			return verdict{scan.SeverityHigh, "this Keras or TensorFlow function switches off safe_mode, deserializes or runs code, loads another model or reads, writes or deletes files"}
		}
		return verdict{}
	}
	return verdict{scan.SeverityMedium, "a custom object"}
}

// anyComponentPrefix reports whether a dotted component of name, leading
// underscores ignored, starts with one of frameworkDeniedPrefixes.
func anyComponentPrefix(name string) bool {
	for {
		part, rest, more := strings.Cut(name, ".")
		part = strings.TrimLeft(part, "_")
		for _, pre := range frameworkDeniedPrefixes {
			if strings.HasPrefix(part, pre) {
				return true
			}
		}
		if !more {
			return false
		}
		name = rest
	}
}

// anyComponent reports whether a dotted component of any of the names is
// in set.
func anyComponent(set map[string]bool, names ...string) bool {
	for _, n := range names {
		for {
			part, rest, more := strings.Cut(n, ".")
			if set[part] {
				return true
			}
			if !more {
				break
			}
			n = rest
		}
	}
	return false
}

// tfSymbolDangerous reports whether a TensorFlow API symbol called by a
// TFOpLambda layer ("io.write_file", "raw_ops.ReadFile") touches files or
// runs Python.
func tfSymbolDangerous(symbol string) bool {
	return frameworkDangerous(symbol, "") || anyComponent(deniedComponents, symbol)
}
