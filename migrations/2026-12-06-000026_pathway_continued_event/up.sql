-- The event a pathway records when another continues it (continues_from).
-- Added alone: a new enum value can be used once the transaction that adds
-- it has committed (000027 does).
ALTER TYPE event_kind ADD VALUE 'pathway_continued';
