// Package protowalk is a helper for the scanners of protobuf-encoded
// formats (scan/onnx, scan/savedmodel): it decodes protobuf wire format
// field by field and checks fields against a hand-written schema of the
// messages a scanner walks. It is not a scanner itself and reports no
// findings; scanners decide what a field means.
//
// A Reader reads through a bounded window over an io.ReaderAt, so memory
// stays flat whatever the size of the object: payloads a scanner does not
// need (raw tensor bytes) are skipped by offset and never read. Every
// length, varint and group is checked against the bytes left in the
// enclosing message before it is used, and nothing is allocated from a
// length field before that check; bytes copied out are further capped by
// the caller's limit.
//
// A Path tracks which message a walk is in, for the pointers scanners put
// on findings and on a *MalformedError, and bounds nesting at MaxDepth.
//
// Threat model: the input is hostile. Content that is not valid wire
// format, or that breaks the wire type a schema declares for a field, is
// reported as a *MalformedError carrying the offset of the offending tag or
// value. Errors of the underlying io.ReaderAt (wrapped, so errors.Is
// works) and of the context are never a *MalformedError, so that a scanner
// can fail closed on both without taking an unreadable object for a
// malformed one. Decoding never panics on bad input.
package protowalk
