DROP INDEX meetings_planned_due_idx;
CREATE INDEX meetings_planned_idx ON meetings (planned_at, id) WHERE status = 'planned';
