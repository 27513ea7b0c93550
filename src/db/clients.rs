//! Partner clients: machine accounts of partner organizations.

use crate::db::Error;
use crate::db::Tx;
use crate::db::versioned::at_version;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::PageRequest;
use crate::db::schema::clients;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = clients)]
pub struct Client {
    pub id: Uuid,
    pub client_id: String,
    pub name: String,
    pub organization_id: Uuid,
    pub secret_rotated_at: DateTime<Utc>,
    pub active: bool,
    pub version: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

crate::db::versioned::versioned!(Client);

#[derive(Debug, Insertable)]
#[diesel(table_name = clients)]
pub struct NewClient {
    pub id: Uuid,
    pub client_id: String,
    pub name: String,
    pub organization_id: Uuid,
    pub secret_digest: Vec<u8>,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = clients)]
pub struct ClientChanges {
    pub name: Option<String>,
    pub active: Option<bool>,
}

/// The client and its stored secret digest, by its public `client_id`.
pub async fn find_for_login(
    conn: &mut AsyncPgConnection,
    client_id: &str,
) -> QueryResult<Option<(Client, Vec<u8>)>> {
    clients::table
        .filter(clients::client_id.eq(client_id))
        .select((Client::as_select(), clients::secret_digest))
        .first(conn)
        .await
        .optional()
}

pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Client>> {
    clients::table
        .find(id)
        .select(Client::as_select())
        .first(conn)
        .await
        .optional()
}

pub async fn list(conn: &mut AsyncPgConnection, page: PageRequest) -> QueryResult<Vec<Client>> {
    let mut query = clients::table
        .select(Client::as_select())
        .order(clients::id)
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(after) = page.after {
        query = query.filter(clients::id.gt(after));
    }
    query.load(conn).await
}

pub async fn insert(tx: &mut Tx<'_>, new: &NewClient) -> QueryResult<Client> {
    diesel::insert_into(clients::table)
        .values(new)
        .returning(Client::as_returning())
        .get_result(tx.conn())
        .await
}

pub async fn update(
    tx: &mut Tx<'_>,
    id: Uuid,
    version: i32,
    changes: &ClientChanges,
) -> Result<Client, Error> {
    let locked = clients::table
        .find(id)
        .select(Client::as_select())
        .for_update()
        .first(tx.conn())
        .await
        .optional()?;
    at_version(locked, version).map_err(|e| e.refused(|| Error::not_found("No such client.")))?;
    Ok(diesel::update(clients::table.find(id))
        .set((changes, clients::version.eq(version + 1)))
        .returning(Client::as_returning())
        .get_result(tx.conn())
        .await?)
}

/// Replaces the secret; the old one stops working at once.
pub async fn rotate_secret(
    tx: &mut Tx<'_>,
    id: Uuid,
    digest: &[u8],
) -> QueryResult<Option<Client>> {
    diesel::update(clients::table.find(id))
        .set((
            clients::secret_digest.eq(digest),
            clients::secret_rotated_at.eq(diesel::dsl::now),
            clients::version.eq(clients::version + 1),
        ))
        .returning(Client::as_returning())
        .get_result(tx.conn())
        .await
        .optional()
}
