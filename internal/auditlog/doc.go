// Package auditlog is Palisade's tamper-evident audit trail: a Merkle
// transparency log (RFC 6962 hashing) of audit entries kept in the
// metadata store, with checkpoints signed as notes in the C2SP
// tlog-checkpoint format.
//
// Entries (entry.go) are compact JSON of a closed vocabulary, validated
// before they are appended and stored byte-exact: the tree hashes the
// stored bytes, never a re-encoding. Actors appear only as keyed-hash
// pseudonyms whose per-person keys live outside the log (pseudonym.go),
// so deleting a key makes that person's entries unlinkable without
// touching the log.
//
// Appends (Log) from concurrent callers are batched: one transaction under
// the store's sequencer lock assigns contiguous indexes, stores the
// entries and the tree's new stored hashes (golang.org/x/mod/sumdb/tlog
// layout), and a checkpoint signed for the new size (golang.org/x/mod/
// sumdb/note, Ed25519). Append returns once that transaction committed:
// the entry is durable and covered by a checkpoint.
//
// Verification (verify.go) trusts nothing stored: it checks checkpoint
// signatures against the pinned verifier key, recomputes the tree from
// the stored entry bytes, compares it with every signed checkpoint, and
// checks consistency with the last checkpoint a verifier saw (a state
// file), so deletions, edits, reorderings, truncations and rewritten
// histories are caught, and the message says what and where.
//
// Threat model: an attacker with write access to the database can change
// anything stored, but not sign with the checkpoint key (held wrapped by
// the master key) nor change what an earlier verifier recorded.
package auditlog
