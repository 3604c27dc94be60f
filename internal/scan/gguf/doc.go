// Package gguf validates GGUF model files (versions 2 and 3, either byte
// order) and analyses the Jinja chat templates they carry.
//
// A GGUF file is a header (magic, version, tensor count, metadata count),
// typed key/value metadata, tensor descriptions, alignment padding and the
// tensor data. Two threats matter. First, tokenizer.chat_template (and
// tokenizer.chat_template.<name>) is a Jinja template that serving stacks
// render; rendered outside a sandbox, a template that walks Python object
// internals (__class__, __globals__, ...) runs arbitrary code
// (CVE-2024-34359 and its relatives in vLLM and SGLang). The scanner analyses
// those keys and every other string value or string-array element that
// contains "{{" or "{%". Second, the header's counts and lengths drive
// allocations in native loaders; llama.cpp's parser has had heap overflows
// from hostile counts, so every count and length is checked against the
// bytes that remain before it is used, and tensor offsets and sizes are
// checked against the data section.
//
// Invariants: the scanner reads only the header, through a bounded buffer
// over the ReaderAt, so its cost does not depend on the tensor data. Large
// arrays (150k-token vocabularies) are streamed and never kept; only
// strings that look like templates are materialised. The header may not
// exceed Limits.MaxHeaderBytes, nested arrays are bounded, and no value is
// allocated before its length has been validated. Alignment padding between
// tensors is allowed; bytes beyond it, and non-zero bytes after the last
// tensor, are reported, and the first few such regions are handed to
// Session.Nested (from their first non-zero byte within 64 KiB) so that an
// appended payload is scanned by its own scanner. Template analysis is
// static and heuristic, with token and expansion budgets that keep it
// linear: templates are never rendered. Besides token patterns, a bounded
// constant folder (assemble.go) evaluates the known part of each
// expression across tags, so that a dunder name built at render time by
// indexing or slicing strings or object text, %-formatting, dict keys or
// values carried through set and namespace() counts as a dunder reference.
package gguf
