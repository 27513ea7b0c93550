//! RAPT indicators for one calendar year, per domain, computed in one
//! statement that yields long-format rows `(domain, indicator, key, value)`.
//!
//! Period: `[start, end)` in dates; instants are compared with `as_of`, the
//! end of the period or now for the current year (UTC). Anything "at the
//! end of the period" is read from the status history and the timeline, so
//! a past year gives the same numbers whenever it is asked.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::QueryableByName;
use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{Array, Date, Double, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::sql_types::Domain as SqlDomain;
use crate::domain::Domain;
use crate::domain::facility_status::{self, Outcome};

#[derive(Debug, Clone, QueryableByName)]
pub struct IndicatorRow {
    #[diesel(sql_type = SqlDomain)]
    pub domain: Domain,
    #[diesel(sql_type = Text)]
    pub indicator: String,
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Double)]
    pub value: f64,
}

/// What to count: the period, and the pathways in scope (`None`: all).
#[derive(Debug, Clone)]
pub struct Query {
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub as_of: DateTime<Utc>,
    pub territories: Option<Vec<Uuid>>,
    pub domains: Option<Vec<Domain>>,
}

/// The pathways counted: `$4` territories and `$5` domains, or all. The one
/// definition both statements start from.
macro_rules! scoped {
    () => {
        "WITH scoped AS (
    SELECT p.* FROM pathways p
    WHERE ($4::uuid[] IS NULL OR p.territory_id = ANY ($4))
      AND ($5::domain[] IS NULL OR p.domain = ANY ($5))
)"
    };
}

const SQL: &str = concat!(
    scoped!(),
    ", at_end AS (
    -- The status each pathway had at the end of the period.
    SELECT s.domain, sp.status, sp.started_at
    FROM scoped s JOIN pathway_status_periods sp ON sp.pathway_id = s.id
    WHERE sp.started_at <= $3 AND (sp.ended_at IS NULL OR sp.ended_at > $3)
), waits AS (
    SELECT domain, extract(epoch FROM $3 - started_at) / 86400.0 AS days
    FROM at_end WHERE status = 'without_solution'
), alternative_orientations AS (
    -- Orientations of the pathways that had both a target and an
    -- alternative one, with the day each found its solution: put into
    -- effect, or first admitted by a facility ($6: the statuses that admit).
    SELECT d.pathway_id, d.qualification, d.decided_on,
           least(d.implemented_on,
                 (SELECT min(st.status_on)
                  FROM facility_follow_ups f
                  JOIN facility_statuses st ON st.follow_up_id = f.id
                  WHERE f.decision_id = d.id AND st.status = ANY ($6))) AS solved_on
    FROM decisions d JOIN scoped s ON s.id = d.pathway_id
    WHERE d.kind = 'orientation'
      AND d.pathway_id IN (SELECT pathway_id FROM decisions WHERE kind = 'orientation'
                           GROUP BY pathway_id
                           HAVING bool_or(qualification = 'target')
                              AND bool_or(qualification = 'alternative'))
), alternative_spans AS (
    SELECT pathway_id,
           min(decided_on) FILTER (WHERE qualification = 'target') AS target_from,
           min(solved_on) FILTER (WHERE qualification = 'target') AS target_solved,
           min(solved_on) FILTER (WHERE qualification = 'alternative') AS alternative_from
    FROM alternative_orientations GROUP BY pathway_id
), alternative_waits AS (
    -- Days of the period spent in an alternative response while the target
    -- orientation was pending: from the later of the target's decision and
    -- the alternative's start, to the target's solution or the period's end.
    SELECT s.domain,
           least(coalesce(a.target_solved, 'infinity'), ($3 AT TIME ZONE 'UTC')::date)
             - greatest(a.target_from, a.alternative_from, $1) AS days
    FROM alternative_spans a JOIN scoped s ON s.id = a.pathway_id
    WHERE a.target_from IS NOT NULL AND a.alternative_from IS NOT NULL
), ended_waits AS (
    -- Waits without solution that ended during the period, however long
    -- before it they began.
    SELECT s.domain, extract(epoch FROM sp.ended_at - sp.started_at) / 86400.0 AS days
    FROM scoped s JOIN pathway_status_periods sp ON sp.pathway_id = s.id
    WHERE sp.status = 'without_solution'
      AND sp.ended_at >= ($1::timestamp AT TIME ZONE 'UTC') AND sp.ended_at <= $3
), solutions AS (
    -- Days from opening (the referral) to the first solution, for the
    -- pathways whose first solution came within the period.
    SELECT s.domain, (min(sp.started_at) AT TIME ZONE 'UTC')::date - s.opened_on AS days
    FROM scoped s JOIN pathway_status_periods sp ON sp.pathway_id = s.id
    WHERE sp.status = 'supported'
    GROUP BY s.id, s.domain, s.opened_on
    HAVING min(sp.started_at) >= ($1::timestamp AT TIME ZONE 'UTC') AND min(sp.started_at) < $3
), active_plans AS (
    SELECT s.domain, pl.review_due
    FROM scoped s JOIN plans pl ON pl.pathway_id = s.id
    WHERE pl.activated_on <= ($3 AT TIME ZONE 'UTC')::date
      AND (pl.ended_on IS NULL OR pl.ended_on > ($3 AT TIME ZONE 'UTC')::date)
), critical AS (
    -- The last flag change of each pathway before the end of the period.
    SELECT DISTINCT ON (e.pathway_id) s.domain, e.kind, e.data->>'level' AS level
    FROM scoped s JOIN pathway_events e ON e.pathway_id = s.id
    WHERE e.kind IN ('critical_set', 'critical_cleared') AND e.occurred_at <= $3
    ORDER BY e.pathway_id, e.seq DESC
)
SELECT r.domain, 'referrals' AS indicator, '' AS key, count(*)::float8 AS value
FROM referrals r
WHERE r.received_at >= ($1::timestamp AT TIME ZONE 'UTC') AND r.received_at < $3
  AND ($4::uuid[] IS NULL OR r.territory_id = ANY ($4))
  AND ($5::domain[] IS NULL OR r.domain = ANY ($5))
