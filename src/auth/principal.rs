//! The authenticated caller, extracted from `Authorization: Bearer …`.
//!
//! Fails closed: a missing token is 401 with a `Bearer` challenge; any token
//! that does not verify — malformed, expired, not yet valid, wrong issuer or
//! audience, unknown key, another algorithm, or a deactivated account — is
//! 401 `invalid_token`. It is never treated as anonymous.

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use uuid::Uuid;

use crate::audit::{Actor, AuditContext, Entry};
use crate::auth::AuthContext;
use crate::domain::AuditOutcome;
use serde_json::json;
use std::marker::PhantomData;

use crate::auth::policy::{self, Action, Permission};
use crate::auth::tokens::{Claims, SubjectKind};
use crate::domain::{Domain, Role};
use crate::error::ApiError;
use crate::startup::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    User(Uuid),
    Client(Uuid),
}

impl Subject {
    pub fn id(self) -> Uuid {
        match self {
            Subject::User(id) | Subject::Client(id) => id,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub subject: Subject,
    pub role: Role,
    pub territories: Vec<Uuid>,
    pub domains: Vec<Domain>,
    pub organization: Option<Uuid>,
}

impl Principal {
    /// 403 unless the role may take `action` (the policy table).
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if policy::allows(self.role, action) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "The role `{}` may not do this.",
                serde_json::to_value(self.role)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            )))
        }
    }

    pub fn from_claims(claims: Claims) -> Self {
        Self {
            subject: match claims.kind {
                SubjectKind::User => Subject::User(claims.sub),
                SubjectKind::Client => Subject::Client(claims.sub),
            },
            role: claims.role,
            territories: claims.territories,
            domains: claims.domains,
            organization: claims.organization,
        }
    }
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let auth = req.app_data::<web::Data<AuthContext>>().cloned();
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer_token(req);
        let context = AuditContext::of(req);
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
                    let entry = Entry::new("token_refused", AuditOutcome::Denied)
                        .listing(json!({ "reason": reason.0 }), vec![]);
                    audit_refusal(&state, &context, Actor::Anonymous, entry);
                    return Err(ApiError::invalid_token(format!("Refused: {}.", reason.0)));
                }
            };
            let principal = Principal::from_claims(claims);
            if !auth
                .revocations
                .is_active(principal.subject, &state.pool)
                .await?
            {
                let entry = Entry::new("token_refused", AuditOutcome::Denied)
                    .listing(json!({ "reason": "the account is deactivated" }), vec![]);
                audit_refusal(&state, &context, Actor::Principal(&principal), entry);
                return Err(ApiError::invalid_token(
                    "Refused: the account is deactivated.",
                ));
            }
            Ok(principal)
        })
    }
}

/// A principal whose role may take `P::ACTION` (403 otherwise), checked
/// during extraction, before any later extractor reads the body.
pub struct Authorized<P: Permission>(pub Principal, PhantomData<P>);

impl<P: Permission> Authorized<P> {
    pub fn principal(&self) -> &Principal {
        &self.0
    }
}

impl<P: Permission + 'static> FromRequest for Authorized<P> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let principal = Principal::from_request(req, payload);
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let context = AuditContext::of(req);
        let attempted = json!({
            "method": req.method().as_str(),
            "route": req.match_pattern().unwrap_or_default(),
        });
        Box::pin(async move {
            let principal = principal.await?;
            if let Err(refused) = principal.require(P::ACTION) {
                if let Some(state) = state {
                    let entry =
                        Entry::new("authorize", AuditOutcome::Denied).listing(attempted, vec![]);
                    audit_refusal(&state, &context, Actor::Principal(&principal), entry);
                }
                return Err(refused);
            }
            Ok(Self(principal, PhantomData))
        })
    }
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
