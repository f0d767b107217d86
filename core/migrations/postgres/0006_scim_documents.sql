-- What an identity provider keeps beside a user it provisioned: its userName (any text, unique
-- per account, compared without case), its own id for the user (externalId, which moves here
-- from scim_external_ids) and every attribute as sent; and the provider's own id for a group.

CREATE TABLE scim_users (
    user_id       UUID NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    account_id    UUID NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    user_name     TEXT NOT NULL,
    -- userName in lower case: equality and prefix (sw) lookups use this index.
    user_name_key TEXT COLLATE "C" NOT NULL,
    external_id   TEXT,
    document      TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_users_name ON scim_users (account_id, user_name_key);
CREATE UNIQUE INDEX scim_users_external ON scim_users (account_id, external_id)
    WHERE external_id IS NOT NULL;

-- External ids kept so far: their users' userName was their address.
INSERT INTO scim_users (user_id, account_id, user_name, user_name_key, external_id, document)
SELECT e.user_id, e.account_id, u.email, u.email, e.external_id, '{}'
  FROM scim_external_ids e JOIN users u ON u.id = e.user_id
 WHERE u.email IS NOT NULL;
DROP TABLE scim_external_ids;

CREATE TABLE scim_groups (
    node_id     UUID NOT NULL PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
    account_id  UUID NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    external_id TEXT NOT NULL
);
CREATE UNIQUE INDEX scim_groups_external ON scim_groups (account_id, external_id);

-- The userName of a user no provider named is their email address: prefix lookups (sw) need
-- the account's addresses in byte order, as SQLite's index has them.
DROP INDEX users_account_email;
CREATE INDEX users_account_email ON users (account_id, email COLLATE "C");
