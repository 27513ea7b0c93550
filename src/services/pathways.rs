//! A pathway's use cases: open one (the rollout and one-open rules), move
//! its status, hand it to another referent, flag or clear a critical
//! situation. Each commits its change, its event and its audit record
//! together ([`Change::run`]).

use chrono::{NaiveDate, Utc};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Acting;
use crate::audit::Entry;
use crate::db::error::{Violation, violation};
use crate::db::pathways::{
    self, Caseload, MAX_TRANSFER, NewPathway, Pathway, Transferred, Transition,
};
use crate::db::{Error, Tx, domain_calendar, events, persons};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::enums::name_of;
use crate::domain::events::{self as event, EventData};
use crate::domain::pathway::{
    ContinuationError, TransitionError, check_continuation, check_transition,
};
use crate::domain::policy::{default_referent, may_move_pathway, may_steer};
use crate::domain::principal::Principal;
use crate::domain::refusal::Refusal;
use crate::domain::rollout::check_pathway_date;
use crate::domain::validation::Checks;
use crate::domain::{ContinuationReason, Domain, EscalationLevel, PathwayStatus};
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
            async |tx| opened(tx, &new, by.who.subject.id(), reason).await,
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

/// Writes a new pathway with its `pathway_opened` event and, when it
/// continues another, that pathway's `pathway_continued`. Also how an
/// accepted referral opens one.
pub async fn opened(
    tx: &mut Tx<'_>,
    new: &NewPathway,
    actor: Uuid,
    reason: Option<&str>,
) -> Result<Pathway, Error> {
    let pathway = pathways::insert(tx, new, reason).await?;
    let data = EventData::PathwayOpened(event::PathwayOpened {
        domain: pathway.domain,
        status: pathway.status,
        opened_on: pathway.opened_on,
        referent_id: pathway.referent_id,
        reason: reason.map(str::to_owned),
        continues_from: pathway.continues_from,
        continuation_reason: pathway.continuation_reason,
    });
    events::record(tx, pathway.id, actor, data).await?;
    if let (Some(previous), Some(why)) = (pathway.continues_from, pathway.continuation_reason) {
        let continued = EventData::PathwayContinued(event::PathwayContinued {
            pathway_id: pathway.id,
            domain: pathway.domain,
            opened_on: pathway.opened_on,
            reason: why,
        });
        events::record(tx, previous, actor, continued).await?;
    }
    Ok(pathway)
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
            async |tx| {
                let who = by.who;
                let current = pathways::lock_at(tx, who, id, version).await?;
                if !may_move_pathway(who.role, who.subject.id(), current.referent_id, change.to) {
                    return Err(pathways::not_steering());
                }
                check_transition(current.status, change.to, change.closure_reason)
                    .map_err(refused_move)?;
                let updated = pathways::write_status(tx, &current, version, change).await?;
                let data = EventData::StatusChanged(event::StatusChanged {
                    from: current.status,
                    to: change.to,
                    reason: change.reason.clone(),
                    closure_reason: change.closure_reason,
                });
                events::record(tx, id, who.subject.id(), data).await?;
                Ok(updated)
            },
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
            async |tx| {
                let current = pathways::lock_at(tx, by.who, id, version).await?;
                if !pathways::can_be_referent(tx, referent, current.territory_id, current.domain)
                    .await?
                {
                    return Err(Error::unprocessable(
                        "referent_id",
                        "must be an active coordinator or supervisor of the pathway's territory \
                         and domain",
                    ));
                }
                let updated = pathways::write_referent(tx, id, version, referent).await?;
                let data = EventData::ReferentAssigned(event::ReferentAssigned {
                    from: current.referent_id,
                    to: referent,
                });
                events::record(tx, id, by.who.subject.id(), data).await?;
                Ok(updated)
            },
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
            async |tx| {
                let who = by.who;
                let current = pathways::lock_at(tx, who, id, version).await?;
                if !may_steer(who.role, who.subject.id(), current.referent_id) {
                    return Err(pathways::not_steering());
                }
                if current.status == PathwayStatus::Closed && level.is_some() {
                    return Err(Error::conflict(
                        "The pathway is closed; a closed pathway cannot be flagged critical.",
                    ));
                }
                if level.is_none() && current.critical_level.is_none() {
                    return Err(Error::conflict("The pathway is not flagged critical."));
                }
                let since = match (level, current.critical_since) {
                    (None, _) => None,
                    // Escalating keeps the date the situation became critical.
                    (Some(_), Some(since)) => Some(since),
                    (Some(_), None) => Some(Utc::now()),
                };
                let updated =
                    pathways::write_critical(tx, id, version, level, reason, since).await?;
                let (previous_level, reason) = (current.critical_level, reason.to_owned());
                let data = match level {
                    Some(level) => EventData::CriticalSet(event::CriticalSet {
                        level,
                        previous_level,
                        reason,
                    }),
                    None => EventData::CriticalCleared(event::CriticalCleared {
                        previous_level,
                        reason,
                    }),
                };
                events::record(tx, id, who.subject.id(), data).await?;
                Ok(updated)
            },
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
    described(conn, by, action, AuditTarget::Pathway, async |tx| {
        let done = transfer(tx, by.who, caseload, to, dry_run).await?;
        let moved = done.moved.clone();
        Ok((done, |entry: Entry| entry.listing(asked, moved)))
    })
    .await
}

