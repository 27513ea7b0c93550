//! Commitments: what one organization commits to in a plan. Staff manage
//! them; a partner changes the status of its own organization's.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Error;
use crate::db::PageRequest;
use crate::db::Tx;
use crate::db::audit::NewRecord;
use crate::db::audited::AuditedDsl;
use crate::db::error::{Violation, violation};
use crate::db::schema::{commitments, plans};
use crate::db::scope::{commitments_visible, plans_visible};
use crate::domain::commitment::OnBehalf;
use crate::domain::principal::Principal;
use crate::domain::{AnswerChannel, CommitmentRefusalReason, CommitmentStatus, PlanStatus};

/// A row of `commitments` as stored.
#[derive(
    Debug, Clone, Queryable, Selectable, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[diesel(table_name = commitments, check_for_backend(diesel::pg::Pg))]
#[serde(deny_unknown_fields)]
#[schema(as = CommitmentRecord)]
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
    pub refusal_reason: Option<CommitmentRefusalReason>,
    /// When and by whom (a user or partner client) the proposal was answered.
    pub answered_at: Option<DateTime<Utc>>,
    pub answered_by: Option<Uuid>,
    /// How and when the answer was received, when staff recorded it on the
    /// organization's behalf.
    pub answer_received_via: Option<AnswerChannel>,
    pub answer_received_on: Option<NaiveDate>,
}

crate::db::versioned::versioned!(Commitment);

impl Commitment {
    /// The answer recorded on the organization's behalf, if it was.
    pub fn on_behalf_of(&self) -> Option<OnBehalf> {
        Some(OnBehalf {
            organization_id: self.organization_id,
            received_via: self.answer_received_via?,
            received_on: self.answer_received_on?,
        })
    }
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

/// What is written, once the commitment's rules have been applied.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = commitments, check_for_backend(diesel::pg::Pg))]
pub struct Written<'a> {
    pub description: Option<&'a str>,
    pub frequency: Option<Option<&'a str>>,
    pub due_on: Option<Option<NaiveDate>>,
    pub status: CommitmentStatus,
    #[diesel(treat_none_as_null = true)]
    pub refusal_reason: Option<CommitmentRefusalReason>,
    pub answered_at: Option<DateTime<Utc>>,
    pub answered_by: Option<Uuid>,
    #[diesel(treat_none_as_null = true)]
    pub answer_received_via: Option<AnswerChannel>,
    #[diesel(treat_none_as_null = true)]
    pub answer_received_on: Option<NaiveDate>,
}

pub fn not_found() -> Error {
    Error::not_found("No such commitment in your scope.")
}

/// The pathway and status of plan `id`, if in the caller's scope, locked
/// while a commitment is added.
pub async fn lock_plan(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
) -> QueryResult<Option<(Uuid, PlanStatus)>> {
    plans::table
        .find(id)
        .filter(plans_visible(who))
        .select((plans::pathway_id, plans::status))
        .for_update()
        .first(tx.conn())
        .await
        .optional()
}

pub async fn insert(tx: &mut Tx<'_>, new: &NewCommitment) -> Result<Commitment, Error> {
    diesel::insert_into(commitments::table)
        .values(new)
        .returning(Commitment::as_returning())
        .get_result(tx.conn())
        .await
        .map_err(|e| match violation(&e) {
            Some(Violation::ForeignKey) => {
                Error::unprocessable("organization_id", "names no organization")
            }
            _ => e.into(),
        })
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
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(commitments::id.gt(after));
    }
    query
        .audited_page(record, "id", page.limit)
        .load(conn)
        .await
}

/// The commitment `id` if in the caller's scope, locked for a change.
pub async fn lock_in_scope(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
) -> QueryResult<Option<Commitment>> {
    commitments::table
        .find(id)
        .filter(commitments_visible(who))
        .select(Commitment::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()
}

/// The pathway of plan `id`.
pub async fn pathway_of_plan(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Uuid> {
    plans::table
        .find(id)
        .select(plans::pathway_id)
        .first(conn)
        .await
}

/// Writes what the rules decided, read at `version`.
pub async fn write(
    tx: &mut Tx<'_>,
    id: Uuid,
    version: i32,
    written: Written<'_>,
) -> QueryResult<Commitment> {
    diesel::update(commitments::table.find(id))
        .set((written, commitments::version.eq(version + 1)))
        .returning(Commitment::as_returning())
        .get_result(tx.conn())
        .await
}
