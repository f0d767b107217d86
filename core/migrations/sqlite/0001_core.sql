-- The core of Roster's domain (docs/DOMAIN.md). Same tables, columns and indexes as
-- ../postgres/0001_core.sql; a test compares the two schemas.
-- Ids are UUIDs (BLOB here), times are BIGINT milliseconds since the epoch (UTC).

CREATE TABLE nodes (
    id               BLOB    NOT NULL PRIMARY KEY,
    parent_id        BLOB    REFERENCES nodes (id),
    kind             TEXT    NOT NULL CHECK (kind IN ('operator', 'account', 'unit')),
    name             TEXT    NOT NULL,
    -- Materialized path: '/' then each ancestor's id (32 hex digits) and '/', down to this node.
    path             TEXT    NOT NULL,
    depth            INTEGER NOT NULL,
    -- The tenant: the nearest account at or above this node (the root itself for the root).
    account_id       BLOB    NOT NULL REFERENCES nodes (id),
    contact_name     TEXT    NOT NULL DEFAULT '',
    contact_email    TEXT    NOT NULL DEFAULT '',
    contact_phone    TEXT    NOT NULL DEFAULT '',
    default_language TEXT    NOT NULL DEFAULT 'en',
    default_country  TEXT    NOT NULL DEFAULT '',
    settings         TEXT    NOT NULL DEFAULT '{}',
    -- How many users sit directly in this node (kept with every add, move and delete).
    user_count       INTEGER NOT NULL DEFAULT 0,
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX nodes_path ON nodes (path);
CREATE INDEX nodes_parent ON nodes (parent_id, name);
CREATE UNIQUE INDEX nodes_one_operator ON nodes (kind) WHERE kind = 'operator';

CREATE TABLE users (
    id                     BLOB    NOT NULL PRIMARY KEY,
    node_id                BLOB    NOT NULL REFERENCES nodes (id),
    -- The tenant: the user's nearest account, or the operator root for operator staff.
    account_id             BLOB    NOT NULL REFERENCES nodes (id),
    kind                   TEXT    NOT NULL CHECK (kind IN ('person', 'system')),
    -- Person users sign in with their email (lower case); system users with a login.
    email                  TEXT,
    email_verified         BOOLEAN NOT NULL DEFAULT FALSE,
    email_pending          TEXT,
    login                  TEXT,
    first_name             TEXT    NOT NULL DEFAULT '',
    last_name              TEXT    NOT NULL DEFAULT '',
    friendly_name          TEXT    NOT NULL DEFAULT '',
    -- Lower-case "last first", the key the Users list sorts by.
    sort_name              TEXT    NOT NULL DEFAULT '',
    -- Mobile phone in E.164; country_code is the user's default (ISO 3166 alpha-2).
    phone                  TEXT,
    phone_verified         BOOLEAN NOT NULL DEFAULT FALSE,
    country_code           TEXT    NOT NULL DEFAULT '',
    language               TEXT    NOT NULL DEFAULT 'en',
    user_type              TEXT    NOT NULL DEFAULT 'user' CHECK (user_type IN ('administrator', 'user')),
    status                 TEXT    NOT NULL CHECK (status IN ('invited', 'active', 'disabled')),
    password_hash          TEXT,
    password_must_change   BOOLEAN NOT NULL DEFAULT FALSE,
    password_changed_at    INTEGER,
    notes                  TEXT    NOT NULL DEFAULT '',
    receive_invoices       BOOLEAN NOT NULL DEFAULT FALSE,
    notifications_enabled  BOOLEAN NOT NULL DEFAULT FALSE,
    notify_email           BOOLEAN NOT NULL DEFAULT FALSE,
    notify_sms             BOOLEAN NOT NULL DEFAULT FALSE,
    mfa_required           BOOLEAN NOT NULL DEFAULT FALSE,
    invite_message         TEXT    NOT NULL DEFAULT '',
    version                INTEGER NOT NULL DEFAULT 1,
    created_at             INTEGER NOT NULL,
    updated_at             INTEGER NOT NULL,
    CHECK ((kind = 'person' AND email IS NOT NULL AND login IS NULL)
        OR (kind = 'system' AND login IS NOT NULL AND email IS NULL))
);
CREATE UNIQUE INDEX users_email ON users (email);
CREATE UNIQUE INDEX users_login ON users (login);
CREATE INDEX users_node ON users (node_id, sort_name, id);
CREATE INDEX users_account_name ON users (account_id, sort_name, id);
CREATE INDEX users_account_email ON users (account_id, email);
CREATE INDEX users_account_created ON users (account_id, id);
CREATE INDEX users_account_type ON users (account_id, user_type, sort_name, id);
CREATE INDEX users_account_status ON users (account_id, status, sort_name, id);

-- Search terms of a user (name words, email and its parts, login), lower case, for prefix
-- search that stays fast however many users an account has.
CREATE TABLE user_terms (
    account_id BLOB NOT NULL,
    term       TEXT NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, term, user_id)
);
CREATE INDEX user_terms_user ON user_terms (user_id);

