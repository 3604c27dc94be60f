// Package cli implements the palisade command line: subcommands, flags,
// output and exit codes.
//
// Exit codes are stable and documented in the README:
//
//	0  success; for scan, nothing at or above --fail-on
//	1  scan findings at or above --fail-on
//	2  usage error, unreadable input or another failure
//
// The package maps errors to exit codes and nothing else does. It holds no
// scanning logic: it parses flags, asks the Services it is given for an
// engine, and renders results through scan/report.
package cli
