//! `/v1/auth/*`, `/v1/me` and the public keys: tokens for staff users
//! (password, refresh token) and partner clients (client credentials).

use std::net::IpAddr;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{Acting, Actor, AuditContext, Entry};
use crate::auth::keys::Jwks;
use crate::auth::passwords::HashError;
use crate::auth::tokens::{Grant, SubjectKind};
use crate::auth::{AuthContext, Principal, Subject};
use crate::db::{clients, users};
use crate::domain::AuditOutcome;
use crate::domain::audit::AuditAction;
use crate::domain::{Domain, Role};
use crate::http::caller::PasswordPending;
use crate::http::error::{ApiError, ProblemDetails};
use crate::http::extract::FormOrJson;
use crate::http::state::AppState;
use crate::services::sessions::{self, PasswordChange, Refused, SessionError};
use serde_json::json;

/// A token request (RFC 6749).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `password` (staff), `client_credentials` (partner clients) or `refresh_token`.
    #[schema(example = "password")]
    pub grant_type: String,
    /// `password`: the user's e-mail.
    pub username: Option<String>,
    /// `password`: the user's password.
    pub password: Option<String>,
    /// `client_credentials`: the client id (or HTTP Basic).
    pub client_id: Option<String>,
    /// `client_credentials`: the client secret (or HTTP Basic).
    pub client_secret: Option<String>,
    /// `refresh_token`: the refresh token received last.
    pub refresh_token: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// Send it as `Authorization: Bearer <access_token>`.
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
    /// Staff only: single use; exchange it for new tokens with `grant_type=refresh_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RevokeRequest {
    /// A refresh token, or an access token of a staff login: either way
    /// the whole login ends (its refresh tokens and its access tokens).
    pub token: String,
}

/// The caller, as the token and the account say.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub id: Uuid,
    pub kind: SubjectKind,
    pub role: Role,
    pub territories: Vec<Uuid>,
    pub domains: Vec<Domain>,
    pub organization: Option<Uuid>,
    /// Users: e-mail and name. Clients: client id and name.
    pub login: String,
    pub display_name: String,
}

fn invalid_request(detail: impl Into<String>) -> ApiError {
    ApiError::OAuth {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_request",
        detail: detail.into(),
    }
}

fn invalid_grant(detail: impl Into<String>) -> ApiError {
    ApiError::OAuth {
        status: StatusCode::BAD_REQUEST,
        code: "invalid_grant",
        detail: detail.into(),
    }
}

fn invalid_client() -> ApiError {
    ApiError::OAuth {
        status: StatusCode::UNAUTHORIZED,
        code: "invalid_client",
        detail: "The client id or secret is wrong, or the client is deactivated.".to_owned(),
    }
}

fn from_hash_error(error: HashError) -> ApiError {
    match error {
        HashError::Busy => {
            ApiError::unavailable("Too many logins at once; retry in a few seconds.")
        }
        HashError::Failed(cause) => ApiError::internal(anyhow::anyhow!(cause)),
    }
}

/// Said alike whether the name exists or not.
fn slow_down(until: DateTime<Utc>) -> ApiError {
    let seconds = (until - Utc::now()).num_seconds().max(1);
    ApiError::TooManyRequests {
        detail: format!(
            "Too many failed logins from this address; wait {seconds} seconds before trying again."
        ),
        retry_after: std::time::Duration::from_secs(seconds.unsigned_abs()),
    }
}

