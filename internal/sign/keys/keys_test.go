package keys_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/palisade-sec/palisade/internal/sign/keys"
)

// fixturePassphrase encrypts the encrypted keys in testdata.
const fixturePassphrase = "palisade-test"

// referenceHint is the hint of testdata/signing-key-pub.pem, as recorded
// by the reference tool's signatures.
const referenceHint = "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e"

var allCurves = []keys.Curve{keys.P256, keys.P384, keys.P521}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// passphrase returns a passphrase callback yielding p.
func passphrase(p string) func() ([]byte, error) {
	return func() ([]byte, error) { return []byte(p), nil }
}

// neverCalled is a passphrase callback that fails the test when called.
func neverCalled(t *testing.T) func() ([]byte, error) {
	return func() ([]byte, error) {
		t.Error("passphrase callback called for an unencrypted key")
		return nil, errors.New("unexpected call")
	}
}

func TestParseCurve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    keys.Curve
		wantErr error
	}{
		{"P-256", keys.P256, nil},
		{"p256", keys.P256, nil},
		{"P256", keys.P256, nil},
		{"secp256r1", keys.P256, nil},
		{"prime256v1", keys.P256, nil},
		{"P-384", keys.P384, nil},
		{"p384", keys.P384, nil},
		{"SECP384R1", keys.P384, nil},
		{"P-521", keys.P521, nil},
		{"p521", keys.P521, nil},
		{"secp521r1", keys.P521, nil},
		{"P-224", "", keys.ErrUnsupportedKey},
		{"p224", "", keys.ErrUnsupportedKey},
		{"secp224r1", "", keys.ErrUnsupportedKey},
		{"ed25519", "", keys.ErrUnsupportedKey},
		{"rsa", "", keys.ErrUnsupportedKey},
		{"P-512", "", keys.ErrUnsupportedKey},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := keys.ParseCurve(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseCurve(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("ParseCurve(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), tt.in) {
				t.Errorf("ParseCurve(%q) error %q does not name the input", tt.in, err)
			}
		})
	}
}

func TestHashForAndCurveOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		curve     elliptic.Curve
		wantHash  crypto.Hash
		wantCurve keys.Curve
		wantErr   error
	}{
		{elliptic.P256(), crypto.SHA256, keys.P256, nil},
		{elliptic.P384(), crypto.SHA384, keys.P384, nil},
		{elliptic.P521(), crypto.SHA512, keys.P521, nil},
		{elliptic.P224(), 0, "", keys.ErrUnsupportedKey},
	}
	for _, tt := range tests {
		t.Run(tt.curve.Params().Name, func(t *testing.T) {
			t.Parallel()
			k, err := ecdsa.GenerateKey(tt.curve, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			h, err := keys.HashFor(&k.PublicKey)
			if !errors.Is(err, tt.wantErr) || h != tt.wantHash {
				t.Errorf("HashFor(%s) = %v, %v; want %v, %v", tt.curve.Params().Name, h, err, tt.wantHash, tt.wantErr)
			}
			c, err := keys.CurveOf(&k.PublicKey)
			if !errors.Is(err, tt.wantErr) || c != tt.wantCurve {
				t.Errorf("CurveOf(%s) = %q, %v; want %q, %v", tt.curve.Params().Name, c, err, tt.wantCurve, tt.wantErr)
			}
		})
	}
}

func TestGenerateEncodeParseRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range allCurves {
		for _, pass := range []string{"", "correct horse battery staple"} {
			name := string(c) + "/unencrypted"
			if pass != "" {
				name = string(c) + "/encrypted"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				k, err := keys.Generate(c, rand.Reader)
				if err != nil {
					t.Fatal(err)
				}
				if got, err := keys.CurveOf(&k.PublicKey); err != nil || got != c {
					t.Fatalf("Generate(%s) made a key on %q, %v", c, got, err)
				}
				data, err := keys.EncodePrivate(k, []byte(pass))
				if err != nil {
					t.Fatal(err)
				}
				block, rest := pem.Decode(data)
				if block == nil {
					t.Fatalf("EncodePrivate output is not PEM:\n%s", data)
				}
				if len(bytes.TrimSpace(rest)) != 0 {
					t.Errorf("EncodePrivate output has %d bytes after the PEM block", len(rest))
				}
				der, err := x509.MarshalPKCS8PrivateKey(k)
				if err != nil {
					t.Fatal(err)
				}
				raw, err := k.Bytes()
				if err != nil {
					t.Fatal(err)
				}

				if pass == "" {
					if block.Type != "PRIVATE KEY" {
						t.Errorf("unencrypted PEM type = %q, want PRIVATE KEY", block.Type)
					}
					if !bytes.Equal(block.Bytes, der) {
						t.Error("unencrypted PEM does not hold the PKCS#8 DER of the key")
					}
					got, err := keys.ParsePrivate(data, neverCalled(t))
					if err != nil {
						t.Fatalf("ParsePrivate: %v", err)
					}
					if !got.Equal(k) {
						t.Error("ParsePrivate(EncodePrivate(k)) is not k")
					}
					// No passphrase source at all is fine for a plain key.
					if _, err := keys.ParsePrivate(data, nil); err != nil {
						t.Errorf("ParsePrivate(nil passphrase) = %v", err)
					}
					return
				}

				if block.Type != "ENCRYPTED PRIVATE KEY" {
					t.Errorf("encrypted PEM type = %q, want ENCRYPTED PRIVATE KEY", block.Type)
				}
				if bytes.Contains(block.Bytes, der) || bytes.Contains(data, der) {
					t.Error("encrypted PEM contains the unencrypted PKCS#8 DER")
				}
				if bytes.Contains(block.Bytes, raw) {
					t.Error("encrypted PEM contains the private scalar")
				}
				got, err := keys.ParsePrivate(data, passphrase(pass))
				if err != nil {
					t.Fatalf("ParsePrivate(right passphrase): %v", err)
				}
				if !got.Equal(k) {
					t.Error("ParsePrivate(EncodePrivate(k, pass), pass) is not k")
				}

				bad := []struct {
					name string
					pass func() ([]byte, error)
				}{
					{"no passphrase source", nil},
					{"empty passphrase", passphrase("")},
					{"wrong passphrase", passphrase("correct horse battery stapler")},
				}
				for _, b := range bad {
					got, err := keys.ParsePrivate(data, b.pass)
					if !errors.Is(err, keys.ErrPassphrase) {
						t.Errorf("%s: ParsePrivate error = %v, want ErrPassphrase", b.name, err)
					}
					if got != nil {
						t.Errorf("%s: ParsePrivate returned a key with an error", b.name)
					}
				}

				// A failing passphrase source is reported as such, not as
				// a wrong passphrase.
				sourceErr := errors.New("terminal went away")
				_, err = keys.ParsePrivate(data, func() ([]byte, error) { return nil, sourceErr })
				if !errors.Is(err, sourceErr) || errors.Is(err, keys.ErrPassphrase) {
					t.Errorf("ParsePrivate(failing source) error = %v, want it to wrap %v only", err, sourceErr)
				}
			})
		}
	}
}

