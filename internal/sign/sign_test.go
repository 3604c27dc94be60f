package sign

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/sign/keys"
	"github.com/palisade-sec/palisade/internal/sign/manifest"
)

// writeModel lays out a small model directory and returns its path.
func writeModel(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "model")
	files := map[string]string{
		"config.json":            `{"architectures": ["Test"]}`,
		"model.safetensors":      strings.Repeat("weights ", 100),
		"tokenizer/vocab.txt":    "a\nb\nc\n",
		"tokenizer/empty":        "",
		".git/HEAD":              "ref: refs/heads/main\n",
		"sub/deeper/weights.bin": strings.Repeat("\x00\x01", 37),
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustKey(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// signerPair is a signer and the verifier that should accept it.
type signerPair struct {
	name     string
	signer   Signer
	verifier Verifier
}

func keyPair(t *testing.T, k *ecdsa.PrivateKey) signerPair {
	t.Helper()
	s, err := NewKeySigner(k)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewKeyVerifier(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return signerPair{"key", s, v}
}

func certPair(t *testing.T, k *ecdsa.PrivateKey) signerPair {
	t.Helper()
	root := newTestCA(t, "root")
	now := time.Now()
	inter := root.issue(t, &root.key.PublicKey, x509.KeyUsageCertSign, nil, now.Add(-time.Hour), now.Add(time.Hour), true)
	interCA := &testCA{cert: inter, key: root.key}
	leaf := interCA.issue(t, &k.PublicKey, x509.KeyUsageDigitalSignature, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, now.Add(-time.Minute), now.Add(time.Hour), false)
	s, err := NewCertificateSigner(k, leaf, []*x509.Certificate{inter}, now)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewCertificateVerifier([]*x509.Certificate{root.cert}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return signerPair{"certificate", s, v}
}

func signModel(t *testing.T, dir string, s Signer, opts manifest.Options) (string, *Signed) {
	t.Helper()
	sigPath := filepath.Join(dir, DefaultSignatureName)
	res, err := Sign(t.Context(), dir, sigPath, s, opts)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	return sigPath, res
}

func verifyModel(ctx context.Context, t *testing.T, dir, sigPath string, v Verifier, opts VerifyOptions) (*Verified, error) {
	t.Helper()
	data, err := os.ReadFile(sigPath)
	if err != nil {
		t.Fatal(err)
	}
	opts.Manifest.SignatureFile = sigPath
	return Verify(ctx, dir, data, v, opts)
}

// TestRoundTrip signs and verifies with every hash, serialization, curve
// and method.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	curves := map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}
	sers := []struct {
		name   string
		method manifest.Method
		shard  int64
	}{{"files", manifest.Files, 0}, {"shards-8", manifest.Shards, 8}, {"shards-default", manifest.Shards, 0}}
	for curveName, curve := range curves {
		for _, method := range []func(*testing.T, *ecdsa.PrivateKey) signerPair{keyPair, certPair} {
			for _, h := range []manifest.Hash{manifest.SHA256, manifest.BLAKE2b, manifest.BLAKE3} {
				for _, ser := range sers {
					t.Run(fmt.Sprintf("%s/%s/%s", curveName, h, ser.name), func(t *testing.T) {
						t.Parallel()
						pair := method(t, mustKey(t, curve))
						dir := writeModel(t)
						opts := manifest.Options{Hash: h, Method: ser.method, ShardSize: ser.shard}
						sigPath, signed := signModel(t, dir, pair.signer, opts)
						res, err := verifyModel(t.Context(), t, dir, sigPath, pair.verifier, VerifyOptions{})
						if err != nil {
							t.Fatalf("%s: Verify: %v", pair.name, err)
						}
						if res.Manifest.RootDigest() != signed.Manifest.RootDigest() {
							t.Error("verified root digest differs from the signed one")
						}
						if len(res.Warnings) != 0 {
							t.Errorf("warnings on own signature: %q", res.Warnings)
						}
						// .git and the signature file itself are not signed.
						for _, r := range res.Manifest.Resources {
							if strings.HasPrefix(r.Path, ".git") || r.Path == DefaultSignatureName {
								t.Errorf("resource %q should be ignored", r.Path)
							}
						}
					})
				}
			}
		}
	}
}

// TestSingleFileRoundTrip signs a single-file model with the signature
// beside it.
func TestSingleFileRoundTrip(t *testing.T) {
	t.Parallel()
	dir := writeModel(t)
	model := filepath.Join(dir, "model.safetensors")
	pair := keyPair(t, mustKey(t, elliptic.P256()))
	sigPath := DefaultSignaturePath(model)
	if want := filepath.Join(dir, DefaultSignatureName); sigPath != want {
		t.Fatalf("DefaultSignaturePath = %s, want %s", sigPath, want)
	}
	res, err := Sign(t.Context(), model, sigPath, pair.signer, manifest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Manifest.Resources[0].Path; len(res.Manifest.Resources) != 1 || got != "." {
		t.Fatalf("single-file resources = %+v, want one named .", res.Manifest.Resources)
	}
	if _, err := verifyModel(t.Context(), t, model, sigPath, pair.verifier, VerifyOptions{}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

// TestTamper checks that each change to a signed model or its signature
// fails with the error that names it.
func TestTamper(t *testing.T) {
	t.Parallel()
	otherKey := mustKey(t, elliptic.P256())
	tests := []struct {
		name        string
		tamper      func(t *testing.T, dir, sigPath string)
		verifier    func(pair signerPair) Verifier
		wantErr     error
		wantExtra   []string
		wantMissing []string
		wantChanged []string
	}{
		{name: "one byte changed", tamper: func(t *testing.T, dir, _ string) {
			flipByte(t, filepath.Join(dir, "sub/deeper/weights.bin"), 10)
		}, wantErr: manifest.ErrMismatch, wantChanged: []string{"sub/deeper/weights.bin"}},
		{name: "file added", tamper: func(t *testing.T, dir, _ string) {
			write(t, filepath.Join(dir, "tokenizer/added.json"), "{}")
		}, wantErr: manifest.ErrMismatch, wantExtra: []string{"tokenizer/added.json"}},
		{name: "file removed", tamper: func(t *testing.T, dir, _ string) {
			remove(t, filepath.Join(dir, "config.json"))
		}, wantErr: manifest.ErrMismatch, wantMissing: []string{"config.json"}},
		{name: "empty file removed", tamper: func(t *testing.T, dir, _ string) {
			remove(t, filepath.Join(dir, "tokenizer/empty"))
		}, wantErr: manifest.ErrMismatch, wantMissing: []string{"tokenizer/empty"}},
		{name: "file renamed", tamper: func(t *testing.T, dir, _ string) {
			if err := os.Rename(filepath.Join(dir, "config.json"), filepath.Join(dir, "config2.json")); err != nil {
				t.Fatal(err)
			}
		}, wantErr: manifest.ErrMismatch, wantExtra: []string{"config2.json"}, wantMissing: []string{"config.json"}},
		{name: "symlink added", tamper: func(t *testing.T, dir, _ string) {
			if err := os.Symlink("config.json", filepath.Join(dir, "link.json")); err != nil {
				t.Fatal(err)
			}
		}, wantErr: manifest.ErrSymlink},
		{name: "fifo added", tamper: func(t *testing.T, dir, _ string) {
			if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, wantErr: manifest.ErrSpecialFile},
		{name: "payload swapped", tamper: func(t *testing.T, _, sigPath string) {
			editPayload(t, sigPath, func(p string) string {
				return strings.Replace(p, `"config.json"`, `"config.jsom"`, 1)
			})
		}, wantErr: ErrBadSignature},
		{name: "payload from another signature", tamper: func(t *testing.T, dir, sigPath string) {
			other := filepath.Join(t.TempDir(), "other.sig")
			s, err := NewKeySigner(otherKey)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := Sign(t.Context(), dir, other, s, manifest.Options{Hash: manifest.BLAKE3}); err != nil {
				t.Fatal(err)
			}
			swapPayload(t, sigPath, other)
		}, wantErr: ErrBadSignature},
		{name: "another key", tamper: func(*testing.T, string, string) {}, verifier: func(signerPair) Verifier {
			v, err := NewKeyVerifier(&otherKey.PublicKey)
			if err != nil {
				panic(err)
			}
			return v
		}, wantErr: ErrKeyMismatch},
		{name: "hint removed, another key", tamper: func(t *testing.T, _, sigPath string) {
			editJSON(t, sigPath, func(b map[string]any) {
				b["verificationMaterial"].(map[string]any)["publicKey"] = map[string]any{}
			})
		}, verifier: func(signerPair) Verifier {
			v, err := NewKeyVerifier(&otherKey.PublicKey)
			if err != nil {
				panic(err)
			}
			return v
		}, wantErr: ErrBadSignature},
		{name: "signature truncated", tamper: func(t *testing.T, _, sigPath string) {
			data, err := os.ReadFile(sigPath)
			if err != nil {
				t.Fatal(err)
			}
			write(t, sigPath, string(data[:len(data)/2]))
		}, wantErr: ErrBundle},
		{name: "signature empty", tamper: func(t *testing.T, _, sigPath string) {
			write(t, sigPath, "")
		}, wantErr: ErrBundle},
		{name: "wrong media type", tamper: func(t *testing.T, _, sigPath string) {
			editJSON(t, sigPath, func(b map[string]any) { b["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2" })
		}, wantErr: ErrBundle},
		{name: "two signatures", tamper: func(t *testing.T, _, sigPath string) {
			editJSON(t, sigPath, func(b map[string]any) {
				env := b["dsseEnvelope"].(map[string]any)
				sigs := env["signatures"].([]any)
				env["signatures"] = append(sigs, sigs[0])
			})
		}, wantErr: ErrBundle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pair := keyPair(t, mustKey(t, elliptic.P256()))
			dir := writeModel(t)
			sigPath, _ := signModel(t, dir, pair.signer, manifest.Options{})
			tt.tamper(t, dir, sigPath)
			v := pair.verifier
			if tt.verifier != nil {
				v = tt.verifier(pair)
			}
			_, err := verifyModel(t.Context(), t, dir, sigPath, v, VerifyOptions{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
			}
			var mm *manifest.MismatchError
			if errors.As(err, &mm) {
				if diff := cmp.Diff([][]string{mm.Extra, mm.Missing, mm.Changed}, [][]string{tt.wantExtra, tt.wantMissing, tt.wantChanged}); diff != "" {
					t.Errorf("mismatch lists (extra, missing, changed) (-got +want):\n%s", diff)
				}
			}
		})
	}
}

// TestIgnoreUnsignedFiles tolerates extra files, links and special files
// but not changed or missing signed ones.
func TestIgnoreUnsignedFiles(t *testing.T) {
	t.Parallel()
	pair := keyPair(t, mustKey(t, elliptic.P384()))
	dir := writeModel(t)
	sigPath, _ := signModel(t, dir, pair.signer, manifest.Options{})
	write(t, filepath.Join(dir, "extra.txt"), "x")
	write(t, filepath.Join(dir, "newdir/more.txt"), "y")
	if err := os.Symlink("/etc/hostname", filepath.Join(dir, "tokenizer/link")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "sub/pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := VerifyOptions{IgnoreUnsignedFiles: true}
	if _, err := verifyModel(t.Context(), t, dir, sigPath, pair.verifier, opts); err != nil {
		t.Fatalf("Verify with extra files: %v", err)
	}
	if _, err := verifyModel(t.Context(), t, dir, sigPath, pair.verifier, VerifyOptions{}); !errors.Is(err, manifest.ErrSymlink) && !errors.Is(err, manifest.ErrSpecialFile) && !errors.Is(err, manifest.ErrMismatch) {
		t.Fatalf("Verify without the option: error = %v, want a failure", err)
	}
	flipByte(t, filepath.Join(dir, "config.json"), 0)
	_, err := verifyModel(t.Context(), t, dir, sigPath, pair.verifier, opts)
	var mm *manifest.MismatchError
	if !errors.As(err, &mm) || len(mm.Changed) != 1 || mm.Changed[0] != "config.json" || len(mm.Extra) != 0 {
		t.Fatalf("Verify after a change: error = %v, want config.json changed and no extras", err)
	}
	remove(t, filepath.Join(dir, "tokenizer/vocab.txt"))
	_, err = verifyModel(t.Context(), t, dir, sigPath, pair.verifier, opts)
	if !errors.As(err, &mm) || len(mm.Missing) != 1 || mm.Missing[0] != "tokenizer/vocab.txt" {
		t.Fatalf("Verify after a removal: error = %v, want tokenizer/vocab.txt missing", err)
	}
}

// TestCertificateSignerRefuses checks that no signature is made with a
// certificate the verifier would reject.
func TestCertificateSignerRefuses(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "root")
	k := mustKey(t, elliptic.P256())
	now := time.Now()
	good := []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	tests := []struct {
		name    string
		key     *ecdsa.PrivateKey
		leaf    *x509.Certificate
		wantErr error
	}{
		{"other key", mustKey(t, elliptic.P256()), ca.issue(t, &k.PublicKey, x509.KeyUsageDigitalSignature, good, now.Add(-time.Hour), now.Add(time.Hour), false), ErrKeyMismatch},
		{"expired", k, ca.issue(t, &k.PublicKey, x509.KeyUsageDigitalSignature, good, now.Add(-2*time.Hour), now.Add(-time.Hour), false), ErrCertUsage},
		{"not yet valid", k, ca.issue(t, &k.PublicKey, x509.KeyUsageDigitalSignature, good, now.Add(time.Hour), now.Add(2*time.Hour), false), ErrCertUsage},
		{"wrong usage", k, ca.issue(t, &k.PublicKey, x509.KeyUsageKeyEncipherment, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, now.Add(-time.Hour), now.Add(time.Hour), false), ErrCertUsage},
		{"code signing only", k, ca.issue(t, &k.PublicKey, 0, good, now.Add(-time.Hour), now.Add(time.Hour), false), nil},
	}
	for _, tt := range tests {
		_, err := NewCertificateSigner(tt.key, tt.leaf, nil, now)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: NewCertificateSigner error = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
}

// TestCertificateVerifierRejects covers chains the verifier refuses.
func TestCertificateVerifierRejects(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "root")
	k := mustKey(t, elliptic.P256())
	now := time.Now()
	leaf := ca.issue(t, &k.PublicKey, x509.KeyUsageDigitalSignature, nil, now.Add(-time.Hour), now.Add(time.Hour), false)
	s, err := NewCertificateSigner(k, leaf, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	dir := writeModel(t)
	sigPath, _ := signModel(t, dir, s, manifest.Options{})

	v, err := NewCertificateVerifier([]*x509.Certificate{ca.cert}, func() time.Time { return now.Add(48 * time.Hour) })
	if err != nil {
		t.Fatal(err)
	}
	_, err = verifyModel(t.Context(), t, dir, sigPath, v, VerifyOptions{})
	if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("verify at a time after expiry: error = %v, want ErrUntrusted naming expiry", err)
	}
	kv, err := NewKeyVerifier(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifyModel(t.Context(), t, dir, sigPath, kv, VerifyOptions{}); err != nil {
		t.Errorf("certificate bundle verified with the leaf's key: %v", err)
	}
	if _, err := NewCertificateVerifier(nil, nil); err == nil {
		t.Error("NewCertificateVerifier without anchors succeeded")
	}
}

// TestBundleShape checks the signature file has the shape the reference
// 1.1 verifier expects.
func TestBundleShape(t *testing.T) {
	t.Parallel()
	k := mustKey(t, elliptic.P384())
	pair := keyPair(t, k)
	dir := writeModel(t)
	sigPath, _ := signModel(t, dir, pair.signer, manifest.Options{})
	var b struct {
		MediaType            string `json:"mediaType"`
		VerificationMaterial struct {
			PublicKey   map[string]any `json:"publicKey"`
			TlogEntries []any          `json:"tlogEntries"`
		} `json:"verificationMaterial"`
		DsseEnvelope struct {
			Payload     string `json:"payload"`
			PayloadType string `json:"payloadType"`
			Signatures  []struct {
				Sig   string  `json:"sig"`
				Keyid *string `json:"keyid"`
			} `json:"signatures"`
		} `json:"dsseEnvelope"`
	}
	data, err := os.ReadFile(sigPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	hint, err := keys.Hint(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if b.MediaType != BundleMediaType || b.DsseEnvelope.PayloadType != PayloadType {
		t.Errorf("mediaType %q payloadType %q", b.MediaType, b.DsseEnvelope.PayloadType)
	}
	if diff := cmp.Diff(b.VerificationMaterial.PublicKey, map[string]any{"hint": hint}); diff != "" {
		t.Errorf("publicKey (-got +want):\n%s", diff)
	}
	if b.VerificationMaterial.TlogEntries == nil || len(b.VerificationMaterial.TlogEntries) != 0 {
		t.Errorf("tlogEntries = %v, want present and empty", b.VerificationMaterial.TlogEntries)
	}
	if len(b.DsseEnvelope.Signatures) != 1 || b.DsseEnvelope.Signatures[0].Keyid == nil || *b.DsseEnvelope.Signatures[0].Keyid != "" {
		t.Errorf("signatures = %+v, want one with keyid \"\"", b.DsseEnvelope.Signatures)
	}
	if !bytes.HasPrefix(data, []byte(`{"mediaType"`)) || bytes.Contains(data, []byte("\n")) {
		t.Errorf("bundle is not compact JSON: %.80s", data)
	}
	payload, err := base64.StdEncoding.DecodeString(b.DsseEnvelope.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := manifest.ParseStatement(payload); err != nil {
		t.Errorf("payload: %v", err)
	}
}

// TestSignWritesAtomically leaves an existing signature intact when
// signing fails, and leaves no temporary files.
func TestSignWritesAtomically(t *testing.T) {
	t.Parallel()
	pair := keyPair(t, mustKey(t, elliptic.P256()))
	dir := writeModel(t)
	sigPath, _ := signModel(t, dir, pair.signer, manifest.Options{})
	before, err := os.ReadFile(sigPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("config.json", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := Sign(t.Context(), dir, sigPath, pair.signer, manifest.Options{}); !errors.Is(err, manifest.ErrSymlink) {
		t.Fatalf("Sign with a symlink: error = %v, want ErrSymlink", err)
	}
	after, err := os.ReadFile(sigPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("a failed Sign changed the existing signature")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func flipByte(t *testing.T, path string, at int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[at] ^= 0xff
	write(t, path, string(data))
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}

// editJSON rewrites the signature file through a generic JSON value.
func editJSON(t *testing.T, sigPath string, edit func(map[string]any)) {
	t.Helper()
	data, err := os.ReadFile(sigPath)
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	edit(b)
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	write(t, sigPath, string(out))
}

// editPayload changes the signed statement without re-signing it.
func editPayload(t *testing.T, sigPath string, edit func(string) string) {
	t.Helper()
	editJSON(t, sigPath, func(b map[string]any) {
		env := b["dsseEnvelope"].(map[string]any)
		p, err := base64.StdEncoding.DecodeString(env["payload"].(string))
		if err != nil {
			t.Fatal(err)
		}
		env["payload"] = base64.StdEncoding.EncodeToString([]byte(edit(string(p))))
	})
}

// swapPayload puts the payload of the signature file other into sigPath.
func swapPayload(t *testing.T, sigPath, other string) {
	t.Helper()
	data, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	var o map[string]any
	if err := json.Unmarshal(data, &o); err != nil {
		t.Fatal(err)
	}
	editJSON(t, sigPath, func(b map[string]any) {
		b["dsseEnvelope"].(map[string]any)["payload"] = o["dsseEnvelope"].(map[string]any)["payload"]
	})
}

// TestSignRefusesSpecialTarget never replaces a device or link with the
// signature file.
func TestSignRefusesSpecialTarget(t *testing.T) {
	t.Parallel()
	pair := keyPair(t, mustKey(t, elliptic.P256()))
	dir := writeModel(t)
	link := filepath.Join(t.TempDir(), "model.sig")
	if err := os.Symlink(filepath.Join(dir, "config.json"), link); err != nil {
		t.Fatal(err)
	}
	if _, err := Sign(t.Context(), dir, link, pair.signer, manifest.Options{}); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("Sign over a symlink: error = %v, want a refusal", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced: %v %v", fi, err)
	}
}
