// Package sign signs models and verifies model signatures in the OpenSSF
// Model Signing (OMS) format, interoperable with the reference
// model_signing tooling: a Sigstore bundle (v0.3, protobuf-specs JSON)
// whose DSSE envelope carries the in-toto statement built by package
// manifest.
//
// Signing: the model is hashed (manifest.Build), the statement is signed
// over its DSSE pre-authentication encoding with ECDSA (the hash matched
// to the curve, DER signature) by a key, a key with its certificate chain,
// or any sigstore signature.SignerVerifier (KMS), and the bundle is written
// atomically. Verification checks the bundle's signature with a public key,
// with X.509 trust anchors, or keyless against a Sigstore trusted root and
// a signer identity, then re-hashes the model the way the signed
// serialization block says and names every difference.
//
// Threat assumptions: the signature file and the model are untrusted. The
// bundle is size-bounded and decoded leniently only where old reference
// files need it (unknown fields of legacy key material); the payload bytes
// are verified exactly as signed and never re-serialized; the statement's
// subject name is informational and never trusted. All cryptography is
// the standard library's and Sigstore's; the only hand-written encodings
// are the DSSE pre-authentication strings, which are formatting.
package sign