// TestEncryptedKeyReadableByOpenSSL checks the interoperability promise:
// OpenSSL decrypts the encrypted PKCS#8 with the passphrase, refuses it
// without, and finds the same public key.
func TestEncryptedKeyReadableByOpenSSL(t *testing.T) {
	t.Parallel()
	for _, c := range allCurves {
		t.Run(string(c), func(t *testing.T) {
			t.Parallel()
			openssl, err := exec.LookPath("openssl")
			if err != nil {
				t.Skipf("openssl is not on PATH, cannot check interoperability: %v", err)
			}
			dir := t.TempDir()
			k, err := keys.Generate(c, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			data, err := keys.EncodePrivate(k, []byte("open sesame"))
			if err != nil {
				t.Fatal(err)
			}
			keyFile := filepath.Join(dir, "k.pem")
			passFile := filepath.Join(dir, "pass")
			wrongFile := filepath.Join(dir, "wrong")
			for name, content := range map[string][]byte{keyFile: data, passFile: []byte("open sesame\n"), wrongFile: []byte("open sesame!\n")} {
				if err := os.WriteFile(name, content, 0o600); err != nil {
					t.Fatal(err)
				}
			}

			cmd := exec.Command(openssl, "pkey", "-in", keyFile, "-passin", "file:"+passFile, "-noout")
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("openssl pkey -noout with the passphrase: %v\n%s", err, out)
			}

			cmd = exec.Command(openssl, "pkey", "-in", keyFile, "-passin", "file:"+passFile, "-pubout")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			gotPub, err := cmd.Output()
			if err != nil {
				t.Fatalf("openssl pkey -pubout: %v\n%s", err, stderr.Bytes())
			}
			wantPub, err := keys.EncodePublic(&k.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(string(gotPub), string(wantPub)); diff != "" {
				t.Errorf("public key from openssl differs (-got +want):\n%s", diff)
			}

			cmd = exec.Command(openssl, "pkey", "-in", keyFile, "-passin", "file:"+wrongFile, "-noout")
			if out, err := cmd.CombinedOutput(); err == nil {
				t.Errorf("openssl read the key with a wrong passphrase: the key is not encrypted as expected\n%s", out)
			}
		})
	}
}

func TestParsePrivateFixtures(t *testing.T) {
	t.Parallel()
	p256Pub, err := keys.ParsePublic(readFixture(t, "p256.pub"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		file      string
		pass      func() ([]byte, error)
		wantCurve keys.Curve
		wantPub   *ecdsa.PublicKey
		wantErr   error
	}{
		{"PKCS#8", "p256.pem", nil, keys.P256, p256Pub, nil},
		{"SEC 1", "p384-sec1.pem", nil, keys.P384, nil, nil},
		{"encrypted PKCS#8 from OpenSSL", "p521-encrypted.pem", passphrase(fixturePassphrase), keys.P521, nil, nil},
		{"encrypted PKCS#8 wrong passphrase", "p521-encrypted.pem", passphrase("palisade-tesT"), "", nil, keys.ErrPassphrase},
		{"encrypted PKCS#8 no passphrase", "p521-encrypted.pem", nil, "", nil, keys.ErrPassphrase},
		{"legacy encrypted SEC 1", "p256-legacy-encrypted.pem", passphrase(fixturePassphrase), keys.P256, p256Pub, nil},
		{"legacy encrypted wrong passphrase", "p256-legacy-encrypted.pem", passphrase("nope"), "", nil, keys.ErrPassphrase},
		{"legacy encrypted no passphrase", "p256-legacy-encrypted.pem", nil, "", nil, keys.ErrPassphrase},
		{"P-224", "p224.pem", nil, "", nil, keys.ErrUnsupportedKey},
		{"public key only", "p256.pub", nil, "", nil, keys.ErrNoPEM},
		{"certificates only", "chain.pem", nil, "", nil, keys.ErrNoPEM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := keys.ParsePrivate(readFixture(t, tt.file), tt.pass)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParsePrivate(%s) error = %v, want %v", tt.file, err, tt.wantErr)
			}
			if err != nil {
				if k != nil {
					t.Errorf("ParsePrivate(%s) returned a key with an error", tt.file)
				}
				return
			}
			if c, err := keys.CurveOf(&k.PublicKey); err != nil || c != tt.wantCurve {
				t.Errorf("ParsePrivate(%s) curve = %q, %v; want %q", tt.file, c, err, tt.wantCurve)
			}
			if tt.wantPub != nil && !k.PublicKey.Equal(tt.wantPub) {
				t.Errorf("ParsePrivate(%s) is not the key of p256.pub", tt.file)
			}
		})
	}
}

