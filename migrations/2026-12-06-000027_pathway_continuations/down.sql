DROP INDEX pathways_continues_from_idx;
ALTER TABLE pathways
    DROP CONSTRAINT pathways_continues_another,
    DROP CONSTRAINT pathways_continuation_has_reason,
    DROP CONSTRAINT pathways_continues_same_person,
    DROP COLUMN continuation_reason,
    DROP COLUMN continues_from;
ALTER TABLE pathways DROP CONSTRAINT pathways_id_person_key;
DROP TYPE continuation_reason;
