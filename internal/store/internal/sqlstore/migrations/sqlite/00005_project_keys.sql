-- Palisade metadata schema, version 5: per-project key-encryption keys.
-- Each version is 32 random bytes wrapped by the server's master key
-- (master_key_id names it); data keys record "project:<name>:v<version>".
-- Several versions coexist only while a rotation moves data keys from the
-- old to the new one. Keep in step with the other dialect's file of the
-- same name.

-- +goose Up
CREATE TABLE project_keys (
    project_id    INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL CHECK (version >= 1),
    wrapped_key   BLOB    NOT NULL,
    master_key_id TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (project_id, version)
);

-- +goose Down
DROP TABLE project_keys;
