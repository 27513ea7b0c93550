//! A plan's use cases: start one on an open pathway, change it, move its
//! status (consent, activation with its review date, end), and consent to
//! a new version of a plan in force.

use chrono::NaiveDate;
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::Acting;
use crate::db::Error;
use crate::db::plans::{self, Plan, PlanChanges, PlanTransition};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::{ConsentBy, PlanKind};
use crate::services::change::Change;

/// What starting a plan asks for, its text already parsed.
pub struct NewPlan {
    pub pathway_id: Uuid,
    pub kind: PlanKind,
    pub coordinator_id: Option<Uuid>,
    pub objectives: Option<String>,
}

/// Starts a plan, as a draft, on an open pathway of the caller's scope.
pub async fn start(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    new: NewPlan,
) -> Result<Plan, Error> {
    Change::new(by, AuditAction::Create, AuditTarget::Plan)
        .run(
            conn,
            async |conn| {
                let NewPlan {
                    pathway_id,
                    kind,
                    coordinator_id,
                    objectives,
                } = new;
                plans::create(conn, by.who, pathway_id, kind, coordinator_id, objectives).await
            },
            |plan| plan.id,
        )
        .await
}

/// Changes a plan's objectives, coordinator or review date.
pub async fn update(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    changes: &PlanChanges,
) -> Result<Plan, Error> {
    Change::new(by, AuditAction::Update, AuditTarget::Plan)
        .of(id)
        .run(
            conn,
            async |conn| plans::update(conn, by.who, id, version, changes).await,
            |plan| plan.id,
        )
        .await
}

/// Moves a plan's status as its state machine allows.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    change: &PlanTransition,
) -> Result<Plan, Error> {
    Change::new(by, AuditAction::Transition, AuditTarget::Plan)
        .of(id)
        .run(
            conn,
            async |conn| plans::transition(conn, by.who, id, version, change).await,
            |plan| plan.id,
        )
        .await
}

/// The person agrees to the new version of a plan in force.
pub async fn consent_version(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    consent: (ConsentBy, NaiveDate),
) -> Result<Plan, Error> {
    Change::new(by, AuditAction::Update, AuditTarget::Plan)
        .of(id)
        .run(
            conn,
            async |conn| plans::consent_version(conn, by.who, id, version, consent).await,
            |plan| plan.id,
        )
        .await
}
