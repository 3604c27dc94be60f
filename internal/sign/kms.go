package sign

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore/pkg/signature/kms"

	"github.com/palisade-sec/palisade/internal/sign/keys"
)

// ErrKMSUnavailable: no KMS provider in this build (or plugin on PATH)
// handles the key URI.
var ErrKMSUnavailable = errors.New("no KMS provider for this key URI")

// LoadKMSSigner signs with a key held in a KMS, through sigstore's KMS
// support: the providers compiled in (AWS, GCP, Azure and HashiCorp Vault
// in a build with the kms tag; see KMSProviders) or a sigstore-kms-<scheme>
// plugin program on PATH. The key must be ECDSA P-256, P-384 or P-521; it
// signs with the hash matched to its curve.
func LoadKMSSigner(ctx context.Context, uri string) (*KeySigner, error) {
	sv, err := kms.Get(ctx, uri, crypto.SHA256)
	if err != nil {
		var notFound *kms.ProviderNotFoundError
		if errors.As(err, &notFound) {
			built := "this build has no KMS providers: build with 'go build -tags kms ./cmd/palisade' (make build-kms) for awskms://, gcpkms://, azurekms:// and hashivault://"
			if len(KMSProviders) > 0 {
				built = "this build handles " + strings.Join(KMSProviders, ", ")
			}
			return nil, fmt.Errorf("%w: %s; %s, and other schemes need a sigstore-kms-<scheme> plugin on PATH",
				ErrKMSUnavailable, clip(uri), built)
		}
		return nil, fmt.Errorf("open KMS key: %w", err)
	}
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("read the KMS key's public key: %w", err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: the KMS key is %T", keys.ErrUnsupportedKey, pub)
	}
	h, err := keys.HashFor(ec)
	if err != nil {
		return nil, err
	}
	if h != crypto.SHA256 {
		if sv, err = kms.Get(ctx, uri, h); err != nil {
			return nil, fmt.Errorf("open KMS key with %s: %w", h, err)
		}
	}
	return FromSignatureSigner(sv)
}
