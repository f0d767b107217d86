-- What an identity provider keeps beside a user it provisioned: its userName (any text, unique
-- per account, compared without case) and every attribute Roster does not model, as sent; and
-- the provider's own id for a group (unit).

CREATE TABLE scim_users (
    user_id       BLOB NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    account_id    BLOB NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    user_name     TEXT NOT NULL,
    -- userName in lower case: equality and prefix (sw) lookups use this index.
    user_name_key TEXT NOT NULL,
    document      TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_users_name ON scim_users (account_id, user_name_key);

CREATE TABLE scim_groups (
    node_id     BLOB NOT NULL PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
    account_id  BLOB NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    external_id TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_groups_external ON scim_groups (account_id, external_id);
