package sign

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/palisade-sec/palisade/internal/sign/manifest"
)

const (
	testIdentity = "stefanb@us.ibm.com"
	testIssuer   = "https://sigstore.verify.ibm.com/oauth2"
	rootSigned   = "61d4849d9d90076d6215f4d525f13d6574af8e3f67aef3e6f36fc40a14fdd226"
)

// copyDir copies testdata/signatures/<name> to a temporary directory
// keeping its name, as the reference's tests do.
func copyDir(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join("testdata", "signatures", name)
	dst := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	if err := filepath.WalkDir(dst, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if d.IsDir() {
			mode = 0o755
		}
		return os.Chmod(p, mode)
	}); err != nil {
		t.Fatal(err)
	}
	return dst
}

func keyVerifier(t *testing.T) Verifier {
	t.Helper()
	v, err := LoadKeyVerifier("testdata/keys/signing-key-pub.pem")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func certVerifier(t *testing.T, anchors ...string) Verifier {
	t.Helper()
	if len(anchors) == 0 {
		anchors = []string{"testdata/keys/ca-cert.pem"}
	}
	v, err := LoadCertificateVerifier(anchors, nil)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func sigstoreVerifier(t *testing.T, identity, issuer string) Verifier {
	t.Helper()
	v, err := LoadSigstoreVerifier("testdata/trusted_root_public_good.json", identity, issuer)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestReferenceSignatures verifies every signature the reference tool
// made, each with the material it was made for, and checks the signed
// root digest.
func TestReferenceSignatures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir        string
		singleFile bool // the model is the file signme-1
		verifier   func(t *testing.T) Verifier
		wantRoot   string // "" for v0.1
		wantLegacy bool
		warn       bool
	}{
		{"v0.2.0-certificate", false, func(t *testing.T) Verifier { return certVerifier(t) }, "", true, false},
		{"v0.3.1-certificate", false, func(t *testing.T) Verifier { return certVerifier(t) }, rootSigned, false, false},
		{"v0.3.1-elliptic-key", true, keyVerifier, "afa48c8674afe334b8a7dea34f7b46ab256e9255edf8da2132792341b667a45b", false, true},
		{"v0.3.1-sigstore", false, func(t *testing.T) Verifier { return sigstoreVerifier(t, testIdentity, testIssuer) }, rootSigned, false, false},
		{"v1.0.0-certificate", false, func(t *testing.T) Verifier { return certVerifier(t) }, rootSigned, false, false},
		{"v1.0.0-elliptic-key", true, keyVerifier, "afa48c8674afe334b8a7dea34f7b46ab256e9255edf8da2132792341b667a45b", false, true},
		{"v1.0.0-sigstore", false, func(t *testing.T) Verifier { return sigstoreVerifier(t, testIdentity, testIssuer) }, rootSigned, false, false},
		{"v1.0.1-certificate", false, func(t *testing.T) Verifier { return certVerifier(t) }, rootSigned, false, false},
		{"v1.0.1-elliptic-key", false, keyVerifier, "92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4", false, true},
		{"v1.0.1-sigstore", false, func(t *testing.T) Verifier { return sigstoreVerifier(t, testIdentity, testIssuer) }, rootSigned, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			t.Parallel()
			dir := copyDir(t, tt.dir)
			sigPath := filepath.Join(dir, DefaultSignatureName)
			model := dir
			if tt.singleFile {
				model = filepath.Join(dir, "signme-1")
			}
			data, err := ReadSignature(sigPath)
			if err != nil {
				t.Fatal(err)
			}
			opts := VerifyOptions{Manifest: manifest.Options{SignatureFile: sigPath, IgnorePaths: []string{"ignore-me"}}}
			res, err := Verify(t.Context(), model, data, tt.verifier(t), opts)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if res.Manifest.Legacy != tt.wantLegacy {
				t.Errorf("Legacy = %v, want %v", res.Manifest.Legacy, tt.wantLegacy)
			}
			if tt.wantRoot != "" {
				root := res.Manifest.RootDigest()
				if got := hex.EncodeToString(root[:]); got != tt.wantRoot {
					t.Errorf("root digest = %s, want %s", got, tt.wantRoot)
				}
			}
			if (len(res.Warnings) > 0) != tt.warn {
				t.Errorf("warnings = %q, want some: %v", res.Warnings, tt.warn)
			}
			if res.Signer == "" {
				t.Error("no signer description")
			}
		})
	}
}

