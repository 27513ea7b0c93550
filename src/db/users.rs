//! Staff users: accounts, their territories, login bookkeeping.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::Tx;
use crate::db::error::{Violation, violation};
use crate::db::schema::{refresh_tokens, user_territories, users};
use crate::db::versioned::at_version;
use crate::db::{Error, PageRequest};
use crate::domain::{Domain, Role};

/// The domains of a row (never NULL: a CHECK forbids it).
pub fn present(domains: &[Option<Domain>]) -> Vec<Domain> {
    domains.iter().flatten().copied().collect()
}

/// After this many consecutive failures an account locks, for 1 minute,
/// then 2, 4, … up to an hour at each further failure.

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// PostgreSQL arrays may hold NULLs, so diesel reads `Option`s; a CHECK
    /// keeps them out. Use [`present`].
    pub domains: Vec<Option<Domain>>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::db::versioned::versioned!(User);

/// What a login needs to know.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct Credentials {
    pub id: Uuid,
    pub role: Role,
    /// PostgreSQL arrays may hold NULLs, so diesel reads `Option`s; a CHECK
    /// keeps them out. Use [`present`].
    pub domains: Vec<Option<Domain>>,
    pub active: bool,
    pub password_hash: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct NewUser {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    /// PostgreSQL arrays may hold NULLs, so diesel reads `Option`s; a CHECK
    /// keeps them out. Use [`present`].
    pub domains: Vec<Option<Domain>>,
    pub password_hash: String,
    /// Set when someone else chose or saw the password (an admin).
    pub password_change_required: bool,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub domains: Option<Vec<Option<Domain>>>,
    pub active: Option<bool>,
}

pub async fn find_credentials(
    conn: &mut AsyncPgConnection,
    email: &str,
) -> QueryResult<Option<Credentials>> {
    users::table
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = lower(")
                .bind::<diesel::sql_types::Text, _>(email)
                .sql(")"),
        )
        .select(Credentials::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn find_active_credentials_by_id(
    conn: &mut AsyncPgConnection,
    id: Uuid,
) -> QueryResult<Option<Credentials>> {
    users::table
        .find(id)
        .filter(users::active.eq(true))
        .select(Credentials::as_select())
        .first(conn)
        .await
        .optional()
}

/// A successful login stores an upgraded hash, if any.
pub async fn record_success(tx: &mut Tx<'_>, id: Uuid, rehash: Option<&str>) -> QueryResult<()> {
    if let Some(hash) = rehash {
        diesel::update(users::table.find(id))
            .set(users::password_hash.eq(hash))
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

pub async fn territories_of(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Vec<Uuid>> {
    user_territories::table
        .filter(user_territories::user_id.eq(id))
        .select(user_territories::territory_id)
        .order(user_territories::territory_id)
        .load(conn)
        .await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<User>> {
    users::table
        .find(id)
        .select(User::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    page: PageRequest,
    role: Option<Role>,
    active: Option<bool>,
) -> QueryResult<Vec<User>> {
    let mut query = users::table
        .select(User::as_select())
        .order(users::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(users::id.gt(after));
    }
    if let Some(role) = role {
        query = query.filter(users::role.eq(role));
    }
    if let Some(active) = active {
        query = query.filter(users::active.eq(active));
    }
    query.load(conn).await
}

/// Territories of several users, for a list.
pub async fn territories_of_many(
    conn: &mut AsyncPgConnection,
    ids: &[Uuid],
) -> QueryResult<Vec<(Uuid, Uuid)>> {
    user_territories::table
        .filter(user_territories::user_id.eq_any(ids))
        .select((user_territories::user_id, user_territories::territory_id))
        .order((user_territories::user_id, user_territories::territory_id))
        .load(conn)
        .await
}

pub async fn insert(tx: &mut Tx<'_>, new: &NewUser, territories: &[Uuid]) -> QueryResult<User> {
    let user = diesel::insert_into(users::table)
        .values(new)
        .returning(User::as_returning())
        .get_result(tx.conn())
        .await?;
    set_territories(tx, user.id, territories).await?;
    Ok(user)
}

/// The account, locked for a change inside the caller's transaction, if
/// it is at `version` (404 when absent, 412 when it moved on).
pub async fn lock_at(conn: &mut AsyncPgConnection, id: Uuid, version: i32) -> Result<User, Error> {
    let locked = users::table
        .find(id)
        .select(User::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?;
    at_version(locked, version).map_err(|e| e.refused(|| Error::not_found("No such user.")))
}

/// Changes an account locked by [`lock_at`] and moves its version on;
/// deactivating it also ends its logins. Run inside the caller's
/// transaction.
pub async fn update(
    tx: &mut Tx<'_>,
    locked: &User,
    changes: &UserChanges,
    territories: Option<&[Uuid]>,
) -> Result<User, Error> {
    let user = diesel::update(users::table.find(locked.id))
        .set((changes, users::version.eq(locked.version + 1)))
        .returning(User::as_returning())
        .get_result(tx.conn())
        .await?;
    if let Some(territories) = territories {
        set_territories(tx, user.id, territories)
            .await
            .map_err(|e| match violation(&e) {
                Some(Violation::ForeignKey) => {
                    Error::unprocessable("territories", "names a territory that does not exist")
                }
                _ => e.into(),
            })?;
    }
    if changes.active == Some(false) {
        revoke_refresh_tokens(tx, user.id).await?;
    }
    Ok(user)
}

/// Replaces the password and ends every login of the account: its refresh
/// tokens are revoked and its access tokens refused from now on. With
/// `handed_out`, the password is one somebody else knows (an admin's reset):
/// its holder must set a new one before anything else.
pub async fn set_password(
    tx: &mut Tx<'_>,
    id: Uuid,
    hash: &str,
    handed_out: bool,
) -> QueryResult<usize> {
    let changed = diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(hash),
            users::password_change_required.eq(handed_out),
            users::tokens_valid_after.eq(diesel::dsl::now),
            users::version.eq(users::version + 1),
        ))
        .execute(tx.conn())
        .await?;
    diesel::update(refresh_tokens::table)
        .filter(refresh_tokens::user_id.eq(id))
        .filter(refresh_tokens::revoked_at.is_null())
        .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
        .execute(tx.conn())
        .await?;
    Ok(changed)
}

async fn set_territories(tx: &mut Tx<'_>, id: Uuid, territories: &[Uuid]) -> QueryResult<()> {
    diesel::delete(user_territories::table.filter(user_territories::user_id.eq(id)))
        .execute(tx.conn())
        .await?;
    let rows: Vec<_> = territories
        .iter()
        .map(|t| {
            (
                user_territories::user_id.eq(id),
                user_territories::territory_id.eq(*t),
            )
        })
        .collect();
    diesel::insert_into(user_territories::table)
        .values(&rows)
        .on_conflict_do_nothing()
        .execute(tx.conn())
        .await?;
    Ok(())
}

async fn revoke_refresh_tokens(tx: &mut Tx<'_>, id: Uuid) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
    .execute(tx.conn())
    .await
}
