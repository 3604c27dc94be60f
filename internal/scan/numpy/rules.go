package numpy

import "github.com/palisade-sec/palisade/internal/scan"

// Rules reported by the NumPy scanner.
var (
	// RuleObjectArray is an array whose data is a pickle.
	RuleObjectArray = scan.Rule{
		ID: "NPY001", Name: "object-array", Severity: scan.SeverityLow,
		Summary: "The array has an object dtype: its data is a pickle that numpy.load runs when called with allow_pickle=True.",
		Remediation: "Load it with allow_pickle=False (the default) or convert it to a numeric dtype; " +
			"pass allow_pickle=True only for files from a trusted source, after the pickle scan is clean.",
	}
	// RuleMalformedHeader is a .npy preamble or header numpy cannot read.
	RuleMalformedHeader = scan.Rule{
		ID: "NPY002", Name: "malformed-header", Severity: scan.SeverityMedium,
		Summary:     "The .npy magic, version or header is malformed, so the array could not be analysed.",
		Remediation: "Treat the file as untrusted: regenerate it with numpy.save from a trusted source and scan it again.",
	}
	// RuleOversizedHeader is a header longer than numpy accepts by
	// default, or than the scanner reads.
	RuleOversizedHeader = scan.Rule{
		ID: "NPY003", Name: "oversized-header", Severity: scan.SeverityLow,
		Summary:     "The .npy header is longer than numpy accepts without allow_pickle or max_header_size (10000 bytes).",
		Remediation: "Check why the header is so large; numpy refuses it by default, and a file that needs allow_pickle=True to load should not be trusted.",
	}
	// RuleSizeMismatch is array data shorter or longer than the header
	// declares.
	RuleSizeMismatch = scan.Rule{
		ID: "NPY004", Name: "array-size-mismatch", Severity: scan.SeverityMedium,
		Summary:     "The array data is shorter or longer than shape times item size: the file is truncated or carries extra bytes after the array.",
		Remediation: "Regenerate the file from a trusted source; inspect any trailing bytes, which loaders ignore but other tools may read.",
	}
	// RuleUnknownDtype is a dtype the scanner does not know.
	RuleUnknownDtype = scan.Rule{
		ID: "NPY005", Name: "unknown-dtype", Severity: scan.SeverityMedium,
		Summary:     "The header declares a dtype the scanner does not recognise, so the data size and the absence of objects could not be verified.",
		Remediation: "Check the dtype with numpy.lib.format.read_array_header_1_0/2_0 (no allow_pickle) before loading the file.",
	}
)

// allRules lists every rule the scanner may report.
var allRules = []scan.Rule{
	RuleObjectArray, RuleMalformedHeader, RuleOversizedHeader, RuleSizeMismatch, RuleUnknownDtype,
}
