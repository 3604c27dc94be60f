-- Palisade metadata schema, version 6: the blobs each manifest references
-- (config and layers), so that garbage collection can delete a blob only
-- when no manifest of its project references it, in the same transaction
-- that checks it. refs_recorded marks manifests whose references are in
-- the table; those stored before this version are filled in from their
-- bodies before the first collection. Keep in step with the other
-- dialect's file of the same name.

-- +goose Up
CREATE TABLE manifest_refs (
    repository_id   INTEGER NOT NULL,
    manifest_digest TEXT NOT NULL,
    project_id      INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    blob_digest     TEXT NOT NULL,
    PRIMARY KEY (repository_id, manifest_digest, blob_digest),
    FOREIGN KEY (repository_id, manifest_digest)
        REFERENCES manifests (repository_id, digest) ON DELETE CASCADE
);

CREATE INDEX manifest_refs_blob ON manifest_refs (project_id, blob_digest);

ALTER TABLE manifests ADD COLUMN refs_recorded INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE manifests DROP COLUMN refs_recorded;
DROP TABLE manifest_refs;
