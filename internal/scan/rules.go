package scan

// Rules the engine itself reports: limits reached while descending into
// nested content, and scanners that could not finish. Each means content a
// loader may run was not analysed, so each is high: the default --fail-on
// gate fails closed on it.
var (
	RuleIncomplete = Rule{
		ID: "SCN001", Name: "scan-incomplete", Severity: SeverityHigh,
		Summary:     "A scanner could not finish reading the object; content after the failure was not analysed.",
		Remediation: "Treat the file as untrusted: do not load it until it scans cleanly, or re-export it from a trusted source.",
	}
	RuleTooDeep = Rule{
		ID: "SCN002", Name: "nesting-too-deep", Severity: SeverityHigh,
		Summary:     "Archives or embedded payloads are nested deeper than the depth limit; deeper content was not analysed.",
		Remediation: "Unpack the archive by hand and scan its content, or raise --max-depth if the nesting is legitimate.",
	}
	RuleTooManyEntries = Rule{
		ID: "SCN003", Name: "too-many-entries", Severity: SeverityHigh,
		Summary:     "An archive holds more members than the entry limit; the remaining members were not analysed.",
		Remediation: "Split the archive, or raise --max-entries if the size is legitimate.",
	}
	RuleExpansion = Rule{
		ID: "SCN004", Name: "decompression-bomb", Severity: SeverityHigh,
		Summary:     "Decompressed content exceeds the size or compression-ratio limit (an archive bomb or a hostile length).",
		Remediation: "Do not extract the file. If the content is legitimate, raise --max-expanded or --max-ratio for this scan.",
	}
)

// EngineRules lists the rules the engine reports itself.
func EngineRules() []Rule {
	return []Rule{RuleIncomplete, RuleTooDeep, RuleTooManyEntries, RuleExpansion}
}
