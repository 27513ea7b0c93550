//! Webhooks and their deliveries (the outbox the trigger of migration
//! `000006_webhooks` fills in the transaction of each event).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    BigInt, Bool, Bytea, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::PageRequest;
use crate::db::Tx;
use crate::db::feed::FeedRow;
use crate::db::schema::{webhook_deliveries, webhooks};
use crate::db::scope::webhooks_visible;
use crate::domain::principal::Principal;
use crate::domain::{DeliveryStatus, EventKind};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhooks, check_for_backend(diesel::pg::Pg))]
pub struct Webhook {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub event_types: Vec<Option<String>>,
    pub description: Option<String>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = webhooks, check_for_backend(diesel::pg::Pg))]
pub struct NewWebhook {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub event_types: Vec<Option<String>>,
    pub description: Option<String>,
    pub secret_ciphertext: Vec<u8>,
    pub created_by: Uuid,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries, check_for_backend(diesel::pg::Pg))]
pub struct Delivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub event_kind: EventKind,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub last_response_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Registers `new`, or `Err` with the id of the organization's active
/// webhook already on this URL (one per URL: a retried registration must
/// not double every delivery).
pub async fn insert(tx: &mut Tx<'_>, new: &NewWebhook) -> QueryResult<Result<Webhook, Uuid>> {
    let inserted = diesel::insert_into(webhooks::table)
        .values(new)
        .on_conflict_do_nothing()
        .returning(Webhook::as_returning())
        .get_result(tx.conn())
        .await
        .optional()?;
    match inserted {
        Some(webhook) => Ok(Ok(webhook)),
        None => webhooks::table
            .filter(webhooks::organization_id.eq(new.organization_id))
            .filter(webhooks::url.eq(&new.url))
            .filter(webhooks::active)
            .select(webhooks::id)
            .first(tx.conn())
            .await
            .map(Err),
    }
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    page: PageRequest,
) -> QueryResult<Vec<Webhook>> {
    let mut query = webhooks::table
        .filter(webhooks_visible(who))
        .select(Webhook::as_select())
        .order(webhooks::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(webhooks::id.gt(after));
    }
    query.load(conn).await
}

pub async fn find(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    id: Uuid,
) -> QueryResult<Option<Webhook>> {
    webhooks::table
        .find(id)
        .filter(webhooks_visible(who))
        .select(Webhook::as_select())
        .first(conn)
        .await
        .optional()
}

/// Stops a webhook: nothing more is queued for it and what was pending is
/// cancelled. `None` when it is not the caller's.
pub async fn disable(tx: &mut Tx<'_>, who: &Principal, id: Uuid) -> QueryResult<Option<Webhook>> {
    let disabled: Option<Webhook> = diesel::update(webhooks::table)
        .filter(webhooks::id.eq(id))
        .filter(webhooks_visible(who))
        .set((
            webhooks::active.eq(false),
            webhooks::disabled_at.eq(diesel::dsl::now),
        ))
        .returning(Webhook::as_returning())
        .get_result(tx.conn())
        .await
        .optional()?;
    if disabled.is_some() {
        diesel::update(webhook_deliveries::table)
            .filter(webhook_deliveries::webhook_id.eq(id))
            .filter(webhook_deliveries::status.eq(DeliveryStatus::Pending))
            .set((
                webhook_deliveries::status.eq(DeliveryStatus::Cancelled),
                webhook_deliveries::last_error.eq("the webhook was deleted"),
            ))
            .execute(tx.conn())
            .await?;
    }
    Ok(disabled)
}

/// Makes `secret` the signing secret; the current one keeps signing until
/// `previous_until`. `None` when the webhook is not the caller's or deleted.
pub async fn rotate(
    tx: &mut Tx<'_>,
    who: &Principal,
    id: Uuid,
    secret_ciphertext: Vec<u8>,
    previous_until: DateTime<Utc>,
) -> QueryResult<Option<Webhook>> {
    diesel::update(webhooks::table)
        .filter(webhooks::id.eq(id))
        .filter(webhooks::active)
        .filter(webhooks_visible(who))
        .set((
            webhooks::previous_secret_ciphertext.eq(webhooks::secret_ciphertext.nullable()),
            webhooks::previous_secret_expires_at.eq(previous_until),
            webhooks::secret_ciphertext.eq(secret_ciphertext),
        ))
        .returning(Webhook::as_returning())
        .get_result(tx.conn())
        .await
        .optional()
}

/// Deliveries of one webhook, newest first.
pub async fn deliveries(
    conn: &mut AsyncPgConnection,
    webhook: Uuid,
    status: Option<DeliveryStatus>,
    page: PageRequest,
) -> QueryResult<Vec<Delivery>> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::webhook_id.eq(webhook))
        .select(Delivery::as_select())
        .order(webhook_deliveries::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(webhook_deliveries::status.eq(status));
    }
    if let Some(after) = page.after {
        query = query.filter(webhook_deliveries::id.lt(after));
    }
    query.load(conn).await
}

