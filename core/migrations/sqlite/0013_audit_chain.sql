-- Tamper evidence: each account's audit events form a hash chain. `chain_key` is the account's
-- id ('' for events outside any account); `seq` counts up in that chain; `hash` covers the
-- event's fields and the previous event's hash. `audit_chains` holds each chain's head, locked
-- by the transaction that appends to it, and how far retention removed its oldest events. Events written before this migration have no chain.
ALTER TABLE audit_events ADD COLUMN chain_key TEXT;
ALTER TABLE audit_events ADD COLUMN seq INTEGER;
ALTER TABLE audit_events ADD COLUMN prev_hash BLOB;
ALTER TABLE audit_events ADD COLUMN hash BLOB;
CREATE UNIQUE INDEX audit_events_chain ON audit_events (chain_key, seq);
CREATE TABLE audit_chains (
    chain_key TEXT   NOT NULL PRIMARY KEY,
    seq       INTEGER NOT NULL,
    purged_through INTEGER NOT NULL DEFAULT 0,
    hash      BLOB   NOT NULL
);
