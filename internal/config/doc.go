// Package config reads Palisade's configuration files.
//
// For now that is the project file, .palisade.yaml, which a repository
// keeps at its root to set scan defaults and to suppress accepted
// findings. It is found by looking in the current directory and then in
// each parent directory. Decoding is strict: an unknown key is an error that
// names it and the valid keys, so a typo never silently disables a
// control, and errors speak of the file's keys, never of Go types. The file
// is parsed as data only; nothing in it is executed or expanded.
//
// The package is infrastructure: it returns plain data (strings and
// times) and knows nothing of scanning; the command line turns that data
// into severities and suppressions and checks it against the scanner's rules.
package config
