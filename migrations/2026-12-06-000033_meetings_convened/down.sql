CREATE OR REPLACE FUNCTION parcours_partner_may_know(kind event_kind, data jsonb, organization uuid)
RETURNS boolean AS $$
    SELECT kind IN ('pathway_opened', 'status_changed')
        OR (kind IN ('commitment_added', 'commitment_updated', 'referral_received',
                     'referral_accepted', 'referral_declined', 'facility_notified',
                     'facility_status_changed', 'escalation_sent', 'escalation_status_changed')
            AND data->>'organization_id' = organization::text)
$$ LANGUAGE sql IMMUTABLE;
CREATE OR REPLACE VIEW partner_pathways AS
SELECT followed.organization_id, followed.pathway_id, min(followed.since) AS since
FROM (
    SELECT r.organization_id, r.pathway_id, r.decided_at AS since
    FROM referrals r WHERE r.status = 'accepted'
    UNION ALL
    SELECT c.organization_id, pl.pathway_id, c.created_at
    FROM commitments c JOIN plans pl ON pl.id = c.plan_id
    UNION ALL
    SELECT f.organization_id, f.pathway_id, f.created_at
    FROM facility_follow_ups f
    UNION ALL
    SELECT es.organization_id, es.pathway_id, es.sent_at
    FROM escalations es
) AS followed
JOIN pathways p ON p.id = followed.pathway_id
JOIN persons pe ON pe.id = p.person_id
WHERE NOT pe.sharing_objection
GROUP BY followed.organization_id, followed.pathway_id;

DROP INDEX meetings_planned_idx;
DELETE FROM meeting_users WHERE meeting_id IN (SELECT id FROM meetings WHERE status <> 'held');
DELETE FROM meeting_organizations WHERE meeting_id IN (SELECT id FROM meetings WHERE status <> 'held');
DELETE FROM meetings WHERE status <> 'held';
ALTER TABLE meetings
    DROP CONSTRAINT meetings_cancelled_with_reason,
    DROP CONSTRAINT meetings_planned_for_a_time,
    DROP CONSTRAINT meetings_held_with_outcome,
    DROP CONSTRAINT meetings_build_a_plan_of_their_pathway,
    ALTER COLUMN outcome SET NOT NULL,
    ALTER COLUMN held_on SET NOT NULL,
    DROP COLUMN version,
    DROP COLUMN cancel_reason,
    DROP COLUMN plan_id,
    DROP COLUMN planned_at,
    DROP COLUMN status;
ALTER TABLE plans DROP CONSTRAINT plans_id_pathway_key;
DROP TYPE meeting_status;
