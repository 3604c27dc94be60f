// Package keras scans Keras model configurations for code that runs when a
// model is loaded.
//
// It serves two formats. scan.FormatKerasConfig is a JSON model config: the
// config.json of a Keras v3 .keras zip (the archive scanner hands the
// member over) or one layer's JSON from a SavedModel's keras_metadata.pb.
// scan.FormatHDF5 is a legacy .h5 model, whose config is the JSON text of
// the root group's model_config (and training_config) attribute.
//
// The whole JSON tree is walked, not only config.layers: Lambda layers and
// callable references are found in nested Sequential and Functional
// sub-models, under wrappers (config.layer), in lists and in any dict. The
// scanner reports
//
//   - Lambda layers carrying marshalled Python bytecode (Keras 3
//     {"class_name": "__lambda__"}, tf.keras 2 function_type "lambda"); the
//     bytecode is decoded as data, never unmarshalled into a code object,
//     and the names and string constants it holds are shown as evidence;
//   - references to callables outside the Keras namespace ({"module": ...,
//     "class_name": ...}), ranked high when the module or any dotted
//     component is on a deny list (os, subprocess, builtins.eval, ...) or
//     the reference is a Keras function that defeats safe_mode, deserializes
//     or runs code, or touches files (keras.config.enable_unsafe_deserialization,
//     keras.utils.get_file, python_utils.func_load, any load_model* or
//     model_from_* variant, file_utils), medium otherwise (custom objects
//     that need user code importable);
//   - layers that load or read a file named in their config: a Keras 3
//     TFSMLayer (high, it loads the SavedModel at config.filepath even in
//     safe_mode), and a string vocabulary, merges or proto of the lookup
//     layers, TextVectorization and keras-hub / keras-nlp tokenizers
//     (medium, high for an absolute path, a ".." path or a URL, which is
//     also high in any class); inline vocabularies are not reported;
//   - malformed, oversized or too deeply nested configs (fail closed).
//
// The JSON is parsed by an iterative tokenizer with an explicit depth limit
// and the size limit Limits.MaxHeaderBytes, so a hostile config nested a
// hundred thousand levels deep cannot exhaust the stack. Like Python's
// json.loads it accepts NaN and Infinity, UTF-16 and UTF-32 input (BOM or
// not, lone surrogates kept as errors="surrogatepass" does) and duplicate
// keys (the last one wins, as in Keras).
//
// HDF5 support is a content search, not an HDF5 parse: no pure-Go HDF5
// reader is available, so the file is read once, in order, by a lexer
// that follows strings, escapes and brackets (no grammar) along two tracks
// of opposite string parity, so that no stray quote before a config can
// make it read the config as string content. Each balanced object no
// larger than MaxHeaderBytes and no deeper than Python can load is held
// until it is known whether an enclosing object that fits supersedes it;
// the largest such objects are parsed and analysed like a config. An
// object that is not valid JSON keeps the findings of the objects that
// closed before the error, and parsing starts afresh after it. Every byte
// is lexed once and parsed at most twice, so a run of unterminated objects
// costs no more than its length and cannot hide a later config; a byte
// budget remains as a backstop. Configs stored compressed, split across
// fractal-heap blocks or in variable-length strings that are not
// contiguous are not found; a file with the HDF5 signature and no model
// config (a plain weights file) yields no finding.
package keras
