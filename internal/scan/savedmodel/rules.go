package savedmodel

import "github.com/palisade-sec/palisade/internal/scan"

// Rules reported by the SavedModel scanner.
var (
	// RuleMalformed is reported when saved_model.pb or keras_metadata.pb
	// is not well-formed protobuf; analysis stops at that point.
	RuleMalformed = scan.Rule{
		ID: "TFS001", Name: "malformed-protobuf", Severity: scan.SeverityMedium,
		Summary:     "The SavedModel protobuf is not well-formed (truncated, bad wire types, lengths past the end, nesting too deep); content after the fault was not analysed.",
		Remediation: "Do not load the model; export it again with tf.saved_model.save from a trusted training run, or obtain it again from a trusted source.",
	}
	// RuleFileOp is reported for graph ops that read, write, list or map
	// files when the graph runs.
	RuleFileOp = scan.Rule{
		ID: "TFS002", Name: "file-access-op", Severity: scan.SeverityHigh,
		Summary:     "The graph contains an op that reads, writes, lists or maps files (ReadFile, WriteFile, file readers and datasets, debug or print ops writing to a file); it runs with the serving process's file access.",
		Remediation: "Do not serve the model. A model for inference has no reason to touch the file system; re-export it without these ops and find out who added them.",
	}
	// RulePyFunc is reported for ops that call back into Python.
	RulePyFunc = scan.Rule{
		ID: "TFS003", Name: "python-function-op", Severity: scan.SeverityHigh,
		Summary:     "The graph contains a PyFunc/EagerPyFunc op, which calls an arbitrary Python function registered in the loading process.",
		Remediation: "Do not load the model in a process that registers Python callbacks; re-export it with the function expressed in TensorFlow ops.",
	}
	// RuleUnknownOp is reported once per op name that is not a standard
	// TensorFlow op nor a function of the model's library.
	RuleUnknownOp = scan.Rule{
		ID: "TFS004", Name: "non-standard-op", Severity: scan.SeverityLow,
		Summary:     "The graph uses an op that is not in Palisade's list of standard TensorFlow ops nor in the model's function library; it may need a custom kernel library (native code).",
		Remediation: "Review the op: check that it comes from TensorFlow or a library you trust (TensorFlow Text, Addons) before loading that library to run the model.",
	}
	// RuleFixedPath is reported when a saver, table or cache op reads or
	// writes a constant path outside the model directory.
	RuleFixedPath = scan.Rule{
		ID: "TFS005", Name: "fixed-path-outside-model", Severity: scan.SeverityHigh,
		Summary:     "A checkpoint, vocabulary-table or cache op reads or writes a constant path that is absolute, climbs out with '..' or names a remote file system, instead of a path fed at load time.",
		Remediation: "Do not load the model. Saver and table ops in a genuine SavedModel take their paths from the loader (a placeholder or an asset); re-export it.",
	}
	// RuleAssetPath is reported when an asset file name leaves the model's
	// assets directory.
	RuleAssetPath = scan.Rule{
		ID: "TFS006", Name: "asset-path-escape", Severity: scan.SeverityHigh,
		Summary:     "An asset file name (AssetFileDef.filename) is absolute or climbs out with '..', so loading the model feeds a file outside its assets directory to the graph.",
		Remediation: "Do not load the model. Assets are plain names inside the assets/ directory; re-export the model.",
	}
)

var allRules = []scan.Rule{RuleMalformed, RuleFileOp, RulePyFunc, RuleUnknownOp, RuleFixedPath, RuleAssetPath}
