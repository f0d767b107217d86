-- Whether a provider named the user (it has a row in scim_users). The userName of the others
-- is their address; this flag lets an index find those users without passing every provisioned
-- one. A user created by a provider has it from its insert; the trigger sets it for a user a
-- provider names later.

ALTER TABLE users ADD COLUMN scim_named BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE users SET scim_named = TRUE WHERE id IN (SELECT user_id FROM scim_users);
CREATE INDEX users_unnamed_email ON users (account_id, email COLLATE "C") WHERE scim_named = FALSE;

CREATE FUNCTION scim_users_named() RETURNS trigger AS $$
BEGIN
    UPDATE users SET scim_named = TRUE WHERE id = NEW.user_id AND scim_named = FALSE;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER scim_users_named AFTER INSERT ON scim_users
    FOR EACH ROW EXECUTE FUNCTION scim_users_named();
