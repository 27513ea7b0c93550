//! A pathway's use cases: open one (the rollout and one-open rules), move
//! its status, hand it to another referent, flag or clear a critical
//! situation. Each commits its change, its event and its audit record
//! together ([`Change::run`]).

use chrono::NaiveDate;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Acting;
use crate::audit::Entry;
use crate::db::error::{Violation, violation};
use crate::db::pathways::{self, Caseload, NewPathway, Pathway, Transferred, Transition};
use crate::db::{Error, domain_calendar, persons};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::enums::name_of;
use crate::domain::pathway::{ContinuationError, check_continuation};
use crate::domain::policy::default_referent;
use crate::domain::refusal::Refusal;
use crate::domain::rollout::check_pathway_date;
use crate::domain::validation::Checks;
use crate::domain::{ContinuationReason, Domain, EscalationLevel};
use crate::services::change::{Change, described};

/// What opening a pathway asks for, its text already parsed.
pub struct Opening {
    pub person_id: Uuid,
    pub domain: Domain,
    /// Defaults to the person's territory.
    pub territory_id: Option<Uuid>,
    /// Defaults to the caller when the caller may be a referent.
    pub referent_id: Option<Uuid>,
    pub opened_on: NaiveDate,
    pub reason: Option<String>,
    /// The person's pathway this one continues (in any domain), and why.
    pub continues: Option<(Uuid, ContinuationReason)>,
}

/// Opens a pathway in status `referred`, recorded `today`: in one of the
/// caller's domains and territories, for a person of the caller's scope,
/// once the domain is open, with a referent of its territory and domain,
/// and while the person has no open pathway in the domain. A continuation
/// names another pathway of the same person, in any domain (the caller
/// need not see it: a coordinator of adult disability continues the
/// child-protection pathway), opened on or before this one; that pathway's
/// timeline records `pathway_continued`.
pub async fn open(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    opening: Opening,
    today: NaiveDate,
) -> Result<Pathway, Error> {
    let Opening {
        person_id,
        domain,
        opened_on,
        ..
    } = opening;
    let mut checks = Checks::new();
    if opened_on > today {
        checks.fail("opened_on", "must not be in the future");
    }
    if !by.who.domains.contains(&domain) {
        checks.fail("domain", "must be one of your domains");
    }
    checks.finish()?;
    let person = persons::find(conn, by.who, person_id, None)
        .await?
        .ok_or_else(|| Error::unprocessable("person_id", "names no person of your territories"))?;
    let territory_id = by.who.own_territory(
        "territory_id",
        opening.territory_id.unwrap_or(person.territory_id),
    )?;
    let calendar = domain_calendar::find(conn, domain)
        .await?
        .ok_or_else(|| Error::unprocessable("domain", "has no opening date"))?;
    check_pathway_date(calendar.opens_on, today, opened_on).map_err(|closed| {
        Refusal::DomainNotOpen {
            detail: format!(
                "The domain `{}` accepts pathways opened from {} on; this one would be \
                 opened on {opened_on}, recorded on {today}.",
                name_of(&domain),
                closed.opens_on
            ),
            opens_on: closed.opens_on,
        }
    })?;
    if let Some((previous, _)) = opening.continues {
        let previous_opened_on = pathways::opened_on_of_person(conn, person.id, previous)
            .await?
            .ok_or_else(|| {
                Error::unprocessable("continues_from", "names no pathway of this person")
            })?;
        check_continuation(previous_opened_on, opened_on).map_err(|error| match error {
            ContinuationError::OpenedBefore { previous_opened_on } => Error::unprocessable(
                "opened_on",
                format!(
                    "must not be before the pathway it continues was opened ({previous_opened_on})"
                ),
            ),
        })?;
    }
    let referent_id = opening.referent_id.or_else(|| default_referent(by.who));
    if let Some(referent) = referent_id
        && !pathways::can_be_referent(conn, referent, territory_id, domain).await?
    {
        return Err(Error::unprocessable(
            "referent_id",
            "must be an active coordinator or supervisor of the pathway's territory and domain",
        ));
    }
    let new = NewPathway {
        id: Uuid::now_v7(),
        person_id: person.id,
        domain,
        territory_id,
        referent_id,
        opened_on,
        continues_from: opening.continues.map(|(previous, _)| previous),
        continuation_reason: opening.continues.map(|(_, why)| why),
    };
    let reason = opening.reason.as_deref();
    let opened = Change::new(by, AuditAction::Create, AuditTarget::Pathway)
        .run(
            conn,
            async |conn| {
                pathways::open(conn, &new, by.who.subject.id(), reason)
                    .await
                    .map_err(Error::from)
            },
            |pathway| pathway.id,
        )
        .await;
    match opened {
        Err(Error::Query(error)) if violation(&error) == Some(Violation::Unique) => {
            let open = pathways::open_in_domain(conn, person.id, domain).await?;
            Err(Error::conflict(format!(
                "The person already has an open pathway in this domain{}. Close it before \
                 opening another.",
                open.map(|id| format!(" (/v1/pathways/{id})"))
                    .unwrap_or_default()
            )))
        }
        other => other,
    }
}

/// Moves the status as the state machine allows.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    change: &Transition,
) -> Result<Pathway, Error> {
    Change::new(by, AuditAction::Transition, AuditTarget::Pathway)
        .of(id)
        .run(
            conn,
            async |conn| pathways::transition(conn, by.who, id, version, change).await,
            |pathway| pathway.id,
        )
        .await
}

/// Hands the pathway to another referent.
pub async fn assign_referent(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    referent: Uuid,
) -> Result<Pathway, Error> {
    Change::new(by, AuditAction::AssignReferent, AuditTarget::Pathway)
        .of(id)
        .run(
            conn,
            async |conn| pathways::assign_referent(conn, by.who, id, version, referent).await,
            |pathway| pathway.id,
        )
        .await
}

/// Flags the situation critical at `level`, or clears the flag (`None`).
pub async fn steer_critical(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    level: Option<EscalationLevel>,
    reason: &str,
) -> Result<Pathway, Error> {
    let action = if level.is_some() {
        AuditAction::SetCritical
    } else {
        AuditAction::ClearCritical
    };
    Change::new(by, action, AuditTarget::Pathway)
        .of(id)
        .run(
            conn,
            async |conn| pathways::set_critical(conn, by.who, id, version, level, reason).await,
            |pathway| pathway.id,
        )
        .await
}

/// Hands a referent's caseload (or part of it) to another referent, in one
/// transaction with one audit record naming every pathway moved (staff
/// turnover). A dry run writes nothing and records the look as a list.
pub async fn transfer_caseload(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    caseload: Caseload,
    to: Uuid,
    dry_run: bool,
) -> Result<Transferred, Error> {
    let asked = serde_json::json!({
        "from_referent_id": caseload.referent, "to_referent_id": to,
        "domain": caseload.domain, "territory": caseload.territory, "dry_run": dry_run,
    });
    let action = if dry_run {
        AuditAction::List
    } else {
        AuditAction::AssignReferent
    };
    described(conn, by, action, AuditTarget::Pathway, async |conn| {
        let done = pathways::transfer(conn, by.who, caseload, to, dry_run).await?;
        let moved = done.moved.clone();
        Ok((done, |entry: Entry| entry.listing(asked, moved)))
    })
    .await
}
