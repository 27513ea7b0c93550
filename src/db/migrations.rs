//! Embedded migrations (`migrations/`), run at start-up and by `parcours migrate`.
//!
//! diesel's migration harness is synchronous. It runs here on a blocking thread
//! through diesel-async's `AsyncConnectionWrapper`, never on an async worker
//! (diesel-async's own `AsyncMigrationHarness` calls `block_in_place`, which
//! panics on actix's single-threaded runtimes).

use std::collections::BTreeSet;

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

type SyncConnection = AsyncConnectionWrapper<AsyncPgConnection>;

/// Applies every pending migration; returns the versions it applied.
///
/// With none pending it only reads, so that the API can run under a role
/// without DDL rights (`parcours grant-api`) once the owner has migrated.
pub async fn run_pending(database_url: &str) -> anyhow::Result<Vec<String>> {
    if nothing_pending(database_url).await {
        return Ok(Vec::new());
    }
    with_sync_connection(database_url, |conn| {
        let applied = conn.run_pending_migrations(MIGRATIONS).map_err(|e| {
            anyhow::anyhow!(
                "applying migrations failed: {e} (a role without DDL rights cannot migrate: \
                 run `parcours migrate` as the database owner)"
            )
        })?;
        Ok(applied.iter().map(ToString::to_string).collect())
    })
    .await
}

/// Whether every built-in migration is recorded as applied. Any doubt (no
/// migrations table yet, no connection) answers no: the harness decides.
async fn nothing_pending(database_url: &str) -> bool {
    use diesel_async::AsyncConnection;
    let Ok(mut conn) = AsyncPgConnection::establish(database_url).await else {
        return false;
    };
    match applied_versions(&mut conn).await {
        Ok(applied) => expected_versions().is_subset(&applied),
        Err(_) => false,
    }
}

/// Reverts every applied migration (used by the up/down/up test).
pub async fn revert_all(database_url: &str) -> anyhow::Result<Vec<String>> {
    with_sync_connection(database_url, |conn| {
        let reverted = conn
            .revert_all_migrations(MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("reverting migrations failed: {e}"))?;
        Ok(reverted.iter().map(ToString::to_string).collect())
    })
    .await
}

async fn with_sync_connection<T, F>(database_url: &str, work: F) -> anyhow::Result<T>
where
    T: Send + 'static,
    F: FnOnce(&mut SyncConnection) -> anyhow::Result<T> + Send + 'static,
{
    use diesel::Connection;
    let url = database_url.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut conn = SyncConnection::establish(&url)
            .map_err(|e| anyhow::anyhow!("connecting to the database failed: {e}"))?;
        work(&mut conn)
    })
    .await?
}

/// Versions of the migrations built into this binary.
pub fn expected_versions() -> BTreeSet<String> {
    use diesel::migration::MigrationSource;
    use diesel::pg::Pg;
    MigrationSource::<Pg>::migrations(&MIGRATIONS)
        .map(|all| all.iter().map(|m| m.name().version().to_string()).collect())
        .unwrap_or_default()
}

#[derive(QueryableByName)]
struct AppliedVersion {
    #[diesel(sql_type = Text)]
    version: String,
}

/// Versions recorded as applied in the database.
pub async fn applied_versions(
    conn: &mut AsyncPgConnection,
) -> diesel::QueryResult<BTreeSet<String>> {
    let rows: Vec<AppliedVersion> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations")
            .load(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.version).collect())
}
