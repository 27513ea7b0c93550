//! Retention (CNIL: two years after the last contact): persons whose every
//! pathway has been closed for longer than the retention period, with no
//! activity since, are anonymised in place. Names, NIR, CAF/MSA numbers,
//! the legal representative and the notes go; the birth date keeps its
//! year; other free texts (meeting outcomes, plan objectives, referral
//! reasons and contacts, status reasons) are blanked. Pathways, periods,
//! decisions, plans and meetings stay, so the indicators do not change.
//! Referrals declined longer ago than the retention period, which name a
//! person the département never took in, are anonymised the same way.

use chrono::{DateTime, Duration, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Array, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use crate::audit::record::{AuditContext, record};
use crate::audit::{Actor, Entry};
use crate::db::personal_data;
use crate::domain::AuditOutcome;
use crate::domain::audit::{AuditAction, AuditTarget};

#[derive(Debug, Serialize)]
pub struct PurgeReport {
    pub dry_run: bool,
    pub retention_days: u32,
    /// Files closed, and untouched, since before this instant are due.
    pub cutoff: DateTime<Utc>,
    /// Persons due for anonymisation (anonymised, unless `dry_run`).
    pub persons: usize,
    /// Declined referrals due (they name no person of the département).
    pub declined_referrals: usize,
}

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
}

/// The persons due, locked for the transaction.
async fn due(
    conn: &mut AsyncPgConnection,
    cutoff: DateTime<Utc>,
) -> diesel::QueryResult<Vec<Uuid>> {
    let rows: Vec<Due> = diesel::sql_query(
        "SELECT pe.id FROM persons pe \
         WHERE pe.anonymised_at IS NULL \
           AND pe.updated_at < $1 \
           AND EXISTS (SELECT 1 FROM pathways p WHERE p.person_id = pe.id) \
           AND NOT EXISTS (SELECT 1 FROM pathways p WHERE p.person_id = pe.id \
                           AND (p.status <> 'closed' OR p.closed_on >= ($1 AT TIME ZONE 'UTC')::date)) \
           AND NOT EXISTS (SELECT 1 FROM pathway_events e JOIN pathways p ON p.id = e.pathway_id \
                           WHERE p.person_id = pe.id AND e.occurred_at >= $1) \
           AND NOT EXISTS (SELECT 1 FROM referrals r WHERE r.person_id = pe.id AND r.received_at >= $1) \
         ORDER BY pe.id \
         FOR UPDATE OF pe",
    )
    .bind::<Timestamptz, _>(cutoff)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|row| row.id).collect())
}

/// Anonymises the persons due, each with its audit record, in one
/// transaction. Running it again changes nothing more: an anonymised person
/// is never due again.
pub async fn purge(
    conn: &mut AsyncPgConnection,
    retention_days: u32,
    dry_run: bool,
) -> diesel::QueryResult<PurgeReport> {
    let cutoff = Utc::now() - Duration::days(retention_days.into());
    conn.transaction(async |conn| {
        let ids = due(conn, cutoff).await?;
        let declined: Vec<Due> = diesel::sql_query(personal_data::DECLINED_REFERRALS_DUE)
            .bind::<Timestamptz, _>(cutoff)
            .load(&mut *conn)
            .await?;
        let declined: Vec<Uuid> = declined.into_iter().map(|row| row.id).collect();
        let report = PurgeReport {
            dry_run,
            retention_days,
            cutoff,
            persons: ids.len(),
            declined_referrals: declined.len(),
        };
        if dry_run || (ids.is_empty() && declined.is_empty()) {
            return Ok(report);
        }
        diesel::sql_query(personal_data::DECLINED_REFERRALS_PURGE)
            .bind::<Array<SqlUuid>, _>(&declined)
            .execute(&mut *conn)
            .await?;
        // What the purge does to each table is the personal-data registry's.
        let statements = personal_data::purge_statements();
        for statement in statements {
            diesel::sql_query(statement)
                .bind::<Array<SqlUuid>, _>(&ids)
                .execute(conn)
                .await?;
        }
        let context = AuditContext {
            user_agent: Some("parcours purge".to_owned()),
            ..Default::default()
        };
        for id in &ids {
            let entry = Entry::new(AuditAction::Anonymise, AuditOutcome::Success)
                .on(AuditTarget::Person, Some(*id));
            record(conn, &context, Actor::System, entry).await?;
        }
        for id in &declined {
            let entry = Entry::new(AuditAction::Anonymise, AuditOutcome::Success)
                .on(AuditTarget::Referral, Some(*id));
            record(conn, &context, Actor::System, entry).await?;
        }
        let summary = Entry::new(AuditAction::Purge, AuditOutcome::Success).listing(
            serde_json::json!({ "retention_days": retention_days, "cutoff": cutoff }),
            ids.clone(),
        );
        record(conn, &context, Actor::System, summary).await?;
        Ok(report)
    })
    .await
}
