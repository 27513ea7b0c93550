//! `GET /v1/indicators`: the RAPT indicators of a year, per domain, for
//! auditors (everything) and supervisors (their territories and domains).
//! JSON, or CSV with `Accept: text/csv`.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, get};
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::policy;
use crate::auth::policy::ReadIndicators;
use crate::db::domain_calendar;
use crate::db::indicators::{self, CommitmentRow, FacilityRow, IndicatorRow, Query};
use crate::domain::enums::name_of;
use crate::domain::{ClosureReason, Domain, EscalationLevel, PathwayStatus};
use crate::http::caller::Authorized;
use crate::http::error::{ApiError, FieldError};
use crate::http::extract;
use crate::services::change::snapshot;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IndicatorParams {
    /// Calendar year (default: the current one, counted up to now).
    pub year: Option<i32>,
    /// One domain only.
    pub domain: Option<Domain>,
    /// One territory only (supervisors: one of theirs).
    pub territory: Option<Uuid>,
}

/// Days a number of pathways spent (or waited): how many, and the median,
/// 90th percentile and total in days (`null` when none).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct DayStats {
    pub count: i64,
    pub median_days: Option<f64>,
    pub p90_days: Option<f64>,
    /// Only for waits: the days all of them have waited, added up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_days: Option<f64>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct DecisionCounts {
    /// Orientations towards the answer the person needs (orientation cible).
    pub target: i64,
    /// Orientations towards an alternative answer while the target is
    /// unavailable.
    pub alternative: i64,
    /// Requests rejected (not orientations).
    pub rejection: i64,
    /// Decisions deferred (not orientations).
    pub deferral: i64,
}

/// Pathways that continue one of another domain (or of the same one).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Continuations {
    /// Opened during the period as the continuation of a pathway of this
    /// domain.
    pub count: i64,
    /// Of those, opened while the pathway continued was still open, or at
    /// the latest the day after it closed: no day without a pathway.
    pub without_gap: i64,
}

/// One domain's indicators for the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct DomainIndicators {
    pub domain: Domain,
    /// The day the domain opened (the rollout calendar) and its year.
    pub opened_on: NaiveDate,
    pub opened_year: i32,
    /// Partner referrals received during the period.
    pub referrals: i64,
    /// Pathways opened during the period.
    pub pathways_opened: i64,
    /// Of the pathways opened during the period, those that continue
    /// another (`continues_from`), by the domain of the one continued
    /// (every domain listed): child protection → disability at majority,
    /// disability → the elderly at 60.
    pub continued_from: BTreeMap<String, Continuations>,
    /// Pathways closed during the period, in all and by closure reason
    /// (every reason listed, 0 included).
    pub pathways_closed: i64,
    pub closed_by_reason: BTreeMap<String, i64>,
    /// Pathways by the status they had at the end of the period (`as_of`),
    /// from the status history; every status listed.
    pub status_at_end: BTreeMap<String, i64>,
    /// Pathways `without_solution` at the end of the period, and how long
    /// each had been waiting then.
    pub without_solution: DayStats,
    /// Waits without solution that ended during the period (a solution,
    /// a closure, a new assessment), however long before they began: how
    /// long each lasted. A wait that ended in March stays in the year's
    /// figures.
    pub without_solution_ended: DayStats,
    /// Pathways that spent days of the period in an alternative response
    /// (an alternative orientation put into effect or admitted) while
    /// their target orientation was pending, and how many days each.
    pub alternative_while_target_pending: DayStats,
    /// Pathways that reached their first solution (`supported`) during the
    /// period: days from opening (the referral) to it.
    pub days_to_solution: DayStats,
    /// Decisions taken during the period.
    pub decisions: DecisionCounts,
    /// Plans the person (or representative) consented to during the period.
    pub plans_consented: i64,
    /// Plans active at the end of the period.
    pub plans_active: i64,
    /// Of those, how many had their review date passed.
    pub overdue_reviews: i64,
    /// GOS meetings held during the period.
    pub meetings_held: i64,
    /// Pathways flagged critical at the end of the period, by escalation
    /// level (from the timeline; every level listed).
    pub critical_at_end: BTreeMap<String, i64>,
    /// Each facility orientations of the domain were addressed to, by
    /// FINESS, with what happened during the period (from the facilities'
    /// status history).
    pub facilities: Vec<FacilityOutcomes>,
    /// Each organization commitments of the domain were proposed to, with
    /// what it did with them during the period (from the timeline).
    pub commitments: Vec<OrganizationCommitments>,
}

