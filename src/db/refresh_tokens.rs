//! Refresh tokens: rotation on each use, reuse detection by family.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::Tx;
use crate::db::schema::refresh_tokens;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = refresh_tokens)]
struct Stored {
    id: Uuid,
    family_id: Uuid,
    user_id: Uuid,
    expires_at: DateTime<Utc>,
    used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

/// What presenting a refresh token led to.
#[derive(Debug, PartialEq, Eq)]
pub enum Rotation {
    /// Spent; a new token of the same family was stored for this user.
    Rotated { user_id: Uuid, family_id: Uuid },
    /// Unknown, expired or revoked.
    Invalid,
    /// Already spent: someone replayed it. The whole family is now revoked.
    Reused,
}

pub async fn issue(
    tx: &mut Tx<'_>,
    user_id: Uuid,
    family_id: Uuid,
    digest: &[u8],
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(Uuid::now_v7()),
            refresh_tokens::family_id.eq(family_id),
            refresh_tokens::user_id.eq(user_id),
            refresh_tokens::token_digest.eq(digest),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Spends the token of `digest` and stores its successor `next_digest`, in
/// one transaction; the row lock makes two concurrent uses of one token end
/// as one rotation and one reuse.
pub async fn rotate(
    tx: &mut Tx<'_>,
    digest: &[u8],
    next_digest: &[u8],
    next_expires_at: DateTime<Utc>,
) -> QueryResult<Rotation> {
    let stored: Option<Stored> = refresh_tokens::table
        .filter(refresh_tokens::token_digest.eq(digest))
        .select(Stored::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?;
    let Some(stored) = stored else {
        return Ok(Rotation::Invalid);
    };
    if stored.revoked_at.is_some() || stored.expires_at <= Utc::now() {
        return Ok(Rotation::Invalid);
    }
    if stored.used_at.is_some() {
        revoke_family(tx, stored.family_id).await?;
        return Ok(Rotation::Reused);
    }
    diesel::update(refresh_tokens::table.find(stored.id))
        .set(refresh_tokens::used_at.eq(diesel::dsl::now))
        .execute(tx.conn())
        .await?;
    issue(
        tx,
        stored.user_id,
        stored.family_id,
        next_digest,
        next_expires_at,
    )
    .await?;
    Ok(Rotation::Rotated {
        user_id: stored.user_id,
        family_id: stored.family_id,
    })
}

/// Revokes the family of the token of `digest`, if there is one.
pub async fn revoke(tx: &mut Tx<'_>, digest: &[u8]) -> QueryResult<()> {
    let family: Option<Uuid> = refresh_tokens::table
        .filter(refresh_tokens::token_digest.eq(digest))
        .select(refresh_tokens::family_id)
        .first(tx.conn())
        .await
        .optional()?;
    if let Some(family) = family {
        revoke_family(tx, family).await?;
    }
    Ok(())
}

/// Revokes every token of a login (a refresh token family) still live;
/// how many.
pub async fn revoke_family(tx: &mut Tx<'_>, family_id: Uuid) -> QueryResult<usize> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
    .execute(tx.conn())
    .await
}
