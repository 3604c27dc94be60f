// Package scan defines the contract shared by Palisade's file scanners and
// the engine that drives them.
//
// A Scanner analyses one Object (a file on disk, an archive member or a
// payload embedded in another format) and reports Findings through the
// Session it is given. Scanners never load, unpickle or execute what they
// read: they parse bytes as data, with limits on size, depth and expansion.
//
// The Engine walks the paths a user names, recognises each file by its
// content (Sniff), hands it to the scanner for every format it matches (a
// polyglot matches several), and lets scanners descend into nested content
// through Session.Nested, which enforces the nesting depth, entry count and
// expanded-size budget shared by everything inside one top-level file. A
// scanner that fails part-way reports what it read before the failure; the
// engine turns an unexpected scanner error into a finding, so a parse error
// is never taken as proof that a file is safe (fail closed).
//
// Scanner packages (scan/pickle, scan/archive, ...) import this package and
// leaf packages only, never each other; the composition root wires them into
// an Engine.
package scan
