-- The alert of a GOS still planned after its day reads them in due order
-- (the day, in UTC, it was convened for), as the other alerts do.
DROP INDEX meetings_planned_idx;
CREATE INDEX meetings_planned_due_idx ON meetings ((timezone('UTC', planned_at)::date), id)
    WHERE status = 'planned';
