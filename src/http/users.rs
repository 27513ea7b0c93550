//! `/v1/users`: staff accounts, managed by admins. No delete: deactivate.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthContext;
use crate::auth::policy::ManageAccounts;
use crate::auth::secrets::one_time_password;
use crate::db::users::{self, User, UserChanges};
use crate::domain::validation::Checks;
use crate::domain::{Domain, Role};
use crate::http::caller::Authorized;
use crate::http::error::ApiError;
use crate::http::etag::{IfMatch, tagged};
use crate::http::extract::{Json, Query};
use crate::http::pagination::{Page, PageParams};
use crate::services::account_changes;
use crate::services::accounts::{CreateUser, UserView};

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUser {
    #[serde(flatten)]
    pub user: UserView,
    /// Present when no password was given: hand it over to the user; it is never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub one_time_password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NewPassword {
    /// Hand it over to the user; it is never shown again.
    pub one_time_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    /// Replaces the user's territories.
    pub territories: Option<Vec<Uuid>>,
    /// Replaces the user's domains.
    pub domains: Option<Vec<Domain>>,
    /// `false` deactivates the account: refresh tokens are revoked and access
    /// tokens refused by every instance within about a second.
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilters {
    pub role: Option<Role>,
    pub active: Option<bool>,
}

fn respond(status: StatusCode, user: &User, body: impl Serialize) -> HttpResponse {
    tagged(status, user.version, "/v1/users", user.id, body)
}

/// The account as an admin reads it, with its ETag.
fn respond_view(user: User, territories: Vec<Uuid>) -> HttpResponse {
    let (version, id) = (user.version, user.id);
    let view = UserView::new(user, territories);
    tagged(StatusCode::OK, version, "/v1/users", id, view)
}

/// List staff users (admin).
#[utoipa::path(
    tag = "accounts",
    params(PageParams, UserFilters),
    responses(
        (status = 200, description = "One page of users, in creation order.", body = Page<UserView>),
    )
)]
#[get("")]
pub async fn list(
    caller: Authorized<ManageAccounts>,
    page: Query<PageParams>,
    filters: Query<UserFilters>,
) -> Result<web::Json<Page<UserView>>, ApiError> {
    let page = page.validate()?;
    let mut conn = caller.conn().await?;
    let rows = users::list(&mut conn, page, filters.role, filters.active).await?;
    let ids: Vec<Uuid> = rows.iter().map(|u| u.id).collect();
    let memberships = users::territories_of_many(&mut conn, &ids).await?;
    let views: Vec<UserView> = rows
        .into_iter()
        .map(|user| {
            let territories = memberships
                .iter()
                .filter(|(u, _)| *u == user.id)
                .map(|(_, t)| *t)
                .collect();
            UserView::new(user, territories)
        })
        .collect();
    Ok(web::Json(Page::from_rows(views, page, |u| u.id)))
}

/// Read a staff user (admin).
#[utoipa::path(
    tag = "accounts",
    responses(
        (status = 200, description = "The user.", body = UserView, headers(("ETag" = String))),
    )
)]
#[get("/{id}")]
pub async fn read(
    caller: Authorized<ManageAccounts>,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = caller.conn().await?;
    let user = users::find(&mut conn, *id)
        .await?
        .ok_or_else(|| ApiError::not_found("No such user."))?;
    let territories = users::territories_of(&mut conn, user.id).await?;
    Ok(respond_view(user, territories))
}

/// Create a staff user (admin). Without `password`, a one-time password is
/// generated and returned once. Either way the password is one-time: the
/// holder's first call must be `POST /v1/me/password`, and every other
/// route answers 403 `password-change-required` until then.
#[utoipa::path(
    tag = "accounts",
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created. The account's password, given or generated, is one-time: its holder sets their own with `POST /v1/me/password` before anything else.", body = CreatedUser, headers(("ETag" = String), ("Location" = String))),
        (status = 409, response = crate::http::responses::Conflict),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[post("")]
pub async fn create(
    caller: Authorized<ManageAccounts>,
    body: Json<CreateUser>,
    auth: web::Data<AuthContext>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = caller.conn().await?;
    let by = caller.acting();
    let created = account_changes::create_user(&mut conn, by, &auth.passwords, body.0).await?;
    let (user, territories, one_time_password) = created;
    let body = CreatedUser {
        user: UserView::new(user.clone(), territories),
        one_time_password,
    };
    Ok(respond(StatusCode::CREATED, &user, body))
}

/// Change a staff user (admin); `active: false` deactivates. Requires
/// `If-Match`. An admin cannot change its own account (403), and a role
/// moves only within one duty — administration, case work (supervisor,
/// coordinator), audit (422 on `role`). Audited with the account before and
/// after; the change applies to the account's live tokens within a second.
#[utoipa::path(
    tag = "accounts",
    request_body = UpdateUser,
    params(IfMatch),
    responses(
        (status = 200, description = "Updated.", body = UserView, headers(("ETag" = String))),
        (status = 422, response = crate::http::responses::Unprocessable),
    )
)]
#[patch("/{id}")]
pub async fn update(
    caller: Authorized<ManageAccounts>,
    id: web::Path<Uuid>,
    body: Json<UpdateUser>,
    if_match: IfMatch,
) -> Result<HttpResponse, ApiError> {
    let version = if_match.version()?;
    let body = body.0;
    let mut checks = Checks::new();
    let display_name = body
        .display_name
        .as_deref()
        .map(|n| checks.text("display_name", n, 200));
    if body.role.is_some_and(|r| !r.is_staff()) {
        checks.fail("role", "must be a staff role");
    }
    checks.finish()?;
    let changes = UserChanges {
        display_name,
        role: body.role,
        domains: body.domains.map(|mut d| {
            d.sort();
            d.dedup();
            d.into_iter().map(Some).collect()
        }),
        active: body.active,
    };
    let mut conn = caller.conn().await?;
    let (by, territories) = (caller.acting(), body.territories.as_deref());
    let (user, territories) =
        account_changes::update_user(&mut conn, by, *id, version, &changes, territories).await?;
    Ok(respond_view(user, territories))
}

/// Reset a user's password (admin, never its own): a one-time password is
/// generated and returned once; the account is unlocked, its logins end, and
/// the one-time password only lets its holder set a new one
/// (`POST /v1/me/password`).
#[utoipa::path(
    tag = "accounts",
    responses(
        (status = 200, description = "The new password.", body = NewPassword),
    )
)]
#[post("/{id}/password")]
pub async fn reset_password(
    caller: Authorized<ManageAccounts>,
    id: web::Path<Uuid>,
    auth: web::Data<AuthContext>,
) -> Result<web::Json<NewPassword>, ApiError> {
    let password = one_time_password();
    let hash = auth
        .passwords
        .hash(password.clone())
        .await
        .map_err(|e| ApiError::internal(anyhow::anyhow!(e)))?;
    let mut conn = caller.conn().await?;
    account_changes::reset_password(&mut conn, caller.acting(), *id, &hash).await?;
    Ok(web::Json(NewPassword {
        one_time_password: password,
    }))
}
