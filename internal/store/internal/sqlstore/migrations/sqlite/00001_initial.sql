-- Palisade metadata schema, version 1 (SQLite). Keep in step with
-- ../postgres/00001_initial.sql: same tables, columns, keys and indexes.
-- Timestamps are INTEGER microseconds since the Unix epoch, UTC.

-- +goose Up
CREATE TABLE projects (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL COLLATE BINARY UNIQUE,
    key_id     TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE repositories (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL COLLATE BINARY,
    created_at INTEGER NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE blobs (
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    digest      TEXT    NOT NULL,
    size        INTEGER NOT NULL CHECK (size >= 0),
    media_type  TEXT    NOT NULL,
    wrapped_key BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (project_id, digest)
);

CREATE TABLE manifests (
    repository_id INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest        TEXT    NOT NULL,
    media_type    TEXT    NOT NULL,
    artifact_type TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    size          INTEGER NOT NULL,
    body          BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (repository_id, digest)
);

CREATE INDEX manifests_subject ON manifests (repository_id, subject) WHERE subject <> '';

CREATE TABLE tags (
    repository_id   INTEGER NOT NULL,
    name            TEXT    NOT NULL COLLATE BINARY CHECK (length(name) BETWEEN 1 AND 128),
    manifest_digest TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (repository_id, name),
    FOREIGN KEY (repository_id, manifest_digest)
        REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
);

CREATE INDEX tags_manifest ON tags (repository_id, manifest_digest);

CREATE TABLE api_tokens (
    id           TEXT    NOT NULL PRIMARY KEY,
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    hash         BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE tags;
DROP TABLE manifests;
DROP TABLE blobs;
DROP TABLE repositories;
DROP TABLE projects;
