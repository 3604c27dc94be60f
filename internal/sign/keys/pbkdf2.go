package keys

import (
	"encoding/asn1"
	"fmt"
)

// MaxPBKDF2Iterations bounds the key derivation work an encrypted private
// key may ask for: 600 000 is what 'palisade keys generate' writes (and
// OpenSSL writes 2048); a hostile file could otherwise ask for billions.
const MaxPBKDF2Iterations = 10_000_000

var oidPBES2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}

// checkPBES2Work reads the iteration count of an encrypted PKCS#8 key
// (RFC 8018 PBES2 with PBKDF2) before anything is derived, and refuses
// counts above MaxPBKDF2Iterations. Structures it does not recognise are
// left to the decryption, which rejects what it cannot handle.
func checkPBES2Work(der []byte) error {
	var info struct {
		Algo struct {
			Algorithm  asn1.ObjectIdentifier
			Parameters struct {
				KDF struct {
					Algorithm asn1.ObjectIdentifier
					Params    struct {
						Salt       []byte
						Iterations int64
					}
				}
				Scheme asn1.RawValue
			}
		}
		Data []byte
	}
	if _, err := asn1.Unmarshal(der, &info); err != nil || !info.Algo.Algorithm.Equal(oidPBES2) {
		return nil
	}
	if n := info.Algo.Parameters.KDF.Params.Iterations; n > MaxPBKDF2Iterations || n < 1 {
		return fmt.Errorf("the encrypted private key asks for %d PBKDF2 iterations, outside 1 to %d: re-encrypt it (for example with 'openssl pkcs8 -topk8 -v2 aes-256-cbc')", n, MaxPBKDF2Iterations)
	}
	return nil
}
