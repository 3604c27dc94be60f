// Package store is the registry's metadata store contract: projects,
// repositories, blobs, manifests, tags and API tokens.
//
// The contract lives here so that every driver (store/sqlite, the embedded
// default, and store/postgres) has exactly the same semantics, which the
// conformance suite in store/storetest checks. The registry depends on the
// Store interface, never on a driver; only the composition root opens one.
//
// Invariants every driver keeps:
//
//   - Names and digests are compared byte for byte; tag and repository
//     lists are in lexical (byte) order, as the OCI distribution
//     specification requires for pagination with n and last.
//   - A manifest and the tag that names it are written in one transaction:
//     a reader sees both or neither.
//   - Blobs are unique per project (deduplication); a second CreateBlob of
//     the same digest in a project fails with ErrExists and changes nothing.
//   - API tokens are stored only as the SHA-256 hash of the token; the
//     secret itself never reaches the store.
//   - Timestamps are UTC with microsecond precision (what PostgreSQL keeps).
//
// Threat assumptions: the database is trusted for integrity of what it
// returns but may be read by an attacker (backups, snapshots). It therefore
// holds no plaintext secrets: data keys are wrapped by the project's
// key-encryption key outside the store, and tokens are hashed. Errors never
// contain token hashes or wrapped keys.
package store
