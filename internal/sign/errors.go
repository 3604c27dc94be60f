package sign

import (
	"errors"
)

// Sentinels for conditions callers branch on. Verification failures wrap
// one of ErrBadSignature, ErrKeyMismatch, ErrUntrusted, ErrCertUsage,
// ErrIdentity or manifest.ErrMismatch / manifest.ErrRootDigest; a
// malformed signature file wraps ErrBundle.
var (
	// ErrBundle: the signature file is not a model signing bundle this
	// package can read.
	ErrBundle = errors.New("malformed signature file")
	// ErrBadSignature: the signature does not verify over the payload
	// with the given key or certificate.
	ErrBadSignature = errors.New("signature does not verify")
	// ErrKeyMismatch: the bundle names (by hint or legacy key bytes) a
	// different public key than the one given.
	ErrKeyMismatch = errors.New("signature was made with a different key")
	// ErrUntrusted: the signing certificate does not chain to a trust
	// anchor (or the keyless bundle fails Sigstore verification).
	ErrUntrusted = errors.New("certificate is not trusted")
	// ErrCertUsage: the signing certificate is not for digital signatures
	// or code signing.
	ErrCertUsage = errors.New("certificate is not valid for signing")
	// ErrIdentity: the keyless signer is not the expected identity or
	// issuer.
	ErrIdentity = errors.New("signer identity does not match")
	// ErrWrongMethod: the bundle was signed with another method than the
	// verifier expects (for example a certificate chain checked with a
	// bare public key).
	ErrWrongMethod = errors.New("signature was made with another signing method")
)
