// Package safetensors validates the structure of safetensors files.
//
// A safetensors file is an 8-byte little-endian header length N, N bytes of
// JSON describing each tensor (dtype, shape, data_offsets) plus an optional
// "__metadata__" string map, and then the raw tensor data. The format cannot
// carry code, so the threats are structural: a hostile header length meant to
// exhaust memory, a header that different parsers read differently
// (duplicate keys), tensors whose byte ranges overlap, leave holes or run past
// the end of the file (out-of-bounds reads in lax loaders), and bytes that no
// tensor claims, where an appended payload can hide.
//
// Invariants: the scanner reads the 8-byte length and then at most
// min(N, Limits.MaxHeaderBytes) header bytes, never the tensor data, so its
// cost depends on the header alone. A length larger than the file or the
// limit is reported and never allocated. The JSON is walked token by token
// with a nesting bound, and findings per rule are capped. All size
// arithmetic is overflow-checked. Unclaimed regions (holes and trailing
// data) are anomalies in themselves; the first few are also handed to
// Session.Nested (after skipping up to 64 KiB of leading zeros) so that an
// appended pickle or archive is scanned by its own scanner.
package safetensors
