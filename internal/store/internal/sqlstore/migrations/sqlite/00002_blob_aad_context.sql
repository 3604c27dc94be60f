-- Palisade metadata schema, version 2: the associated-data context a
-- blob's ciphertext was sealed with (internal/blob: "<upload-id>/final" or
-- "<upload-id>/<n>"), needed with the wrapped key to decrypt it. Keep in
-- step with the other dialect's file of the same name.

-- +goose Up
ALTER TABLE blobs ADD COLUMN aad_context TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE blobs DROP COLUMN aad_context;
