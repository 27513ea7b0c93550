//! `/v1/clients`: partner machine clients, managed by admins. The secret is
//! shown once, at creation and at each rotation.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::policy::ManageAccounts;
use crate::db::clients::{self, Client, ClientChanges};
use crate::domain::validation::Checks;
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::etag::{IfMatch, tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::services::account_changes;
use crate::services::accounts::CreateClient;

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientView {
    pub id: Uuid,
    pub client_id: String,
    pub name: String,
    pub organization_id: Uuid,
    pub active: bool,
    pub secret_rotated_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Client> for ClientView {
    fn from(c: Client) -> Self {
        Self {
            id: c.id,
            client_id: c.client_id,
            name: c.name,
            organization_id: c.organization_id,
            active: c.active,
            secret_rotated_at: c.secret_rotated_at,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClientWithSecret {
    #[serde(flatten)]
    pub client: ClientView,
    /// Hand it over to the partner; it is stored hashed and never shown again.
    pub client_secret: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateClient {
    pub name: Option<String>,
    /// `false` deactivates the client: its tokens are refused within about a second.
    pub active: Option<bool>,
}

fn respond(status: StatusCode, client: &Client, body: impl Serialize) -> HttpResponse {
    tagged(status, client.version, "/v1/clients", client.id, body)
}

/// List partner clients (admin).
#[utoipa::path(
    tag = "accounts",
    params(PageParams),
    responses(
        (status = 200, description = "One page of clients.", body = Page<ClientView>),
    )
)]
#[get("")]
pub async fn list(
    caller: Authorized<ManageAccounts>,
    page: Query<PageParams>,
) -> Result<web::Json<Page<ClientView>>, ApiError> {
    let page = page.validate()?;
    let mut conn = caller.conn().await?;
    let rows = clients::list(&mut conn, page).await?;
    let views = rows.into_iter().map(ClientView::from).collect();
    Ok(web::Json(Page::from_rows(views, page, |c| c.id)))
}

/// Read a partner client (admin).
#[utoipa::path(
    tag = "accounts",
    responses(
        (status = 200, description = "The client.", body = ClientView, headers(("ETag" = String))),
    )
)]
#[get("/{id}")]
pub async fn read(
    caller: Authorized<ManageAccounts>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = caller.conn().await?;
    let client = clients::find(&mut conn, *id)
        .await?
        .ok_or_else(|| ApiError::not_found("No such client."))?;
    Ok(respond(
        StatusCode::OK,
        &client,
        ClientView::from(client.clone()),
    ))
}

/// Create a partner client (admin); its secret is in the response, once.
#[utoipa::path(
    tag = "accounts",
    request_body = CreateClient,
    responses(
        (status = 201, description = "Created.", body = ClientWithSecret, headers(("ETag" = String), ("Location" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("")]
pub async fn create(
    caller: Authorized<ManageAccounts>,
    body: Json<CreateClient>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = caller.conn().await?;
    let created = account_changes::create_client(&mut conn, caller.acting(), body.0).await?;
    let (client, client_secret) = created;
    let body = ClientWithSecret {
        client: ClientView::from(client.clone()),
        client_secret,
    };
    Ok(respond(StatusCode::CREATED, &client, body))
}

/// Rename or (de)activate a partner client (admin). Requires `If-Match`.
#[utoipa::path(
    tag = "accounts",
    request_body = UpdateClient,
    params(IfMatch),
    responses(
        (status = 200, description = "Updated.", body = ClientView, headers(("ETag" = String))),
    )
)]
#[patch("/{id}")]
pub async fn update(
    caller: Authorized<ManageAccounts>,
    id: web::Path<Uuid>,
    body: Json<UpdateClient>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let mut checks = Checks::new();
    let name = body.0.name.as_deref().map(|n| checks.text("name", n, 200));
    checks.finish()?;
    let changes = ClientChanges {
        name,
        active: body.0.active,
    };
    let mut conn = caller.conn().await?;
    let by = caller.acting();
    let client = account_changes::update_client(&mut conn, by, *id, version, &changes).await?;
    Ok(respond(
        StatusCode::OK,
        &client,
        ClientView::from(client.clone()),
    ))
}

/// Rotate a client's secret (admin): the new one is in the response, once;
/// the old one stops working at once.
#[utoipa::path(
    tag = "accounts",
    responses(
        (status = 200, description = "The new secret.", body = ClientWithSecret, headers(("ETag" = String))),
    )
)]
#[post("/{id}/secret")]
pub async fn rotate_secret(
    caller: Authorized<ManageAccounts>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = caller.conn().await?;
    let (client, client_secret) =
        account_changes::rotate_client_secret(&mut conn, caller.acting(), *id).await?;
    let body = ClientWithSecret {
        client: ClientView::from(client.clone()),
        client_secret,
    };
    Ok(respond(StatusCode::OK, &client, body))
}
