-- SCIM 2.0 provisioning: one bearer token per account (or unit) an identity provider uses, and
-- the provider's own id for each user it provisioned.

CREATE TABLE scim_tokens (
    id           UUID    NOT NULL PRIMARY KEY,
    token_hash   BYTEA   NOT NULL,
    -- The account or unit the provider provisions into (and may see).
    node_id      UUID    NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    created_by   UUID,
    created_at   BIGINT  NOT NULL,
    last_used_at BIGINT ,
    revoked_at   BIGINT 
);
CREATE UNIQUE INDEX scim_tokens_hash ON scim_tokens (token_hash);

CREATE TABLE scim_external_ids (
    user_id     UUID NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    account_id  UUID NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    external_id TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_external_ids_account ON scim_external_ids (account_id, external_id);