/// Get an access token.
///
/// Staff: `grant_type=password` with `username` (e-mail) and `password`, then
/// `grant_type=refresh_token`. Partner clients: `grant_type=client_credentials`
/// with `client_id` and `client_secret` (or HTTP Basic). The body is a form
/// (`application/x-www-form-urlencoded`), as RFC 6749 has it; a JSON object
/// with the same fields is accepted too, for clients that cannot send a
/// form. After 5 consecutive
/// failures an account locks for 1 minute, then 2, 4, … up to an hour (429);
/// each address may ask for a limited number of tokens per minute (429).
#[utoipa::path(
    tag = "auth",
    request_body(content(
        (TokenRequest = "application/x-www-form-urlencoded")
    )),
    responses(
        (status = 200, description = "Tokens issued.", body = TokenResponse),
        (status = 400, description = "Malformed request, or `error` is `invalid_grant` (wrong \
            e-mail or password, spent or revoked refresh token) or `unsupported_grant_type`.",
            body = ProblemDetails, content_type = "application/problem+json"),
        (status = 401, description = "`error` is `invalid_client`: wrong client id or secret.",
            body = ProblemDetails, content_type = "application/problem+json"),
        (status = 429, response = crate::http::responses::TooMany),
        (status = 503, response = crate::http::responses::Unavailable),
    )
)]
#[post("/token")]
pub async fn token(
    req: HttpRequest,
    body: FormOrJson<TokenRequest>,
    state: web::Data<AppState>,
    auth: web::Data<AuthContext>,
) -> Result<HttpResponse, ApiError> {
    let address = req.peer_addr().map(|a| a.ip());
    auth.check_rate(address)?;
    let request = body.0;
    let grant_type = request.grant_type.clone();
    let issued = match grant_type.as_str() {
        "password" => password_grant(request, address, &state, &auth).await,
        "client_credentials" => client_grant(&req, request, &state, &auth).await,
        "refresh_token" => refresh_grant(request, &state, &auth).await,
        _ => {
            return Err(ApiError::OAuth {
                status: StatusCode::BAD_REQUEST,
                code: "unsupported_grant_type",
                detail: "`grant_type` must be `password`, `client_credentials` or `refresh_token`."
                    .to_owned(),
            });
        }
    };
    audit_login(&req, &state, &auth, &grant_type, &issued).await?;
    Ok(HttpResponse::Ok().json(issued?))
}

/// Every login, refused or not, is audited; a success whose record cannot
/// be written is not answered.
async fn audit_login(
    req: &HttpRequest,
    state: &AppState,
    auth: &AuthContext,
    grant_type: &str,
    issued: &Result<TokenResponse, ApiError>,
) -> Result<(), ApiError> {
    let outcome = match issued {
        Ok(_) => AuditOutcome::Success,
        Err(ApiError::TooManyRequests { .. }) | Err(ApiError::OAuth { .. }) => AuditOutcome::Denied,
        Err(_) => AuditOutcome::Failed,
    };
    let who = issued
        .as_ref()
        .ok()
        .and_then(|t| auth.tokens.verify(&t.access_token).ok())
        .map(Principal::from_claims);
    let actor = who.as_ref().map_or(Actor::Anonymous, Actor::Principal);
    let entry = Entry::new(AuditAction::Login, outcome)
        .listing(json!({ "grant_type": grant_type }), vec![]);
    let written = async {
        let mut conn = state.pool.get().await?;
        crate::audit::record::record(
            &mut conn,
            &crate::http::audit_context::of(req),
            actor,
            entry,
        )
        .await?;
        Ok::<_, ApiError>(())
    };
    match (written.await, issued) {
        (Ok(()), _) => Ok(()),
        (Err(error), Ok(_)) => Err(error),
        (Err(error), Err(_)) => {
            tracing::warn!(error = %error, "a refused login could not be audited");
            Ok(())
        }
    }
}

async fn password_grant(
    request: TokenRequest,
    address: Option<IpAddr>,
    state: &AppState,
    auth: &AuthContext,
) -> Result<TokenResponse, ApiError> {
    let (Some(email), Some(password)) = (request.username, request.password) else {
        return Err(invalid_request(
            "`password` grants need `username` (the e-mail) and `password`.",
        ));
    };
    let session = sessions::log_in(&state.pool, auth, &state.privacy, &email, password, address)
        .await
        .map_err(refused)?;
    respond(auth, &session.grant, Some(session.refresh_token))
}

