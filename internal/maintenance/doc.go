// Package maintenance checks and cleans a registry's storage: Fsck
// decrypts and re-hashes every blob and checks every manifest's
// references, and GC removes blobs no manifest references.
//
// Both run on a live server. GC is safe while pushes continue: a blob is
// deleted only when, in the same database transaction, it is older than
// the minimum age and no manifest of its project references it, and a
// manifest push share-locks the blobs it references until its own
// transaction commits (store.Store.PutManifest). The minimum age protects
// blobs uploaded for a manifest not pushed yet. Data without a record
// (left by a crash between committing a blob and recording it) is removed
// once it is older than the minimum age.
package maintenance
