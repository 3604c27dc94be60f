// Package keys generates, encodes and parses the ECDSA keys and X.509
// certificates that OpenSSF Model Signing uses for its key and certificate
// methods: P-256, P-384 and P-521 only, as in the reference implementation,
// each signing with the hash matched to its curve.
//
// Private keys are written as PKCS#8 PEM, encrypted when a passphrase is
// given (PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC, readable by OpenSSL
// and by the reference's Python cryptography). Parsing accepts PKCS#8,
// SEC 1 and legacy encrypted PEM. All cryptography is the standard
// library's or go.step.sm/crypto's; nothing here implements a primitive.
//
// Threat assumptions: key and certificate files are given by the user and
// may be malformed or of an unsupported type; parsers bound their input
// and report what is wrong without echoing key material. Passphrases are
// taken as bytes and never logged or put in errors.
package keys
