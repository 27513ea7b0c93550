-- The events of a critical situation escalated to an organization: sent,
-- then acknowledged, answered and closed. Added alone: a new enum value can
-- be used once the transaction that adds it has committed (000031 does).
ALTER TYPE event_kind ADD VALUE 'escalation_sent';
ALTER TYPE event_kind ADD VALUE 'escalation_status_changed';
