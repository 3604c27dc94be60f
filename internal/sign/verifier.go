package sign

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/palisade-sec/palisade/internal/sign/keys"
)

// Verifier checks the signature of a decoded signature file.
type Verifier interface {
	// Verify checks env.Signature over env.Payload and returns who signed
	// (for people) and any warnings about the file.
	Verify(ctx context.Context, env *Envelope) (signer string, warnings []string, err error)
}

// KeyVerifier checks signatures made with a known public key.
type KeyVerifier struct {
	pub  *ecdsa.PublicKey
	hint string
}

var _ Verifier = (*KeyVerifier)(nil)

// NewKeyVerifier verifies with pub.
func NewKeyVerifier(pub *ecdsa.PublicKey) (*KeyVerifier, error) {
	hint, err := keys.Hint(pub)
	if err != nil {
		return nil, err
	}
	return &KeyVerifier{pub: pub, hint: hint}, nil
}

// Verify implements Verifier. A bundle that names a key (by hint, by
// legacy key bytes, or by certificate) must name this one; then the
// signature must verify over the DSSE encoding, or over the legacy
// encoding of model_signing 0.2, with the curve's hash.
func (k *KeyVerifier) Verify(_ context.Context, env *Envelope) (string, []string, error) {
	var warnings []string
	vm := env.Bundle.GetVerificationMaterial()
	switch {
	case vm.GetPublicKey() != nil && vm.GetPublicKey().GetHint() != "":
		if vm.GetPublicKey().GetHint() != k.hint {
			return "", nil, fmt.Errorf("%w: the signature names key sha256:%s, the given key is sha256:%s",
				ErrKeyMismatch, clip(vm.GetPublicKey().GetHint()), k.hint)
		}
	case env.LegacyKey != nil:
		warnings = append(warnings, "the signature file uses the legacy key material of model_signing 0.3-1.0; re-sign it to record a key hint")
		if legacy, err := keys.ParsePublic(env.LegacyKey); err == nil && !legacy.Equal(k.pub) {
			return "", nil, fmt.Errorf("%w: the signature file embeds another public key", ErrKeyMismatch)
		}
	case len(certificates(env)) > 0:
		leaf, err := x509.ParseCertificate(certificates(env)[0])
		if err != nil {
			return "", nil, fmt.Errorf("%w: signing certificate: %w", ErrBundle, err)
		}
		if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || !pub.Equal(k.pub) {
			return "", nil, fmt.Errorf("%w: the signing certificate %q holds another public key", ErrKeyMismatch, leaf.Subject)
		}
	default:
		warnings = append(warnings, "the signature file does not name its key; only the signature itself was checked")
	}
	h, err := keys.HashFor(k.pub)
	if err != nil {
		return "", nil, err
	}
	if err := verifyECDSA(k.pub, h, h, env); err != nil {
		return "", nil, err
	}
	return "key sha256:" + k.hint, warnings, nil
}

// CertificateVerifier checks signatures whose bundle carries an X.509
// chain, against trust anchors the verifier chose.
type CertificateVerifier struct {
	roots []*x509.Certificate
	// now, when set, also requires every certificate to be valid at that
	// time; otherwise the chain is checked at the leaf's notBefore, as in
	// the reference (there is no trusted signing time).
	now func() time.Time
}

var _ Verifier = (*CertificateVerifier)(nil)

// NewCertificateVerifier trusts the given anchors. With now set, the chain
// must also be valid at now() (stricter than the reference).
func NewCertificateVerifier(anchors []*x509.Certificate, now func() time.Time) (*CertificateVerifier, error) {
	if len(anchors) == 0 {
		return nil, errors.New("certificate verification needs at least one trust anchor")
	}
	return &CertificateVerifier{roots: anchors, now: now}, nil
}

// Verify implements Verifier.
func (c *CertificateVerifier) Verify(_ context.Context, env *Envelope) (string, []string, error) {
	raw := certificates(env)
	if len(raw) == 0 {
		return "", nil, fmt.Errorf("%w: the bundle carries a public key hint, not a certificate chain; verify it with --key", ErrWrongMethod)
	}
	chain := make([]*x509.Certificate, len(raw))
	for i, der := range raw {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return "", nil, fmt.Errorf("%w: certificate %d of the bundle: %w", ErrBundle, i, err)
		}
		chain[i] = cert
	}
	leaf := chain[0]
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for _, r := range c.roots {
		roots.AddCert(r)
	}
	for _, cert := range chain[1:] {
		inter.AddCert(cert)
	}
	at := leaf.NotBefore
	if c.now != nil {
		at = c.now()
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}
	if _, err := leaf.Verify(opts); err != nil {
		return "", nil, chainError(leaf, at, err)
	}
	if err := checkSigningUsage(leaf); err != nil {
		return "", nil, err
	}
	pub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return "", nil, fmt.Errorf("%w: the signing certificate holds a %T key", keys.ErrUnsupportedKey, leaf.PublicKey)
	}
	h, err := keys.HashFor(pub)
	if err != nil {
		return "", nil, err
	}
	// model_signing 0.2 hashed its legacy encoding with SHA-256 whatever
	// the curve.
	if err := verifyECDSA(pub, h, crypto.SHA256, env); err != nil {
		return "", nil, err
	}
	return describeCert(leaf) + " (sha256:" + fingerprint(leaf) + ")", nil, nil
}

