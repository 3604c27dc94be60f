package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
)

// TokenPrefix starts every API token Palisade generates, so that secret
// scanners (and people) recognise one.
const TokenPrefix = "pal_"

// NewToken returns a fresh API token: a public ID ("tok-" and 16 hex
// digits), the secret shown once to its owner, and the SHA-256 hash that
// is all the store keeps.
func NewToken(random io.Reader) (id, secret string, hash [sha256.Size]byte, err error) {
	b := make([]byte, 40)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", "", hash, fmt.Errorf("new token: %w", err)
	}
	id = "tok-" + hex.EncodeToString(b[:8])
	secret = TokenPrefix + base64.RawURLEncoding.EncodeToString(b[8:])
	return id, secret, sha256.Sum256([]byte(secret)), nil
}

// NewPrincipalID returns a fresh principal ID ("p-" and 16 hex digits).
func NewPrincipalID(random io.Reader) (string, error) {
	b := make([]byte, 8)
	if _, err := io.ReadFull(random, b); err != nil {
		return "", fmt.Errorf("new principal ID: %w", err)
	}
	return "p-" + hex.EncodeToString(b), nil
}