func TestParsePrivateGenerated(t *testing.T) {
	t.Parallel()
	sec1 := func(t *testing.T, c keys.Curve) ([]byte, *ecdsa.PrivateKey) {
		k, err := keys.Generate(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), k
	}
	for _, c := range allCurves {
		t.Run("SEC 1 "+string(c), func(t *testing.T) {
			t.Parallel()
			data, want := sec1(t, c)
			got, err := keys.ParsePrivate(data, neverCalled(t))
			if err != nil {
				t.Fatalf("ParsePrivate(EC PRIVATE KEY): %v", err)
			}
			if !got.Equal(want) {
				t.Error("ParsePrivate(EC PRIVATE KEY) is not the key")
			}
		})
	}
	t.Run("text before the block", func(t *testing.T) {
		t.Parallel()
		data, want := sec1(t, keys.P256)
		data = append([]byte("Private-Key: (256 bit)\nsome text\n"), data...)
		got, err := keys.ParsePrivate(data, nil)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParsePrivate(text + PEM) = %v; want the key", err)
		}
	})
	t.Run("RSA", func(t *testing.T) {
		t.Parallel()
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		_, err = keys.ParsePrivate(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil)
		if !errors.Is(err, keys.ErrUnsupportedKey) {
			t.Errorf("ParsePrivate(RSA) error = %v, want ErrUnsupportedKey", err)
		}
	})
	t.Run("Ed25519", func(t *testing.T) {
		t.Parallel()
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		_, err = keys.ParsePrivate(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil)
		if !errors.Is(err, keys.ErrUnsupportedKey) {
			t.Errorf("ParsePrivate(Ed25519) error = %v, want ErrUnsupportedKey", err)
		}
	})
	t.Run("garbage in a PRIVATE KEY block", func(t *testing.T) {
		t.Parallel()
		data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("not DER")})
		k, err := keys.ParsePrivate(data, nil)
		if err == nil || k != nil {
			t.Errorf("ParsePrivate(garbage) = %v, %v; want an error", k, err)
		}
		if errors.Is(err, keys.ErrPassphrase) {
			t.Errorf("ParsePrivate(unencrypted garbage) blames the passphrase: %v", err)
		}
	})
}

func TestParsePublic(t *testing.T) {
	t.Parallel()
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edDER, err := x509.MarshalPKIXPublicKey(edPub)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		data      []byte
		wantCurve keys.Curve
		wantErr   error
		anyErr    bool // an error is wanted but no particular sentinel
	}{
		{"reference key with certtool header", readFixture(t, "signing-key-pub.pem"), keys.P384, nil, false},
		{"OpenSSL P-256", readFixture(t, "p256.pub"), keys.P256, nil, false},
		{"RSA", readFixture(t, "rsa.pub"), "", keys.ErrUnsupportedKey, false},
		{"P-224", readFixture(t, "p224.pub"), "", keys.ErrUnsupportedKey, false},
		{"Ed25519", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: edDER}), "", keys.ErrUnsupportedKey, false},
		{"private key only", readFixture(t, "p256.pem"), "", keys.ErrNoPEM, false},
		{"empty", nil, "", keys.ErrNoPEM, false},
		{"text only", []byte("Public Key Info:\n\tno block here\n"), "", keys.ErrNoPEM, false},
		{"garbage in a PUBLIC KEY block", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("not DER")}), "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pub, err := keys.ParsePublic(tt.data)
			if tt.anyErr {
				if err == nil {
					t.Fatal("ParsePublic succeeded, want an error")
				}
			} else if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParsePublic error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if pub != nil {
					t.Error("ParsePublic returned a key with an error")
				}
				return
			}
			if c, err := keys.CurveOf(pub); err != nil || c != tt.wantCurve {
				t.Errorf("ParsePublic curve = %q, %v; want %q", c, err, tt.wantCurve)
			}
		})
	}
}

