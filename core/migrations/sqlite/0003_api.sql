-- API credentials: bearer tokens for the REST API (and later SCIM), shown once, stored hashed.

CREATE TABLE api_tokens (
    id           BLOB    NOT NULL PRIMARY KEY,
    -- SHA-256 of the token (256 random bits: a fast hash is enough).
    token_hash   BLOB    NOT NULL,
    -- The user the token acts as; its rights are that user's, narrowed by node_id.
    user_id      BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The subtree the token is limited to; NULL: whatever its user may reach.
    node_id      BLOB    REFERENCES nodes (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    read_only    BOOLEAN NOT NULL DEFAULT FALSE,
    created_by   BLOB,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (token_hash);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