/// Hands `caseload` to `to`: every pathway locked, those `to` may follow
/// moved (version, `referent_assigned` event), the others left. With
/// `dry_run`, nothing is written.
async fn transfer(
    tx: &mut Tx<'_>,
    who: &Principal,
    caseload: Caseload,
    to: Uuid,
    dry_run: bool,
) -> Result<Transferred, Error> {
    let rows = pathways::caseload_locked(tx, who, caseload).await?;
    if rows.len() > MAX_TRANSFER {
        return Err(Error::unprocessable(
            "from_referent_id",
            format!(
                "has more than {MAX_TRANSFER} open pathways: transfer them by domain or \
                 territory"
            ),
        ));
    }
    let mut allowed: Vec<((Uuid, Domain), bool)> = Vec::new();
    let mut done = Transferred::default();
    for (id, territory, domain) in rows {
        let known = allowed.iter().find(|(key, _)| *key == (territory, domain));
        let may = match known {
            Some((_, may)) => *may,
            None => {
                let may = pathways::can_be_referent(tx, to, territory, domain).await?;
                allowed.push(((territory, domain), may));
                may
            }
        };
        if may { &mut done.moved } else { &mut done.left }.push(id);
    }
    if dry_run || done.moved.is_empty() {
        return Ok(done);
    }
    pathways::hand_over(tx, &done.moved, to).await?;
    for id in &done.moved {
        let assigned = event::ReferentAssigned {
            from: Some(caseload.referent),
            to,
        };
        let data = EventData::ReferentAssigned(assigned);
        events::record(tx, *id, who.subject.id(), data).await?;
    }
    Ok(done)
}

/// A move the pathway's state machine refuses, in the API's words.
fn refused_move(error: TransitionError) -> Error {
    match error {
        TransitionError::Forbidden { from, to, allowed } => Error::forbidden_transition(
            "pathway",
            &name_of(&from),
            &name_of(&to),
            allowed.iter().map(name_of).collect(),
        ),
        TransitionError::ClosureReasonMissing => {
            Error::unprocessable("closure_reason", "is required to close a pathway")
        }
        TransitionError::ClosureReasonUnexpected => {
            Error::unprocessable("closure_reason", "is only for a move to `closed`")
        }
    }
}

/// Locks an open pathway in scope, for a change under it (decision, plan,
/// meeting, …): the caller records the child and its event in the same
/// transaction.
pub async fn lock_open_for_child(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
) -> Result<Pathway, Error> {
    let pathway = pathways::lock(tx, who, id).await?;
    if pathway.status == PathwayStatus::Closed {
        return Err(Error::conflict(
            "The pathway is closed: nothing more can be added to it. Open a new pathway instead.",
        ));
    }
    Ok(pathway)
}

/// Locks an open pathway in scope that the caller may steer (supervisor,
/// or its referent), for a change under it that steers it (an escalation).
pub async fn lock_open_to_steer(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
) -> Result<Pathway, Error> {
    let pathway = lock_open_for_child(tx, who, id).await?;
    if !may_steer(who.role, who.subject.id(), pathway.referent_id) {
        return Err(pathways::not_steering());
    }
    Ok(pathway)
}
