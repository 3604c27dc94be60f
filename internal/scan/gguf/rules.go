package gguf

import "github.com/palisade-sec/palisade/internal/scan"

// Rules reported by the GGUF scanner: three grades of chat-template
// injection, then structural problems. Structure that loaders reject is low;
// counts aimed at parser overflows, parser disagreements, out-of-bounds
// tensors and bytes where a payload can hide are medium.
var (
	RuleTemplateExec = scan.Rule{
		ID: "GGF001", Name: "chat-template-code-execution", Severity: scan.SeverityCritical,
		Summary:     "A Jinja template in the metadata walks Python object internals to reach os, popen, eval, import or subprocess: server-side template injection that runs code when a serving stack renders it.",
		Remediation: "Do not serve or load this model with any stack that renders its chat template. Delete the file, and replace the template with a known-good one from the original model's tokenizer_config.json if you must keep the weights.",
	}
	RuleTemplateDunder = scan.Rule{
		ID: "GGF002", Name: "chat-template-dunder-access", Severity: scan.SeverityHigh,
		Summary:     "A Jinja template in the metadata reaches Python object internals (__class__, __globals__, __subclasses__, ...), the first step of a template-injection exploit.",
		Remediation: "Do not render the template. Replace it with the original model's template and render templates only in a sandboxed Jinja environment.",
	}
	RuleTemplateSuspicious = scan.Rule{
		ID: "GGF003", Name: "chat-template-suspicious", Severity: scan.SeverityMedium,
		Summary:     "A Jinja template in the metadata uses constructs that injection payloads rely on (Jinja globals as stepping stones, the attr filter, private attributes, escaped or assembled names, os/popen/eval-like names) but no direct walk to Python internals.",
		Remediation: "Review the reported snippet against the original model's chat template; render templates only in a sandboxed Jinja environment.",
	}
	RuleHeaderInvalid = scan.Rule{
		ID: "GGF004", Name: "header-invalid", Severity: scan.SeverityLow,
		Summary:     "The file lacks the GGUF magic, declares an unknown version, or ends inside its header.",
		Remediation: "Do not load the file: it is corrupt or truncated. Re-download it from a trusted source.",
	}
	RuleVersionUnsupported = scan.Rule{
		ID: "GGF005", Name: "version-unsupported", Severity: scan.SeverityLow,
		Summary:     "The file is GGUF version 1, which current loaders reject; its content was not analysed.",
		Remediation: "Convert the model to GGUF v3 with current llama.cpp tools, then scan it again.",
	}
	RuleCountExceedsFile = scan.Rule{
		ID: "GGF006", Name: "count-exceeds-file", Severity: scan.SeverityMedium,
		Summary:     "A count or length in the header (tensors, metadata entries, array elements, string bytes, dimensions) is larger than the rest of the file can hold, the pattern of parser-overflow exploits against native loaders.",
		Remediation: "Do not load the file with any GGUF loader, least of all an outdated llama.cpp; delete it or re-download it from a trusted source.",
	}
	RuleHeaderLimit = scan.Rule{
		ID: "GGF007", Name: "header-limit", Severity: scan.SeverityMedium,
		Summary:     "The metadata and tensor descriptions exceed the header size limit, or arrays nest deeper than the limit; the rest of the header was not analysed.",
		Remediation: "Treat the file as unscanned. If it is legitimate, raise the header limit for this scan; otherwise do not load it.",
	}
	RuleMetadataInvalid = scan.Rule{
		ID: "GGF008", Name: "metadata-invalid", Severity: scan.SeverityLow,
		Summary:     "A metadata entry is malformed: an unknown value type, an empty or over-long key, or a general.alignment that is not a u32 power of two.",
		Remediation: "Do not load the file: loaders reject or misread it. Re-export the model with current tools.",
	}
	RuleDuplicateKey = scan.Rule{
		ID: "GGF009", Name: "duplicate-key", Severity: scan.SeverityMedium,
		Summary:     "A metadata key appears more than once, so loaders that keep the first and the last value (a benign and a hostile chat template) disagree.",
		Remediation: "Treat the file as tampered with; GGUF writers never repeat a key. Re-export the model from a trusted source.",
	}
	RuleTensorInfoInvalid = scan.Rule{
		ID: "GGF010", Name: "tensor-info-invalid", Severity: scan.SeverityLow,
		Summary:     "A tensor description is malformed: over-long name, too many or negative dimensions, an element count that overflows, an unknown or removed ggml type, a row that is not a whole number of blocks, or a misaligned offset.",
		Remediation: "Do not load the file: loaders reject or misread it. Re-export the model with current tools.",
	}
	RuleDuplicateTensor = scan.Rule{
		ID: "GGF011", Name: "duplicate-tensor-name", Severity: scan.SeverityMedium,
		Summary:     "Two tensor descriptions share a name, so loaders that keep the first and the last disagree about the weights.",
		Remediation: "Treat the file as tampered with; re-export the model from a trusted source.",
	}
	RuleOutOfBounds = scan.Rule{
		ID: "GGF012", Name: "tensor-out-of-bounds", Severity: scan.SeverityMedium,
		Summary:     "A tensor's data extends past the end of the file: it is truncated, or the offsets make loaders that trust them read out of bounds.",
		Remediation: "Do not load the file. Re-download it (it may be truncated) or re-export the model from a trusted source.",
	}
	RuleOverlap = scan.Rule{
		ID: "GGF013", Name: "tensors-overlap", Severity: scan.SeverityMedium,
		Summary:     "Two tensors' data ranges overlap, so loaders that trust the offsets alias their memory.",
		Remediation: "Do not load the file: GGUF writers never overlap tensors. Re-export the model from a trusted source.",
	}
	RuleUnreferenced = scan.Rule{
		ID: "GGF014", Name: "unreferenced-bytes", Severity: scan.SeverityMedium,
		Summary:     "Bytes between tensors, beyond alignment padding, belong to no tensor; data can hide there.",
		Remediation: "Inspect the reported byte range; re-export the model with current tools to drop it.",
	}
	RuleTrailingData = scan.Rule{
		ID: "GGF015", Name: "trailing-data", Severity: scan.SeverityMedium,
		Summary:     "Bytes after the last tensor, beyond alignment padding, belong to no tensor; an appended payload can hide there.",
		Remediation: "Inspect the reported byte range (findings on it are listed under the trailing-data member); re-export the model to drop it.",
	}
)

// Rules lists every rule the scanner reports.
func (s *Scanner) Rules() []scan.Rule {
	return []scan.Rule{
		RuleTemplateExec, RuleTemplateDunder, RuleTemplateSuspicious,
		RuleHeaderInvalid, RuleVersionUnsupported, RuleCountExceedsFile, RuleHeaderLimit,
		RuleMetadataInvalid, RuleDuplicateKey, RuleTensorInfoInvalid, RuleDuplicateTensor,
		RuleOutOfBounds, RuleOverlap, RuleUnreferenced, RuleTrailingData,
	}
}