/// Queues a dead-lettered delivery again, with a fresh count of attempts.
/// `None` when the webhook has no such dead delivery.
pub async fn retry(
    tx: &mut Tx<'_>,
    webhook: Uuid,
    delivery: Uuid,
) -> QueryResult<Option<Delivery>> {
    diesel::update(webhook_deliveries::table)
        .filter(webhook_deliveries::id.eq(delivery))
        .filter(webhook_deliveries::webhook_id.eq(webhook))
        .filter(webhook_deliveries::status.eq(DeliveryStatus::Dead))
        .set((
            webhook_deliveries::status.eq(DeliveryStatus::Pending),
            webhook_deliveries::attempts.eq(0),
            webhook_deliveries::next_attempt_at.eq(diesel::dsl::now),
        ))
        .returning(Delivery::as_returning())
        .get_result(tx.conn())
        .await
        .optional()
}

/// A delivery claimed for one attempt, with what it takes to send it.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub webhook_id: Uuid,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Bytea)]
    pub secret_ciphertext: Vec<u8>,
    #[diesel(sql_type = Nullable<Bytea>)]
    pub previous_secret_ciphertext: Option<Vec<u8>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// The webhook is active and the pathway still in the partner's scope.
    #[diesel(sql_type = Bool)]
    pub deliverable: bool,
    /// The event to send, as the feed has it.
    #[diesel(embed)]
    pub event: FeedRow,
}

/// Takes up to `batch` due deliveries for one attempt each. One statement:
/// rows another instance is claiming are skipped (`SKIP LOCKED`), and a
/// claimed row's next attempt moves `lease_secs` ahead, so no other
/// instance sends it meanwhile; if this one dies, it is sent again after.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    batch: i64,
    lease_secs: f64,
) -> QueryResult<Vec<Claimed>> {
    diesel::sql_query(
        "WITH due AS ( \
             SELECT id FROM webhook_deliveries \
             WHERE status = 'pending' AND next_attempt_at <= now() \
             ORDER BY next_attempt_at \
             LIMIT $1 \
             FOR UPDATE SKIP LOCKED \
         ), claimed AS ( \
             UPDATE webhook_deliveries d \
             SET attempts = d.attempts + 1, last_attempt_at = now(), \
                 next_attempt_at = now() + make_interval(secs => $2) \
             FROM due WHERE d.id = due.id \
             RETURNING d.id, d.webhook_id, d.event_seq, d.attempts \
         ) \
         SELECT c.id, c.webhook_id, c.attempts, w.url, w.secret_ciphertext, \
                w.previous_secret_ciphertext, w.previous_secret_expires_at, \
                w.active AND EXISTS ( \
                    SELECT 1 FROM partner_events pe \
                    WHERE pe.organization_id = w.organization_id \
                      AND pe.seq = e.seq) AS deliverable, \
                e.txid, e.seq, e.pathway_id, \
                coalesce(p.domain, (e.data->>'domain')::domain) AS domain, \
                e.kind, e.occurred_at, e.data \
         FROM claimed c \
         JOIN webhooks w ON w.id = c.webhook_id \
         JOIN pathway_events e ON e.seq = c.event_seq \
         LEFT JOIN pathways p ON p.id = e.pathway_id",
    )
    .bind::<BigInt, _>(batch)
    .bind::<diesel::sql_types::Double, _>(lease_secs)
    .load(conn)
    .await
}

/// How one attempt ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Delivered {
        status: i32,
    },
    Failed {
        status: Option<i32>,
        error: String,
    },
    /// The webhook was deleted or the pathway left the partner's scope.
    Withdrawn,
}

/// Records the attempt: delivered, retried after `retry_in`, or dead after
/// `max_attempts`.
pub async fn settle(
    tx: &mut Tx<'_>,
    id: Uuid,
    outcome: &Outcome,
    retry_in: std::time::Duration,
    max_attempts: i32,
) -> QueryResult<()> {
    let pending = webhook_deliveries::status.eq(DeliveryStatus::Pending);
    let row = webhook_deliveries::table
        .filter(webhook_deliveries::id.eq(id))
        .filter(pending);
    match outcome {
        Outcome::Delivered { status } => {
            diesel::update(row)
                .set((
                    webhook_deliveries::status.eq(DeliveryStatus::Delivered),
                    webhook_deliveries::delivered_at.eq(diesel::dsl::now),
                    webhook_deliveries::last_response_status.eq(Some(*status)),
                    webhook_deliveries::last_error.eq(None::<String>),
                ))
                .execute(tx.conn())
                .await?;
        }
        Outcome::Failed { status, error } => {
            let retry_in = chrono::Duration::from_std(retry_in).unwrap_or(chrono::Duration::MAX);
            diesel::sql_query(
                "UPDATE webhook_deliveries \
                 SET last_response_status = $2, last_error = $3, \
                     status = CASE WHEN attempts >= $4 THEN 'dead'::delivery_status \
                                   ELSE 'pending'::delivery_status END, \
                     next_attempt_at = now() + make_interval(secs => $5) \
                 WHERE id = $1 AND status = 'pending'",
            )
            .bind::<SqlUuid, _>(id)
            .bind::<Nullable<Integer>, _>(*status)
            .bind::<Text, _>(error)
            .bind::<Integer, _>(max_attempts)
            .bind::<diesel::sql_types::Double, _>(retry_in.as_seconds_f64())
            .execute(tx.conn())
            .await?;
        }
        Outcome::Withdrawn => {
            diesel::update(row)
                .set((
                    webhook_deliveries::status.eq(DeliveryStatus::Cancelled),
                    webhook_deliveries::last_error
                        .eq("not sent: the webhook is deleted or the pathway left your scope"),
                ))
                .execute(tx.conn())
                .await?;
        }
    }
    Ok(())
}
