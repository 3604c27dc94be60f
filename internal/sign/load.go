package sign

import (
	"crypto/ecdsa"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/palisade-sec/palisade/internal/boundedfile"
	"github.com/palisade-sec/palisade/internal/sign/keys"
)

// Passphrase supplies the passphrase of an encrypted private key; it is
// called only when the key is encrypted.
type Passphrase func() ([]byte, error)

// LoadKeySigner reads a PEM private key file for the key method.
func LoadKeySigner(keyPath string, pass Passphrase) (*KeySigner, error) {
	priv, err := loadPrivate(keyPath, pass)
	if err != nil {
		return nil, err
	}
	return NewKeySigner(priv)
}

// LoadCertificateSigner reads a private key, its certificate and the
// certificates of its chain (PEM files, each may hold several) for the
// certificate method.
func LoadCertificateSigner(keyPath, certPath string, chainPaths []string, pass Passphrase, now time.Time) (*CertificateSigner, error) {
	priv, err := loadPrivate(keyPath, pass)
	if err != nil {
		return nil, err
	}
	leaf, err := loadCertificates(certPath)
	if err != nil {
		return nil, err
	}
	var chain = leaf[1:]
	for _, p := range chainPaths {
		certs, err := loadCertificates(p)
		if err != nil {
			return nil, err
		}
		chain = append(chain, certs...)
	}
	return NewCertificateSigner(priv, leaf[0], chain, now)
}

// LoadKeyVerifier reads a PEM public key file (text around the PEM block
// is skipped).
func LoadKeyVerifier(pubPath string) (*KeyVerifier, error) {
	data, err := boundedfile.Read(pubPath, keys.MaxPEMSize)
	if err != nil {
		return nil, err
	}
	v, err := loadKeyVerifierFromPEM(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pubPath, err)
	}
	return v, nil
}

func loadKeyVerifierFromPEM(data []byte) (*KeyVerifier, error) {
	pub, err := keys.ParsePublic(data)
	if err != nil {
		return nil, err
	}
	return NewKeyVerifier(pub)
}

// LoadCertificateVerifier reads trust anchors from PEM files. With now
// set, certificates must also be valid at now().
func LoadCertificateVerifier(anchorPaths []string, now func() time.Time) (*CertificateVerifier, error) {
	var anchors = []*x509.Certificate{}
	for _, p := range anchorPaths {
		certs, err := loadCertificates(p)
		if err != nil {
			return nil, err
		}
		anchors = append(anchors, certs...)
	}
	return NewCertificateVerifier(anchors, now)
}

// LoadSigstoreVerifier reads a Sigstore trusted root JSON file.
func LoadSigstoreVerifier(trustedRootPath, identity, issuer string) (*SigstoreVerifier, error) {
	data, err := boundedfile.Read(trustedRootPath, 16<<20)
	if err != nil {
		return nil, err
	}
	v, err := NewSigstoreVerifier(data, identity, issuer)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", trustedRootPath, err)
	}
	return v, nil
}

// ReadSignature reads a signature file within MaxSignatureSize.
func ReadSignature(path string) ([]byte, error) {
	return boundedfile.Read(path, MaxSignatureSize)
}

func loadPrivate(path string, pass Passphrase) (*ecdsa.PrivateKey, error) {
	data, err := boundedfile.Read(path, keys.MaxPEMSize)
	if err != nil {
		return nil, err
	}
	priv, err := keys.ParsePrivate(data, pass)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return priv, nil
}

func loadCertificates(path string) ([]*x509.Certificate, error) {
	data, err := boundedfile.Read(path, keys.MaxPEMSize)
	if err != nil {
		return nil, err
	}
	certs, err := keys.ParseCertificates(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return certs, nil
}
