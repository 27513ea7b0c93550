-- The events of the orientation follow-up per facility. Added alone: a new
-- enum value can be used only once the transaction that adds it has
-- committed (000020 uses them).
ALTER TYPE event_kind ADD VALUE 'facility_notified';
ALTER TYPE event_kind ADD VALUE 'facility_status_changed';
