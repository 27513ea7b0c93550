SELECT p.id AS pathway_id, p.person_id,
       extract(year FROM pe.birth_date)::int AS birth_year,
       pe.commune_insee, t.code AS territory, p.domain, p.status,
       p.opened_on, p.closed_on, p.closure_reason,
       coalesce((SELECT sum(extract(epoch FROM coalesce(sp.ended_at, now()) - sp.started_at))
                 FROM pathway_status_periods sp
                 WHERE sp.pathway_id = p.id AND sp.status = 'without_solution'), 0)::float8
           / 86400.0 AS days_without_solution,
       lp.kind AS plan_kind, lp.status AS plan_status, p.critical_level
FROM pathways p
JOIN persons pe ON pe.id = p.person_id
JOIN territories t ON t.id = p.territory_id
LEFT JOIN LATERAL (
    SELECT kind, status FROM plans WHERE pathway_id = p.id ORDER BY id DESC LIMIT 1
) lp ON true
WHERE ($1::domain IS NULL OR p.domain = $1)
  AND ($2::uuid IS NULL OR p.territory_id = $2)
  AND ($3::date IS NULL OR p.closed_on IS NULL OR p.closed_on >= $3)
  AND ($4::date IS NULL OR p.opened_on <= $4)
ORDER BY p.id
