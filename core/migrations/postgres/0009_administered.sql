-- "Administered": an account whose contact is told to senders of its email domains who are not
-- users yet. Its domains are set by the operator; a domain belongs to one account.
ALTER TABLE nodes ADD COLUMN administered BOOLEAN NOT NULL DEFAULT FALSE;
CREATE TABLE account_domains (
    domain     TEXT    PRIMARY KEY,
    account_id UUID    NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
    created_at BIGINT  NOT NULL
);
CREATE INDEX account_domains_account ON account_domains (account_id);
