//! `/v1/webhooks`: partners (or an admin for them) register HTTPS endpoints
//! that receive the events of the pathways they follow, signed per Standard
//! Webhooks, and see every delivery's fate (`/deliveries`).

use actix_web::http::header;
use actix_web::{HttpResponse, delete, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::policy::ManageWebhooks;
use crate::db::webhooks::{self, Delivery, Webhook};
use crate::domain::DeliveryStatus;
use crate::domain::enums::name_of;
use crate::domain::validation::Checks;
use crate::http::caller::Authorized;
use crate::http::error::{ApiError, FieldError};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::http::state::AppState;
use crate::services::partner_events::FeedEventKind;
use crate::services::webhooks::subscriptions::{self, Registration};
use crate::services::webhooks::{endpoint, signature};

/// How long the previous secret keeps signing after a rotation.
const ROTATION_OVERLAP_HOURS: i64 = 24;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where to POST the events: `https://…` (plain `http` only to the
    /// loopback, in development).
    #[schema(example = "https://partenaires.caf.example.fr/parcours/hooks")]
    pub url: String,
    /// The kinds of feed events to receive (at least one).
    pub event_types: Vec<FeedEventKind>,
    pub description: Option<String>,
    /// The partner organization the webhook serves: required for admins;
    /// partners may omit it (it is always their own).
    pub organization_id: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub url: String,
    pub event_types: Vec<FeedEventKind>,
    pub description: Option<String>,
    /// `false` once deleted: nothing more is sent.
    pub active: bool,
    /// After a rotation, until when the previous secret also signs.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub disabled_at: Option<DateTime<Utc>>,
}

impl From<Webhook> for WebhookView {
    fn from(w: Webhook) -> Self {
        Self {
            id: w.id,
            organization_id: w.organization_id,
            url: w.url,
            event_types: w
                .event_types
                .iter()
                .flatten()
                .filter_map(|kind| serde_json::from_value(kind.as_str().into()).ok())
                .collect(),
            description: w.description,
            active: w.active,
            previous_secret_expires_at: w.previous_secret_expires_at,
            created_at: w.created_at,
            disabled_at: w.disabled_at,
        }
    }
}

/// A new webhook, with its secret: shown this once, never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// The signing secret (`whsec_` + base64), shown only now: keep it in
    /// your secret store and verify every delivery's `webhook-signature`.
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RotatedSecret {
    /// The new signing secret, shown only now.
    pub secret: String,
    /// Until then, deliveries carry a signature by each secret.
    pub previous_secret_expires_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryView {
    /// Also the `webhook-id` header: the same on every attempt, so that
    /// your endpoint can ignore a repeat.
    pub id: Uuid,
    pub event_type: Option<FeedEventKind>,
    pub status: DeliveryStatus,
    pub attempts: i32,
    /// When the next attempt is due (`pending` only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The HTTP status your endpoint last answered.
    pub last_response_status: Option<i32>,
    /// Why the last attempt failed, in general terms.
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            event_type: FeedEventKind::of(d.event_kind),
            status: d.status,
            attempts: d.attempts,
            next_attempt_at: (d.status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
            last_attempt_at: d.last_attempt_at,
            last_response_status: d.last_response_status,
            last_error: d.last_error,
            delivered_at: d.delivered_at,
            created_at: d.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    /// Only deliveries with this status (`dead` for the dead letters).
    pub status: Option<DeliveryStatus>,
}

fn not_found() -> ApiError {
    ApiError::not_found("No such webhook of your organization.")
}

/// Register a webhook. The answer holds its signing secret, once. One
/// webhook per URL and organization: registering the same URL again is 409.
#[utoipa::path(
    tag = "partners",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "Registered; deliveries start with the next event.", body = CreatedWebhook, headers(("Location" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("")]
pub async fn create(
    caller: Authorized<ManageWebhooks>,
    body: Json<CreateWebhook>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut checks = Checks::new();
    let description = body
        .description
        .as_deref()
        .map(|d| checks.text("description", d, 300));
    checks.finish()?;
    let url = endpoint::check(&body.url, state.environment).map_err(|message| {
        ApiError::invalid("`url` is refused.", vec![FieldError::new("url", message)])
    })?;
    let mut event_types: Vec<String> = body.event_types.iter().map(name_of).collect();
    event_types.sort();
    event_types.dedup();
    if event_types.is_empty() {
        return Err(ApiError::invalid(
            "`event_types` is empty.",
            vec![FieldError::new(
                "event_types",
                "name at least one event type",
            )],
        ));
    }
    let registration = Registration {
        organization_id: body.organization_id,
        url: url.to_string(),
        event_types,
        description,
    };
    let mut conn = caller.conn().await?;
    let (webhook, secret) =
        subscriptions::register(&mut conn, caller.acting(), &state.privacy, registration).await?;
    let id = webhook.id;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/v1/webhooks/{id}")))
        .json(CreatedWebhook {
            webhook: webhook.into(),
            secret: signature::display_secret(&secret),
        }))
}

/// Your organization's webhooks (an admin: all), oldest first.
#[utoipa::path(
    tag = "partners",
    params(PageParams),
    responses(
        (status = 200, description = "One page of webhooks.", body = Page<WebhookView>),
    )
)]
#[get("")]
pub async fn list(
    caller: Authorized<ManageWebhooks>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<WebhookView>>, ApiError> {
    let page = page.validate()?;
    let mut conn = caller.conn().await?;
    let rows = webhooks::list(&mut conn, caller.principal(), page).await?;
    let views = rows.into_iter().map(WebhookView::from).collect();
    Ok(web::Json(Page::from_rows(views, page, |w| w.id)))
}

/// One webhook (never its secret).
#[utoipa::path(
    tag = "partners",
    responses(
        (status = 200, description = "The webhook.", body = WebhookView),
    )
)]
#[get("/{id}")]
pub async fn read(
    caller: Authorized<ManageWebhooks>,
    id: web::Path<Uuid>,
) -> Result<web::Json<WebhookView>, ApiError> {
    let mut conn = caller.conn().await?;
    let webhook = webhooks::find(&mut conn, caller.principal(), *id)
        .await?
        .ok_or_else(not_found)?;
    Ok(web::Json(webhook.into()))
}

