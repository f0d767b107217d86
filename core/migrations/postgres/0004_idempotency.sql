-- Idempotency keys of API creates: the first answer for a key (per credential, 24 hours) is
-- kept with a hash of its request, so a retry gets the same answer without a second create.
CREATE TABLE idempotency_keys (
    -- SHA-256 of the credential (the Authorization value) and the client's key.
    scope_hash   BYTEA   NOT NULL,
    key          TEXT    NOT NULL,
    -- SHA-256 of method, path and body.
    request_hash BYTEA   NOT NULL,
    -- 0 while the first request runs.
    status       BIGINT  NOT NULL DEFAULT 0,
    location     TEXT    NOT NULL DEFAULT '',
    body         TEXT    NOT NULL DEFAULT '',
    created_at   BIGINT  NOT NULL,
    PRIMARY KEY (scope_hash, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