async fn refresh_grant(
    request: TokenRequest,
    state: &AppState,
    auth: &AuthContext,
) -> Result<TokenResponse, ApiError> {
    let Some(presented) = request.refresh_token else {
        return Err(invalid_request(
            "`refresh_token` grants need `refresh_token`.",
        ));
    };
    let mut conn = state.pool.get().await?;
    let session = sessions::refresh(&mut conn, auth, &presented)
        .await
        .map_err(refused)?;
    respond(auth, &session.grant, Some(session.refresh_token))
}

async fn client_grant(
    req: &HttpRequest,
    request: TokenRequest,
    state: &AppState,
    auth: &AuthContext,
) -> Result<TokenResponse, ApiError> {
    let (client_id, secret) = match (
        basic_credentials(req)?,
        request.client_id,
        request.client_secret,
    ) {
        (Some(pair), _, _) => pair,
        (None, Some(id), Some(secret)) => (id, secret),
        _ => {
            return Err(invalid_request(
                "`client_credentials` grants need `client_id` and `client_secret`, or HTTP Basic.",
            ));
        }
    };
    let mut conn = state.pool.get().await?;
    let grant = sessions::log_in_client(&mut conn, &client_id, &secret)
        .await
        .map_err(refused)?;
    respond(auth, &grant, None)
}

/// A session's refusal, in the words of RFC 6749 where it has them.
fn refused(error: SessionError) -> ApiError {
    match error {
        SessionError::Refused(why) => match why {
            Refused::SlowDown(until) => slow_down(until),
            Refused::WrongCredentials => invalid_grant("The e-mail or the password is wrong."),
            Refused::UnknownRefreshToken => {
                invalid_grant("The refresh token is unknown, expired or revoked. Log in again.")
            }
            Refused::ReplayedRefreshToken => invalid_grant(
                "This refresh token was already used, so every token of this login is now revoked. Log in again.",
            ),
            Refused::Deactivated => invalid_grant("The account is deactivated."),
            Refused::WrongClient => invalid_client(),
        },
        SessionError::Hashing(error) => from_hash_error(error),
        SessionError::Failed(error) => error.into(),
    }
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn basic_credentials(req: &HttpRequest) -> Result<Option<(String, String)>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        invalid_request("The Authorization header must be `Basic base64(client_id:client_secret)`.")
    };
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(malformed());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let unescape = |s: &str| {
        url::form_urlencoded::parse(format!("v={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok(Some((unescape(id), unescape(secret))))
}

fn respond(
    auth: &AuthContext,
    grant: &Grant,
    refresh_token: Option<String>,
) -> Result<TokenResponse, ApiError> {
    let access_token = auth.tokens.issue(grant).map_err(ApiError::internal)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer".to_owned(),
        expires_in: auth.tokens.ttl_secs(),
        refresh_token,
    })
}

/// End a login (RFC 7009): send its refresh token or one of its access
/// tokens, and every token of that login stops working — refresh tokens at
/// once, access tokens within a second on every instance. Answers 200
/// whether or not the token was known (an unknown, expired or already
/// revoked token changes nothing). A partner client's access token belongs
/// to no login: it cannot be revoked and lives until `expires_in`; an admin
/// deactivates the client to stop it. The body is a form (RFC 7009); a
/// JSON object with the same field is accepted too.
#[utoipa::path(
    tag = "auth",
    request_body(content(
        (RevokeRequest = "application/x-www-form-urlencoded")
    )),
    responses(
        (status = 200, description = "The login behind the token is ended, or the token was not a live one."),
        (status = 429, response = crate::http::responses::TooMany),
        (status = 503, response = crate::http::responses::Unavailable),
    )
)]
#[post("/revoke")]
pub async fn revoke(
    req: HttpRequest,
    body: FormOrJson<RevokeRequest>,
    state: web::Data<AppState>,
    auth: web::Data<AuthContext>,
) -> Result<HttpResponse, ApiError> {
    auth.check_rate(req.peer_addr().map(|a| a.ip()))?;
    let mut conn = state.pool.get().await?;
    sessions::end(&mut conn, &auth, &body.0.token).await?;
    Ok(HttpResponse::Ok().finish())
}

