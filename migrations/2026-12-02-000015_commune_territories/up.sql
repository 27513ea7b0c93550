-- The communes table becomes the official geographic code: every commune of
-- France, with its département and intercommunality (EPCI). Only the
-- communes a territory covers take referrals and persons; the others have
-- no territory. The rows come in the next migration, derived from the COG.
ALTER TABLE communes
    ALTER COLUMN territory_id DROP NOT NULL,
    ADD COLUMN department text CHECK (department ~ '^([0-9]{2,3}|2A|2B)$'),
    ADD COLUMN epci text CHECK (epci ~ '^[0-9]{9}$'),
    ADD COLUMN epci_name text CHECK (length(epci_name) BETWEEN 1 AND 200),
    ADD CONSTRAINT communes_epci_named CHECK ((epci IS NULL) = (epci_name IS NULL));

UPDATE communes SET department = left(insee, 2);
ALTER TABLE communes
    ALTER COLUMN department SET NOT NULL,
    ADD CONSTRAINT communes_in_department CHECK (starts_with(insee, department));

-- A place name folded for search: case, accents, dashes and apostrophes
-- do not matter ("saint etienne" finds Saint-Étienne-le-Laus).
CREATE FUNCTION parcours_fold_place(text) RETURNS text AS $$
    SELECT translate(parcours_fold($1), '-''’', '   ')
$$ LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT;

ALTER TABLE communes
    ADD COLUMN search_name text GENERATED ALWAYS AS (parcours_fold_place(name)) STORED;

-- Listing by département in code order, and by name.
CREATE INDEX communes_department_idx ON communes (department, insee);
CREATE INDEX communes_search_name_idx ON communes USING gin (search_name gin_trgm_ops);
