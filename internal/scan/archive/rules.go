package archive

import "github.com/palisade-sec/palisade/internal/scan"

// Rules reported by the archive scanner. Severities follow one principle:
// high for constructs whose only known use is an attack (a name that
// differs between the zip's two directories, a member that escapes the
// extraction directory); medium for content Palisade could not analyse
// (fail closed) and for constructs that make loaders and scanners disagree;
// low for irregularities that real tools occasionally produce.
var (
	// RuleUnreadable (ARC001) reports a container that could not be parsed.
	RuleUnreadable = scan.Rule{
		ID: "ARC001", Name: "archive-unreadable", Severity: scan.SeverityMedium,
		Summary:     "The archive or compressed stream could not be parsed, so its content (or the part after the damage) was not analysed.",
		Remediation: "Treat the file as untrusted: do not load it until it scans cleanly, or re-create the archive from a trusted source.",
	}
	// RuleNameMismatch (ARC002) reports a zip member whose local and central names differ.
	RuleNameMismatch = scan.Rule{
		ID: "ARC002", Name: "zip-name-mismatch", Severity: scan.SeverityHigh,
		Summary:     "A zip member's local header names a different file than its central-directory entry, a known scanner evasion (CVE-2025-1944).",
		Remediation: "Do not load the file: loaders read the central-directory name and ignore the local one. Re-export the model with a standard zip writer.",
	}
	// RuleEncrypted (ARC003) reports a member or archive marked as encrypted.
	RuleEncrypted = scan.Rule{
		ID: "ARC003", Name: "encrypted-member", Severity: scan.SeverityMedium,
		Summary:     "An archive member is marked as encrypted; PyTorch ignores the flag on stored members, and truly encrypted content cannot be analysed.",
		Remediation: "Model files have no reason to be encrypted inside the archive: re-export the model unencrypted, or unpack it with its password and scan the content.",
	}
	// RuleDuplicate (ARC004) reports a member name that occurs more than once.
	RuleDuplicate = scan.Rule{
		ID: "ARC004", Name: "duplicate-member", Severity: scan.SeverityMedium,
		Summary:     "Two archive members share one name, so a loader may read a different copy than another tool inspected.",
		Remediation: "Re-create the archive with unique member names; every copy was scanned, but the duplicate itself suggests tampering.",
	}
	// RuleTraversal (ARC005) reports a member name or link target that escapes the archive.
	RuleTraversal = scan.Rule{
		ID: "ARC005", Name: "path-traversal", Severity: scan.SeverityHigh,
		Summary:     "An archive member's name or link target escapes the extraction directory (zip slip: '..' components or an absolute path).",
		Remediation: "Do not extract the archive with a tool that follows member paths; remove the offending member or re-create the archive.",
	}
	// RuleUnsupportedMethod (ARC006) reports a member compressed with a method Palisade cannot decode.
	RuleUnsupportedMethod = scan.Rule{
		ID: "ARC006", Name: "unsupported-compression", Severity: scan.SeverityMedium,
		Summary:     "An archive member uses a compression method Palisade cannot decompress, so its content was not analysed.",
		Remediation: "Re-create the archive with stored or deflated members (what PyTorch and NumPy write), or unpack it and scan the content.",
	}
	// RuleLink (ARC007) reports a tar link whose target stays inside the archive.
	RuleLink = scan.Rule{
		ID: "ARC007", Name: "archive-link", Severity: scan.SeverityLow,
		Summary:     "A tar archive holds a symbolic or hard link; links that stay inside the archive are unusual in model files.",
		Remediation: "Check that the link target is intended, or re-create the archive with regular files.",
	}
	// RuleMemberUnreadable (ARC008) reports a member or stream that is truncated, corrupt or over a format limit.
	RuleMemberUnreadable = scan.Rule{
		ID: "ARC008", Name: "member-unreadable", Severity: scan.SeverityMedium,
		Summary:     "An archive member or stream is truncated, corrupt or exceeds a safety limit of its format, so (part of) its content was not analysed.",
		Remediation: "Treat the file as untrusted: do not load it until it scans cleanly, or re-create it from a trusted source.",
	}
	// RuleIrregularZip (ARC009) reports zip irregularities that strict readers reject or standard writers never produce.
	RuleIrregularZip = scan.Rule{
		ID: "ARC009", Name: "irregular-zip", Severity: scan.SeverityLow,
		Summary:     "The zip has irregularities that strict readers reject or that standard writers never produce (data before the archive, inconsistent sizes or counts, unusual flags).",
		Remediation: "Re-export the model with a standard writer; Palisade read the archive leniently, as PyTorch does, and scanned what it found.",
	}
)

// rules lists every rule the scanner may report.
var rules = []scan.Rule{
	RuleUnreadable, RuleNameMismatch, RuleEncrypted, RuleDuplicate, RuleTraversal,
	RuleUnsupportedMethod, RuleLink, RuleMemberUnreadable, RuleIrregularZip,
}
