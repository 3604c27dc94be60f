// Package projectkeys gives every project its own key-encryption key
// (KEK), so that one project's keys can be rotated or destroyed without
// touching another's.
//
// # Key hierarchy
//
//	master KEK (gocloud.dev/secrets keeper: the local key file, or a KMS)
//	  └─ project KEK, version N: 32 random bytes, stored only wrapped by the
//	     master KEK (store.ProjectKey)
//	       └─ data key of one blob (package crypto), wrapped by the project
//	          KEK; the wrapped key records "project-key:vN"
//
// A project's first key version is created on its first upload. Encrypt
// always uses the newest version, read from the store on every call, so
// that every replica moves to a new version as soon as a rotation creates
// it; unwrapped versions are cached in memory.
//
// # Rotation
//
// Rotate creates version N+1, rewraps every blob's data key from the
// version it names to N+1 (package crypto's Rewrap: the data is not
// re-encrypted), waits a grace period for commits that began before the
// new version existed and rewraps again, and only then destroys the old
// versions. RewrapMaster re-encrypts the project keys under a new master
// key.
//
// # Shredding
//
// Shred destroys every version of a project's key and removes the
// project's records: every ciphertext of the project, wherever copies of
// it survive, can no longer be decrypted by anyone who does not also hold
// a copy of the wrapped project key and the master key (see
// docs/registry.md on backups).
//
// Data keys wrapped directly by the master KEK (blobs written before
// per-project keys existed) still decrypt, and Rotate moves them under the
// project's key.
//
// All cryptography is gocloud.dev's (localsecrets: NaCl secretbox) and
// Tink's, through package crypto.
package projectkeys