/// What one organization did with the commitments proposed to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationCommitments {
    pub organization_id: Uuid,
    pub name: String,
    /// Commitments proposed to it (again, after new terms or a refusal).
    pub proposed: i64,
    pub accepted: i64,
    /// Refusals, by reason.
    pub refused_by_reason: BTreeMap<String, i64>,
    /// Accepted commitments it did not keep.
    pub breached: i64,
}

/// Days as the report gives them: to a tenth.
fn days(value: f64) -> Option<f64> {
    Some((value * 10.0).round() / 10.0)
}

/// The entry of `out` that `is` picks, added by `new` the first time.
fn entry<T>(out: &mut Vec<T>, is: impl Fn(&T) -> bool, new: impl FnOnce() -> T) -> Option<&mut T> {
    let index = match out.iter().position(is) {
        Some(index) => index,
        None => {
            out.push(new());
            out.len() - 1
        }
    };
    out.get_mut(index)
}

/// The commitment rows of one domain, one entry per organization.
fn commitments_of(domain: Domain, rows: &[CommitmentRow]) -> Vec<OrganizationCommitments> {
    let mut out: Vec<OrganizationCommitments> = Vec::new();
    for row in rows.iter().filter(|r| r.domain == domain) {
        let organization = entry(
            &mut out,
            |o| o.organization_id == row.organization_id,
            || OrganizationCommitments {
                organization_id: row.organization_id,
                name: row.name.clone(),
                proposed: 0,
                accepted: 0,
                refused_by_reason: BTreeMap::new(),
                breached: 0,
            },
        );
        let Some(organization) = organization else {
            continue;
        };
        let count = row.value.round() as i64;
        match row.indicator.as_str() {
            "proposed" => organization.proposed = count,
            "accepted" => organization.accepted = count,
            "refused" => {
                organization
                    .refused_by_reason
                    .insert(row.key.clone(), count);
            }
            "breached" => organization.breached = count,
            _ => {}
        }
    }
    out
}

/// What one facility did with the orientations addressed to it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FacilityOutcomes {
    pub organization_id: Uuid,
    pub finess: String,
    pub name: String,
    /// Orientations addressed to it during the period.
    pub addressed: i64,
    /// Persons it admitted during the period (first status that admits:
    /// admitted, on trial or entered), and the days from the decision to
    /// that admission.
    pub admitted: DayStats,
    /// Orientations it refused during the period (first refusal), by the
    /// reason's code of TRE_R358 (`none`: a status that takes none, the
    /// inconclusive trial).
    pub refused_by_reason: BTreeMap<String, i64>,
}

