// Package sbom builds CycloneDX 1.6 bills of materials for ML projects: the
// dependency packages a repository pins and the model files it ships, as
// library and machine-learning-model components, with the model-card
// fields Hugging Face README front matter declares.
//
// The package turns what other packages found into a document; it reads
// nothing from disk itself. The one parser it owns, ReadModelCard, reads
// untrusted README files: it reads only the leading YAML front matter,
// stops at MaxCardBytes, refuses nesting deeper than maxCardDepth, never
// follows YAML aliases and clips every value it keeps, so a hostile card
// costs bounded time and memory and cannot inflate the bill of materials.
//
// Invariants: output is deterministic for the same input and Meta
// (components sorted, properties sorted, bom-refs derived from content and
// unique); time and randomness come from Meta, so tests inject both.
package sbom
