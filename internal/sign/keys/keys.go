package keys

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"

	"go.step.sm/crypto/pemutil"
)

// MaxPEMSize bounds key and certificate files read by this package.
const MaxPEMSize = 1 << 20

// Sentinels for conditions callers branch on.
var (
	// ErrUnsupportedKey: not an ECDSA key on P-256, P-384 or P-521.
	ErrUnsupportedKey = errors.New("unsupported key: OpenSSF Model Signing keys are ECDSA P-256, P-384 or P-521")
	// ErrNoPEM: the input holds no PEM block of the expected type.
	ErrNoPEM = errors.New("no PEM block found")
	// ErrPassphrase: the private key is encrypted and the passphrase is
	// missing or wrong.
	ErrPassphrase = errors.New("private key is encrypted and the passphrase is missing or wrong")
)

// Curve names a supported elliptic curve.
type Curve string

// Supported curves.
const (
	P256 Curve = "P-256"
	P384 Curve = "P-384"
	P521 Curve = "P-521"
)

// ParseCurve accepts "P-256", "p256", "secp256r1" and the like.
func ParseCurve(s string) (Curve, error) {
	switch strings.ToLower(strings.ReplaceAll(s, "-", "")) {
	case "", "p256", "secp256r1", "prime256v1":
		return P256, nil
	case "p384", "secp384r1":
		return P384, nil
	case "p521", "secp521r1":
		return P521, nil
	}
	return "", fmt.Errorf("%w: curve %q (use P-256, P-384 or P-521)", ErrUnsupportedKey, s)
}

func (c Curve) elliptic() elliptic.Curve {
	switch c {
	case P384:
		return elliptic.P384()
	case P521:
		return elliptic.P521()
	default:
		return elliptic.P256()
	}
}

// Generate creates a key pair on curve c from rand.
func Generate(c Curve, rand io.Reader) (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(c.elliptic(), rand)
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", c, err)
	}
	return k, nil
}

// HashFor is the signature hash matched to the key's curve: SHA-256 for
// P-256, SHA-384 for P-384, SHA-512 for P-521.
func HashFor(pub *ecdsa.PublicKey) (crypto.Hash, error) {
	switch pub.Curve {
	case elliptic.P256():
		return crypto.SHA256, nil
	case elliptic.P384():
		return crypto.SHA384, nil
	case elliptic.P521():
		return crypto.SHA512, nil
	}
	return 0, ErrUnsupportedKey
}

// CurveOf names the curve of a supported key.
func CurveOf(pub *ecdsa.PublicKey) (Curve, error) {
	switch pub.Curve {
	case elliptic.P256():
		return P256, nil
	case elliptic.P384():
		return P384, nil
	case elliptic.P521():
		return P521, nil
	}
	return "", ErrUnsupportedKey
}

// EncodePrivate renders key as PKCS#8 PEM, encrypted with passphrase
// when it is not empty.
func EncodePrivate(key *ecdsa.PrivateKey, passphrase []byte) ([]byte, error) {
	opts := []pemutil.Options{pemutil.WithPKCS8(true)}
	if len(passphrase) > 0 {
		opts = append(opts, pemutil.WithPassword(passphrase))
	}
	block, err := pemutil.Serialize(key, opts...)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(block), nil
}

// EncodePublic renders pub as canonical SubjectPublicKeyInfo PEM: the
// exact bytes the reference hashes for its key hint.
func EncodePublic(pub *ecdsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encode public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// Hint is the public key hint recorded in key-signed bundles: lowercase
// hex SHA-256 of the canonical PEM of pub.
func Hint(pub *ecdsa.PublicKey) (string, error) {
	p, err := EncodePublic(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(p)
	return hex.EncodeToString(sum[:]), nil
}

// ParsePrivate reads an ECDSA private key from PEM (PKCS#8, SEC 1 or
// encrypted). passphrase is called only when the key is encrypted; it may
// be nil when no passphrase is available.
func ParsePrivate(data []byte, passphrase func() ([]byte, error)) (*ecdsa.PrivateKey, error) {
	if len(data) > MaxPEMSize {
		return nil, fmt.Errorf("private key file is larger than %d bytes", MaxPEMSize)
	}
	block := findBlock(data, "PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY")
	if block == nil {
		return nil, fmt.Errorf("%w: want a PRIVATE KEY, EC PRIVATE KEY or ENCRYPTED PRIVATE KEY block", ErrNoPEM)
	}
	encrypted := block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] == "4,ENCRYPTED"
	opts := []pemutil.Options{pemutil.WithFirstBlock()}
	if block.Type == "ENCRYPTED PRIVATE KEY" {
		if err := checkPBES2Work(block.Bytes); err != nil {
			return nil, err
		}
	}
	if encrypted {
		if passphrase == nil {
			return nil, ErrPassphrase
		}
		p, err := passphrase()
		if err != nil {
			return nil, fmt.Errorf("read passphrase: %w", err)
		}
		if len(p) == 0 {
			return nil, ErrPassphrase
		}
		opts = append(opts, pemutil.WithPassword(p))
	}
	k, err := pemutil.ParseKey(pem.EncodeToMemory(block), opts...)
	if err != nil {
		if encrypted {
			return nil, ErrPassphrase
		}
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	priv, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: got %T", ErrUnsupportedKey, k)
	}
	if _, err := CurveOf(&priv.PublicKey); err != nil {
		return nil, err
	}
	return priv, nil
}

// ParsePublic reads an ECDSA public key from the first PUBLIC KEY PEM
// block of data; text around the block (certtool headers) is skipped.
func ParsePublic(data []byte) (*ecdsa.PublicKey, error) {
	if len(data) > MaxPEMSize {
		return nil, fmt.Errorf("public key file is larger than %d bytes", MaxPEMSize)
	}
	block := findBlock(data, "PUBLIC KEY")
	if block == nil {
		return nil, fmt.Errorf("%w: want a PUBLIC KEY block", ErrNoPEM)
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	pub, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: got %T", ErrUnsupportedKey, k)
	}
	if _, err := CurveOf(pub); err != nil {
		return nil, err
	}
	return pub, nil
}

// ParseCertificates reads every CERTIFICATE PEM block of data, in order.
func ParseCertificates(data []byte) ([]*x509.Certificate, error) {
	if len(data) > MaxPEMSize {
		return nil, fmt.Errorf("certificate file is larger than %d bytes", MaxPEMSize)
	}
	var out []*x509.Certificate
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate %d: %w", len(out)+1, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: want CERTIFICATE blocks", ErrNoPEM)
	}
	return out, nil
}

// findBlock returns the first PEM block of one of the given types.
func findBlock(data []byte, types ...string) *pem.Block {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil
		}
		for _, t := range types {
			if block.Type == t {
				return block
			}
		}
	}
}
