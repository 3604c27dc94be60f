// Package crypto encrypts blobs at rest with envelope encryption and manages
// the key-encryption keys (KEKs) that protect the per-blob data keys.
//
// # Responsibility
//
// Each blob is encrypted with its own fresh data key, a Tink streaming AEAD
// keyset (AES256_GCM_HKDF_1MB), so that memory stays flat (about 2 MiB per
// stream) whatever the blob size. The data key is serialized and wrapped by a
// KEK held in a gocloud.dev/secrets keeper; the wrapped key, with a small
// versioned header, is stored with the blob's metadata. [Rewrap] moves a
// wrapped key to a new KEK without re-encrypting data (key rotation), and
// destroying a KEK makes every blob it protects unreadable (crypto-shredding).
// The byte formats are specified in docs/format/blob-encryption.md.
//
// KEKs are opened from URLs by [OpenKeeper]. The base64key:// scheme
// (gocloud.dev/secrets/localsecrets) is always compiled in; [LocalKEK]
// creates and reuses the local key file behind it. The cloud KMS schemes
// (awskms, gcpkms, azurekeyvault, hashivault) are compiled in with the kms
// build tag ('make build-kms'); without it they fail with
// [ErrUnavailable].
//
// # Invariants
//
//   - A data key encrypts exactly one blob and is never stored unwrapped.
//   - Ciphertexts are bound to caller-supplied associated data (the blob's
//     identity, see [BlobAAD]) and to the format version.
//   - Every decryption failure caused by data or keys (tampered or truncated
//     ciphertext, wrong KEK, wrong associated data, malformed unwrapped
//     keyset) is reported as [ErrDecrypt] and nothing more specific, so that
//     callers cannot be used as an oracle; malformed wrapped-key headers are
//     [ErrFormat].
//   - No error, log line or panic contains key material or a base64key URL.
//   - All cryptography is Tink's and gocloud.dev's; this package only
//     composes it.
//
// # Threat model
//
// The attacker may read and modify blob storage and the metadata store
// (ciphertexts and wrapped keys) but cannot use the KEK. Against that
// attacker blob contents stay confidential, and any modification, truncation,
// extension or swap of ciphertexts between blobs is detected when the blob is
// read. Blob sizes, the KEK identity hint and access patterns are not
// hidden. Whoever can use the KEK (the key file's owner, a KMS principal) can
// decrypt everything it protects; the local key file is therefore created
// with mode 0600 and refused when group or others can access it. Plaintext
// returned before a decryption error is authentic but may be incomplete:
// callers act on a blob only once it has been read to io.EOF.
package crypto