GROUP BY r.domain
UNION ALL
SELECT domain, 'pathways_opened', '', count(*)
FROM scoped WHERE opened_on >= $1 AND opened_on < $2 AND opened_on <= ($3 AT TIME ZONE 'UTC')::date
GROUP BY domain
UNION ALL
SELECT domain, 'pathways_closed', closure_reason::text, count(*)
FROM scoped WHERE closed_on >= $1 AND closed_on < $2
GROUP BY domain, closure_reason
UNION ALL
-- Pathways opened during the period as the continuation of another, by the
-- domain of the one continued (wherever it is: the move is counted where it
-- lands), and those without a gap: opened while the one continued was
-- open, or by the day after it closed.
SELECT s.domain, 'continued_from', p.domain::text, count(*)
FROM scoped s JOIN pathways p ON p.id = s.continues_from
WHERE s.opened_on >= $1 AND s.opened_on < $2 AND s.opened_on <= ($3 AT TIME ZONE 'UTC')::date
GROUP BY s.domain, p.domain
UNION ALL
SELECT s.domain, 'continued_without_gap', p.domain::text, count(*)
FROM scoped s JOIN pathways p ON p.id = s.continues_from
WHERE s.opened_on >= $1 AND s.opened_on < $2 AND s.opened_on <= ($3 AT TIME ZONE 'UTC')::date
  AND (p.closed_on IS NULL OR s.opened_on <= p.closed_on + 1)