/// Who the caller is: the account behind the access token.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "The caller.", body = Me),
    )
)]
#[get("")]
pub async fn me(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<web::Json<Me>, ApiError> {
    let mut conn = state.pool.get().await?;
    let (kind, login, display_name) = match principal.subject {
        Subject::User(id) => {
            let user = users::find(&mut conn, id)
                .await?
                .ok_or_else(|| ApiError::invalid_token("Refused: no such account."))?;
            (SubjectKind::User, user.email, user.display_name)
        }
        Subject::Client(id) => {
            let client = clients::find(&mut conn, id)
                .await?
                .ok_or_else(|| ApiError::invalid_token("Refused: no such account."))?;
            (SubjectKind::Client, client.client_id, client.name)
        }
    };
    Ok(web::Json(Me {
        id: principal.subject.id(),
        kind,
        role: principal.role,
        territories: principal.territories,
        domains: principal.domains,
        organization: principal.organization,
        login,
        display_name,
    }))
}

/// The public keys that verify access tokens (JWKS, RFC 7517), by `kid`.
#[utoipa::path(
    tag = "auth",
    responses((status = 200, description = "The key set.", body = Jwks))
)]
#[get("/.well-known/jwks.json")]
pub async fn jwks(auth: web::Data<AuthContext>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .json(auth.tokens.keys().jwks())
}

impl AuthContext {
    /// The per-address limit of the token endpoints.
    pub fn check_rate(&self, address: Option<IpAddr>) -> Result<(), ApiError> {
        let Some(address) = address else {
            return Ok(());
        };
        if self.rate_limiter.len() > 100_000 {
            self.rate_limiter.retain_recent();
        }
        self.rate_limiter.check_key(&address).map_err(|not_until| {
            use governor::clock::Clock;
            let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
            ApiError::TooManyRequests {
                detail: "Too many token requests from this address; slow down.".to_owned(),
                retry_after: wait.max(std::time::Duration::from_secs(1)),
            }
        })
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    /// The password you logged in with (a one-time password, say).
    pub current_password: String,
    /// Your new password: 12 to 128 characters, not a common one, not the
    /// current one.
    pub new_password: String,
}

/// Set your own password (staff). The only route a login holding a
/// one-time password may use. Every login of the account then ends (its
/// refresh tokens are revoked, its access tokens refused within a second):
/// log in again with the new password. A wrong `current_password` counts as
/// a failed login.
#[utoipa::path(
    tag = "auth",
    request_body = ChangePassword,
    responses(
        (status = 204, description = "Changed; log in again."),
        (status = 422, response = crate::http::responses::Unprocessable),
        (status = 429, response = crate::http::responses::TooMany),
    )
)]
#[post("/password")]
pub async fn change_password(
    caller: PasswordPending,
    audit: AuditContext,
    body: crate::http::extract::Json<ChangePassword>,
    state: web::Data<AppState>,
    auth: web::Data<AuthContext>,
) -> Result<HttpResponse, ApiError> {
    let who = caller.0;
    let Subject::User(_) = who.subject else {
        return Err(ApiError::forbidden("Partner clients have no password."));
    };
    let ChangePassword {
        current_password,
        new_password,
    } = body.0;
    if let Err(message) = crate::domain::passwords::check(&new_password) {
        return Err(ApiError::invalid(
            "The new password does not follow the policy.",
            vec![crate::http::error::FieldError::new("new_password", message)],
        ));
    }
    let by = Acting {
        who: &who,
        audit: &audit,
    };
    let change = PasswordChange {
        current: current_password,
        new: new_password,
    };
    sessions::change_own_password(&state.pool, &auth, &state.privacy, by, change)
        .await
        .map_err(|error| match error {
            SessionError::Refused(Refused::Deactivated) => {
                ApiError::invalid_token("Refused: the account is deactivated.")
            }
            error => refused(error),
        })?;
    Ok(HttpResponse::NoContent().finish())
}
