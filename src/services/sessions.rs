//! Staff sessions: a login by password, its refresh, its end, and the
//! change of one's own password. What each changes commits in one
//! transaction; a wrong password is counted against the name and the
//! address outside it, so that the count holds when the login is refused.
//! No connection is held while a password is hashed.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::audit::Acting;
use crate::auth::AuthContext;
use crate::auth::passwords::{HashError, Verified};
use crate::auth::secrets::{digest, random_secret};
use crate::auth::tokens::{Grant, SubjectKind};
use crate::db::refresh_tokens::{self, Rotation};
use crate::db::users::Credentials;
use crate::db::{self, DbPool, clients, login_throttle, users};
use crate::domain::Role;
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::passwords::MAX_LENGTH;
use crate::privacy::PersonalDataKeys;
use crate::services::account_changes;
use crate::services::change::{refused, transaction};

/// Why a session was not opened, refreshed or changed. The words said to
/// the caller are HTTP's; a refusal says alike whether the name exists.
#[derive(Debug)]
pub enum Refused {
    /// Too many failures from this address or for this name, until then.
    SlowDown(DateTime<Utc>),
    /// The e-mail or the password is wrong, or the account is deactivated.
    WrongCredentials,
    /// The refresh token is unknown, expired or revoked.
    UnknownRefreshToken,
    /// The refresh token was spent already: its whole login is now ended.
    ReplayedRefreshToken,
    /// The account was deactivated since the login.
    Deactivated,
    /// The client id or secret is wrong, or the client is deactivated.
    WrongClient,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("refused: {0:?}")]
    Refused(Refused),
    #[error(transparent)]
    Hashing(#[from] HashError),
    #[error(transparent)]
    Failed(#[from] db::Error),
}

impl From<diesel::result::Error> for SessionError {
    fn from(error: diesel::result::Error) -> Self {
        Self::Failed(error.into())
    }
}

impl From<db::PoolError> for SessionError {
    fn from(error: db::PoolError) -> Self {
        Self::Failed(error.into())
    }
}

impl From<Refused> for SessionError {
    fn from(refused: Refused) -> Self {
        Self::Refused(refused)
    }
}

/// An open login: what its access token says, and its refresh token.
pub struct Session {
    pub grant: Grant,
    pub refresh_token: String,
}

impl Session {
    /// The login `session` of the account `credentials`, in `territories`.
    fn of(
        credentials: &Credentials,
        territories: Vec<Uuid>,
        session: Uuid,
        refresh_token: String,
    ) -> Self {
        Self {
            grant: Grant {
                subject: credentials.id,
                kind: SubjectKind::User,
                role: credentials.role,
                territories,
                domains: users::present(&credentials.domains),
                organization: None,
                session: Some(session),
            },
            refresh_token,
        }
    }
}

/// A login by e-mail and password from `address`. Failures slow down this
/// name from this address, and this address; never the account, and a
/// name that exists no differently from one that does not.
pub async fn log_in(
    pool: &DbPool,
    auth: &AuthContext,
    keys: &PersonalDataKeys,
    email: &str,
    password: String,
    address: Option<std::net::IpAddr>,
) -> Result<Session, SessionError> {
    if password.chars().count() > MAX_LENGTH {
        return Err(Refused::WrongCredentials.into());
    }
    let name = email.trim().to_lowercase();
    let from = address.map(|a| a.to_string()).unwrap_or_default();
    let name_key = keys.throttle_key("name", &format!("{name}|{from}"));
    let address_key = keys.throttle_key("address", &from);
    let credentials = {
        let mut conn = pool.get().await?;
        let throttled = [name_key.clone(), address_key.clone()];
        if let Some(until) = login_throttle::blocked_until(&mut conn, &throttled).await? {
            return Err(Refused::SlowDown(until).into());
        }
        users::find_credentials(&mut conn, &name).await?
    };
    let usable = credentials.filter(|c| c.active);
    // Always one verification, against a dummy hash for an unknown or
    // deactivated account, so that timing does not tell who exists.
    let verified = auth
        .passwords
        .verify(password, usable.as_ref().map(|c| c.password_hash.clone()))
        .await?;
    let mut conn = pool.get().await?;
    let (credentials, rehash) = match (verified, usable) {
        (Verified::Yes { rehash }, Some(credentials)) => (credentials, rehash),
        _ => {
            login_throttle::record_failure(&mut conn, &name_key, login_throttle::NAME_FAILURES)
                .await?;
            let most = login_throttle::ADDRESS_FAILURES;
            login_throttle::record_failure(&mut conn, &address_key, most).await?;
            return Err(Refused::WrongCredentials.into());
        }
    };
    let refresh_token = random_secret("pcr_");
    let expires_at = Utc::now() + auth.refresh_ttl;
    let session = Uuid::now_v7();
    let territories = transaction(&mut conn, async |tx| {
        login_throttle::forget(tx, &name_key).await?;
        users::record_success(tx, credentials.id, rehash.as_deref()).await?;
        let refresh = digest(&refresh_token);
        refresh_tokens::issue(tx, credentials.id, session, &refresh, expires_at).await?;
        users::territories_of(tx, credentials.id).await
    })
    .await?;
    Ok(Session::of(
        &credentials,
        territories,
        session,
        refresh_token,
    ))
}

/// Spends the refresh token `presented` for a new one. Two uses of one
/// token end as one refresh and one replay, and a replay ends the login.
pub async fn refresh(
    conn: &mut AsyncPgConnection,
    auth: &AuthContext,
    presented: &str,
) -> Result<Session, SessionError> {
    let next = random_secret("pcr_");
    let expires_at = Utc::now() + auth.refresh_ttl;
    // The rotation commits even when the answer is a refusal: a replay's
    // revocation must hold.
    let rotated = transaction(conn, async |tx| {
        let rotation =
            refresh_tokens::rotate(tx, &digest(presented), &digest(&next), expires_at).await?;
        let Rotation::Rotated { user_id, family_id } = rotation else {
            return Ok(Err(rotation));
        };
        let Some(credentials) = users::find_active_credentials_by_id(tx, user_id).await? else {
            return Ok(Ok((family_id, None)));
        };
        let territories = users::territories_of(tx, user_id).await?;
        Ok::<_, db::Error>(Ok((family_id, Some((credentials, territories)))))
    })
    .await?;
    let (session, account) = match rotated {
        Ok(rotated) => rotated,
        Err(Rotation::Reused) => {
            tracing::warn!("a spent refresh token was presented again; its login is revoked");
            return Err(Refused::ReplayedRefreshToken.into());
        }
        Err(_) => return Err(Refused::UnknownRefreshToken.into()),
    };
    let Some((credentials, territories)) = account else {
        return Err(Refused::Deactivated.into());
    };
    Ok(Session::of(&credentials, territories, session, next))
}

/// Ends the login behind `presented` (RFC 7009): an access token names its
/// login; a refresh token is found by its digest. An unknown token changes
/// nothing.
pub async fn end(
    conn: &mut AsyncPgConnection,
    auth: &AuthContext,
    presented: &str,
) -> Result<(), db::Error> {
    let session = auth
        .tokens
        .verify(presented)
        .ok()
        .and_then(|claims| claims.sid);
    transaction(conn, async |tx| match session {
        Some(session) => refresh_tokens::revoke_family(tx, session).await.map(drop),
        None => refresh_tokens::revoke(tx, &digest(presented)).await,
    })
    .await
    .map_err(db::Error::from)
}

/// What a holder gives to change their own password.
pub struct PasswordChange {
    pub current: String,
    /// Already checked against the policy ([`crate::domain::passwords`]).
    pub new: String,
}

/// A holder sets their own password, which ends every login of the
/// account. A wrong current password counts as a failed login.
pub async fn change_own_password(
    pool: &DbPool,
    auth: &AuthContext,
    keys: &PersonalDataKeys,
    by: Acting<'_>,
    change: PasswordChange,
) -> Result<(), SessionError> {
    let id = by.who.subject.id();
    let key = keys.throttle_key("password-change", &id.to_string());
    let credentials = {
        let mut conn = pool.get().await?;
        let throttled = std::slice::from_ref(&key);
        if let Some(until) = login_throttle::blocked_until(&mut conn, throttled).await? {
            return Err(Refused::SlowDown(until).into());
        }
        users::find_active_credentials_by_id(&mut conn, id).await?
    };
    let Some(credentials) = credentials else {
        return Err(Refused::Deactivated.into());
    };
    let verified = auth
        .passwords
        .verify(change.current.clone(), Some(credentials.password_hash))
        .await?;
    let refusal = match verified {
        Verified::Yes { .. } if change.current == change.new => {
            db::Error::unprocessable("new_password", "must differ from the current one")
        }
        Verified::Yes { .. } => {
            let hash = auth.passwords.hash(change.new).await?;
            let mut conn = pool.get().await?;
            account_changes::change_own_password(&mut conn, by, &hash).await?;
            return Ok(());
        }
        Verified::No => {
            let mut conn = pool.get().await?;
            login_throttle::record_failure(&mut conn, &key, login_throttle::NAME_FAILURES).await?;
            db::Error::unprocessable("current_password", "is not your current password")
        }
    };
    let mut conn = pool.get().await?;
    let target = (AuditTarget::User, Some(id));
    Err(
        refused(&mut conn, by, AuditAction::ChangePassword, target, refusal)
            .await
            .into(),
    )
}

/// A partner client's login with its secret (client credentials): its
/// grant, when the secret is its own and the client is active.
pub async fn log_in_client(
    conn: &mut AsyncPgConnection,
    client_id: &str,
    secret: &str,
) -> Result<Grant, SessionError> {
    let found = clients::find_for_login(conn, client_id).await?;
    let presented = digest(secret);
    match found {
        Some((client, stored)) if client.active && bool::from(stored.ct_eq(&presented)) => {
            Ok(Grant {
                subject: client.id,
                kind: SubjectKind::Client,
                role: Role::Partner,
                territories: Vec::new(),
                domains: Vec::new(),
                organization: Some(client.organization_id),
                session: None,
            })
        }
        _ => Err(Refused::WrongClient.into()),
    }
}
