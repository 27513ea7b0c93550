DROP TRIGGER notify_account_change ON refresh_tokens;
DROP TRIGGER notify_account_change ON user_territories;
DROP TRIGGER notify_account_change ON clients;
DROP TRIGGER notify_account_change ON users;
DROP FUNCTION parcours_notify_account_change();

CREATE FUNCTION parcours_notify_principal_change() RETURNS trigger AS $$
BEGIN
    IF NEW.active IS DISTINCT FROM OLD.active THEN
        PERFORM pg_notify('parcours_principals', NEW.id::text);
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER notify_principal_change AFTER UPDATE OF active ON users
    FOR EACH ROW EXECUTE PROCEDURE parcours_notify_principal_change();
CREATE TRIGGER notify_principal_change AFTER UPDATE OF active ON clients
    FOR EACH ROW EXECUTE PROCEDURE parcours_notify_principal_change();

DROP INDEX refresh_tokens_revoked_idx;
ALTER TABLE users DROP COLUMN tokens_valid_after, DROP COLUMN password_change_required;
