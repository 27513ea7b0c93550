//! The authenticated caller, extracted from `Authorization: Bearer …`.
//!
//! Fails closed: a missing token is 401 with a `Bearer` challenge; any token
//! that does not verify — malformed, expired, not yet valid, wrong issuer or
//! audience, unknown key, another algorithm, a deactivated account or a
//! revoked login — is 401 `invalid_token`. It is never treated as anonymous.
//!
//! The token says who its holder is; what the holder may do (role,
//! territories, domains, organization) is the account's standing now
//! ([`crate::auth::standing`]), so an account change applies to live tokens
//! within a second. A holder of a one-time password may only set a new one
//! ([`PasswordPending`]); every other route answers 403
//! `password-change-required`.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde_json::json;
use std::marker::PhantomData;

use crate::audit::Acting;
use crate::audit::{Actor, AuditContext, Entry};
use crate::auth::AuthContext;
use crate::auth::policy::{Action, Permission};
use crate::auth::principal::subject_of;
use crate::domain::AuditOutcome;
use crate::domain::audit::AuditAction;
use crate::domain::principal::Principal;
use crate::http::audit_context;
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// A pooled database connection.
pub use crate::db::Connection;

/// Whether a session that must first set a new password is let through.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pending {
    Refused,
    Allowed,
}

/// The token's holder as its account stands now: 401 for a refused token,
/// a deactivated account or a revoked login; 403 while a one-time password
/// must be changed, unless `pending` allows it.
fn authenticate(
    req: &HttpRequest,
    pending: Pending,
) -> LocalBoxFuture<'static, Result<Authenticated, ApiError>> {
    let auth = req.app_data::<web::Data<AuthContext>>().cloned();
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let token = bearer_token(req);
    let context = audit_context::of(req);
    Box::pin(async move {
        let (Some(auth), Some(state)) = (auth, state) else {
            return Err(ApiError::internal(anyhow::anyhow!(
                "authentication is not configured"
            )));
        };
        let token = token?;
        let claims = match auth.tokens.verify(&token) {
            Ok(claims) => claims,
            Err(reason) => {
                let entry = Entry::new(AuditAction::TokenRefused, AuditOutcome::Denied)
                    .listing(json!({ "reason": reason.0 }), vec![]);
                audit_refusal(&state, &context, Actor::Anonymous, entry);
                return Err(ApiError::invalid_token(format!("Refused: {}.", reason.0)));
            }
        };
        let subject = subject_of(&claims);
        let standing = auth
            .standings
            .current(subject, claims.sid, claims.iat, &state.pool)
            .await?;
        let standing = match standing {
            Ok(standing) => standing,
            Err(refusal) => {
                let holder = Principal::from_claims(claims);
                let entry = Entry::new(AuditAction::TokenRefused, AuditOutcome::Denied)
                    .listing(json!({ "reason": refusal.reason() }), vec![]);
                audit_refusal(&state, &context, Actor::Principal(&holder), entry);
                return Err(ApiError::invalid_token(format!(
                    "Refused: {}.",
                    refusal.reason()
                )));
            }
        };
        let must_change = standing.password_change_required;
        let principal = Principal::with_standing(&claims, standing);
        if must_change && pending == Pending::Refused {
            return Err(ApiError::PasswordChangeRequired);
        }
        Ok(Authenticated {
            principal,
            audit: context,
            state,
        })
    })
}

/// What authenticating a request yields, read from it once: the holder,
/// the request's audit context, and the application state.
struct Authenticated {
    principal: Principal,
    audit: AuditContext,
    state: web::Data<AppState>,
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let authenticated = authenticate(req, Pending::Refused);
        Box::pin(async move { Ok(authenticated.await?.principal) })
    }
}

/// A principal that may still hold a one-time password, and whose role may
/// set its own (checked before the body is read): only for setting a new
/// password (`POST /v1/me/password`).
pub struct PasswordPending(pub Principal);

impl FromRequest for PasswordPending {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let authorized = authorize(req, Pending::Allowed, Action::ChangeOwnPassword);
        Box::pin(async move { Ok(Self(authorized.await?.principal)) })
    }
}

/// An authorized request: a principal whose role may take `P::ACTION`
/// (403 otherwise, checked during extraction, before any later extractor
/// reads the body), the request's audit context, and the database.
pub struct Authorized<P: Permission> {
    principal: Principal,
    audit: AuditContext,
    state: web::Data<AppState>,
    permission: PhantomData<P>,
}

impl<P: Permission> Authorized<P> {
    pub fn principal(&self) -> &Principal {
        &self.principal
    }

    /// Who, from where and why, for the records this request writes.
    pub fn audit(&self) -> &AuditContext {
        &self.audit
    }

    /// The principal and the audit context, as a use case takes them.
    pub fn acting(&self) -> Acting<'_> {
        Acting {
            who: &self.principal,
            audit: &self.audit,
        }
    }

    /// A connection from the pool (503 while the database is away).
    pub async fn conn(&self) -> Result<Connection, ApiError> {
        Ok(self.state.pool.get().await?)
    }
}

impl<P: Permission + 'static> FromRequest for Authorized<P> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let authorized = authorize(req, Pending::Refused, P::ACTION);
        Box::pin(async move {
            let Authenticated {
                principal,
                audit,
                state,
            } = authorized.await?;
            Ok(Self {
                principal,
                audit,
                state,
                permission: PhantomData,
            })
        })
    }
}

/// The principal, if its role may take `action`: 403 otherwise, recorded.
fn authorize(
    req: &HttpRequest,
    pending: Pending,
    action: Action,
) -> LocalBoxFuture<'static, Result<Authenticated, ApiError>> {
    let authenticated = authenticate(req, pending);
    let req = req.clone();
    Box::pin(async move {
        let authenticated = authenticated.await?;
        let Authenticated {
            principal,
            audit,
            state,
        } = &authenticated;
        if let Err(refused) = principal.require(action) {
            let attempted = json!({
                "method": req.method().as_str(),
                "route": req.match_pattern().unwrap_or_default(),
            });
            let entry =
                Entry::new(AuditAction::Authorize, AuditOutcome::Denied).listing(attempted, vec![]);
            audit_refusal(state, audit, Actor::Principal(principal), entry);
            return Err(refused.into());
        }
        Ok(authenticated)
    })
}

/// Records a refusal without delaying it: the refusal must answer before
/// any later extractor reads the body. A failure to record is logged.
fn audit_refusal(
    state: &web::Data<AppState>,
    context: &AuditContext,
    actor: Actor<'_>,
    entry: Entry,
) {
    let record = crate::audit::record::new_record(context, actor, entry);
    let state = state.clone();
    actix_web::rt::spawn(async move {
        let written = async {
            let mut conn = state.pool.get().await?;
            crate::db::audit::insert(&mut conn, &record).await?;
            anyhow::Ok(())
        };
        if let Err(error) = written.await {
            tracing::warn!(error = %error, "a refusal could not be audited");
        }
    });
}

pub fn bearer_token(req: &HttpRequest) -> Result<String, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Err(ApiError::unauthorized(
            "Send an access token: `Authorization: Bearer <token>` (POST /v1/auth/token).",
        ));
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::invalid_token("Refused: the Authorization header is not text."))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(token.trim().to_owned())
        }
        _ => Err(ApiError::invalid_token(
            "Refused: the Authorization header must be `Bearer <token>`.",
        )),
    }
}
