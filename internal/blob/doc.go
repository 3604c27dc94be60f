// Package blob stores content-addressed, encrypted blobs in a gocloud.dev
// bucket (local files by default, in memory for tests; S3-compatible
// storage through package blob/s3) and implements the OCI push model on top of it: uploads
// that grow chunk by chunk and become visible under their digest only once
// the digest and size have been verified.
//
// # Object layout
//
//	blobs/<project>/<algorithm>/<hex>   committed blob ciphertext
//	uploads/<project>/<upload ID>/<n>   part n of an upload in progress
//
// Every object is a blob ciphertext of docs/format/blob-encryption.md,
// written by a [Sealer] (a *crypto.Envelope) under a fresh data key. The
// wrapped data key is returned to the caller in [Blob] and kept by the
// metadata store, never in blob storage.
//
// # Associated data
//
// A blob's digest is unknown until its last byte has been received, but
// encryption starts with the first byte, so the associated data cannot be
// crypto.BlobAAD(project, digest). Each ciphertext is instead bound to its
// project and to an opaque context string, "<upload ID>/<n>" for part n of
// an upload and "<upload ID>/final" for a blob re-encrypted at commit,
// returned as [Blob].AADContext and given back to [Store.Open]. Because
// that no longer binds the digest, [Store.Open] hashes the plaintext while
// streaming it and fails at the end, instead of returning io.EOF, when the
// digest differs: a ciphertext swapped (with its wrapped key and context)
// into another blob's place is detected.
//
// # Invariants
//
//   - Plaintext is never written to storage; chunks are streamed through
//     the Sealer (memory stays flat whatever the blob size).
//   - Nothing appears under blobs/ before its digest and size have been
//     verified, and a committed object is never overwritten (conditional
//     writes), so a wrapped key recorded for it stays valid.
//   - Blobs are deduplicated per project: committing a digest the project
//     already has discards the upload and reports [Blob].Existing.
//   - Upload state (offsets, part keys) is held in memory: uploads do not
//     survive a restart, and [Store.PurgeUploads] removes their parts.
//
// # Threat model
//
// As package crypto's: whoever can read and modify blob storage and the
// metadata store but not use the key-encryption key learns blob sizes and
// access patterns only, and any modification is reported when the blob is
// read (errors wrap crypto.ErrDecrypt). Callers act on a blob only once it
// has been read to io.EOF.
package blob
