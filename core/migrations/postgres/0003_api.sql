-- API credentials: bearer tokens for the REST API (and later SCIM), shown once, stored hashed.

CREATE TABLE api_tokens (
    id           UUID    NOT NULL PRIMARY KEY,
    -- SHA-256 of the token (256 random bits: a fast hash is enough).
    token_hash   BYTEA   NOT NULL,
    -- The user the token acts as; its rights are that user's, narrowed by node_id.
    user_id      UUID    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The subtree the token is limited to; NULL: whatever its user may reach.
    node_id      UUID    REFERENCES nodes (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    read_only    BOOLEAN NOT NULL DEFAULT FALSE,
    created_by   UUID,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT ,
    last_used_at BIGINT ,
    revoked_at   BIGINT 
);
CREATE UNIQUE INDEX api_tokens_hash ON api_tokens (token_hash);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
