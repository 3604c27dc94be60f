-- Palisade metadata schema, version 8: the tamper-evident audit log
-- (internal/auditlog). audit_entries holds each entry's exact bytes (what
-- the Merkle tree hashes) at its index, with a few columns copied out of
-- it for searching; audit_hashes the tree's stored hashes (golang.org/x/mod
-- sumdb/tlog layout, by stored-hash index); audit_checkpoints the signed
-- checkpoints, one per tree size. audit_keys keeps the checkpoint signing
-- key wrapped by the master key; audit_subjects the per-person pseudonym
-- keys, wrapped the same way and deleted to honour an erasure. Entries
-- are never updated or deleted by Palisade. Keep in step with the other
-- dialect's file of the same name.

-- +goose Up
CREATE TABLE audit_entries (
    idx        INTEGER NOT NULL PRIMARY KEY CHECK (idx >= 0),
    data       BLOB    NOT NULL,
    time       INTEGER NOT NULL,
    request_id TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    project    TEXT    NOT NULL,
    repository TEXT    NOT NULL,
    digest     TEXT    NOT NULL,
    outcome    TEXT    NOT NULL
);

CREATE INDEX audit_entries_time ON audit_entries (time);
CREATE INDEX audit_entries_actor ON audit_entries (actor, idx);
CREATE INDEX audit_entries_project ON audit_entries (project, idx);

CREATE TABLE audit_hashes (
    id   INTEGER NOT NULL PRIMARY KEY CHECK (id >= 0),
    hash BLOB    NOT NULL CHECK (length(hash) = 32)
);

CREATE TABLE audit_checkpoints (
    size       INTEGER NOT NULL PRIMARY KEY CHECK (size >= 0),
    note       BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE audit_keys (
    id         TEXT    NOT NULL PRIMARY KEY,
    wrapped    BLOB    NOT NULL,
    verifier   TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE audit_subjects (
    principal_id TEXT    NOT NULL PRIMARY KEY,
    wrapped      BLOB    NOT NULL,
    epoch        INTEGER NOT NULL,
    created_at   INTEGER NOT NULL
);

-- +goose Down
DROP TABLE audit_subjects;
DROP TABLE audit_keys;
DROP TABLE audit_checkpoints;
DROP TABLE audit_hashes;
DROP TABLE audit_entries;
