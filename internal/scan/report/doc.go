// Package report renders scan results for people and machines: an aligned
// table for terminals, JSON for scripts, and SARIF 2.1.0 for code-scanning
// services such as GitHub code scanning.
//
// Renderers only format what the scan produced. They print evidence as the
// scanners recorded it (scanners cap and quote it) and never read the
// scanned files again.
package report
