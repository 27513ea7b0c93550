-- The events of a GOS convened before it is held: planned (the invitation
-- its invited partners receive), cancelled. Added alone: a new enum value
-- can be used once the transaction that adds it has committed (000033 does).
ALTER TYPE event_kind ADD VALUE 'meeting_planned';
ALTER TYPE event_kind ADD VALUE 'meeting_cancelled';
