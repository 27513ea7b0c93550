-- Extensions the case files rely on: accent- and typo-tolerant person search
-- (pg_trgm, unaccent). Both ship with PostgreSQL (contrib).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;

-- Keeps `updated_at` true on every UPDATE of a table that opts in with
-- SELECT parcours_manage_updated_at('table');
CREATE FUNCTION parcours_set_updated_at() RETURNS trigger AS $$
BEGIN
    IF NEW IS DISTINCT FROM OLD AND NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION parcours_manage_updated_at(_tbl regclass) RETURNS void AS $$
BEGIN
    EXECUTE format('CREATE TRIGGER set_updated_at BEFORE UPDATE ON %s
                    FOR EACH ROW EXECUTE PROCEDURE parcours_set_updated_at()', _tbl);
END;
$$ LANGUAGE plpgsql;
