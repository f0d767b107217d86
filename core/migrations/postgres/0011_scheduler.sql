-- The scheduler's runs: one row per job and time slot. The first node to insert the slot runs
-- it, renewing its lease while it works; a run whose lease ran out unfinished (its node died)
-- is taken over by another node.
CREATE TABLE job_runs (
    job         TEXT    NOT NULL,
    slot        BIGINT  NOT NULL,
    node        TEXT    NOT NULL,
    started_at  BIGINT  NOT NULL,
    lease_until BIGINT  NOT NULL,
    attempts    BIGINT  NOT NULL DEFAULT 1,
    finished_at BIGINT,
    duration_ms BIGINT,
    outcome     TEXT    NOT NULL DEFAULT '',
    error       TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (job, slot)
);
CREATE INDEX job_runs_started ON job_runs (started_at);

-- An invitation that expired unused is written into the audit trail once.
ALTER TABLE link_tokens ADD COLUMN expiry_noted BIGINT;
CREATE INDEX link_tokens_expiring ON link_tokens (expires_at) WHERE used_at IS NULL AND expiry_noted IS NULL;

-- How long an account's audit events are kept (days; NULL: the deployment's default).
ALTER TABLE nodes ADD COLUMN audit_retention_days BIGINT;
CREATE INDEX audit_events_at ON audit_events (at);
