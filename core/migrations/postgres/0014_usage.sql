-- What the services report their users used (SMS sent, parts, fax pages, …): one row per
-- event, idempotent by the reporting system user and the service's own event id. `day` is the
-- event's day (UTC, days since 1970-01-01); `received_at` tells the roll-up what came late.
CREATE TABLE usage_events (
    reporter_id UUID    NOT NULL,
    event_id    TEXT    NOT NULL,
    -- Roster's own id of the event, ordering it in a user's Logs.
    id          UUID    NOT NULL,
    user_id     UUID    NOT NULL,
    node_id     UUID    NOT NULL,
    service     TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    count       BIGINT  NOT NULL,
    at          BIGINT  NOT NULL,
    day         BIGINT  NOT NULL,
    received_at BIGINT  NOT NULL,
    PRIMARY KEY (reporter_id, event_id)
);
CREATE INDEX usage_events_day ON usage_events (day);
CREATE INDEX usage_events_received ON usage_events (received_at);
CREATE INDEX usage_events_user ON usage_events (user_id, at);

-- The roll-up: one figure per subject (a user, or a unit or account with everything under it),
-- day and metric ('<service>:<kind>', 'sign-ins', 'active-users').
CREATE TABLE stats_daily (
    subject UUID    NOT NULL,
    day     BIGINT  NOT NULL,
    metric  TEXT    NOT NULL,
    value   BIGINT  NOT NULL,
    PRIMARY KEY (subject, day, metric)
);
CREATE INDEX stats_daily_day ON stats_daily (day);

-- How far the roll-up has read: events received up to `watermark` are in the figures.
CREATE TABLE stats_rollups (
    id         BIGINT  NOT NULL PRIMARY KEY CHECK (id = 1),
    watermark  BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
