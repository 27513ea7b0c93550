DROP INDEX pathways_insertion_open_oriented_idx;
CREATE INDEX decisions_orientation_decided_idx ON decisions (decided_on, id)
    WHERE kind = 'orientation';
DROP TRIGGER decisions_note_orientation ON decisions;
DROP FUNCTION parcours_note_orientation();
ALTER TABLE pathways DROP COLUMN oriented_on;
CREATE INDEX persons_birth_date_idx ON persons (birth_date);
DROP INDEX persons_birth_date_id_idx;
