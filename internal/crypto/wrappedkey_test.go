package crypto

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/streamingaead"
	"gocloud.dev/secrets/localsecrets"
	"google.golang.org/protobuf/proto"

	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
)

func TestWrappedKeyEncoding(t *testing.T) {
	t.Parallel()
	got := wrappedKey{version: 1, keyID: "kek-1", keyset: []byte{0xaa, 0xbb}}.encode()
	want := []byte("PLWK\x01\x05kek-1\x00\x00\x00\x02\xaa\xbb")
	if diff := cmp.Diff(got, want); diff != "" {
		t.Errorf("encode (-got +want):\n%s", diff)
	}
	w, err := decodeWrappedKey(got)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, wrappedKey{version: 1, keyID: "kek-1", keyset: []byte{0xaa, 0xbb}}, cmp.AllowUnexported(wrappedKey{})); diff != "" {
		t.Errorf("decode (-got +want):\n%s", diff)
	}
}

func TestDecodeWrappedKeyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"short", "PLWK\x01\x00\x00\x00\x00"},
		{"bad magic", "PLWX\x01\x00\x00\x00\x00\x01k"},
		{"version 0", "PLWK\x00\x00\x00\x00\x00\x01k"},
		{"version 2", "PLWK\x02\x00\x00\x00\x00\x01k"},
		{"key ID too long", "PLWK\x01\x41" + string(bytes.Repeat([]byte("a"), 65)) + "\x00\x00\x00\x01k"},
		{"key ID past end", "PLWK\x01\x09abc\x00\x00\x00\x01k"},
		{"key ID bad byte", "PLWK\x01\x02a \x00\x00\x00\x01k"},
		{"key ID NUL", "PLWK\x01\x02a\x00\x00\x00\x00\x01k"},
		{"zero keyset", "PLWK\x01\x00\x00\x00\x00\x00"},
		{"keyset too long", "PLWK\x01\x00\x00\x00\x20\x01k"},
		{"keyset length huge", "PLWK\x01\x00\xff\xff\xff\xffk"},
		{"keyset truncated", "PLWK\x01\x00\x00\x00\x00\x02k"},
		{"trailing byte", "PLWK\x01\x00\x00\x00\x00\x01kk"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := decodeWrappedKey([]byte(tt.in)); !errors.Is(err, ErrFormat) {
				t.Errorf("decodeWrappedKey(%q) error = %v, want ErrFormat", tt.in, err)
			}
			if _, err := WrappedKeyID([]byte(tt.in)); !errors.Is(err, ErrFormat) {
				t.Errorf("WrappedKeyID(%q) error = %v, want ErrFormat", tt.in, err)
			}
		})
	}
}

// A KEK holder's keyset other than the one Encrypt generates is refused.
func TestUnexpectedDataKey(t *testing.T) {
	t.Parallel()
	key, err := localsecrets.NewRandomKey()
	if err != nil {
		t.Fatal(err)
	}
	kek := localsecrets.NewKeeper(key)
	t.Cleanup(func() { _ = kek.Close() })
	e, err := NewEnvelope(kek, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wrapKeyset := func(b []byte) []byte {
		ct, err := kek.Encrypt(t.Context(), b)
		if err != nil {
			t.Fatal(err)
		}
		return wrappedKey{version: 1, keyset: ct}.encode()
	}
	keysetOf := func(tmplName string) []byte {
		tmpl := streamingaead.AES256GCMHKDF4KBKeyTemplate()
		if tmplName == "ctr" {
			tmpl = streamingaead.AES256CTRHMACSHA256Segment1MBKeyTemplate()
		}
		h, err := keyset.NewHandle(tmpl)
		if err != nil {
			t.Fatal(err)
		}
		b, err := proto.Marshal(insecurecleartextkeyset.KeysetMaterial(h))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name    string
		wrapped []byte
	}{
		{"4 KB segments", wrapKeyset(keysetOf("gcm4k"))},
		{"AES-CTR-HMAC", wrapKeyset(keysetOf("ctr"))},
		{"not a keyset", wrapKeyset([]byte("\xff\xff\xff"))},
		{"empty keyset", wrapKeyset([]byte{0})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.Decrypt(t.Context(), bytes.NewReader(nil), tt.wrapped, nil)
			if !errors.Is(err, ErrDecrypt) {
				t.Errorf("error = %v, want ErrDecrypt", err)
			}
		})
	}
}

func FuzzWrappedKey(f *testing.F) {
	f.Add([]byte("PLWK\x01\x05kek-1\x00\x00\x00\x02\xaa\xbb"))
	f.Add([]byte("PLWK\x01\x00\x00\x00\x00\x01k"))
	f.Add([]byte("PLWK\x02\x00\x00\x00\x00\x01k"))
	f.Add([]byte{})
	if b, err := os.ReadFile(filepath.Join("testdata", "v1.wrapped")); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := decodeWrappedKey(b)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		// Valid encodings are canonical: re-encoding gives the input back.
		if got := w.encode(); !bytes.Equal(got, b) {
			t.Fatalf("re-encoding %q gave %q", b, got)
		}
		id, err := WrappedKeyID(b)
		if err != nil || id != w.keyID {
			t.Fatalf("WrappedKeyID = %q, %v, want %q", id, err, w.keyID)
		}
	})
}
