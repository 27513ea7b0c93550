-- Retention (CNIL: two years after the last contact): persons whose file
-- has been closed long enough are anonymised in place, so that the
-- numbers (pathways, periods, decisions, plans, meetings) stay.
ALTER TABLE persons ADD COLUMN anonymised_at timestamptz;
CREATE INDEX persons_not_anonymised_idx ON persons (id) WHERE anonymised_at IS NULL;
