package deps

import "github.com/palisade-sec/palisade/internal/scan"

// Rules reported by the dependency scanner. DEP001 is the advisory match;
// DEP002 to DEP006 are hygiene rules that need no advisory database;
// DEP007 to DEP009 say what could not be read.
var (
	RuleVulnerable = scan.Rule{
		ID: "DEP001", Name: "vulnerable-dependency", Severity: scan.SeverityHigh,
		Summary:     "A pinned or locked package version is affected by a published advisory in the local OSV database.",
		Remediation: "Upgrade the package to a fixed version (listed in the finding) and regenerate the lockfile; if no fix exists, remove the package or document why the vulnerable code path is not reachable.",
	}
	RuleUnpinned = scan.Rule{
		ID: "DEP002", Name: "unpinned-dependency", Severity: scan.SeverityLow,
		Summary:     "A requirement has no exact version (`torch`, `torch>=2`, `~=`, `*`), so every install may resolve a different, possibly hostile or vulnerable, release.",
		Remediation: "Pin an exact version (`name==X.Y.Z`), preferably generated with hashes by pip-compile, uv or poetry, and keep the loose ranges in a separate input file.",
	}
	RuleMissingHash = scan.Rule{
		ID: "DEP003", Name: "missing-hash", Severity: scan.SeverityMedium,
		Summary:     "A requirement has no `--hash` although the same requirements file pins hashes for other requirements, so this package escapes integrity checking.",
		Remediation: "Regenerate the file with `pip-compile --generate-hashes` (or `uv pip compile --generate-hashes`) so that every requirement carries its hashes.",
	}
	RuleDirectURL = scan.Rule{
		ID: "DEP004", Name: "url-or-vcs-dependency", Severity: scan.SeverityMedium,
		Summary:     "A package is installed from a URL, a local file URL or a version-control repository instead of a package index, so no advisory matching, yanking or index integrity applies to it.",
		Remediation: "Publish the package to a trusted index and pin it by version and hash; if a direct reference is unavoidable, pin an immutable commit or archive hash and use HTTPS.",
	}
	RuleIndexURL = scan.Rule{
		ID: "DEP005", Name: "non-default-index", Severity: scan.SeverityHigh,
		Summary:     "The requirements name a package index other than pypi.org (`--extra-index-url`, `--index-url`, `--find-links` or a disabled TLS check), which enables dependency confusion when a public package shadows a private name.",
		Remediation: "Use a single index that proxies PyPI and owns your private names (`--index-url` only), pin hashes, and never pass credentials in the URL: use a keyring or netrc.",
	}
	RuleTyposquat = scan.Rule{
		ID: "DEP006", Name: "possible-typosquat", Severity: scan.SeverityHigh,
		Summary:     "A package name is one or two edits away from a popular ML or Python package but is not that package, the usual shape of a typosquatting attack.",
		Remediation: "Check the spelling; if the package is not the one you meant, remove it, rotate any credentials on machines where it was installed, and install the intended package.",
	}
	RuleIncludeSkipped = scan.Rule{
		ID: "DEP007", Name: "include-not-followed", Severity: scan.SeverityInfo,
		Summary:     "A `-r`/`-c` include of a requirements file was not followed (inside an archive, outside the project, not a regular file, too large or missing), so its packages were not checked.",
		Remediation: "Scan the included file directly, or keep included requirements files next to the including one.",
	}
	RuleInvalid = scan.Rule{
		ID: "DEP008", Name: "manifest-unreadable", Severity: scan.SeverityLow,
		Summary:     "A dependency manifest or lockfile could not be parsed, so its packages were not checked.",
		Remediation: "Fix or regenerate the file with its tool (pip-compile, poetry lock, uv lock, npm install) and scan again.",
	}
	RuleLimit = scan.Rule{
		ID: "DEP009", Name: "manifest-limit", Severity: scan.SeverityMedium,
		Summary:     "A dependency manifest or lockfile exceeds the size or nesting limit, so it was not analysed.",
		Remediation: "Treat the file as unscanned; if it is legitimate, raise the dependency file size limit for this scan.",
	}
)

// Rules lists every rule the scanner reports.
func (s *Scanner) Rules() []scan.Rule {
	return []scan.Rule{
		RuleVulnerable, RuleUnpinned, RuleMissingHash, RuleDirectURL, RuleIndexURL,
		RuleTyposquat, RuleIncludeSkipped, RuleInvalid, RuleLimit,
	}
}
