-- What an identity provider keeps beside a user it provisioned: its userName (any text, unique
-- per account, compared without case) and every attribute Roster does not model, as sent; and
-- the provider's own id for a group (unit).

CREATE TABLE scim_users (
    user_id       UUID NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    account_id    UUID NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    user_name     TEXT NOT NULL,
    -- userName in lower case: equality and prefix (sw) lookups use this index.
    user_name_key TEXT COLLATE "C" NOT NULL,
    document      TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_users_name ON scim_users (account_id, user_name_key);

CREATE TABLE scim_groups (
    node_id     UUID NOT NULL PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
    account_id  UUID NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    external_id TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_groups_external ON scim_groups (account_id, external_id);

-- userName of users no provider named = their email address: prefix lookups need byte order.
CREATE INDEX users_account_email_c ON users (account_id, email COLLATE "C");
