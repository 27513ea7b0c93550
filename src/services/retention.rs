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
use diesel_async::AsyncPgConnection;
use serde::Serialize;

use crate::audit::record::{AuditContext, record};
use crate::audit::{Actor, Entry};
use crate::db::retention;
use crate::domain::AuditOutcome;
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::services::change::transaction;

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

/// Anonymises the persons due, each with its audit record, in one
/// transaction. Running it again changes nothing more: an anonymised person
/// is never due again.
pub async fn purge(
    conn: &mut AsyncPgConnection,
    retention_days: u32,
    dry_run: bool,
) -> diesel::QueryResult<PurgeReport> {
    let cutoff = Utc::now() - Duration::days(retention_days.into());
    transaction(conn, async |tx| {
        let ids = retention::persons_due(tx, cutoff).await?;
        let declined = retention::declined_referrals_due(tx, cutoff).await?;
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
        retention::anonymise_declined_referrals(tx, &declined).await?;
        retention::anonymise_persons(tx, &ids).await?;
        let context = AuditContext {
            user_agent: Some("parcours purge".to_owned()),
            ..Default::default()
        };
        for id in &ids {
            let entry = Entry::new(AuditAction::Anonymise, AuditOutcome::Success)
                .on(AuditTarget::Person, Some(*id));
            record(tx, &context, Actor::System, entry).await?;
        }
        for id in &declined {
            let entry = Entry::new(AuditAction::Anonymise, AuditOutcome::Success)
                .on(AuditTarget::Referral, Some(*id));
            record(tx, &context, Actor::System, entry).await?;
        }
        let summary = Entry::new(AuditAction::Purge, AuditOutcome::Success).listing(
            serde_json::json!({ "retention_days": retention_days, "cutoff": cutoff }),
            ids.clone(),
        );
        record(tx, &context, Actor::System, summary).await?;
        Ok(report)
    })
    .await
}