GROUP BY s.domain, p.domain
UNION ALL
SELECT domain, 'status_at_end', status::text, count(*) FROM at_end GROUP BY domain, status
UNION ALL
SELECT domain, 'without_solution_days', 'count', count(*) FROM waits GROUP BY domain
UNION ALL
SELECT domain, 'without_solution_days', 'total', sum(days) FROM waits GROUP BY domain
UNION ALL
SELECT domain, 'without_solution_days', 'median', percentile_cont(0.5) WITHIN GROUP (ORDER BY days)
FROM waits GROUP BY domain
UNION ALL
SELECT domain, 'without_solution_days', 'p90', percentile_cont(0.9) WITHIN GROUP (ORDER BY days)
FROM waits GROUP BY domain
UNION ALL
SELECT domain, 'days_to_solution', 'count', count(*) FROM solutions GROUP BY domain
UNION ALL
SELECT domain, 'days_to_solution', 'median', percentile_cont(0.5) WITHIN GROUP (ORDER BY days)
FROM solutions GROUP BY domain
UNION ALL
SELECT domain, 'days_to_solution', 'p90', percentile_cont(0.9) WITHIN GROUP (ORDER BY days)
FROM solutions GROUP BY domain
UNION ALL
SELECT s.domain, 'decisions',
       CASE WHEN d.kind = 'orientation' THEN d.qualification::text ELSE d.kind::text END, count(*)
FROM decisions d JOIN scoped s ON s.id = d.pathway_id
WHERE d.decided_on >= $1 AND d.decided_on < $2
GROUP BY 1, 3
UNION ALL
SELECT s.domain, 'plans_consented', '', count(*)
FROM plans pl JOIN scoped s ON s.id = pl.pathway_id
WHERE pl.consented_on >= $1 AND pl.consented_on < $2
GROUP BY s.domain
UNION ALL
SELECT domain, 'plans_active', '', count(*) FROM active_plans GROUP BY domain
UNION ALL
SELECT domain, 'overdue_reviews', '', count(*)
FROM active_plans WHERE review_due < ($3 AT TIME ZONE 'UTC')::date GROUP BY domain
UNION ALL
SELECT s.domain, 'meetings_held', '', count(*)
FROM meetings m JOIN scoped s ON s.id = m.pathway_id
WHERE m.held_on >= $1 AND m.held_on < $2
GROUP BY s.domain
UNION ALL
SELECT domain, 'critical_at_end', level, count(*)
FROM critical WHERE kind = 'critical_set' GROUP BY domain, level
UNION ALL
SELECT domain, 'alternative_while_target_pending', 'count', count(*)
FROM alternative_waits WHERE days > 0 GROUP BY domain
UNION ALL
SELECT domain, 'alternative_while_target_pending', 'total', sum(days)
FROM alternative_waits WHERE days > 0 GROUP BY domain
UNION ALL
SELECT domain, 'alternative_while_target_pending', 'median',
       percentile_cont(0.5) WITHIN GROUP (ORDER BY days)
FROM alternative_waits WHERE days > 0 GROUP BY domain
UNION ALL
SELECT domain, 'alternative_while_target_pending', 'p90',
       percentile_cont(0.9) WITHIN GROUP (ORDER BY days)
FROM alternative_waits WHERE days > 0 GROUP BY domain
UNION ALL
SELECT domain, 'without_solution_ended', 'count', count(*) FROM ended_waits GROUP BY domain
UNION ALL
SELECT domain, 'without_solution_ended', 'total', sum(days) FROM ended_waits GROUP BY domain
UNION ALL
SELECT domain, 'without_solution_ended', 'median', percentile_cont(0.5) WITHIN GROUP (ORDER BY days)
FROM ended_waits GROUP BY domain
UNION ALL
SELECT domain, 'without_solution_ended', 'p90', percentile_cont(0.9) WITHIN GROUP (ORDER BY days)
FROM ended_waits GROUP BY domain
"
);

