//! The connection pools: deadpool over diesel-async, each connection with
//! its waits bounded, and a test query only for connections that sat idle;
//! one pool per HTTP worker thread and one for the background jobs.

use std::sync::Arc;
use std::time::Duration;

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, PoolError as ConnectionError, PoolableConnection,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};

use crate::config::DatabaseSettings;

pub type DbPool = managed::Pool<Manager>;

static UNAVAILABLE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Counts a request that found no connection (called where it is answered
/// 503), for `/metrics`.
pub fn count_unavailable() {
    UNAVAILABLE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// Requests that found no connection since start.
pub fn unavailable_total() -> u64 {
    UNAVAILABLE.load(std::sync::atomic::Ordering::Relaxed)
}
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

/// The instance's pools. A connection's I/O is driven by a task on the
/// thread that opened it, so a connection shared by every worker made each
/// query of a request served on another worker cross threads twice. Each
/// HTTP worker has its own pool instead, and the background jobs theirs;
/// together they open at most `PARCOURS_DB_POOL_SIZE` connections (at least
/// one per pool).
#[derive(Clone)]
pub struct Pools {
    workers: Arc<[DbPool]>,
    background: DbPool,
    /// One connection for `/ready`, so that requests waiting on a locked
    /// table never make a load balancer think the database is gone.
    health: DbPool,
}

/// What `/metrics` shows of the pools, summed over all of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolsStatus {
    pub max: usize,
    pub open: usize,
    pub idle: usize,
    pub waiting: usize,
}

impl Pools {
    /// `workers` pools for the HTTP workers, one for the background jobs:
    /// an eighth of the connections (at least one), the rest shared evenly.
    pub fn build(
        database_url: &str,
        settings: &DatabaseSettings,
        workers: usize,
    ) -> anyhow::Result<Self> {
        let workers = workers.max(1);
        let background = (settings.pool_size / 8).max(1);
        let for_requests = settings.pool_size.saturating_sub(background);
        let pools = (0..workers)
            .map(|i| {
                let size = for_requests / workers + usize::from(i < for_requests % workers);
                build_pool(database_url, settings, size.max(1))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            workers: pools.into(),
            background: build_pool(database_url, settings, background)?,
            health: build_pool(database_url, settings, HEALTH_CONNECTIONS)?,
        })
    }

    /// The readiness check's connection.
    pub fn health(&self) -> DbPool {
        self.health.clone()
    }

    /// The pool of the `index`-th HTTP worker (wrapping around).
    pub fn for_worker(&self, index: usize) -> DbPool {
        // `build` made at least one worker pool; the fallback is never taken.
        let pools = &self.workers;
        pools
            .get(index % pools.len().max(1))
            .unwrap_or(&self.background)
            .clone()
    }

    /// The background jobs' pool.
    pub fn background(&self) -> DbPool {
        self.background.clone()
    }

    pub fn status(&self) -> PoolsStatus {
        self.workers
            .iter()
            .chain([&self.background, &self.health])
            .map(managed::Pool::status)
            .fold(PoolsStatus::default(), |sum, s| PoolsStatus {
                max: sum.max + s.max_size,
                open: sum.open + s.size,
                idle: sum.idle + s.available,
                waiting: sum.waiting + s.waiting,
            })
    }
}

/// The readiness check's own connections.
const HEALTH_CONNECTIONS: usize = 1;

/// Whether `ours` more connections fit under the server's
/// `max_connections`, beside the `reserved` ones (superusers') and those
/// `in_use` now; otherwise what an operator must read. The rule: instances
/// × connections each ≤ `max_connections` − reserved − other clients.
pub fn connections_fit(max: i64, reserved: i64, in_use: i64, ours: usize) -> Result<(), String> {
    let ours = i64::try_from(ours).unwrap_or(i64::MAX);
    let free = max - reserved - in_use;
    if ours <= free {
        return Ok(());
    }
    Err(format!(
        "this instance may open {ours} connections but the database has {free} left \
         (max_connections {max}, {reserved} reserved, {in_use} in use): requests will answer 503 \
         when they are all needed; lower PARCOURS_DB_POOL_SIZE or raise max_connections \
         (instances × connections each ≤ max_connections − reserved)"
    ))
}

/// Warns at start when this instance's connections would not fit in what
/// the database has left. Best effort: a failed reading says nothing.
pub async fn warn_if_oversized(conn: &mut AsyncPgConnection, ours: usize) {
    #[derive(diesel::QueryableByName)]
    struct Limits {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        max: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        reserved: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        in_use: i64,
    }
    use diesel_async::RunQueryDsl;
    let limits: Result<Limits, _> = diesel::sql_query(
        "SELECT current_setting('max_connections')::bigint AS max, \
                current_setting('superuser_reserved_connections')::bigint AS reserved, \
                (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') \
                    - 1 AS in_use",
    )
    .get_result(conn)
    .await;
    if let Ok(l) = limits
        && let Err(warning) = connections_fit(l.max, l.reserved, l.in_use, ours)
    {
        tracing::warn!("{warning}");
    }
}

/// Builds one pool of at most `size` connections. Connections are opened
/// lazily, so this succeeds even when the database is down; requests then
/// answer 503 until it is back.
///
/// Every connection bounds its waits (`statement_timeout`, `lock_timeout`):
/// a locked table holds a connection for at most the lock timeout, so the
/// pool keeps serving the routes that do not touch it.
fn build_pool(
    database_url: &str,
    settings: &DatabaseSettings,
    size: usize,
) -> anyhow::Result<DbPool> {
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
        .max_size(size)
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(Duration::from_secs(2)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()?;
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    /// Each worker's pool, the jobs' pool, and all of them with the
    /// readiness check's connection.
    fn sizes(pool_size: usize, workers: usize) -> (Vec<usize>, usize, usize) {
        let mut settings = Settings::for_tests("postgres://unused".into(), "/unused".into());
        settings.database.pool_size = pool_size;
        let pools = Pools::build("postgres://unused", &settings.database, workers).unwrap();
        let each = (0..workers)
            .map(|i| pools.for_worker(i).status().max_size)
            .collect();
        (
            each,
            pools.background().status().max_size,
            pools.status().max,
        )
    }

    #[test]
    fn an_instance_fits_beside_the_reserved_connections_and_the_others() {
        assert!(connections_fit(100, 3, 10, 17).is_ok());
        assert!(connections_fit(100, 3, 80, 17).is_ok());
        let refused = connections_fit(12, 3, 0, 17).unwrap_err();
        assert!(refused.contains("9 left"), "{refused}");
        assert!(connections_fit(12, 3, 5, 4).is_ok());
        assert!(connections_fit(12, 3, 6, 4).is_err());
    }

    #[test]
    fn the_configured_connections_are_shared_among_the_workers_and_the_jobs() {
        assert_eq!(sizes(16, 2), (vec![7, 7], 2, 17));
        assert_eq!(sizes(16, 3), (vec![5, 5, 4], 2, 17));
        assert_eq!(sizes(4, 2), (vec![2, 1], 1, 5));
        assert_eq!(sizes(64, 8), (vec![7; 8], 8, 65));
    }

    #[test]
    fn every_pool_has_a_connection_even_when_there_are_fewer_than_pools() {
        assert_eq!(sizes(2, 4), (vec![1; 4], 1, 6));
    }
}