/// The facility rows of one domain, one entry per facility.
fn facilities_of(domain: Domain, rows: &[FacilityRow]) -> Vec<FacilityOutcomes> {
    let mut out: Vec<FacilityOutcomes> = Vec::new();
    for row in rows.iter().filter(|r| r.domain == domain) {
        let facility = entry(
            &mut out,
            |f| f.organization_id == row.organization_id,
            || FacilityOutcomes {
                organization_id: row.organization_id,
                finess: row.finess.clone(),
                name: row.name.clone(),
                addressed: 0,
                admitted: DayStats::default(),
                refused_by_reason: BTreeMap::new(),
            },
        );
        let Some(facility) = facility else {
            continue;
        };
        let count = row.value.round() as i64;
        match (row.indicator.as_str(), row.key.as_str()) {
            ("addressed", _) => facility.addressed = count,
            ("admitted", "count") => facility.admitted.count = count,
            ("admitted", "median") => facility.admitted.median_days = days(row.value),
            ("admitted", "p90") => facility.admitted.p90_days = days(row.value),
            ("refused", reason) => {
                facility.refused_by_reason.insert(reason.to_owned(), count);
            }
            _ => {}
        }
    }
    out
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Indicators {
    pub year: i32,
    /// The period is `[year-01-01, as_of)`, UTC: the end of the year, or
    /// now for the current year.
    pub as_of: DateTime<Utc>,
    pub territory: Option<Uuid>,
    pub domains: Vec<DomainIndicators>,
}

fn zeroed<T: Serialize>(keys: &[T]) -> BTreeMap<String, i64> {
    keys.iter().map(|k| (name_of(k), 0)).collect()
}

fn pivot(
    domain: Domain,
    opened_on: NaiveDate,
    rows: &[IndicatorRow],
    facilities: &[FacilityRow],
    commitments: &[CommitmentRow],
) -> DomainIndicators {
    let mut out = DomainIndicators {
        domain,
        opened_on,
        opened_year: opened_on.year(),
        referrals: 0,
        pathways_opened: 0,
        continued_from: Domain::VALUES
            .iter()
            .map(|d| (name_of(d), Continuations::default()))
            .collect(),
        pathways_closed: 0,
        closed_by_reason: zeroed(ClosureReason::VALUES),
        status_at_end: zeroed(PathwayStatus::VALUES),
        without_solution: DayStats {
            total_days: Some(0.0),
            ..Default::default()
        },
        without_solution_ended: DayStats {
            total_days: Some(0.0),
            ..Default::default()
        },
        alternative_while_target_pending: DayStats {
            total_days: Some(0.0),
            ..Default::default()
        },
        days_to_solution: DayStats::default(),
        decisions: DecisionCounts::default(),
        plans_consented: 0,
        plans_active: 0,
        overdue_reviews: 0,
        meetings_held: 0,
        critical_at_end: zeroed(EscalationLevel::VALUES),
        facilities: facilities_of(domain, facilities),
        commitments: commitments_of(domain, commitments),
    };
    for row in rows.iter().filter(|r| r.domain == domain) {
        let count = row.value.round() as i64;
        match (row.indicator.as_str(), row.key.as_str()) {
            ("referrals", _) => out.referrals = count,
            ("pathways_opened", _) => out.pathways_opened = count,
            ("continued_from", from) => {
                out.continued_from.entry(from.to_owned()).or_default().count = count
            }
            ("continued_without_gap", from) => {
                out.continued_from
                    .entry(from.to_owned())
                    .or_default()
                    .without_gap = count
            }
            ("pathways_closed", reason) => {
                out.pathways_closed += count;
                out.closed_by_reason.insert(reason.to_owned(), count);
            }
            ("status_at_end", status) => {
                out.status_at_end.insert(status.to_owned(), count);
            }
            ("without_solution_days", "count") => out.without_solution.count = count,
            ("without_solution_days", "median") => {
                out.without_solution.median_days = days(row.value)
            }
            ("without_solution_days", "p90") => out.without_solution.p90_days = days(row.value),
            ("without_solution_days", "total") => out.without_solution.total_days = days(row.value),
            ("alternative_while_target_pending", "count") => {
                out.alternative_while_target_pending.count = count
            }
            ("alternative_while_target_pending", "median") => {
                out.alternative_while_target_pending.median_days = days(row.value)
            }
            ("alternative_while_target_pending", "p90") => {
                out.alternative_while_target_pending.p90_days = days(row.value)
            }
            ("alternative_while_target_pending", "total") => {
                out.alternative_while_target_pending.total_days = days(row.value)
            }
            ("without_solution_ended", "count") => out.without_solution_ended.count = count,
            ("without_solution_ended", "median") => {
                out.without_solution_ended.median_days = days(row.value)
            }
            ("without_solution_ended", "p90") => {
                out.without_solution_ended.p90_days = days(row.value)
            }
            ("without_solution_ended", "total") => {
                out.without_solution_ended.total_days = days(row.value)
            }
            ("days_to_solution", "count") => out.days_to_solution.count = count,
            ("days_to_solution", "median") => out.days_to_solution.median_days = days(row.value),
            ("days_to_solution", "p90") => out.days_to_solution.p90_days = days(row.value),
            ("decisions", "target") => out.decisions.target = count,
            ("decisions", "alternative") => out.decisions.alternative = count,
            ("decisions", "rejection") => out.decisions.rejection = count,
            ("decisions", "deferral") => out.decisions.deferral = count,
            ("plans_consented", _) => out.plans_consented = count,
            ("plans_active", _) => out.plans_active = count,
            ("overdue_reviews", _) => out.overdue_reviews = count,
            ("meetings_held", _) => out.meetings_held = count,
            ("critical_at_end", level) => {
                out.critical_at_end.insert(level.to_owned(), count);
            }
            _ => {}
        }
    }
    out
}

/// The same numbers as rows `year,domain,indicator,key,value`.
fn csv(indicators: &Indicators) -> String {
    let mut out = String::from("year,domain,indicator,key,value\n");
    let year = indicators.year;
    for d in &indicators.domains {
        let domain = name_of(&d.domain);
        let mut row = |indicator: &str, key: &str, value: String| {
            out.push_str(&format!("{year},{domain},{indicator},{key},{value}\n"));
        };
        let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
        row("opened_on", "", d.opened_on.to_string());
        row("referrals", "", d.referrals.to_string());
        row("pathways_opened", "", d.pathways_opened.to_string());
        for (from, c) in &d.continued_from {
            row("continued_from", from, c.count.to_string());
            row("continued_without_gap", from, c.without_gap.to_string());
        }
        row("pathways_closed", "", d.pathways_closed.to_string());
        for (reason, n) in &d.closed_by_reason {
            row("closed_by_reason", reason, n.to_string());
        }
        for (status, n) in &d.status_at_end {
            row("status_at_end", status, n.to_string());
        }
        let w = &d.without_solution;
        row("without_solution", "count", w.count.to_string());
        row("without_solution", "median_days", opt(w.median_days));
        row("without_solution", "p90_days", opt(w.p90_days));
        row("without_solution", "total_days", opt(w.total_days));
        let e = &d.without_solution_ended;
        row("without_solution_ended", "count", e.count.to_string());
        row("without_solution_ended", "median_days", opt(e.median_days));
        row("without_solution_ended", "p90_days", opt(e.p90_days));
        row("without_solution_ended", "total_days", opt(e.total_days));
        let a = &d.alternative_while_target_pending;
        let name = "alternative_while_target_pending";
        row(name, "count", a.count.to_string());
        row(name, "median_days", opt(a.median_days));
        row(name, "p90_days", opt(a.p90_days));
        row(name, "total_days", opt(a.total_days));
        let s = &d.days_to_solution;
        row("days_to_solution", "count", s.count.to_string());
        row("days_to_solution", "median_days", opt(s.median_days));
        row("days_to_solution", "p90_days", opt(s.p90_days));
        row("decisions", "target", d.decisions.target.to_string());
        row(
            "decisions",
            "alternative",
            d.decisions.alternative.to_string(),
        );
        row("decisions", "rejection", d.decisions.rejection.to_string());
        row("decisions", "deferral", d.decisions.deferral.to_string());
        row("plans_consented", "", d.plans_consented.to_string());
        row("plans_active", "", d.plans_active.to_string());
        row("overdue_reviews", "", d.overdue_reviews.to_string());
        row("meetings_held", "", d.meetings_held.to_string());
        for (level, n) in &d.critical_at_end {
            row("critical_at_end", level, n.to_string());
        }
        for f in &d.facilities {
            // `finess.measure`: FINESS numbers hold no comma or dot.
            let key = |measure: &str| format!("{}.{measure}", f.finess);
            row("facility", &key("addressed"), f.addressed.to_string());
            row("facility", &key("admitted"), f.admitted.count.to_string());
            row(
                "facility",
                &key("admitted_median_days"),
                opt(f.admitted.median_days),
            );
            row(
                "facility",
                &key("admitted_p90_days"),
                opt(f.admitted.p90_days),
            );
            for (reason, n) in &f.refused_by_reason {
                row(
                    "facility",
                    &key(&format!("refused.{reason}")),
                    n.to_string(),
                );
            }
        }
        for o in &d.commitments {
            let key = |measure: &str| format!("{}.{measure}", o.organization_id);
            row("commitments", &key("proposed"), o.proposed.to_string());
            row("commitments", &key("accepted"), o.accepted.to_string());
            for (reason, n) in &o.refused_by_reason {
                row(
                    "commitments",
                    &key(&format!("refused.{reason}")),
                    n.to_string(),
                );
            }
            row("commitments", &key("breached"), o.breached.to_string());
        }
    }
    out
}

fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/csv"))
}

