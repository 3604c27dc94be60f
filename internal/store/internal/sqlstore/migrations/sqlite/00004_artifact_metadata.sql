-- Palisade metadata schema, version 4: the metadata of every artifact
-- (manifest), set from its annotations when pushed and edited through the
-- API: kind, classification, owner, description, framework, format,
-- license, the digest of its model card, and free labels as a JSON object
-- with sorted keys. Keep in step with the other dialect's file of the same
-- name.

-- +goose Up
ALTER TABLE manifests ADD COLUMN kind TEXT NOT NULL DEFAULT 'artifact';
ALTER TABLE manifests ADD COLUMN classification TEXT NOT NULL DEFAULT 'internal';
ALTER TABLE manifests ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE manifests ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE manifests ADD COLUMN framework TEXT NOT NULL DEFAULT '';
ALTER TABLE manifests ADD COLUMN format TEXT NOT NULL DEFAULT '';
ALTER TABLE manifests ADD COLUMN license TEXT NOT NULL DEFAULT '';
ALTER TABLE manifests ADD COLUMN model_card TEXT NOT NULL DEFAULT '';
ALTER TABLE manifests ADD COLUMN labels TEXT NOT NULL DEFAULT '{}';

CREATE INDEX manifests_kind ON manifests (kind);

-- +goose Down
DROP INDEX manifests_kind;
ALTER TABLE manifests DROP COLUMN labels;
ALTER TABLE manifests DROP COLUMN model_card;
ALTER TABLE manifests DROP COLUMN license;
ALTER TABLE manifests DROP COLUMN format;
ALTER TABLE manifests DROP COLUMN framework;
ALTER TABLE manifests DROP COLUMN description;
ALTER TABLE manifests DROP COLUMN owner;
ALTER TABLE manifests DROP COLUMN classification;
ALTER TABLE manifests DROP COLUMN kind;