/// Per facility: the orientations addressed to it during the period, the
/// admissions and the refusals (by the reason of the first refusal) whose
/// first such status is dated in the period, and days from the decision to
/// the admission. `$6`: the statuses that admit, `$7` those that refuse
/// (from the value set). Statuses are dated in order (a report is never
/// dated before the current status), so the earliest date is the first.
/// Statuses are reduced to each follow-up's first admission and first
/// refusal, and only the facts of the period meet the pathways: grouping
/// every status with its pathway sorts them all on disk.
const FACILITIES_SQL: &str = concat!(
    scoped!(),
    ", first_admissions AS (
    SELECT follow_up_id, min(status_on) AS admitted_on
    FROM facility_statuses WHERE status = ANY ($6)
    GROUP BY follow_up_id
), first_refusals AS (
    SELECT DISTINCT ON (follow_up_id) follow_up_id, status_on AS refused_on,
           coalesce(reason, 'none') AS reason
    FROM facility_statuses WHERE status = ANY ($7)
    ORDER BY follow_up_id, id
), facts AS (
    -- What happened in the period, one row per follow-up and fact.
    SELECT f.id AS follow_up_id, 'addressed' AS fact, NULL::date AS on_date, '' AS reason
    FROM facility_follow_ups f
    WHERE f.created_at >= ($1::timestamp AT TIME ZONE 'UTC') AND f.created_at < $3
    UNION ALL
    SELECT follow_up_id, 'admitted', admitted_on, ''
    FROM first_admissions WHERE admitted_on >= $1 AND admitted_on < $2
    UNION ALL
    SELECT follow_up_id, 'refused', refused_on, reason
    FROM first_refusals WHERE refused_on >= $1 AND refused_on < $2
), counted AS (
    -- The facts of the pathways in scope, with their facility and decision.
    SELECT s.domain, f.organization_id, f.finess, x.fact, x.reason,
           x.on_date - d.decided_on AS days
    FROM facts x
    JOIN facility_follow_ups f ON f.id = x.follow_up_id
    JOIN scoped s ON s.id = f.pathway_id
    JOIN decisions d ON d.id = f.decision_id
), rows AS (
    SELECT domain, organization_id, finess, fact AS indicator, reason AS key,
           count(*)::float8 AS value
    FROM counted WHERE fact IN ('addressed', 'refused')
    GROUP BY domain, organization_id, finess, fact, reason
    UNION ALL
    SELECT domain, organization_id, finess, 'admitted', 'count', count(*)
    FROM counted WHERE fact = 'admitted' GROUP BY domain, organization_id, finess
    UNION ALL
    SELECT domain, organization_id, finess, 'admitted', 'median',
           percentile_cont(0.5) WITHIN GROUP (ORDER BY days)
    FROM counted WHERE fact = 'admitted' GROUP BY domain, organization_id, finess
    UNION ALL
    SELECT domain, organization_id, finess, 'admitted', 'p90',
           percentile_cont(0.9) WITHIN GROUP (ORDER BY days)
    FROM counted WHERE fact = 'admitted' GROUP BY domain, organization_id, finess
)
SELECT r.domain, r.organization_id, r.finess, o.name, r.indicator, r.key, r.value
FROM rows r JOIN organizations o ON o.id = r.organization_id
ORDER BY r.domain, r.finess, r.organization_id"
);

/// Per organization: the commitments proposed to it during the period, and
/// those it accepted, refused (by reason) or broke then, from the timeline
/// (each move is an event, so a past year never changes).
const COMMITMENTS_SQL: &str = concat!(
    scoped!(),
    ", moves AS (
    SELECT s.domain, (e.data->>'organization_id')::uuid AS organization_id,
           CASE e.kind WHEN 'commitment_added' THEN 'proposed' ELSE e.data->>'to' END AS fact,
           coalesce(e.data->>'refusal_reason', '') AS reason
    FROM pathway_events e JOIN scoped s ON s.id = e.pathway_id
    WHERE e.kind IN ('commitment_added', 'commitment_updated')
      AND e.occurred_at >= ($1::timestamp AT TIME ZONE 'UTC') AND e.occurred_at < $3
      AND (e.kind = 'commitment_added' OR e.data->>'to' IS DISTINCT FROM e.data->>'from')
)
SELECT m.domain, m.organization_id, o.name, m.fact AS indicator,
       CASE WHEN m.fact = 'refused' THEN m.reason ELSE '' END AS key, count(*)::float8 AS value
