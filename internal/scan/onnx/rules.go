package onnx

import "github.com/palisade-sec/palisade/internal/scan"

// Rules reported by the ONNX scanner.
var (
	// RuleMalformed is reported when the model is not well-formed protobuf
	// or breaks the onnx.proto schema; analysis stops at that point.
	RuleMalformed = scan.Rule{
		ID: "ONX001", Name: "malformed-protobuf", Severity: scan.SeverityMedium,
		Summary:     "The ONNX model is not well-formed protobuf (truncated, bad wire types, lengths past the end, nesting too deep); content after the fault was not analysed.",
		Remediation: "Do not load the model; re-export it from the source framework with a current ONNX exporter, or obtain it again from a trusted source.",
	}
	// RuleExternalPath is reported for an external-data location that can
	// leave the model directory.
	RuleExternalPath = scan.Rule{
		ID: "ONX002", Name: "external-data-path-escape", Severity: scan.SeverityHigh,
		Summary:     "A tensor's external_data location is absolute, climbs out with '..', is empty or contains NUL, or uses ONNX Runtime's in-memory address sentinel, so loading the model reads a file outside its directory or raw process memory (CVE-2022-25882, CVE-2024-27318).",
		Remediation: "Do not load the model. Legitimate external data uses a plain relative file name next to the model; re-save it with onnx.save_model(..., save_as_external_data=True, location=\"weights.bin\").",
	}
	// RuleExternalLink is reported when an external-data file on disk is a
	// symbolic link, a hard link or not a regular file.
	RuleExternalLink = scan.Rule{
		ID: "ONX003", Name: "external-data-link", Severity: scan.SeverityHigh,
		Summary:     "A tensor's external-data file is a symbolic link, a hard link or not a regular file, so loading the model can read a file outside its directory (CVE-2026-27489, CVE-2026-34446).",
		Remediation: "Do not load the model. Replace linked external-data files with plain copies you trust, and check where each link pointed.",
	}
	// RuleCustomDomain is reported for operators outside the standard ONNX
	// domains, which runtimes implement with native custom-op libraries.
	RuleCustomDomain = scan.Rule{
		ID: "ONX004", Name: "custom-operator-domain", Severity: scan.SeverityMedium,
		Summary:     "The model uses or imports an operator domain outside the standard ONNX ones; runtimes execute such operators with native code from a custom-op library.",
		Remediation: "Load the model only if you trust the custom-op library it needs, and register that library from a trusted build, never one shipped with the model.",
	}
	// RuleContribDomain is reported for ONNX Runtime's built-in contrib
	// operator domains.
	RuleContribDomain = scan.Rule{
		ID: "ONX005", Name: "runtime-contrib-domain", Severity: scan.SeverityInfo,
		Summary:     "The model uses ONNX Runtime contrib operators (com.microsoft); they are built into ONNX Runtime but tie the model to it.",
		Remediation: "No action needed if you run the model with ONNX Runtime; other runtimes will reject it.",
	}
	// RuleExternalMissing is reported when an external-data file named by a
	// model on disk does not exist.
	RuleExternalMissing = scan.Rule{
		ID: "ONX006", Name: "external-data-missing", Severity: scan.SeverityInfo,
		Summary:     "A tensor's external-data file is not next to the model, so its location could not be checked on disk.",
		Remediation: "Scan the model together with its external-data files, as they will be deployed.",
	}
)

var allRules = []scan.Rule{RuleMalformed, RuleExternalPath, RuleExternalLink, RuleCustomDomain, RuleContribDomain, RuleExternalMissing}
