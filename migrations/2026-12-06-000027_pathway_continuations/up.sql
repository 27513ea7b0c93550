-- A pathway may continue another of the same person: child protection
-- then adult disability at majority, disability then the elderly at 60, or
-- the same domain after a change of situation. The reason is coded, so
-- that indicators count the moves between domains.
CREATE TYPE continuation_reason AS ENUM ('age', 'change_of_situation', 'other');

-- The same person, held by the database: a continuation references the
-- pair (id, person_id) of the pathway it continues.
ALTER TABLE pathways ADD CONSTRAINT pathways_id_person_key UNIQUE (id, person_id);
ALTER TABLE pathways
    ADD COLUMN continues_from uuid,
    ADD COLUMN continuation_reason continuation_reason,
    ADD CONSTRAINT pathways_continues_same_person
        FOREIGN KEY (continues_from, person_id) REFERENCES pathways (id, person_id),
    ADD CONSTRAINT pathways_continuation_has_reason
        CHECK ((continues_from IS NULL) = (continuation_reason IS NULL)),
    ADD CONSTRAINT pathways_continues_another CHECK (continues_from <> id);
-- What continues a pathway (its timeline, the indicators).
CREATE INDEX pathways_continues_from_idx ON pathways (continues_from)
    WHERE continues_from IS NOT NULL;
