package sign

import (
	"context"
	"crypto/elliptic"
	"errors"
	"testing"

	"github.com/sigstore/sigstore/pkg/signature/kms/fake"

	"github.com/palisade-sec/palisade/internal/sign/manifest"
)

// TestKMSSigner signs through sigstore's KMS registry with its in-memory
// fake provider, on P-256 and P-384 (which must sign with SHA-384), and
// verifies with the key's public half.
func TestKMSSigner(t *testing.T) {
	t.Parallel()
	for name, curve := range map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384()} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			k := mustKey(t, curve)
			ctx := context.WithValue(t.Context(), fake.KmsCtxKey{}, k)
			s, err := LoadKMSSigner(ctx, fake.ReferenceScheme+"test-key")
			if err != nil {
				t.Fatalf("LoadKMSSigner: %v", err)
			}
			dir := writeModel(t)
			sigPath, _ := signModel(t, dir, s, manifest.Options{})
			v, err := NewKeyVerifier(&k.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := verifyModel(t.Context(), t, dir, sigPath, v, VerifyOptions{}); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func TestKMSUnknownScheme(t *testing.T) { // not parallel: sets PATH
	t.Setenv("PATH", t.TempDir()) // no sigstore-kms-* plugins
	_, err := LoadKMSSigner(t.Context(), "nosuchkms://key")
	if !errors.Is(err, ErrKMSUnavailable) {
		t.Fatalf("LoadKMSSigner(unknown scheme) error = %v, want ErrKMSUnavailable", err)
	}
}
