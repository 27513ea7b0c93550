//! The connection pool: deadpool over diesel-async, each connection with
//! its waits bounded, and a test query only for connections that sat idle.

use std::time::Duration;

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError as ConnectionError, PoolableConnection,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

use crate::config::DatabaseSettings;

pub type DbPool = managed::Pool<Manager>;
/// A connection taken from the pool, returned to it when dropped.
pub type Connection = managed::Object<Manager>;
pub type PoolError = managed::PoolError<ConnectionError>;

/// A connection taken again within this time of its last use is handed out
/// without a test query: it just answered one, and a connection the server
/// closed since (a restart, a terminated backend) is known as closed
/// without one. Older connections are tested with `SELECT 1` first.
const TESTED_AFTER_IDLE: Duration = Duration::from_secs(5);

/// diesel-async's manager, with a test query only after an idle time: a
/// test on every checkout was one round trip more on each request (a third
/// of an audited read's).
pub struct Manager(AsyncDieselConnectionManager<AsyncPgConnection>);

impl managed::Manager for Manager {
    type Type = AsyncPgConnection;
    type Error = ConnectionError;

    async fn create(&self) -> Result<AsyncPgConnection, ConnectionError> {
        self.0.create().await
    }

    async fn recycle(
        &self,
        conn: &mut AsyncPgConnection,
        metrics: &Metrics,
    ) -> RecycleResult<ConnectionError> {
        if metrics.last_used() >= TESTED_AFTER_IDLE {
            return self.0.recycle(conn, metrics).await;
        }
        // The checks diesel-async makes before its test query: an open
        // transaction left behind, a closed connection.
        if std::thread::panicking() || conn.is_broken() {
            return Err(RecycleError::Message("Broken connection".into()));
        }
        Ok(())
    }
}

/// Builds the pool. Connections are opened lazily, so this succeeds even when
/// the database is down; requests then answer 503 until it is back.
///
/// Every connection bounds its waits (`statement_timeout`, `lock_timeout`):
/// a locked table holds a connection for at most the lock timeout, so the
/// pool keeps serving the routes that do not touch it.
pub fn build_pool(database_url: &str, settings: &DatabaseSettings) -> anyhow::Result<DbPool> {
    let bounds = format!(
        "SET statement_timeout = {}; SET lock_timeout = {}",
        settings.statement_timeout_ms, settings.lock_timeout_ms
    );
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    config.custom_setup = Box::new(move |url| {
        let bounds = bounds.clone();
        let url = url.to_owned();
        Box::pin(async move {
            let mut conn = AsyncPgConnection::establish(&url).await?;
            conn.batch_execute(&bounds)
                .await
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        })
    });
    let manager = Manager(AsyncDieselConnectionManager::new_with_config(
        database_url,
        config,
    ));
    let timeout = settings.timeout();
    let pool = managed::Pool::builder(manager)
        .max_size(settings.pool_size)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(Duration::from_secs(2)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()?;
    Ok(pool)
}
