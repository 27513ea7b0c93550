-- What a live access token may do is read from the account at each request
-- (through each instance's cache), not from the token: a change of role,
-- territories, domains, activity or password, or a revoked login, applies
-- to live tokens within a second.

-- A password an admin handed out (one-time) only lets its holder set a new
-- one; tokens issued before a password change stop working.
ALTER TABLE users
    ADD COLUMN password_change_required boolean NOT NULL DEFAULT false,
    ADD COLUMN tokens_valid_after timestamptz NOT NULL DEFAULT '-infinity';

-- Logins revoked lately: their access tokens may still be within their life.
CREATE INDEX refresh_tokens_revoked_idx ON refresh_tokens (revoked_at)
    WHERE revoked_at IS NOT NULL;

-- Every API instance listens on this channel and reloads what accounts may
-- do; one notification per statement (pg_notify folds repeats in a
-- transaction into one).
DROP TRIGGER notify_principal_change ON users;
DROP TRIGGER notify_principal_change ON clients;
DROP FUNCTION parcours_notify_principal_change();
CREATE FUNCTION parcours_notify_account_change() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('parcours_principals', TG_TABLE_NAME);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER notify_account_change
    AFTER INSERT OR DELETE OR UPDATE OF role, domains, active, password_change_required,
        tokens_valid_after ON users
    FOR EACH STATEMENT EXECUTE FUNCTION parcours_notify_account_change();
CREATE TRIGGER notify_account_change
    AFTER INSERT OR DELETE OR UPDATE OF active, organization_id ON clients
    FOR EACH STATEMENT EXECUTE FUNCTION parcours_notify_account_change();
CREATE TRIGGER notify_account_change
    AFTER INSERT OR DELETE OR UPDATE ON user_territories
    FOR EACH STATEMENT EXECUTE FUNCTION parcours_notify_account_change();
CREATE TRIGGER notify_account_change
    AFTER UPDATE OF revoked_at ON refresh_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION parcours_notify_account_change();
