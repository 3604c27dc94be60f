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
//     the reference is a Keras function that defeats safe_mode
//     (keras.config.enable_unsafe_deserialization, keras.utils.get_file),
//     medium otherwise (custom objects that need user code importable);
//   - malformed, oversized or too deeply nested configs (fail closed).
//
// The JSON is parsed by an iterative tokenizer with an explicit depth limit
// and the size limit Limits.MaxHeaderBytes, so a hostile config nested a
// hundred thousand levels deep cannot exhaust the stack. Like Python's
// json.loads it accepts NaN and Infinity, UTF-16 and UTF-32 input and
// duplicate keys (the last one wins, as in Keras).
//
// HDF5 support is a content search, not an HDF5 parse: no pure-Go HDF5
// reader is available, so the file is read in bounded chunks and every JSON
// object start ('{' then a quoted key) is tried; a balanced, string-aware
// object of JSON characters no larger than MaxHeaderBytes is extracted and
// analysed like a config, and the search resumes after it. Configs stored
// compressed, split across fractal-heap blocks or in variable-length
// strings that are not contiguous are not found; a file with the HDF5
// signature and no model config (a plain weights file) yields no finding.
package keras