func chainError(leaf *x509.Certificate, at time.Time, err error) error {
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) && invalid.Reason == x509.Expired {
		return fmt.Errorf("%w: a certificate in the chain of %q is expired or not yet valid at %s: %w",
			ErrUntrusted, leaf.Subject, at.UTC().Format(time.RFC3339), err)
	}
	var unknown x509.UnknownAuthorityError
	if errors.As(err, &unknown) {
		return fmt.Errorf("%w: %q does not chain to the given trust anchors (pass the root CA with --cert-chain)", ErrUntrusted, leaf.Subject)
	}
	return fmt.Errorf("%w: %q: %w", ErrUntrusted, leaf.Subject, err)
}

func fingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

// certificates returns the DER certificates of env's bundle, leaf first.
func certificates(env *Envelope) [][]byte {
	vm := env.Bundle.GetVerificationMaterial()
	if c := vm.GetCertificate(); c != nil {
		return [][]byte{c.GetRawBytes()}
	}
	var out [][]byte
	for _, c := range vm.GetX509CertificateChain().GetCertificates() {
		out = append(out, c.GetRawBytes())
	}
	return out
}

// verifyECDSA checks env's signature over the DSSE encoding with hash h,
// then over the legacy encoding with legacyHash.
func verifyECDSA(pub *ecdsa.PublicKey, h, legacyHash crypto.Hash, env *Envelope) error {
	v, err := signature.LoadECDSAVerifier(pub, h)
	if err != nil {
		return fmt.Errorf("load verification key: %w", err)
	}
	if v.VerifySignature(bytes.NewReader(env.Signature), bytes.NewReader(pae(env.Payload))) == nil {
		return nil
	}
	lv, err := signature.LoadECDSAVerifier(pub, legacyHash)
	if err != nil {
		return fmt.Errorf("load verification key: %w", err)
	}
	if lv.VerifySignature(bytes.NewReader(env.Signature), bytes.NewReader(legacyPAE(env.Payload))) == nil {
		return nil
	}
	return fmt.Errorf("%w: the signature over the statement is invalid for this key (wrong key, or the payload was altered)", ErrBadSignature)
}

// SigstoreVerifier checks keyless signatures: a Fulcio certificate, a
// Rekor entry and the signer's identity, against a Sigstore trusted root.
type SigstoreVerifier struct {
	verifier *verify.Verifier
	identity verify.CertificateIdentity
	want     string
}

var _ Verifier = (*SigstoreVerifier)(nil)

// NewSigstoreVerifier verifies against the trusted root JSON (a Sigstore
// TrustedRoot, such as the public-good instance's trusted_root.json) and
// requires the certificate's SAN to equal identity and its OIDC issuer to
// equal issuer, exactly.
func NewSigstoreVerifier(trustedRootJSON []byte, identity, issuer string) (*SigstoreVerifier, error) {
	if identity == "" || issuer == "" {
		return nil, errors.New("keyless verification needs both the signer identity and its OIDC issuer")
	}
	tr, err := root.NewTrustedRootFromJSON(trustedRootJSON)
	if err != nil {
		return nil, fmt.Errorf("read the trusted root: %w", err)
	}
	v, err := verify.NewVerifier(tr, verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1))
	if err != nil {
		return nil, fmt.Errorf("set up Sigstore verification: %w", err)
	}
	id, err := verify.NewShortCertificateIdentity(issuer, "", identity, "")
	if err != nil {
		return nil, fmt.Errorf("signer identity: %w", err)
	}
	return &SigstoreVerifier{verifier: v, identity: id, want: fmt.Sprintf("%q (issuer %q)", identity, issuer)}, nil
}

// Verify implements Verifier.
func (s *SigstoreVerifier) Verify(_ context.Context, env *Envelope) (string, []string, error) {
	if env.Bundle.GetVerificationMaterial().GetPublicKey() != nil {
		return "", nil, fmt.Errorf("%w: the bundle was signed with a key, not keyless; verify it with --key", ErrWrongMethod)
	}
	b, err := bundle.NewBundle(env.Bundle)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrBundle, err)
	}
	res, err := s.verifier.Verify(b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithCertificateIdentity(s.identity)))
	if err == nil {
		return s.describe(res), nil, nil
	}
	// Tell an identity mismatch from an untrusted bundle.
	if other, err2 := s.verifier.Verify(b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithoutIdentitiesUnsafe())); err2 == nil {
		return "", nil, fmt.Errorf("%w: signed by %s, want %s", ErrIdentity, s.describe(other), s.want)
	}
	return "", nil, fmt.Errorf("%w: Sigstore verification: %w", ErrUntrusted, err)
}

func (s *SigstoreVerifier) describe(res *verify.VerificationResult) string {
	if res == nil || res.Signature == nil || res.Signature.Certificate == nil {
		return "keyless signer"
	}
	c := res.Signature.Certificate
	return fmt.Sprintf("identity %q (issuer %q)", c.SubjectAlternativeName, c.Issuer)
}
