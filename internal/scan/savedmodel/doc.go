// Package savedmodel scans TensorFlow SavedModel files for graph
// operations that act outside the model when the graph runs.
//
// saved_model.pb (a SavedModel protobuf) is decoded with protowalk, field
// by field, through a bounded window of the object, so large constant
// tensors are skipped by offset and memory stays flat. Every meta graph's
// GraphDef and every function of its library (graphs call them like ops)
// is walked. Reported: ops that read, write, list or map files (ReadFile,
// WriteFile, file readers and datasets, debug ops, PrintV2 to a file),
// PyFunc ops, saver and table ops given a constant path outside the model,
// asset file names that leave the assets directory, and ops that are not
// standard TensorFlow ops (custom kernels, reported once per op name for
// review). The saver ops every SavedModel carries (SaveV2, RestoreV2,
// MergeV2Checkpoints, ShardedFilename, StringJoin) are not reported when
// their paths are fed at load time.
//
// saved_model.pbtxt, the protobuf text format TensorFlow reads when there
// is no saved_model.pb (and an object of another name that opens like
// one), gets the same checks: up to Limits.MaxHeaderBytes of text are read
// into memory and transcoded, in one linear pass with nesting bounded, into
// the wire format of the fields the walk reads, which is then walked as
// above; findings carry offsets in the text. Malformed text fails closed
// like malformed protobuf, and text past the size limit ends the scan
// incomplete (what came before the limit is still analysed).
//
// keras_metadata.pb (Keras SavedMetadata) and the SavedUserObject metadata
// of the object graph hold Keras layer JSON; each string is handed to the
// Keras config scanner through Session.Nested, which checks Lambda layers.
// Malformed protobuf is reported (fail closed). Nothing is executed.
package savedmodel
