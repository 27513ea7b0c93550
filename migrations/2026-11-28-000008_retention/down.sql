DROP INDEX persons_not_anonymised_idx;
ALTER TABLE persons DROP COLUMN anonymised_at;
