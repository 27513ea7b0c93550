//! Commitments: what one organization commits to in a plan. Staff manage
//! them; a partner changes the status of its own organization's.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Error;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::error::{Violation, violation};
use crate::db::schema::{commitments, plans};
use crate::db::scope::{commitments_visible, plans_visible};
use crate::db::versioned::at_version;
use crate::db::{PageRequest, events};
use crate::domain::events::{self as event, EventData};
use crate::domain::principal::Principal;
use crate::domain::{CommitmentStatus, PlanStatus};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = commitments, check_for_backend(diesel::pg::Pg))]
pub struct Commitment {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub organization_id: Uuid,
    pub description: String,
    pub frequency: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub status: CommitmentStatus,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = commitments, check_for_backend(diesel::pg::Pg))]
pub struct NewCommitment {
    pub id: Uuid,
    pub plan_id: Uuid,
    pub organization_id: Uuid,
    pub description: String,
    pub frequency: Option<String>,
    pub due_on: Option<NaiveDate>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = commitments, check_for_backend(diesel::pg::Pg))]
pub struct CommitmentChanges {
    pub description: Option<String>,
    pub frequency: Option<Option<String>>,
    pub due_on: Option<Option<NaiveDate>>,
    pub status: Option<CommitmentStatus>,
}

pub fn not_found() -> Error {
    Error::not_found("No such commitment in your scope.")
}

/// Adds a commitment to a plan in scope that has not ended.
pub async fn add(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    new: &NewCommitment,
) -> Result<Commitment, Error> {
    conn.transaction(async |conn| {
        let plan: Option<(Uuid, PlanStatus)> = plans::table
            .find(new.plan_id)
            .filter(plans_visible(who))
            .select((plans::pathway_id, plans::status))
            .for_update()
            .first(&mut *conn)
            .await
            .optional()?;
        let Some((pathway, status)) = plan else {
            return Err(crate::db::plans::not_found());
        };
        if status == PlanStatus::Ended {
            return Err(Error::conflict(
                "The plan has ended; add commitments to a current plan.",
            ));
        }
        let commitment: Commitment = diesel::insert_into(commitments::table)
            .values(new)
            .returning(Commitment::as_returning())
            .get_result(&mut *conn)
            .await
            .map_err(|e| match violation(&e) {
                Some(Violation::ForeignKey) => {
                    Error::unprocessable("organization_id", "names no organization")
                }
                _ => e.into(),
            })?;
        events::record(
            conn,
            pathway,
            who.subject.id(),
            EventData::CommitmentAdded(event::CommitmentAdded {
                plan_id: new.plan_id,
                commitment_id: commitment.id,
                organization_id: commitment.organization_id,
                due_on: commitment.due_on,
            }),
        )
        .await?;
        Ok(commitment)
    })
    .await
}

/// The commitment, if in the caller's scope: an answer, audited in the same statement,
/// with a `record`; a check without ([`AuditedDsl::audited_one_if`]).
pub async fn find(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
    record: Option<&NewRecord>,
) -> QueryResult<Option<Commitment>> {
    commitments::table
        .find(id)
        .filter(commitments_visible(who))
        .select(Commitment::as_select())
        .audited_one_if(record)
        .get_result(conn)
        .await
        .optional()
}

pub async fn of_plan(
    conn: &mut AsyncPgConnection,
    plan: Uuid,
    page: PageRequest,
    record: &NewRecord,
) -> QueryResult<Vec<Commitment>> {
    let mut query = commitments::table
        .filter(commitments::plan_id.eq(plan))
        .select(Commitment::as_select())
        .order(commitments::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(commitments::id.gt(after));
    }
    query
        .audited_list(record, "id", page.limit)
        .load(conn)
        .await
}

/// Applies `changes` to a commitment in scope, at `version`, with its event.
pub async fn update(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
    version: i32,
    changes: &CommitmentChanges,
) -> Result<Commitment, Error> {
    conn.transaction(async |conn| {
        let locked = commitments::table
            .find(id)
            .filter(commitments_visible(who))
            .select(Commitment::as_select())
            .for_update()
            .first(&mut *conn)
            .await
            .optional()?;
        let current = at_version(locked, version).map_err(|e| e.refused(not_found))?;
        let pathway: Uuid = plans::table
            .find(current.plan_id)
            .select(plans::pathway_id)
            .first(&mut *conn)
            .await?;
        let updated: Commitment = diesel::update(commitments::table.find(id))
            .set((changes, commitments::version.eq(version + 1)))
            .returning(Commitment::as_returning())
            .get_result(&mut *conn)
            .await?;
        events::record(
            conn,
            pathway,
            who.subject.id(),
            EventData::CommitmentUpdated(event::CommitmentUpdated {
                plan_id: current.plan_id,
                commitment_id: id,
                organization_id: current.organization_id,
                from: current.status,
                to: updated.status,
            }),
        )
        .await?;
        Ok(updated)
    })
    .await
}
