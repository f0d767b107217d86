-- The credential a change was made with: the API token or SCIM token that acted (none for the
-- portal and the command line), so a provider's changes name its token.
ALTER TABLE audit_events ADD COLUMN credential_id BLOB;
CREATE INDEX audit_events_credential ON audit_events (credential_id, at) WHERE credential_id IS NOT NULL;
