package sign

import (
	"os"
	"path/filepath"
	"testing"
)

// TestPythonBytesRepr compares with what CPython 3 prints for repr(b).
func TestPythonBytesRepr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{"abc", `b'abc'`},
		{"it's", `b"it's"`},
		{`'"`, `b'\'"'`},
		{"\x00\xff\n\t\r\\", `b'\x00\xff\n\t\r\\'`},
		{"\x7f\x1f ~", `b'\x7f\x1f ~'`},
		{"", `b''`},
	}
	for _, tt := range tests {
		if got := pythonBytesRepr([]byte(tt.in)); got != tt.want {
			t.Errorf("pythonBytesRepr(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestPAE(t *testing.T) {
	t.Parallel()
	payload := []byte("{\"a\": 1}\n")
	if got, want := string(pae(payload)), "DSSEv1 28 application/vnd.in-toto+json 9 {\"a\": 1}\n"; got != want {
		t.Errorf("pae = %q, want %q", got, want)
	}
	if got, want := string(legacyPAE(payload)), `DSSEV1 28 application/vnd.in-toto+json 9 b'{"a": 1}\n'`; got != want {
		t.Errorf("legacyPAE = %q, want %q", got, want)
	}
}

// FuzzParseEnvelope decodes arbitrary signature files: no panics, and a
// decoded envelope always has the invariants ParseEnvelope promises.
// Decoded envelopes are also run through the key verifier, which must
// fail cleanly on anything not signed by the test key.
func FuzzParseEnvelope(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/signatures/*/model.sig")
	extra, _ := filepath.Glob("testdata/fuzz/seeds/*")
	for _, p := range append(seeds, extra...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	pubData, err := os.ReadFile("testdata/keys/signing-key-pub.pem")
	if err != nil {
		f.Fatal(err)
	}
	v, err := loadKeyVerifierFromPEM(pubData)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ParseEnvelope(data)
		if err != nil {
			return
		}
		if env.Bundle.GetMediaType() != BundleMediaType || len(env.Signature) == 0 {
			t.Fatalf("ParseEnvelope accepted an envelope without its invariants")
		}
		_, _, _ = v.Verify(t.Context(), env)
	})
}
