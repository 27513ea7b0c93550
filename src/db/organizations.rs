//! Organizations: the département and its partners (CAF, MSA, MDPH, …).

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
use crate::db::schema::organizations;
use crate::domain::OrganizationKind;

#[derive(Debug, Clone, Queryable, Selectable, Serialize, ToSchema)]
#[diesel(table_name = organizations, check_for_backend(diesel::pg::Pg))]
pub struct Organization {
    pub id: Uuid,
    pub kind: OrganizationKind,
    #[schema(example = "CAF des Hautes-Alpes")]
    pub name: String,
    /// SIRET (14 digits), when known.
    pub siret: Option<String>,
    /// FINESS (9 characters), for health and social facilities.
    pub finess: Option<String>,
    #[serde(skip)]
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::db::versioned::versioned!(Organization);

#[derive(Debug, Insertable)]
#[diesel(table_name = organizations)]
pub struct NewOrganization {
    pub id: Uuid,
    pub kind: OrganizationKind,
    pub name: String,
    pub siret: Option<String>,
    pub finess: Option<String>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = organizations)]
pub struct OrganizationChanges {
    pub name: Option<String>,
    pub siret: Option<Option<String>>,
    pub finess: Option<Option<String>>,
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    page: PageRequest,
    kind: Option<OrganizationKind>,
) -> QueryResult<Vec<Organization>> {
    let mut query = organizations::table
        .select(Organization::as_select())
        .order(organizations::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(organizations::id.gt(after));
    }
    if let Some(kind) = kind {
        query = query.filter(organizations::kind.eq(kind));
    }
    query.load(conn).await
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Organization>> {
    organizations::table
        .find(id)
        .select(Organization::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn insert(tx: &mut Tx<'_>, new: &NewOrganization) -> QueryResult<Organization> {
    diesel::insert_into(organizations::table)
        .values(new)
        .returning(Organization::as_returning())
        .get_result(tx.conn())
        .await
}

pub async fn update(
    tx: &mut Tx<'_>,
    id: Uuid,
    version: i32,
    changes: &OrganizationChanges,
) -> Result<Organization, Error> {
    let locked = organizations::table
        .find(id)
        .select(Organization::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?;
    at_version(locked, version)
        .map_err(|e| e.refused(|| Error::not_found("No such organization.")))?;
    Ok(diesel::update(organizations::table.find(id))
        .set((changes, organizations::version.eq(version + 1)))
        .returning(Organization::as_returning())
        .get_result(tx.conn())
        .await?)
}
