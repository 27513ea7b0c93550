DROP FUNCTION IF EXISTS parcours_manage_updated_at(regclass);
DROP FUNCTION IF EXISTS parcours_set_updated_at();
DROP EXTENSION IF EXISTS unaccent;
DROP EXTENSION IF EXISTS pg_trgm;
