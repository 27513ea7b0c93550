//! Alerts of a caseload: plan reviews overdue or due within their notice,
//! decisions whose validity ends within theirs (30 and 60 days unless the
//! département set `alert_rules` otherwise), pathways `without_solution` for more
//! than 30 days, critical situations, orientations every facility refused,
//! the ages and legal deadlines of `domain::deadlines` within the
//! windows it computes from the département's settings, and escalations
//! whose answer is overdue, GOS meetings convened whose outcome is still
//! to record.
//! Coordinators get those of the
//! pathways they follow (or plans they coordinate); supervisors those of
//! their territories and domains.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel::sql_types::{Array, Date, Integer, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::schema::sql_types::{Domain as SqlDomain, EscalationLevel as SqlLevel};
use crate::db::scope::scope_arrays;
use crate::domain::deadlines::{CountsFrom, MONTH_END_SLACK, Window};
use crate::domain::escalation;
use crate::domain::principal::Principal;
use crate::domain::{AlertRule, Domain, EscalationLevel};

/// The index `pathways_without_solution_due_idx` holds this number too:
/// change both together.
pub const WITHOUT_SOLUTION_DAYS: i32 = 30;

closed_set! {
    pub enum AlertKind {
        /// An active plan's review is overdue or due within the rule's
        /// notice (30 days by default).
        PlanReview => "plan_review",
        /// A decision's validity ends within the rule's notice (60 days by
        /// default).
        DecisionExpiring => "decision_expiring",
        /// The pathway has been `without_solution` for more than 30 days.
        WithoutSolution => "without_solution",
        /// The situation is flagged critical.
        Critical => "critical",
        /// Every facility an orientation (`subject_id`) was addressed to
        /// refused it (admission impossible, trial inconclusive): due the
        /// day of the last refusal. Consider flagging the situation critical.
        FacilitiesRefused => "facilities_refused",
        /// Child protection: the interview before majority (17½ by default).
        MajorityInterview => "majority_interview",
        /// Child protection: majority (18).
        Majority => "majority",
        /// Child protection: the end of a young adult's support (21).
        YoungAdultEnd => "young_adult_end",
        /// Disability: 20, a young adult in a children's facility (Creton).
        CretonAge => "creton_age",
        /// Disability: the age barrier (60).
        AgeBarrier => "age_barrier",
        /// Child protection: no child's project (PPE) consented to within 3
        /// months of the opening.
        PpeDue => "ppe_due",
        /// Insertion: no engagement contract consented to within 1 month of
        /// the first orientation.
        EngagementContractDue => "engagement_contract_due",
        /// An escalation (`subject_id`) is still unanswered after the day
        /// its answer was due.
        EscalationOverdue => "escalation_overdue",
        /// A GOS convened (`subject_id`) whose time has passed without its
        /// outcome recorded (or its cancellation): due the day it was
        /// convened for.
        MeetingToRecord => "meeting_to_record",
    }
}

impl AlertKind {
    /// Whether the alert suggests flagging the situation critical, when it
    /// is not flagged already.
    pub fn suggests_critical(self) -> bool {
        self == Self::FacilitiesRefused
    }
}

/// An age or deadline rule counting months, as the alerts read it today:
/// its domain, what it counts from, its months and the window
/// `domain::deadlines` computed.
#[derive(Debug, Clone, Copy)]
pub struct RuleWindow {
    pub rule: AlertRule,
    pub domain: Domain,
    pub counts_from: CountsFrom,
    pub months: i32,
    pub window: Window,
}

/// The département's rules as the alerts apply them today.
#[derive(Debug, Clone, Default)]
pub struct InForce {
    pub windows: Vec<RuleWindow>,
    /// Days of notice of a plan's review (`plan_review`), of a decision's
    /// end of validity (`decision_expiring`); `None` while turned off.
    pub review_notice: Option<i32>,
    pub decision_notice: Option<i32>,
}

/// The binds before the rules': scope, caseload, cursor, page size and the
/// two notices of the rules due on a recorded day.
const FIRST_RULE_BIND: usize = 10;
const BINDS_PER_RULE: usize = 5;

