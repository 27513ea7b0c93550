//! The administration of accounts, as an admin does it through the API:
//! each change recorded, none on the admin's own account, none moving an
//! account between administration, case work and audit (separation of
//! duties, [`crate::domain::policy`]). A holder's own password change too.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use crate::audit::{Acting, record};
use crate::auth::passwords::PasswordHasherPool;
use crate::auth::secrets::{digest, random_secret};
use crate::db::Error;
use crate::db::clients::{self, Client, ClientChanges};
use crate::db::users::{self, User, UserChanges};
use crate::domain::Role;
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::policy;
use crate::services::accounts::{self, CreateClient, CreateUser, UserView};
use crate::services::change::{Change, transaction};

/// A new staff account, with the territories it works in and, when one
/// was generated, the one-time password to hand over.
pub type NewAccount = (User, Vec<Uuid>, Option<String>);

/// Opens a staff account; its holder must set a new password first.
pub async fn create_user(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    passwords: &PasswordHasherPool,
    input: CreateUser,
) -> Result<NewAccount, Error> {
    Change::new(by, AuditAction::Create, AuditTarget::User)
        .run(
            conn,
            async |conn| accounts::create_user(conn, passwords, input, true).await,
            |created| created.0.id,
        )
        .await
}

/// Changes a staff account, recorded with what it was before and after.
pub async fn update_user(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    changes: &UserChanges,
    territories: Option<&[Uuid]>,
) -> Result<(User, Vec<Uuid>), Error> {
    let updated = transaction(conn, async |conn| {
        let before = users::lock_at(conn, id, version).await?;
        check_account_change(by, &before, changes.role)?;
        let before_territories = users::territories_of(conn, before.id).await?;
        let user = users::update(conn, &before, changes, territories).await?;
        let after_territories = users::territories_of(conn, user.id).await?;
        let changes = (
            snapshot(&before, &before_territories)?,
            snapshot(&user, &after_territories)?,
        );
        let target = (AuditTarget::User, user.id);
        record::changed_from(conn, by.audit, by.who, AuditAction::Update, target, changes).await?;
        Ok::<_, Error>((user, after_territories))
    })
    .await;
    let target = (AuditTarget::User, Some(id));
    record::settled(conn, by.audit, by.who, AuditAction::Update, target, updated).await
}

/// Replaces a staff account's password with `hash`, one the admin hands
/// over: its logins end and its holder must set a new one first.
pub async fn reset_password(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    hash: &str,
) -> Result<(), Error> {
    Change::new(by, AuditAction::ResetPassword, AuditTarget::User)
        .of(id)
        .run(
            conn,
            async |conn| {
                let Some(target) = users::find(conn, id).await? else {
                    return Err(Error::not_found("No such user."));
                };
                check_account_change(by, &target, None)?;
                users::set_password(conn, id, hash, true).await?;
                Ok(())
            },
            |()| id,
        )
        .await
}

/// The holder's own new password (already checked against the current
/// one): its other logins end.
pub async fn change_own_password(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    hash: &str,
) -> Result<(), Error> {
    let id = by.who.subject.id();
    Change::new(by, AuditAction::ChangePassword, AuditTarget::User)
        .of(id)
        .run(
            conn,
            async |conn| {
                Ok::<_, Error>(users::set_password(conn, id, hash, false).await.map(drop)?)
            },
            |()| id,
        )
        .await
}

/// Opens a partner client; its secret is returned once.
pub async fn create_client(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    input: CreateClient,
) -> Result<(Client, String), Error> {
    Change::new(by, AuditAction::Create, AuditTarget::Client)
        .run(
            conn,
            async |conn| accounts::create_client(conn, input).await,
            |created| created.0.id,
        )
        .await
}

pub async fn update_client(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
    version: i32,
    changes: &ClientChanges,
) -> Result<Client, Error> {
    Change::new(by, AuditAction::Update, AuditTarget::Client)
        .of(id)
        .run(
            conn,
            async |conn| clients::update(conn, id, version, changes).await,
            |client| client.id,
        )
        .await
}

/// A new secret for the client, returned once; the old one stops working.
pub async fn rotate_client_secret(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    id: Uuid,
) -> Result<(Client, String), Error> {
    let secret = random_secret("pcs_");
    let client = Change::new(by, AuditAction::RotateSecret, AuditTarget::Client)
        .of(id)
        .run(
            conn,
            async |conn| {
                clients::rotate_secret(conn, id, &digest(&secret))
                    .await?
                    .ok_or_else(|| Error::not_found("No such client."))
            },
            |client| client.id,
        )
        .await?;
    Ok((client, secret))
}

/// Separation of duties: no admin changes its own account, and no account
/// moves between administration, case work and audit.
fn check_account_change(by: Acting<'_>, target: &User, role: Option<Role>) -> Result<(), Error> {
    if !policy::may_change_account(by.who, target.id) {
        return Err(Error::forbidden(
            "You cannot change your own account; another admin must.",
        ));
    }
    if let Some(role) = role
        && !policy::role_change_allowed(target.role, role)
    {
        return Err(Error::unprocessable(
            "role",
            "cannot move an account between administration, case work and audit; create a \
             new account for the other duty",
        ));
    }
    Ok(())
}

/// What the audit trail keeps of an account before and after a change:
/// what an admin reads of it ([`UserView`]).
fn snapshot(user: &User, territories: &[Uuid]) -> Result<serde_json::Value, Error> {
    serde_json::to_value(UserView::new(user.clone(), territories.to_vec())).map_err(Error::internal)
}
