-- SCIM 2.0 provisioning: one bearer token per account (or unit) an identity provider uses, and
-- the provider's own id for each user it provisioned.

CREATE TABLE scim_tokens (
    id           BLOB    NOT NULL PRIMARY KEY,
    token_hash   BLOB    NOT NULL,
    -- The account or unit the provider provisions into (and may see).
    node_id      BLOB    NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    created_by   BLOB,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE UNIQUE INDEX scim_tokens_hash ON scim_tokens (token_hash);

CREATE TABLE scim_external_ids (
    user_id     BLOB NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    account_id  BLOB NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    external_id TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_external_ids_account ON scim_external_ids (account_id, external_id);
