-- The events of referral triage. Added alone: a new enum value can be used
-- only once the transaction that adds it has committed (000011 uses them).
ALTER TYPE event_kind ADD VALUE 'referral_accepted';
ALTER TYPE event_kind ADD VALUE 'referral_declined';