// TestReferenceSignaturesRejected checks that each reference signature
// fails, with the right error, when the model or the material is wrong.
func TestReferenceSignaturesRejected(t *testing.T) {
	t.Parallel()
	writeFile := func(name, content string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	remove := func(name string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	none := func(*testing.T, string) {}
	tests := []struct {
		name     string
		dir      string
		edit     func(t *testing.T, dir string)
		verifier func(t *testing.T) Verifier
		wantErr  error
	}{
		{"changed file v1.0.1 key", "v1.0.1-elliptic-key", writeFile("signme-2", "signme-X"), keyVerifier, manifest.ErrMismatch},
		{"extra file v1.0.0 cert", "v1.0.0-certificate", writeFile("extra", "x"), func(t *testing.T) Verifier { return certVerifier(t) }, manifest.ErrMismatch},
		{"missing file v0.2 cert", "v0.2.0-certificate", remove("signme-2"), func(t *testing.T) Verifier { return certVerifier(t) }, manifest.ErrMismatch},
		{"changed file keyless", "v1.0.1-sigstore", writeFile("signme-1", "evil"), func(t *testing.T) Verifier { return sigstoreVerifier(t, testIdentity, testIssuer) }, manifest.ErrMismatch},
		{"unrelated CA", "v1.0.1-certificate", none, func(t *testing.T) Verifier { return certVerifier(t, writePEM(t, newTestCA(t, "other").cert)) }, ErrUntrusted},
		{"intermediate is not enough without root", "v0.3.1-certificate", none, func(t *testing.T) Verifier { return certVerifier(t, "testdata/keys/int-ca-cert.pem") }, nil},
		{"key bundle with cert chain method", "v1.0.1-elliptic-key", none, func(t *testing.T) Verifier { return certVerifier(t) }, ErrWrongMethod},
		{"keyless wrong identity", "v1.0.1-sigstore", none, func(t *testing.T) Verifier { return sigstoreVerifier(t, "someone@example.com", testIssuer) }, ErrIdentity},
		{"keyless wrong issuer", "v1.0.0-sigstore", none, func(t *testing.T) Verifier { return sigstoreVerifier(t, testIdentity, "https://accounts.google.com") }, ErrIdentity},
		{"keyless checked with the key", "v1.0.1-sigstore", none, keyVerifier, ErrKeyMismatch},
		{"key bundle checked keyless", "v1.0.1-elliptic-key", none, func(t *testing.T) Verifier { return sigstoreVerifier(t, testIdentity, testIssuer) }, ErrWrongMethod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := copyDir(t, tt.dir)
			tt.edit(t, dir)
			sigPath := filepath.Join(dir, DefaultSignatureName)
			data, err := ReadSignature(sigPath)
			if err != nil {
				t.Fatal(err)
			}
			opts := VerifyOptions{Manifest: manifest.Options{SignatureFile: sigPath, IgnorePaths: []string{"ignore-me"}}}
			_, err = Verify(t.Context(), dir, data, tt.verifier(t), opts)
			if tt.wantErr == nil {
				// An intermediate given as the anchor is a valid anchor
				// for Go's path building too: the chain stops there.
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestKeylessWithoutMatchingRoot checks that a keyless signature fails
// cleanly against a trusted root that does not hold its CAs and logs.
func TestKeylessWithoutMatchingRoot(t *testing.T) {
	t.Parallel()
	empty := filepath.Join(t.TempDir(), "trusted_root.json")
	if err := os.WriteFile(empty, []byte(`{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := LoadSigstoreVerifier(empty, testIdentity, testIssuer)
	if err != nil {
		t.Fatalf("LoadSigstoreVerifier(empty root): %v", err)
	}
	dir := copyDir(t, "v1.0.0-sigstore")
	sigPath := filepath.Join(dir, DefaultSignatureName)
	data, err := ReadSignature(sigPath)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Verify(t.Context(), dir, data, v, VerifyOptions{Manifest: manifest.Options{SignatureFile: sigPath}})
	if !errors.Is(err, ErrUntrusted) {
		t.Fatalf("Verify error = %v, want ErrUntrusted", err)
	}
	if _, err := LoadSigstoreVerifier(filepath.Join(t.TempDir(), "absent.json"), testIdentity, testIssuer); err == nil {
		t.Error("LoadSigstoreVerifier(absent file) succeeded")
	}
	if _, err := NewSigstoreVerifier([]byte("{not json"), testIdentity, testIssuer); err == nil {
		t.Error("NewSigstoreVerifier(bad JSON) succeeded")
	}
}

// TestCertificateValidNow checks the stricter mode: the reference
// certificates are valid until 2035, so they pass now and fail in 2036.
func TestCertificateValidNow(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		at      time.Time
		wantErr error
	}{
		{time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), nil},
		{time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC), ErrUntrusted},
	} {
		v, err := LoadCertificateVerifier([]string{"testdata/keys/ca-cert.pem"}, func() time.Time { return tc.at })
		if err != nil {
			t.Fatal(err)
		}
		dir := copyDir(t, "v1.0.0-certificate")
		sigPath := filepath.Join(dir, DefaultSignatureName)
		data, err := ReadSignature(sigPath)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Verify(t.Context(), dir, data, v, VerifyOptions{Manifest: manifest.Options{SignatureFile: sigPath}})
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("at %s: Verify error = %v, want %v", tc.at, err, tc.wantErr)
		}
	}
}