func TestHint(t *testing.T) {
	t.Parallel()
	t.Run("reference key", func(t *testing.T) {
		t.Parallel()
		data := readFixture(t, "signing-key-pub.pem")
		pub, err := keys.ParsePublic(data)
		if err != nil {
			t.Fatal(err)
		}
		got, err := keys.Hint(pub)
		if err != nil {
			t.Fatal(err)
		}
		if got != referenceHint {
			t.Errorf("Hint(signing-key-pub.pem) = %s, want %s", got, referenceHint)
		}
		// The file itself, with its text header, must not be what is
		// hashed.
		fileSum := sha256.Sum256(data)
		if hex.EncodeToString(fileSum[:]) == got {
			t.Error("Hint hashed the file as-is instead of the canonical PEM")
		}
	})
	t.Run("OpenSSL PEM is canonical", func(t *testing.T) {
		t.Parallel()
		data := readFixture(t, "p256.pub")
		pub, err := keys.ParsePublic(data)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := keys.EncodePublic(pub)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(string(enc), string(data)); diff != "" {
			t.Errorf("EncodePublic differs from OpenSSL's PEM (-got +want):\n%s", diff)
		}
	})
	for _, c := range allCurves {
		t.Run(string(c), func(t *testing.T) {
			t.Parallel()
			k, err := keys.Generate(c, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := keys.EncodePublic(&k.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			want := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			if !bytes.Equal(enc, want) {
				t.Errorf("EncodePublic = %q, want %q", enc, want)
			}
			sum := sha256.Sum256(enc)
			hint, err := keys.Hint(&k.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			if hint != hex.EncodeToString(sum[:]) {
				t.Errorf("Hint = %s, want sha256(EncodePublic) = %x", hint, sum)
			}
			back, err := keys.ParsePublic(enc)
			if err != nil {
				t.Fatal(err)
			}
			if !back.Equal(&k.PublicKey) {
				t.Error("ParsePublic(EncodePublic(pub)) is not pub")
			}
		})
	}
}

func TestParseCertificates(t *testing.T) {
	t.Parallel()
	subjects := func(t *testing.T, data []byte) ([]string, error) {
		t.Helper()
		certs, err := keys.ParseCertificates(data)
		var out []string
		for _, c := range certs {
			out = append(out, c.Subject.CommonName)
		}
		return out, err
	}
	t.Run("several blocks, others skipped", func(t *testing.T) {
		t.Parallel()
		got, err := subjects(t, readFixture(t, "chain.pem"))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, []string{"intermediate-ca", "root-ca"}); diff != "" {
			t.Errorf("ParseCertificates(chain.pem) subjects (-got +want):\n%s", diff)
		}
	})
	tests := []struct {
		name    string
		data    []byte
		wantErr error
	}{
		{"no certificate", readFixture(t, "signing-key-pub.pem"), keys.ErrNoPEM},
		{"empty", nil, keys.ErrNoPEM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			certs, err := keys.ParseCertificates(tt.data)
			if !errors.Is(err, tt.wantErr) || certs != nil {
				t.Errorf("ParseCertificates = %d certs, %v; want none, %v", len(certs), err, tt.wantErr)
			}
		})
	}
	t.Run("garbage certificate", func(t *testing.T) {
		t.Parallel()
		data := append(readFixture(t, "chain.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not DER")})...)
		certs, err := keys.ParseCertificates(data)
		if err == nil || certs != nil {
			t.Fatalf("ParseCertificates(garbage) = %d certs, %v; want an error", len(certs), err)
		}
		if !strings.Contains(err.Error(), "certificate 3") {
			t.Errorf("error %q does not say which certificate is bad (the third)", err)
		}
	})
}

