-- PostgreSQL cannot drop an enum value: rebuild the type; a national
-- reason becomes `other`.
ALTER TYPE plan_end_reason RENAME TO plan_end_reason_national;
CREATE TYPE plan_end_reason AS ENUM (
    'objectives_met', 'replaced', 'consent_withdrawn', 'pathway_closed', 'other'
);
ALTER TABLE plans ALTER COLUMN end_reason TYPE plan_end_reason USING (
    CASE WHEN end_reason::text IN ('objectives_met', 'replaced', 'consent_withdrawn',
                                   'pathway_closed', 'other')
         THEN end_reason::text ELSE 'other' END)::plan_end_reason;
DROP TYPE plan_end_reason_national;
