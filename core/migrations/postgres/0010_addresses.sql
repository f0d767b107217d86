-- A user's email aliases: external addresses that use the services as the user. An alias
-- counts once its owner confirmed the link sent to it; a confirmed address is one user's.
CREATE TABLE user_aliases (
    id           UUID    NOT NULL PRIMARY KEY,
    user_id      UUID    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address      TEXT    NOT NULL,
    confirmed_at BIGINT,
    created_at   BIGINT  NOT NULL
);
CREATE UNIQUE INDEX user_aliases_confirmed ON user_aliases (address) WHERE confirmed_at IS NOT NULL;
CREATE UNIQUE INDEX user_aliases_user ON user_aliases (user_id, address);
-- A user's numbers (E.164), each with a label and the services it receives for.
CREATE TABLE user_numbers (
    id         UUID    NOT NULL PRIMARY KEY,
    user_id    UUID    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    number     TEXT    NOT NULL,
    label      TEXT    NOT NULL DEFAULT '',
    -- Service ids, comma-separated.
    services   TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL
);
CREATE UNIQUE INDEX user_numbers_number ON user_numbers (number);
CREATE INDEX user_numbers_user ON user_numbers (user_id);
-- Address books, owned by a user or by a unit or account (shared with everyone below it).
CREATE TABLE address_books (
    id            UUID    NOT NULL PRIMARY KEY,
    owner_node_id UUID    REFERENCES nodes (id) ON DELETE CASCADE,
    owner_user_id UUID    REFERENCES users (id) ON DELETE CASCADE,
    account_id    UUID    NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    name          TEXT    NOT NULL,
    version       BIGINT  NOT NULL DEFAULT 1,
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    CHECK ((owner_node_id IS NULL) <> (owner_user_id IS NULL))
);
CREATE INDEX address_books_node ON address_books (owner_node_id);
CREATE INDEX address_books_user ON address_books (owner_user_id);
CREATE TABLE contacts (
    id         UUID    NOT NULL PRIMARY KEY,
    book_id    UUID    NOT NULL REFERENCES address_books (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    mobile     TEXT    NOT NULL DEFAULT '',
    fax        TEXT    NOT NULL DEFAULT '',
    email      TEXT    NOT NULL DEFAULT '',
    notes      TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL
);
CREATE INDEX contacts_book ON contacts (book_id, name, id);
-- Public email addresses and numbers of a unit or account (shared inboxes of the services),
-- with the users who may use them.
CREATE TABLE public_addresses (
    id         UUID    NOT NULL PRIMARY KEY,
    node_id    UUID    NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('email', 'number')),
    address    TEXT    NOT NULL,
    label      TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL
);
CREATE UNIQUE INDEX public_addresses_address ON public_addresses (address);
CREATE INDEX public_addresses_node ON public_addresses (node_id);
CREATE TABLE public_address_users (
    address_id UUID NOT NULL REFERENCES public_addresses (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (address_id, user_id)
);
CREATE INDEX public_address_users_user ON public_address_users (user_id);
-- What a token may do: `admin` (what its user may, narrowed) or `lookup` (only the services'
-- lookup).
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'admin';
-- The lookup by number finds a user's verified mobile number.
CREATE INDEX users_phone ON users (phone);
