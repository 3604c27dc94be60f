package keys

import (
	"encoding/asn1"
	"encoding/pem"
	"strings"
	"testing"
)

// pbes2Key builds an encrypted PKCS#8 structure asking for iterations
// PBKDF2 rounds (the ciphertext is junk: the check must come first).
func pbes2Key(t *testing.T, iterations int64) []byte {
	t.Helper()
	type kdfParams struct {
		Salt       []byte
		Iterations int64
	}
	type kdf struct {
		Algorithm asn1.ObjectIdentifier
		Params    kdfParams
	}
	type scheme struct {
		Algorithm asn1.ObjectIdentifier
		IV        []byte
	}
	type params struct {
		KDF    kdf
		Scheme scheme
	}
	type algo struct {
		Algorithm  asn1.ObjectIdentifier
		Parameters params
	}
	der, err := asn1.Marshal(struct {
		Algo algo
		Data []byte
	}{
		Algo: algo{oidPBES2, params{
			KDF:    kdf{asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}, kdfParams{make([]byte, 16), iterations}},
			Scheme: scheme{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, make([]byte, 16)},
		}},
		Data: make([]byte, 64),
	})
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
}

// TestPBKDF2IterationBound refuses a key file that asks for unbounded key
// derivation work before deriving anything.
func TestPBKDF2IterationBound(t *testing.T) {
	t.Parallel()
	pass := func() ([]byte, error) { return []byte("palisade-test"), nil }
	for _, n := range []int64{MaxPBKDF2Iterations + 1, 1 << 40, 0} {
		_, err := ParsePrivate(pbes2Key(t, n), pass)
		if err == nil || !strings.Contains(err.Error(), "PBKDF2 iterations") {
			t.Errorf("ParsePrivate(%d iterations) error = %v, want the iteration bound", n, err)
		}
	}
	// Within the bound the structure reaches decryption, which fails on
	// the junk ciphertext as a wrong passphrase would.
	if _, err := ParsePrivate(pbes2Key(t, 1000), pass); err == nil || strings.Contains(err.Error(), "PBKDF2 iterations") {
		t.Errorf("ParsePrivate(1000 iterations) error = %v, want a decryption failure", err)
	}
}