CREATE TABLE user_photos (
    user_id      BLOB    NOT NULL PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    content_type TEXT    NOT NULL,
    bytes        BLOB    NOT NULL,
    updated_at   INTEGER NOT NULL
);

-- The services (declared in configuration) a user may use, with per-user settings.
CREATE TABLE user_services (
    user_id  BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    service  TEXT NOT NULL,
    settings TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (user_id, service)
);

-- A grant gives a subject a role over a node's subtree, or over one single user ("Access").
CREATE TABLE grants (
    id              BLOB    NOT NULL PRIMARY KEY,
    subject_user_id BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT    NOT NULL CHECK (role IN ('administrator')),
    target_node_id  BLOB    REFERENCES nodes (id) ON DELETE CASCADE,
    target_user_id  BLOB    REFERENCES users (id) ON DELETE CASCADE,
    created_by      BLOB,
    created_at      INTEGER NOT NULL,
    CHECK ((target_node_id IS NULL) <> (target_user_id IS NULL))
);
CREATE INDEX grants_subject ON grants (subject_user_id);
CREATE UNIQUE INDEX grants_one_per_node ON grants (subject_user_id, role, target_node_id);
CREATE UNIQUE INDEX grants_one_per_user ON grants (subject_user_id, role, target_user_id);
CREATE INDEX grants_target_node ON grants (target_node_id);
CREATE INDEX grants_target_user ON grants (target_user_id);

-- Server-side sign-in sessions; the cookie holds a random id, the table only its SHA-256.
CREATE TABLE sessions (
    id_hash      BLOB    NOT NULL PRIMARY KEY,
    -- A public handle for the session (lists, "end this session"); never the cookie's hash.
    ref_id       BLOB    NOT NULL,
    user_id      BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    -- When the user last proved who they are (sign-in, re-authentication).
    auth_at      INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    ip           TEXT    NOT NULL DEFAULT '',
    user_agent   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE UNIQUE INDEX sessions_ref ON sessions (ref_id);

-- Browsers that have signed in as a user before: they skip that user's sign-in throttle, so
-- an attacker guessing passwords cannot lock the real user out.
CREATE TABLE known_devices (
    id_hash      BLOB    NOT NULL PRIMARY KEY,
    user_id      BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL
);
CREATE INDEX known_devices_user ON known_devices (user_id);

-- One-time link tokens (set-up, invitation, reset, email verification), stored hashed.
CREATE TABLE link_tokens (
    token_hash BLOB    NOT NULL PRIMARY KEY,
    purpose    TEXT    NOT NULL,
    user_id    BLOB    REFERENCES users (id) ON DELETE CASCADE,
    node_id    BLOB    REFERENCES nodes (id) ON DELETE CASCADE,
    data       TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX link_tokens_user ON link_tokens (user_id, purpose);

-- One-time codes sent by SMS (phone verification, sign-in): only an argon2id hash is kept,
-- bound to one user, one purpose and one phone number, with expiry and an attempt count.
CREATE TABLE sms_codes (
    id         BLOB    NOT NULL PRIMARY KEY,
    user_id    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL,
    phone      TEXT    NOT NULL,
    code_hash  TEXT    NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX sms_codes_user ON sms_codes (user_id, purpose, created_at);

-- Failed sign-in counters per key ('ip:…', 'account:…'), shared by every node.
CREATE TABLE throttle (
    key             TEXT    NOT NULL PRIMARY KEY,
    failures        INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL
);

-- Every email and SMS, written in the transaction of the change that causes it.
CREATE TABLE outbox (
    id              BLOB    NOT NULL PRIMARY KEY,
    channel         TEXT    NOT NULL CHECK (channel IN ('email', 'sms')),
    kind            TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    user_id         BLOB    REFERENCES users (id) ON DELETE SET NULL,
    node_id         BLOB    REFERENCES nodes (id) ON DELETE SET NULL,
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL CHECK (state IN ('queued', 'sent', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_owner     TEXT,
    lease_until     INTEGER,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);
CREATE INDEX outbox_recipient ON outbox (recipient);

-- Append-only audit trail: who did what to what, with before and after.
CREATE TABLE audit_events (
    id            BLOB    NOT NULL PRIMARY KEY,
    at            INTEGER NOT NULL,
    actor_user_id BLOB,
    actor_label   TEXT    NOT NULL DEFAULT '',
    action        TEXT    NOT NULL,
    target_kind   TEXT    NOT NULL DEFAULT '',
    target_id     TEXT    NOT NULL DEFAULT '',
    node_id       BLOB,
    before_data   TEXT    NOT NULL DEFAULT '',
    after_data    TEXT    NOT NULL DEFAULT '',
    ip            TEXT    NOT NULL DEFAULT '',
    outcome       TEXT    NOT NULL DEFAULT 'ok'
);
CREATE INDEX audit_events_node ON audit_events (node_id, at);
CREATE INDEX audit_events_actor ON audit_events (actor_user_id, at);
