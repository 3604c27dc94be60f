package sign

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/options"

	"github.com/palisade-sec/palisade/internal/sign/keys"
)

// Signer signs a DSSE pre-authentication encoding and supplies the
// verification material its bundle carries.
type Signer interface {
	// SignMessage signs message (hashing it with the key's hash) and
	// returns the DER signature.
	SignMessage(ctx context.Context, message []byte) ([]byte, error)
	// Material is the bundle's verificationMaterial.
	Material() *protobundle.VerificationMaterial
	// Describe names the signer for people ("key sha256:<hint>").
	Describe() string
}

// KeySigner signs with a key whose public half the verifier holds; its
// bundles carry the key's hint.
type KeySigner struct {
	sv   signature.Signer
	hint string
}

var _ Signer = (*KeySigner)(nil)

// NewKeySigner signs with a local ECDSA key.
func NewKeySigner(priv *ecdsa.PrivateKey) (*KeySigner, error) {
	h, err := keys.HashFor(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	sv, err := signature.LoadECDSASigner(priv, h)
	if err != nil {
		return nil, fmt.Errorf("load signing key: %w", err)
	}
	return FromSignatureSigner(sv)
}

// FromSignatureSigner signs with any sigstore signer holding an ECDSA
// P-256/384/521 key, such as a KMS key from signature/kms. The signer must
// hash with the hash matched to its curve, as the reference verifies.
func FromSignatureSigner(s signature.Signer) (*KeySigner, error) {
	pub, err := s.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("read the signer's public key: %w", err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: got %T", keys.ErrUnsupportedKey, pub)
	}
	hint, err := keys.Hint(ec)
	if err != nil {
		return nil, err
	}
	if _, err := keys.HashFor(ec); err != nil {
		return nil, err
	}
	return &KeySigner{sv: s, hint: hint}, nil
}

// SignMessage implements Signer.
func (k *KeySigner) SignMessage(ctx context.Context, message []byte) ([]byte, error) {
	sig, err := k.sv.SignMessage(bytes.NewReader(message), options.WithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return sig, nil
}

// Material implements Signer: the public key hint.
func (k *KeySigner) Material() *protobundle.VerificationMaterial {
	return &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: k.hint}},
	}
}

// Describe implements Signer.
func (k *KeySigner) Describe() string { return "key sha256:" + k.hint }

// CertificateSigner signs with a key and ships its certificate and chain
// in the bundle.
type CertificateSigner struct {
	key   *KeySigner
	chain []*x509.Certificate
}

var _ Signer = (*CertificateSigner)(nil)

// NewCertificateSigner signs with priv and records leaf followed by chain
// (intermediates, optionally the root). It refuses a leaf whose key is not
// priv's, that is not valid at now, or that is not for digital signatures
// or code signing, so that no signature is made that verifiers reject.
func NewCertificateSigner(priv *ecdsa.PrivateKey, leaf *x509.Certificate, chain []*x509.Certificate, now time.Time) (*CertificateSigner, error) {
	certPub, ok := leaf.PublicKey.(*ecdsa.PublicKey)
	if !ok || !certPub.Equal(&priv.PublicKey) {
		return nil, fmt.Errorf("%w: the certificate %q is not for this private key", ErrKeyMismatch, leaf.Subject)
	}
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("%w: the certificate %q is valid from %s to %s, not now",
			ErrCertUsage, leaf.Subject, leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	if err := checkSigningUsage(leaf); err != nil {
		return nil, err
	}
	k, err := NewKeySigner(priv)
	if err != nil {
		return nil, err
	}
	return &CertificateSigner{key: k, chain: append([]*x509.Certificate{leaf}, chain...)}, nil
}

// SignMessage implements Signer.
func (c *CertificateSigner) SignMessage(ctx context.Context, message []byte) ([]byte, error) {
	return c.key.SignMessage(ctx, message)
}

// Material implements Signer: the certificate chain, leaf first.
func (c *CertificateSigner) Material() *protobundle.VerificationMaterial {
	certs := make([]*protocommon.X509Certificate, len(c.chain))
	for i, cert := range c.chain {
		certs[i] = &protocommon.X509Certificate{RawBytes: cert.Raw}
	}
	return &protobundle.VerificationMaterial{
		Content: &protobundle.VerificationMaterial_X509CertificateChain{
			X509CertificateChain: &protocommon.X509CertificateChain{Certificates: certs},
		},
	}
}

// Describe implements Signer.
func (c *CertificateSigner) Describe() string { return describeCert(c.chain[0]) }

// checkSigningUsage applies the reference's rule: KeyUsage
// digitalSignature, or else ExtendedKeyUsage codeSigning.
func checkSigningUsage(leaf *x509.Certificate) error {
	if leaf.KeyUsage&x509.KeyUsageDigitalSignature != 0 {
		return nil
	}
	for _, u := range leaf.ExtKeyUsage {
		if u == x509.ExtKeyUsageCodeSigning {
			return nil
		}
	}
	return fmt.Errorf("%w: %q has neither the digitalSignature key usage nor the codeSigning extended key usage",
		ErrCertUsage, leaf.Subject)
}

func describeCert(c *x509.Certificate) string {
	return fmt.Sprintf("certificate %q issued by %q", c.Subject.String(), c.Issuer.String())
}
