package safetensors

import "github.com/palisade-sec/palisade/internal/scan"

// Rules reported by the safetensors scanner. The format cannot carry code,
// so nothing here is high or critical: a header that loaders reject outright
// is low; structure that lets a lax loader read out of bounds, alias tensors,
// disagree with another parser, or that leaves bytes where a payload can
// hide, is medium.
var (
	RuleHeaderLength = scan.Rule{
		ID: "SFT001", Name: "header-length-invalid", Severity: scan.SeverityLow,
		Summary:     "The 8-byte header length is larger than the file or the header size limit, too small for a JSON object, or missing.",
		Remediation: "Do not load the file: it is truncated or crafted to exhaust a loader's memory. Re-download it or re-export the model with a current safetensors library.",
	}
	RuleHeaderInvalid = scan.Rule{
		ID: "SFT002", Name: "header-invalid", Severity: scan.SeverityLow,
		Summary:     "The header is not a UTF-8 JSON object of tensor entries (syntax error, wrong JSON type, excessive nesting or bytes after the object).",
		Remediation: "Do not load the file: safetensors loaders reject it and hand-written parsers may misread it. Re-export the model from a trusted source.",
	}
	RuleDuplicateKey = scan.Rule{
		ID: "SFT003", Name: "duplicate-key", Severity: scan.SeverityMedium,
		Summary:     "The header repeats a JSON key, so parsers that keep the first and the last occurrence see different tensors or values.",
		Remediation: "Treat the file as tampered with: re-export the model with a safetensors library, which never writes duplicate keys.",
	}
	RuleMetadataInvalid = scan.Rule{
		ID: "SFT004", Name: "metadata-invalid", Severity: scan.SeverityLow,
		Summary:     "The __metadata__ entry is not a map from strings to strings.",
		Remediation: "Re-export the model; the reference loader rejects non-string metadata values.",
	}
	RuleDtypeInvalid = scan.Rule{
		ID: "SFT005", Name: "dtype-invalid", Severity: scan.SeverityLow,
		Summary:     "A tensor's dtype is missing, not a string, or not one of the dtypes the safetensors format defines.",
		Remediation: "Re-export the model with a dtype the format defines; loaders reject unknown dtypes.",
	}
	RuleShapeInvalid = scan.Rule{
		ID: "SFT006", Name: "shape-invalid", Severity: scan.SeverityLow,
		Summary:     "A tensor's shape is missing, not an array of non-negative integers, or its element count overflows 64 bits.",
		Remediation: "Do not load the file; re-export the model from a trusted source.",
	}
	RuleSizeMismatch = scan.Rule{
		ID: "SFT007", Name: "tensor-size-mismatch", Severity: scan.SeverityMedium,
		Summary:     "A tensor's shape and dtype imply a byte size different from the range its data_offsets give, so a lax loader reads past the tensor or leaves bytes unread.",
		Remediation: "Do not load the file: the header does not describe its data. Re-export the model from a trusted source.",
	}
	RuleOffsetsInvalid = scan.Rule{
		ID: "SFT008", Name: "offsets-invalid", Severity: scan.SeverityLow,
		Summary:     "A tensor's data_offsets are missing, not two non-negative integers, or begin after they end.",
		Remediation: "Do not load the file; re-export the model from a trusted source.",
	}
	RuleOutOfBounds = scan.Rule{
		ID: "SFT009", Name: "tensor-out-of-bounds", Severity: scan.SeverityMedium,
		Summary:     "A tensor's byte range extends past the end of the data section: the file is truncated or the offsets make lax loaders read out of bounds.",
		Remediation: "Do not load the file. Re-download it (it may be truncated) or re-export the model from a trusted source.",
	}
	RuleOverlap = scan.Rule{
		ID: "SFT010", Name: "tensors-overlap", Severity: scan.SeverityMedium,
		Summary:     "Two tensors' byte ranges overlap, so loaders that trust the offsets alias their memory and writes to one corrupt the other.",
		Remediation: "Do not load the file: no safetensors writer produces overlapping tensors. Re-export the model from a trusted source.",
	}
	RuleUnreferenced = scan.Rule{
		ID: "SFT011", Name: "unreferenced-bytes", Severity: scan.SeverityMedium,
		Summary:     "Bytes between tensors belong to no tensor; the format packs tensors contiguously, so the gap can only hide data.",
		Remediation: "Inspect the reported byte range; re-export the model with a safetensors library to drop it.",
	}
	RuleTrailingData = scan.Rule{
		ID: "SFT012", Name: "trailing-data", Severity: scan.SeverityMedium,
		Summary:     "Bytes after the last tensor belong to no tensor; an appended payload (a pickle, an archive) can hide there.",
		Remediation: "Inspect the reported byte range (findings on it are listed under the trailing-data member); re-export the model to drop it.",
	}
)

// Rules lists every rule the scanner reports.
func (s *Scanner) Rules() []scan.Rule {
	return []scan.Rule{
		RuleHeaderLength, RuleHeaderInvalid, RuleDuplicateKey, RuleMetadataInvalid,
		RuleDtypeInvalid, RuleShapeInvalid, RuleSizeMismatch, RuleOffsetsInvalid,
		RuleOutOfBounds, RuleOverlap, RuleUnreferenced, RuleTrailingData,
	}
}
