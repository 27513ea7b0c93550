-- One follow-up per decision and facility, as the national SDO model
-- has it: the unit is a detail of the follow-up, not a second one.
DO $$
DECLARE
    twice bigint;
BEGIN
    SELECT count(*) INTO twice FROM (
        SELECT 1 FROM facility_follow_ups
        GROUP BY decision_id, organization_id HAVING count(*) > 1
    ) AS doubled;
    IF twice > 0 THEN
        RAISE EXCEPTION
            '% decision(s) are addressed twice to one facility (one follow-up per unit): '
            'keep one follow-up per decision and facility, then migrate again', twice;
    END IF;
END $$;
ALTER TABLE facility_follow_ups
    DROP CONSTRAINT facility_follow_ups_once,
    ADD CONSTRAINT facility_follow_ups_once UNIQUE (decision_id, organization_id);
