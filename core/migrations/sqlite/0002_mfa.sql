-- Multifactor sign-in: factors, recovery codes, passkey ceremonies, the MFA policy per node,
-- and the stage of a session (a password alone gives a session that can only finish sign-in).

-- 'full': signed in; 'mfa': password right, a second factor still to give; 'enrol': password
-- right, a second factor still to set up (the policy requires one and the user has none).
ALTER TABLE sessions ADD COLUMN stage TEXT NOT NULL DEFAULT 'full' CHECK (stage IN ('full', 'mfa', 'enrol'));
-- Wrong second-factor answers in this session; at the limit the session ends.
ALTER TABLE sessions ADD COLUMN mfa_failures INTEGER NOT NULL DEFAULT 0;

-- A sign-in code by SMS works only in the sign-in attempt (session) that asked for it.
ALTER TABLE sms_codes ADD COLUMN bound_to TEXT NOT NULL DEFAULT '';

-- Who must use a second factor below this node: NULL inherits from the parent (an account
-- without one follows the operator's default); 'users' = only users switched on one by one.
ALTER TABLE nodes ADD COLUMN mfa_policy TEXT CHECK (mfa_policy IN ('users', 'administrators', 'everyone'));
-- The factors allowed below this node, comma-separated ('sms,totp,passkey'); NULL inherits.
ALTER TABLE nodes ADD COLUMN mfa_factors TEXT;

CREATE TABLE factors (
    id           BLOB    NOT NULL PRIMARY KEY,
    user_id      BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('sms', 'totp', 'passkey')),
    name         TEXT    NOT NULL,
    -- TOTP: the seed, sealed with the node's secret key (XChaCha20-Poly1305, bound to the id).
    secret       BLOB,
    -- Passkey: the credential (public key, counter) as JSON; SMS: the E.164 number.
    data         TEXT    NOT NULL DEFAULT '',
    -- TOTP: the newest time step accepted, so a code cannot be used twice.
    last_step    INTEGER NOT NULL DEFAULT 0,
    -- A TOTP seed counts only once the user has typed one code from it.
    confirmed    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX factors_user ON factors (user_id);

-- Ten one-time recovery codes per user, argon2id-hashed.
CREATE TABLE recovery_codes (
    id         BLOB    NOT NULL PRIMARY KEY,
    user_id    BLOB    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id);

-- A passkey ceremony in progress (registration or sign-in), tied to the session that began it.
CREATE TABLE webauthn_states (
    session_hash BLOB    NOT NULL,
    purpose      TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    expires_at   INTEGER NOT NULL,
    PRIMARY KEY (session_hash, purpose)
);