/// Indicators of a year, per domain: referrals, pathways opened and closed
/// (by reason), pathways by status at the end of the period, the waits of
/// those `without_solution` then and of the waits that ended during it,
/// days from referral to solution, decisions (target vs alternative
/// orientations, rejections, deferrals), plans consented and active,
/// overdue reviews, GOS meetings held, critical situations by level, each
/// facility's orientations addressed, admissions (days from the decision)
/// and refusals by reason, each organization's commitments proposed,
/// accepted, refused by reason and breached, and when each domain opened. Auditors see the whole département; supervisors their
/// territories and domains. `Accept: text/csv` gives rows
/// `year,domain,indicator,key,value` with the same numbers.
#[utoipa::path(
    tag = "indicators",
    params(IndicatorParams),
    responses(
        (status = 200, description = "The indicators.", content(
            (Indicators = "application/json"),
            (String = "text/csv", example = "year,domain,indicator,key,value\n2025,disability,referrals,,12\n"),
        )),
        (status = 404, response = crate::http::responses::NotFound),
    )
)]
#[get("")]
pub async fn read(
    caller: Authorized<ReadIndicators>,
    req: HttpRequest,
    params: extract::Query<IndicatorParams>,
) -> Result<HttpResponse, ApiError> {
    let who = caller.principal();
    let now = Utc::now();
    let year = params.year.unwrap_or(now.year());
    let bad_year = || {
        ApiError::invalid(
            "`year` is out of range.",
            vec![FieldError::new(
                "year",
                format!("must be between 2000 and {}", now.year()),
            )],
        )
    };
    if !(2000..=now.year()).contains(&year) {
        return Err(bad_year());
    }
    let start = NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(bad_year)?;
    let end = NaiveDate::from_ymd_opt(year + 1, 1, 1).ok_or_else(bad_year)?;
    let as_of = end.and_time(chrono::NaiveTime::MIN).and_utc().min(now);

    // Supervisors: within their territories and domains; a territory of
    // someone else's answers 404, as any record out of scope does.
    let (mut territories, mut domains) = if policy::reads_everywhere(who.role) {
        (None, None)
    } else {
        (Some(who.territories.clone()), Some(who.domains.clone()))
    };
    if let Some(territory) = params.territory {
        if territories
            .as_ref()
            .is_some_and(|t| !t.contains(&territory))
        {
            return Err(ApiError::not_found("No such territory in your scope."));
        }
        territories = Some(vec![territory]);
    }
    if let Some(domain) = params.domain {
        domains = Some(match domains {
            Some(own) => own.into_iter().filter(|d| *d == domain).collect(),
            None => vec![domain],
        });
    }
    let mut conn = caller.conn().await?;
    let query = Query {
        start,
        end,
        as_of,
        territories,
        domains: domains.clone(),
    };
    let indicators::AllRows {
        domains: rows,
        facilities,
        commitments,
    } = snapshot(&mut conn, async |conn| indicators::all(conn, &query).await).await?;
    let calendar = domain_calendar::all(&mut conn).await?;
    let indicators = Indicators {
        year,
        as_of,
        territory: params.territory,
        domains: calendar
            .iter()
            .filter(|o| domains.as_ref().is_none_or(|d| d.contains(&o.domain)))
            .map(|o| pivot(o.domain, o.opens_on, &rows, &facilities, &commitments))
            .collect(),
    };
    if wants_csv(&req) {
        return Ok(HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .body(csv(&indicators)));
    }
    Ok(HttpResponse::Ok().json(indicators))
}
