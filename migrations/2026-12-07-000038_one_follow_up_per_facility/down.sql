ALTER TABLE facility_follow_ups
    DROP CONSTRAINT facility_follow_ups_once,
    ADD CONSTRAINT facility_follow_ups_once UNIQUE NULLS NOT DISTINCT (decision_id, organization_id, unit);
