-- Palisade metadata schema, version 7: identities and access control.
-- Principals are users and service accounts; members give them a role
-- per project; API tokens belong to a principal and carry a scope and an
-- expiry instead of a role. Tokens of earlier versions go to a system
-- administrator named "admin" (an admin token keeps all its access, a
-- read-only token becomes a reader on every project). Projects get
-- quotas, artifacts data tags, and classification changes a record.
-- Single sign-on keeps the logins in progress.
-- Keep in step with the other dialect's file of the same name.

-- +goose Up
CREATE TABLE principals (
    id           TEXT    COLLATE "C" NOT NULL PRIMARY KEY,
    name         TEXT    COLLATE "C" NOT NULL UNIQUE,
    kind         TEXT    NOT NULL CHECK (kind IN ('user', 'service')),
    admin        BOOLEAN NOT NULL DEFAULT FALSE,
    clearance    TEXT    NOT NULL CHECK (clearance IN ('public', 'internal', 'confidential', 'restricted')),
    email        TEXT    NOT NULL DEFAULT '',
    oidc_issuer  TEXT,
    oidc_subject TEXT,
    cert_subject TEXT    UNIQUE,
    created_at   BIGINT NOT NULL,
    disabled_at  BIGINT,
    UNIQUE (oidc_issuer, oidc_subject)
);

CREATE TABLE members (
    project_id   BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    principal_id TEXT    NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    role         TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (project_id, principal_id)
);

CREATE INDEX members_principal ON members (principal_id);

ALTER TABLE api_tokens ADD COLUMN principal_id TEXT REFERENCES principals (id) ON DELETE CASCADE;
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;

INSERT INTO principals (id, name, kind, admin, clearance, created_at)
    SELECT 'admin', 'admin', 'user', TRUE, 'restricted', MIN(created_at) FROM api_tokens HAVING COUNT(*) > 0;
UPDATE api_tokens SET principal_id = 'admin', scope = CASE role WHEN 'admin' THEN '' ELSE '*:reader' END;
ALTER TABLE api_tokens DROP COLUMN role;
CREATE INDEX api_tokens_principal ON api_tokens (principal_id);

ALTER TABLE projects ADD COLUMN quota_bytes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE projects ADD COLUMN quota_artifacts BIGINT NOT NULL DEFAULT 0;

ALTER TABLE manifests ADD COLUMN data_tags TEXT NOT NULL DEFAULT '';

CREATE TABLE classification_changes (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    repository_id BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    digest        TEXT    NOT NULL,
    old_level     TEXT    NOT NULL,
    new_level     TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    changed_at    BIGINT NOT NULL
);

CREATE INDEX classification_changes_manifest ON classification_changes (repository_id, digest);

-- Single sign-on logins in progress: the state of a browser login (its
-- nonce and PKCE verifier) or a device login (the provider's device
-- code), found by the SHA-256 of the handle the client holds, kept until
-- used or expired, so that any replica can finish a login another began.
CREATE TABLE sso_requests (
    handle_hash BYTEA    NOT NULL PRIMARY KEY CHECK (length(handle_hash) = 32),
    kind        TEXT    NOT NULL CHECK (kind IN ('code', 'device')),
    nonce       TEXT    NOT NULL,
    verifier    TEXT    NOT NULL,
    device      TEXT    NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE INDEX sso_requests_expiry ON sso_requests (expires_at);

-- +goose Down
DROP TABLE sso_requests;
DROP TABLE classification_changes;
ALTER TABLE manifests DROP COLUMN data_tags;
ALTER TABLE projects DROP COLUMN quota_artifacts;
ALTER TABLE projects DROP COLUMN quota_bytes;
DROP INDEX api_tokens_principal;
ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
UPDATE api_tokens SET role = CASE scope WHEN '' THEN 'admin' ELSE 'read-only' END;
ALTER TABLE api_tokens DROP COLUMN expires_at;
ALTER TABLE api_tokens DROP COLUMN scope;
ALTER TABLE api_tokens DROP COLUMN principal_id;
DROP TABLE members;
DROP TABLE principals;