/// The sub-select of one rule's alerts: its kind, domain and plan are
/// closed-set spellings written in (so the partial indexes apply); months
/// and dates are binds from [`FIRST_RULE_BIND`] on, [`BINDS_PER_RULE`] per
/// rule.
///
/// A due day is the anchor (birth, opening, first orientation) plus the
/// rule's months, so anchor order is due order but for month ends, where
/// up to [`MONTH_END_SLACK`] + 1 anchors fall due the same day. The page is
/// read in two bounded index scans: the first `$7` anchors in order, then
/// every row from the first of them to the last plus the slack, sorted by
/// due day (a range the planner sees as narrow, so it keeps to the index).
fn rule_alerts(n: usize, rule: &RuleWindow, scope: &str) -> String {
    let [months, from_lo, from_hi, due_lo, due_hi] =
        [0, 1, 2, 3, 4].map(|i| FIRST_RULE_BIND + BINDS_PER_RULE * n + i);
    let kind = rule.rule.as_str();
    let domain = rule.domain.as_str();
    let unmet = match rule.rule.met_by() {
        Some(plan) => format!(
            "AND NOT EXISTS (SELECT 1 FROM plans pl WHERE pl.pathway_id = p.id \
               AND pl.kind = '{}' AND pl.status IN ('consented', 'active', 'ended'))",
            plan.as_str()
        ),
        None => String::new(),
    };
    // What the due day counts from, and where the rows are read from in
    // that order: persons by birth (each with its pathway looked up), or
    // the open pathways of the domain by their own index.
    let (anchor, anchored) = match rule.counts_from {
        CountsFrom::Birth => (
            "pe.birth_date",
            format!("pe.birth_date BETWEEN ${from_lo}::date AND ${from_hi}"),
        ),
        CountsFrom::Opening => ("p.opened_on", format!("p.opened_on <= ${from_hi}")),
        CountsFrom::Orientation => ("p.oriented_on", format!("p.oriented_on <= ${from_hi}")),
    };
    let due = format!("({anchor} + make_interval(months => ${months}))::date");
    // The pathway's conditions; after the cursor (`$4`, `$5`, `$6`): due
    // then, so anchored no earlier than its months before, less the slack.
    let of_pathway = format!(
        "p.domain = '{domain}' AND {scope} {unmet} \
         AND ($3::uuid IS NULL OR p.referent_id = $3) \
         AND {due} <= ${due_hi} AND (${due_lo}::date IS NULL OR {due} >= ${due_lo}) \
         AND ($4::date IS NULL OR ({anchor} >= ($4::date - make_interval(months => ${months}))::date \
              - {MONTH_END_SLACK} AND ({due}, '{kind}', p.id) > ($4, $5, $6)))"
    );
    let (first, from) = match rule.counts_from {
        CountsFrom::Birth => (
            format!(
                "SELECT pe.birth_date AS anchor FROM persons pe WHERE {anchored} \
                   AND EXISTS (SELECT 1 FROM pathways p WHERE p.person_id = pe.id AND {of_pathway}) \
                 ORDER BY pe.birth_date LIMIT $7"
            ),
            "persons pe JOIN pathways p ON p.person_id = pe.id",
        ),
        CountsFrom::Opening | CountsFrom::Orientation => (
            format!(
                "SELECT {anchor} AS anchor FROM pathways p WHERE {anchored} AND {of_pathway} \
                 ORDER BY {anchor} LIMIT $7"
            ),
            "pathways p",
        ),
    };
    format!(
        "(WITH first{n} AS ({first}) \
          SELECT '{kind}' AS kind, p.id AS pathway_id, p.person_id, p.domain, {due} AS due_on, \
                 p.id AS subject_id, p.critical_level \
          FROM {from} WHERE {anchored} AND {of_pathway} \
            AND {anchor} BETWEEN (SELECT min(anchor) FROM first{n}) \
                             AND (SELECT max(anchor) FROM first{n}) + {MONTH_END_SLACK} \
          ORDER BY due_on, subject_id LIMIT $7)"
    )
}

