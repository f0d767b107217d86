-- A user's timeline: the events about them, and the messages sent to them, newest first.
CREATE INDEX audit_events_target ON audit_events (target_kind, target_id, at);
CREATE INDEX outbox_user ON outbox (user_id, created_at);
