//! A partner's webhooks as their owner manages them: register one (for
//! its own organization; an admin names one), disable it, rotate its
//! secret, queue a dead delivery again. Each change is recorded.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::audit::Acting;
use crate::db::Error;
use crate::db::schema::organizations;
use crate::db::webhooks::{self, Delivery, NewWebhook, Webhook};
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::policy::{WebhookOwner, webhook_owner};
use crate::domain::principal::Principal;
use crate::privacy::PersonalDataKeys;
use crate::services::change::Change;
use crate::services::webhooks::signature;

/// What registering asks for, already parsed.
pub struct Registration {
    /// Left out by a partner (its own); required from an admin.
    pub organization_id: Option<Uuid>,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: Option<String>,
}

pub fn not_found() -> Error {
    Error::not_found("No such webhook of your organization.")
}

/// Registers a webhook; returns it with its signing secret (raw bytes),
/// to show once. One webhook per URL and organization (409).
pub async fn register(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    keys: &PersonalDataKeys,
    registration: Registration,
) -> Result<(Webhook, Vec<u8>), Error> {
    let organization_id = organization_for(conn, by.who, registration.organization_id).await?;
    let id = Uuid::now_v7();
    let secret = signature::generate_secret();
    let new = NewWebhook {
        id,
        organization_id,
        url: registration.url,
        event_types: registration.event_types.into_iter().map(Some).collect(),
        description: registration.description,
        secret_ciphertext: keys.encrypt_webhook_secret(id, &secret),
        created_by: by.who.subject.id(),
    };
    let webhook = Change::new(by, AuditAction::Create, AuditTarget::Webhook)
        .run(
            conn,
            async |conn| {
                webhooks::insert(conn, &new).await?.map_err(|existing| {
                    Error::conflict(format!(
                        "Your organization already has a webhook on this URL: \
                         /v1/webhooks/{existing}. If the answer to your first request was lost, \
                         rotate that webhook's secret (POST /v1/webhooks/{existing}/secret) to \
                         receive one."
                    ))
                })
            },
            |webhook| webhook.id,
        )
        .await?;
    Ok((webhook, secret))
}

/// Disables a webhook: nothing more is sent, pending deliveries are
/// cancelled.
pub async fn disable(conn: &mut AsyncPgConnection, by: Acting<'_>, id: Uuid) -> Result<(), Error> {
    Change::new(by, AuditAction::Delete, AuditTarget::Webhook)
        .of(id)
        .run(
            conn,
            async |conn| {
                webhooks::disable(conn, by.who, id)
                    .await?
                    .ok_or_else(not_found)
            },
            |webhook| webhook.id,
        )
        .await
        .map(drop)
}

/// A new signing secret (raw bytes, to show once); the previous one keeps
/// signing beside it until `previous_until`.
pub async fn rotate_secret(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    keys: &PersonalDataKeys,
    id: Uuid,
    previous_until: DateTime<Utc>,
) -> Result<(Webhook, Vec<u8>), Error> {
    let secret = signature::generate_secret();
    let sealed = keys.encrypt_webhook_secret(id, &secret);
    let webhook = Change::new(by, AuditAction::RotateSecret, AuditTarget::Webhook)
        .of(id)
        .run(
            conn,
            async |conn| {
                webhooks::rotate(conn, by.who, id, sealed, previous_until)
                    .await?
                    .ok_or_else(not_found)
            },
            |webhook| webhook.id,
        )
        .await?;
    Ok((webhook, secret))
}

/// Queues a dead-lettered delivery of an active webhook again.
pub async fn retry_delivery(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    delivery: Uuid,
) -> Result<Delivery, Error> {
    let webhook = webhooks::find(conn, by.who, id)
        .await?
        .filter(|w| w.active)
        .ok_or_else(not_found)?;
    Change::new(by, AuditAction::RetryDelivery, AuditTarget::Webhook)
        .of(webhook.id)
        .run(
            conn,
            async |conn| {
                webhooks::retry(conn, webhook.id, delivery)
                    .await?
                    .ok_or_else(|| {
                        Error::not_found("No such dead-lettered delivery of this webhook.")
                    })
            },
            |_| webhook.id,
        )
        .await
}

/// The organization a new webhook serves: the partner's own; for an admin,
/// the one named, which must exist.
async fn organization_for(
    conn: &mut AsyncPgConnection,
    who: &Principal,
    named: Option<Uuid>,
) -> Result<Uuid, Error> {
    match webhook_owner(who) {
        WebhookOwner::Organization(own) => {
            return match named {
                None => Ok(own),
                Some(id) if id == own => Ok(own),
                Some(_) => Err(Error::unprocessable(
                    "organization_id",
                    "must be your own organization (or be left out)",
                )),
            };
        }
        WebhookOwner::Nobody => {
            return Err(Error::forbidden("Your role manages no webhooks."));
        }
        WebhookOwner::Any => {}
    }
    let id = named.ok_or_else(|| {
        Error::unprocessable("organization_id", "is required when an admin registers")
    })?;
    let exists: Option<Uuid> = organizations::table
        .find(id)
        .select(organizations::id)
        .first(conn)
        .await
        .optional()?;
    exists.ok_or_else(|| Error::unprocessable("organization_id", "is not an organization"))
}
