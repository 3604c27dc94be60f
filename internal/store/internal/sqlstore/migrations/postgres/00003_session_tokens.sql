-- Palisade metadata schema, version 3: registry session tokens, the
-- short-lived bearer tokens the registry token endpoint issues in exchange
-- for an API token. Only their SHA-256 hash is stored. They go with the
-- API token they were issued for. Keep in step with the other dialect's
-- file of the same name.

-- +goose Up
CREATE TABLE session_tokens (
    hash       BYTEA  NOT NULL PRIMARY KEY CHECK (length(hash) = 32),
    token_id   TEXT   NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    scope      TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX session_tokens_expiry ON session_tokens (expires_at);

-- +goose Down
DROP TABLE session_tokens;