// TestMaxPEMSize checks that every parser reads inputs up to MaxPEMSize
// and refuses larger ones, whatever they hold.
func TestMaxPEMSize(t *testing.T) {
	t.Parallel()
	pad := func(data []byte, size int) []byte {
		out := make([]byte, size)
		copy(out, data)
		for i := len(data); i < size; i++ {
			out[i] = '\n'
		}
		return out
	}
	parsers := []struct {
		name  string
		file  string
		parse func([]byte) error
	}{
		{"ParsePrivate", "p256.pem", func(b []byte) error { _, err := keys.ParsePrivate(b, nil); return err }},
		{"ParsePublic", "p256.pub", func(b []byte) error { _, err := keys.ParsePublic(b); return err }},
		{"ParseCertificates", "chain.pem", func(b []byte) error { _, err := keys.ParseCertificates(b); return err }},
	}
	for _, p := range parsers {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			data := readFixture(t, p.file)
			if err := p.parse(pad(data, keys.MaxPEMSize)); err != nil {
				t.Errorf("%s(%d bytes) = %v, want success at the limit", p.name, keys.MaxPEMSize, err)
			}
			err := p.parse(pad(data, keys.MaxPEMSize+1))
			if err == nil || !strings.Contains(err.Error(), "larger than") {
				t.Errorf("%s(%d bytes) error = %v, want one saying it is too large", p.name, keys.MaxPEMSize+1, err)
			}
		})
	}
}

// fuzzSeeds returns every file of testdata except the README.
func fuzzSeeds(f *testing.F) [][]byte {
	f.Helper()
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	var out [][]byte
	for _, e := range entries {
		if e.IsDir() || e.Name() == "README" {
			continue
		}
		out = append(out, readFixture(f, e.Name()))
	}
	if len(out) == 0 {
		f.Fatal("no seeds in testdata")
	}
	return out
}

func FuzzParsePrivate(f *testing.F) {
	for _, data := range fuzzSeeds(f) {
		f.Add(data, []byte(fixturePassphrase))
		f.Add(data, []byte(nil))
	}
	f.Fuzz(func(t *testing.T, data, pass []byte) {
		k, err := keys.ParsePrivate(data, func() ([]byte, error) { return pass, nil })
		if err != nil {
			if k != nil {
				t.Fatalf("ParsePrivate returned a key with error %v", err)
			}
			return
		}
		if _, err := keys.HashFor(&k.PublicKey); err != nil {
			t.Fatalf("ParsePrivate accepted a key HashFor refuses: %v", err)
		}
		enc, err := keys.EncodePrivate(k, nil)
		if err != nil {
			t.Fatalf("EncodePrivate of a parsed key: %v", err)
		}
		back, err := keys.ParsePrivate(enc, nil)
		if err != nil || !back.Equal(k) {
			t.Fatalf("re-encoded key does not parse back: %v", err)
		}
	})
}

func FuzzParsePublic(f *testing.F) {
	for _, data := range fuzzSeeds(f) {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pub, err := keys.ParsePublic(data)
		if err != nil {
			if pub != nil {
				t.Fatalf("ParsePublic returned a key with error %v", err)
			}
			return
		}
		if _, err := keys.HashFor(pub); err != nil {
			t.Fatalf("ParsePublic accepted a key HashFor refuses: %v", err)
		}
		enc, err := keys.EncodePublic(pub)
		if err != nil {
			t.Fatalf("EncodePublic of a parsed key: %v", err)
		}
		back, err := keys.ParsePublic(enc)
		if err != nil || !back.Equal(pub) {
			t.Fatalf("re-encoded key does not parse back: %v", err)
		}
		hint, err := keys.Hint(pub)
		sum := sha256.Sum256(enc)
		if err != nil || hint != hex.EncodeToString(sum[:]) {
			t.Fatalf("Hint = %q, %v; want sha256 of the canonical PEM", hint, err)
		}
	})
}
