-- Palisade metadata schema, version 1 (PostgreSQL). Keep in step with
-- ../sqlite/00001_initial.sql: same tables, columns, keys and indexes.
-- Timestamps are BIGINT microseconds since the Unix epoch, UTC, as in
-- SQLite. Names use the "C" collation so that ORDER BY and > compare bytes,
-- the lexical order the OCI tag list pagination needs, whatever the
-- database's default collation.

-- +goose Up
CREATE TABLE projects (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT   COLLATE "C" NOT NULL UNIQUE,
    key_id     TEXT   NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE repositories (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT   COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (project_id, name)
);

CREATE TABLE blobs (
    project_id  BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    digest      TEXT   COLLATE "C" NOT NULL,
    size        BIGINT NOT NULL CHECK (size >= 0),
    media_type  TEXT   NOT NULL,
    wrapped_key BYTEA  NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (project_id, digest)
);

CREATE TABLE manifests (
    repository_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest        TEXT   COLLATE "C" NOT NULL,
    media_type    TEXT   NOT NULL,
    artifact_type TEXT   NOT NULL,
    subject       TEXT   COLLATE "C" NOT NULL,
    size          BIGINT NOT NULL,
    body          BYTEA  NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (repository_id, digest)
);

CREATE INDEX manifests_subject ON manifests (repository_id, subject) WHERE subject <> '';

CREATE TABLE tags (
    repository_id   BIGINT NOT NULL,
    name            TEXT   COLLATE "C" NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    manifest_digest TEXT   COLLATE "C" NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (repository_id, name),
    FOREIGN KEY (repository_id, manifest_digest)
        REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
);

CREATE INDEX tags_manifest ON tags (repository_id, manifest_digest);

CREATE TABLE api_tokens (
    id           TEXT   COLLATE "C" NOT NULL PRIMARY KEY,
    name         TEXT   NOT NULL,
    role         TEXT   NOT NULL,
    hash         BYTEA  NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

-- +goose Down
DROP TABLE api_tokens;
DROP TABLE tags;
DROP TABLE manifests;
DROP TABLE blobs;
DROP TABLE repositories;
DROP TABLE projects;