/// Delete a webhook: nothing more is sent, pending deliveries are
/// cancelled; it and its deliveries stay readable.
#[utoipa::path(
    tag = "partners",
    responses(
        (status = 204, description = "Deleted."),
    )
)]
#[delete("/{id}")]
pub async fn remove(
    caller: Authorized<ManageWebhooks>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = caller.conn().await?;
    subscriptions::disable(&mut conn, caller.acting(), *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Rotate the signing secret. The new one is shown once; for 24 hours each
/// delivery carries two signatures, one per secret, so that you can switch
/// your verifier without losing a delivery.
#[utoipa::path(
    tag = "partners",
    responses(
        (status = 200, description = "The new secret.", body = RotatedSecret),
    )
)]
#[post("/{id}/secret")]
pub async fn rotate_secret(
    caller: Authorized<ManageWebhooks>,
    id: web::Path<Uuid>,
    state: web::Data<AppState>,
) -> Result<web::Json<RotatedSecret>, ApiError> {
    let until = Utc::now() + chrono::Duration::hours(ROTATION_OVERLAP_HOURS);
    let mut conn = caller.conn().await?;
    let (webhook, secret) =
        subscriptions::rotate_secret(&mut conn, caller.acting(), &state.privacy, *id, until)
            .await?;
    Ok(web::Json(RotatedSecret {
        secret: signature::display_secret(&secret),
        previous_secret_expires_at: webhook.previous_secret_expires_at.unwrap_or(until),
    }))
}

/// Deliveries of a webhook, newest first: pending (with the next attempt),
/// delivered, dead-lettered after the last attempt, or cancelled.
#[utoipa::path(
    tag = "partners",
    params(PageParams, DeliveryFilter),
    responses(
        (status = 200, description = "One page of deliveries.", body = Page<DeliveryView>),
    )
)]
#[get("/{id}/deliveries")]
pub async fn deliveries(
    caller: Authorized<ManageWebhooks>,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
    filter: Query<DeliveryFilter>,
) -> Result<web::Json<Page<DeliveryView>>, ApiError> {
    let page = page.validate()?;
    let mut conn = caller.conn().await?;
    let webhook = webhooks::find(&mut conn, caller.principal(), *id)
        .await?
        .ok_or_else(not_found)?;
    let rows = webhooks::deliveries(&mut conn, webhook.id, filter.status, page).await?;
    let views = rows.into_iter().map(DeliveryView::from).collect();
    Ok(web::Json(Page::from_rows(views, page, |d| d.id)))
}

/// Send a dead-lettered delivery again, with a fresh series of attempts.
#[utoipa::path(
    tag = "partners",
    responses(
        (status = 200, description = "Queued again.", body = DeliveryView),
    )
)]
#[post("/{id}/deliveries/{delivery_id}/retry")]
pub async fn retry(
    caller: Authorized<ManageWebhooks>,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<web::Json<DeliveryView>, ApiError> {
    let (id, delivery_id) = path.into_inner();
    let mut conn = caller.conn().await?;
    let by = caller.acting();
    let delivery = subscriptions::retry_delivery(&mut conn, by, id, delivery_id).await?;
    Ok(web::Json(delivery.into()))
}