#[derive(Debug, Clone, QueryableByName)]
pub struct AlertRow {
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = SqlUuid)]
    pub pathway_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub person_id: Uuid,
    #[diesel(sql_type = SqlDomain)]
    pub domain: Domain,
    #[diesel(sql_type = Date)]
    pub due_on: NaiveDate,
    /// The plan or decision concerned; the pathway itself otherwise.
    #[diesel(sql_type = SqlUuid)]
    pub subject_id: Uuid,
    #[diesel(sql_type = Nullable<SqlLevel>)]
    pub critical_level: Option<EscalationLevel>,
}

/// Where a page of alerts starts: after this (due_on, kind, subject).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlertCursor {
    pub due_on: NaiveDate,
    pub kind: String,
    pub subject_id: Uuid,
}

/// The caller's alerts, most urgent (earliest due) first; `limit + 1` rows.
pub async fn of_caseload(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    after: Option<&AlertCursor>,
    limit: i64,
    rules: &InForce,
    record: &NewRecord,
) -> QueryResult<Vec<AlertRow>> {
    let (territories, domains) = scope_arrays(who);
    // Coordinators: their own caseload; supervisors: all of their scope.
    let caseload_of = crate::domain::policy::caseload_of(who);
    // Each kind is read in due order from its own index and cut at the page
    // size before the kinds are merged, so a page costs the same whatever
    // the caseload's size.
    let scope = "p.territory_id = ANY($1) AND p.domain = ANY($2) AND p.status <> 'closed'";
    let next = "($4::date IS NULL OR (due_on >= $4 AND (due_on, kind, subject_id) > ($4, $5, $6)))";
    // Escalations and GOS: a coordinator's are read from their own
    // pathways (`pathways_referent_idx`), a supervisor's in due order from
    // the partial indexes, each looked up in its pathway (the fence keeps
    // the planner from hashing every pathway of the scope instead).
    let (escalations_of_caseload, meetings_of_caseload) = if caseload_of.is_some() {
        (
            format!(
                "pathways p JOIN escalations es ON es.pathway_id = p.id \
                     AND p.referent_id = $3 AND {scope}"
            ),
            format!(
                "pathways p JOIN meetings m ON m.pathway_id = p.id \
                     AND p.referent_id = $3 AND {scope}"
            ),
        )
    } else {
        let of = |child: &str| {
            format!(
                "LATERAL (SELECT p.* FROM pathways p WHERE p.id = {child}.pathway_id \
                     AND {scope} OFFSET 0) p"
            )
        };
        (
            format!("escalations es, {}", of("es")),
            format!("meetings m, {}", of("m")),
        )
    };
    // As the partial index `escalations_unanswered_due_idx` lists them.
    let unanswered = escalation::UNANSWERED
        .map(|status| format!("'{}'", status.as_str()))
        .join(", ");
    let by_rule: String = rules
        .windows
        .iter()
        .enumerate()
        .map(|(n, rule)| format!(" UNION ALL {}", rule_alerts(n, rule, scope)))
        .collect();
    let mut query = diesel::sql_query(format!(
        "SELECT * FROM ( \
           (SELECT * FROM (SELECT 'plan_review' AS kind, p.id AS pathway_id, p.person_id, \
                   p.domain, pl.review_due AS due_on, pl.id AS subject_id, p.critical_level \
              FROM plans pl JOIN pathways p ON p.id = pl.pathway_id \
              WHERE {scope} AND pl.status = 'active' \
                AND pl.review_due <= current_date + $8::int \
                AND ($3::uuid IS NULL OR p.referent_id = $3 OR pl.coordinator_id = $3)) a \
            WHERE {next} ORDER BY due_on, subject_id LIMIT $7) \
           UNION ALL \
           (SELECT * FROM (SELECT 'decision_expiring' AS kind, p.id AS pathway_id, p.person_id, \
                   p.domain, d.valid_until AS due_on, d.id AS subject_id, p.critical_level \
              FROM decisions d JOIN pathways p ON p.id = d.pathway_id \
              WHERE {scope} \
                AND d.valid_until BETWEEN current_date AND current_date + $9::int \
                AND ($3::uuid IS NULL OR p.referent_id = $3)) a \
            WHERE {next} ORDER BY due_on, subject_id LIMIT $7) \
           UNION ALL \
           (SELECT * FROM (SELECT 'without_solution' AS kind, p.id AS pathway_id, p.person_id, \
                   p.domain, timezone('UTC', p.status_since)::date + {WITHOUT_SOLUTION_DAYS} \
                   AS due_on, p.id AS subject_id, p.critical_level \
              FROM pathways p \
              WHERE {scope} AND p.status = 'without_solution' \
                AND p.status_since < now() - interval '{WITHOUT_SOLUTION_DAYS} days' \
                AND ($3::uuid IS NULL OR p.referent_id = $3)) a \
            WHERE {next} ORDER BY due_on, subject_id LIMIT $7) \
           UNION ALL \
           (SELECT * FROM (SELECT 'critical' AS kind, p.id AS pathway_id, p.person_id, \
                   p.domain, timezone('UTC', p.critical_since)::date AS due_on, \
                   p.id AS subject_id, \
                   p.critical_level \
              FROM pathways p \
              WHERE {scope} AND p.critical_level IS NOT NULL \
                AND ($3::uuid IS NULL OR p.referent_id = $3)) a \
            WHERE {next} ORDER BY due_on, subject_id LIMIT $7) \
           UNION ALL \
           (SELECT * FROM (SELECT 'facilities_refused' AS kind, p.id AS pathway_id, p.person_id, \
                   p.domain, d.facilities_refused_on AS due_on, d.id AS subject_id, \
                   p.critical_level \
              FROM decisions d JOIN pathways p ON p.id = d.pathway_id \
              WHERE {scope} AND d.facilities_refused_on IS NOT NULL \
                AND d.implemented_on IS NULL \
                AND ($3::uuid IS NULL OR p.referent_id = $3)) a \
            WHERE {next} ORDER BY due_on, subject_id LIMIT $7) \
           UNION ALL \
           (SELECT * FROM (SELECT 'escalation_overdue' AS kind, p.id AS pathway_id, p.person_id, \
                   p.domain, es.due_on, es.id AS subject_id, p.critical_level \
              FROM {escalations_of_caseload} \
              WHERE es.status IN ({unanswered}) AND es.due_on < current_date) a \
            WHERE {next} ORDER BY due_on, subject_id LIMIT $7) \
           UNION ALL \
           (SELECT * FROM (SELECT 'meeting_to_record' AS kind, p.id AS pathway_id, p.person_id, \
                   p.domain, timezone('UTC', m.planned_at)::date AS due_on, m.id AS subject_id, \
                   p.critical_level \
              FROM {meetings_of_caseload} \
              WHERE m.status = 'planned' AND m.planned_at < now()) a \
            WHERE {next} ORDER BY due_on, subject_id LIMIT $7) \
           {by_rule} \
         ) alerts \
         WHERE $4::date IS NULL OR (due_on, kind, subject_id) > ($4, $5, $6) \
         ORDER BY due_on, kind, subject_id \
         LIMIT $7"
    ))
    .bind::<Array<SqlUuid>, _>(territories)
    .bind::<Array<SqlDomain>, _>(domains)
    .bind::<Nullable<SqlUuid>, _>(caseload_of)
    .bind::<Nullable<Date>, _>(after.map(|a| a.due_on))
    .bind::<Text, _>(after.map(|a| a.kind.clone()).unwrap_or_default())
    .bind::<SqlUuid, _>(after.map(|a| a.subject_id).unwrap_or_default())
    .bind::<diesel::sql_types::BigInt, _>(limit + 1)
    .bind::<Nullable<Integer>, _>(rules.review_notice)
    .bind::<Nullable<Integer>, _>(rules.decision_notice)
    .into_boxed();
    for rule in &rules.windows {
        let (from_lo, from_hi) = rule.window.from_between;
        query = query
            .bind::<Integer, _>(rule.months)
            .bind::<Nullable<Date>, _>(from_lo)
            .bind::<Date, _>(from_hi)
            .bind::<Nullable<Date>, _>(rule.window.due_from)
            .bind::<Date, _>(rule.window.due_to);
    }
    query
        .audited_list(record, "pathway_id", limit)
        .load(conn)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_raises_alerts_of_its_own_kind() {
        for rule in AlertRule::VALUES.iter().copied() {
            assert!(AlertKind::parse(rule.as_str()).is_some(), "{rule:?}");
        }
    }
}
