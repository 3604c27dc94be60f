// Package config reads Palisade's configuration files.
//
// For now that is the project file, .palisade.yaml, which a repository
// keeps beside its code to set scan defaults and to suppress accepted
// findings. Decoding is strict: an unknown key is an error that names it,
// so a typo never silently disables a control. The file is parsed as data
// only; nothing in it is executed or expanded.
package config