FROM moves m JOIN organizations o ON o.id = m.organization_id
WHERE m.fact IN ('proposed', 'accepted', 'refused', 'breached')
GROUP BY m.domain, m.organization_id, o.name, m.fact, 5
ORDER BY m.domain, o.name, m.organization_id"
);

#[derive(Debug, Clone, QueryableByName)]
pub struct CommitmentRow {
    #[diesel(sql_type = SqlDomain)]
    pub domain: Domain,
    #[diesel(sql_type = SqlUuid)]
    pub organization_id: Uuid,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub indicator: String,
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Double)]
    pub value: f64,
}

/// The per-organization commitment rows of the period.
async fn commitments(
    conn: &mut AsyncPgConnection,
    query: &Query,
) -> diesel::QueryResult<Vec<CommitmentRow>> {
    within(COMMITMENTS_SQL, query).load(conn).await
}

#[derive(Debug, Clone, QueryableByName)]
pub struct FacilityRow {
    #[diesel(sql_type = SqlDomain)]
    pub domain: Domain,
    #[diesel(sql_type = SqlUuid)]
    pub organization_id: Uuid,
    #[diesel(sql_type = Text)]
    pub finess: String,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub indicator: String,
    #[diesel(sql_type = Text)]
    pub key: String,
    #[diesel(sql_type = Double)]
    pub value: f64,
}

/// The per-facility rows of the period.
async fn facilities(
    conn: &mut AsyncPgConnection,
    query: &Query,
) -> diesel::QueryResult<Vec<FacilityRow>> {
    within(FACILITIES_SQL, query)
        .bind::<Array<Text>, _>(facility_status::codes_of(Outcome::Admits))
        .bind::<Array<Text>, _>(facility_status::codes_of(Outcome::Refuses))
        .load(conn)
        .await
}

/// A statement of the report with the period and the scope bound as
/// `$1` to `$5` (the `scoped` pathways), the one way each is called.
fn within(sql: &'static str, query: &Query) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
    diesel::sql_query(sql)
        .into_boxed()
        .bind::<Date, _>(query.start)
        .bind::<Date, _>(query.end)
        .bind::<Timestamptz, _>(query.as_of)
        .bind::<Nullable<Array<SqlUuid>>, _>(query.territories.clone())
        .bind::<Nullable<Array<SqlDomain>>, _>(query.domains.clone())
}

/// Every row of the period: the domain rows, the facilities', the
/// organizations' commitments.
pub struct AllRows {
    pub domains: Vec<IndicatorRow>,
    pub facilities: Vec<FacilityRow>,
    pub commitments: Vec<CommitmentRow>,
}

/// The three statements of a period, to run in one read-only snapshot
/// ([`crate::services::change::snapshot`]) so that their numbers agree;
/// without JIT compilation: on large scopes it compiled for longer than
/// the statements then ran.
pub async fn all(conn: &mut AsyncPgConnection, query: &Query) -> diesel::QueryResult<AllRows> {
    diesel::sql_query("SET LOCAL jit = off")
        .execute(conn)
        .await?;
    Ok(AllRows {
        domains: compute(conn, query).await?,
        facilities: facilities(conn, query).await?,
        commitments: commitments(conn, query).await?,
    })
}

async fn compute(
    conn: &mut AsyncPgConnection,
    query: &Query,
) -> diesel::QueryResult<Vec<IndicatorRow>> {
    within(SQL, query)
        .bind::<Array<Text>, _>(facility_status::codes_of(Outcome::Admits))
        .load(conn)
        .await
}
