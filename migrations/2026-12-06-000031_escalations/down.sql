CREATE OR REPLACE FUNCTION parcours_partner_may_know(kind event_kind, data jsonb, organization uuid)
RETURNS boolean AS $$
    SELECT kind IN ('pathway_opened', 'status_changed')
        OR (kind IN ('commitment_added', 'commitment_updated', 'referral_received',
                     'referral_accepted', 'referral_declined', 'facility_notified',
                     'facility_status_changed')
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
) AS followed
JOIN pathways p ON p.id = followed.pathway_id
JOIN persons pe ON pe.id = p.person_id
WHERE NOT pe.sharing_objection
GROUP BY followed.organization_id, followed.pathway_id;
DROP TABLE escalations;
DROP TYPE escalation_closure;
DROP TYPE escalation_status;
