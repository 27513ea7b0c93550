//! Territories: the département's areas of social action.

use crate::db::Error;
use crate::db::Tx;
use crate::db::versioned::at_version;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::PageRequest;
use crate::db::schema::territories;

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = territories)]
pub struct Territory {
    pub id: Uuid,
    /// Short stable code, e.g. `05-GAP`.
    #[schema(example = "05-GAP")]
    pub code: String,
    #[schema(example = "Gapençais")]
    pub name: String,
    #[serde(skip)]
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::db::versioned::versioned!(Territory);

#[derive(Debug, Insertable)]
#[diesel(table_name = territories)]
pub struct NewTerritory {
    pub id: Uuid,
    pub code: String,
    pub name: String,
}

pub async fn list(conn: &mut AsyncPgConnection, page: PageRequest) -> QueryResult<Vec<Territory>> {
    let mut query = territories::table
        .select(Territory::as_select())
        .order(territories::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(territories::id.gt(after));
    }
    query.load(conn).await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Territory>> {
    territories::table
        .find(id)
        .select(Territory::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn insert(tx: &mut Tx<'_>, new: &NewTerritory) -> QueryResult<Territory> {
    diesel::insert_into(territories::table)
        .values(new)
        .returning(Territory::as_returning())
        .get_result(tx.conn())
        .await
}

/// Renames the territory if `version` is current; `None` when it is not
/// (or the territory does not exist).
pub async fn rename(
    tx: &mut Tx<'_>,
    id: Uuid,
    version: i32,
    name: &str,
) -> Result<Territory, Error> {
    let locked = territories::table
        .find(id)
        .select(Territory::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?;
    at_version(locked, version)
        .map_err(|e| e.refused(|| Error::not_found("No such territory.")))?;
    Ok(diesel::update(territories::table.find(id))
        .set((
            territories::name.eq(name),
            territories::version.eq(version + 1),
        ))
        .returning(Territory::as_returning())
        .get_result(tx.conn())
        .await?)
}
