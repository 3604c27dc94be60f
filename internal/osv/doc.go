// Package osv matches package versions against OSV vulnerability
// advisories, offline, from a local database built by Import.
//
// Matching follows the OSV schema: an affected entry covers a version
// listed in its versions OR inside any of its ECOSYSTEM or SEMVER ranges.
// A range's events are sorted in the ecosystem's order (PEP 440 for PyPI,
// SemVer 2.0 for Go and npm; see the pep440 and semver subpackages) and
// the version is affected when the last event at or below it is an
// introduced one: introduced "0" is below everything, fixed is exclusive,
// last_affected inclusive, and several introduced/fixed pairs reopen and
// close the range again (backport branches). GIT ranges, which need
// commit history, are ignored; withdrawn advisories match nothing; PyPI
// names are compared after PEP 503 normalisation. Advisories that share
// an ID or alias are merged, so one vulnerability is one Vuln per queried
// package.
//
// The database directory holds a CURRENT file naming a generation
// directory with a JSON manifest (format version, per-ecosystem counts,
// newest modification time, import time and source) and one gob index per
// ecosystem, keyed by normalised package name. Only what matching and
// display need is stored: enumerated versions that the ranges already
// cover are dropped at import, details are reduced to a one-line summary.
// Import writes a new generation and switches CURRENT by rename, so a
// reader never sees a half-written database and a failed import leaves
// the previous one in place; Open refuses a database of another
// FormatVersion with an error that says to re-import.
//
// Threat assumptions: advisory sources are downloaded files and may be
// damaged or hostile. Records are size-bounded and decoded leniently
// (unknown fields ignored, malformed records counted and skipped); zip
// exports are read with bounds on entry count, per-entry and total
// uncompressed size and compression ratio; directory walks skip symbolic
// links. Version strings are bounded by the parsers. Nothing is executed.
package osv
