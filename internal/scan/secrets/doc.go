// Package secrets finds credentials in source code, configuration files
// and Jupyter notebooks: API tokens, cloud keys, private keys, and URLs
// with embedded passwords.
//
// Rules come from two places. gitleaks' default rule set is loaded from
// the gitleaks Go module (its embedded gitleaks.toml, translated with the
// module's own config package), so the rules follow upstream with a module
// version bump; a user's gitleaks TOML may extend or replace it with
// gitleaks' [extend] semantics, and its allowlists are honoured. Palisade
// adds rules of its own for the ML ecosystem (Hugging Face, Weights &
// Biases, Kaggle, Replicate, Cohere, Anthropic, Databricks, Azure storage,
// GCP service accounts, database and tracking URLs, package indexes) and
// replaces gitleaks' multi-line private-key rule with a line-streaming
// detector that reports a key block at its BEGIN line.
//
// The matcher is built for throughput on ML code, where words such as
// "token", "key" and "api" are everywhere: an Aho-Corasick automaton finds
// every rule keyword in a block of lines at once; a rule's regular
// expression runs only on the lines that hold one of its keywords (rules
// without keywords run on every line), and only when the line meets the
// necessary conditions read off the expression's syntax (a literal or a
// run of class characters every match contains; see prefilter.go);
// entropy, placeholder, known-example and allowlist checks run last, on
// the few matches. Text is streamed in
// blocks, never read whole, and lines longer than MaxLineBytes are clipped.
//
// Notebooks are decoded as JSON with their file positions: every string is
// scanned after unescaping (so a token before an escaped quote is found),
// except image, audio, video and other binary outputs; a finding carries
// the line of the notebook file and "cell N, line M" in its Pointer. A
// notebook that does not decode, or is larger or deeper than the limits, is
// scanned as plain text instead (fail closed).
//
// Invariant: no finding holds a secret. Evidence is a short masked prefix
// and a fingerprint (the first 12 hex digits of the secret's SHA-256);
// messages name the kind of secret and the gitleaks rule, never its value.
// One secret is one finding: when several rules match overlapping text,
// the most specific one is kept.
package secrets
