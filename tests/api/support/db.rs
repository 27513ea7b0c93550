//! One fresh database per test, cloned from a migrated template.
//!
//! The server is the one named by `DATABASE_URL`, or a throw-away private
//! cluster started once per test process (stopped and deleted when the
//! process exits, by the cluster's lifeline). The template's name carries a
//! fingerprint of `migrations/`, so a changed migration builds a new one.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;

use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use parcours::db::{migrations, with_database};
use parcours::server::cluster::{ClusterOptions, PrivateCluster};
use tokio::sync::OnceCell;

struct Server {
    /// URL of the server's `postgres` database, for CREATE/DROP DATABASE.
    admin_url: String,
    template: String,
    _cluster: Option<PrivateCluster>,
}

static SERVER: OnceCell<Server> = OnceCell::const_new();

/// Arbitrary key of the advisory lock that serialises template creation
/// across concurrent test processes.
const TEMPLATE_LOCK: i64 = 72_705_192_017;

async fn server() -> &'static Server {
    SERVER.get_or_init(start_server).await
}

async fn start_server() -> Server {
    let (admin_url, cluster) = match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => (with_database(&url, "postgres").unwrap(), None),
        _ => {
            let root = tempfile::Builder::new()
                .prefix("parcours-test-pg-")
                .tempdir()
                .unwrap()
                .keep();
            let options = ClusterOptions {
                root,
                bin_dir: None,
                run_as: "postgres".to_owned(),
                remove_on_exit: true,
            };
            let cluster = tokio::task::spawn_blocking(move || PrivateCluster::start(&options))
                .await
                .unwrap()
                .expect("the private test cluster starts");
            (cluster.url("postgres"), Some(cluster))
        }
    };
    let template = format!("parcours_template_{:016x}", migrations_fingerprint());
    ensure_template(&admin_url, &template).await;
    Server {
        admin_url,
        template,
        _cluster: cluster,
    }
}

async fn ensure_template(admin_url: &str, template: &str) {
    let mut conn = AsyncPgConnection::establish(admin_url).await.unwrap();
    execute(
        &mut conn,
        &format!("SELECT pg_advisory_lock({TEMPLATE_LOCK})"),
    )
    .await;
    if !database_exists(&mut conn, template).await {
        let building = format!("{template}_building");
        execute(
            &mut conn,
            &format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
        )
        .await;
        execute(&mut conn, &format!("CREATE DATABASE {building}")).await;
        migrations::run_pending(&with_database(admin_url, &building).unwrap())
            .await
            .expect("migrations apply to a new database");
        execute(
            &mut conn,
            &format!("ALTER DATABASE {building} RENAME TO {template}"),
        )
        .await;
        // Templates of older migration sets are of no further use once no
        // other checkout's test run (another branch, a CI job on the same
        // server) can still need them: those built more than a day ago go.
        execute(
            &mut conn,
            &format!(
                "COMMENT ON DATABASE {template} IS 'parcours test template, built {}'",
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs()
            ),
        )
        .await;
        for stale in stale_templates(&mut conn, template).await {
            execute(
                &mut conn,
                &format!("DROP DATABASE IF EXISTS {stale} WITH (FORCE)"),
            )
            .await;
        }
    }
    execute(
        &mut conn,
        &format!("SELECT pg_advisory_unlock({TEMPLATE_LOCK})"),
    )
    .await;
}

fn migrations_fingerprint() -> u64 {
    fn visit(dir: &Path, hasher: &mut DefaultHasher) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            path.file_name().hash(hasher);
            if path.is_dir() {
                visit(&path, hasher);
            } else {
                std::fs::read(&path).unwrap().hash(hasher);
            }
        }
    }
    let mut hasher = DefaultHasher::new();
    visit(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"),
        &mut hasher,
    );
    hasher.finish()
}

/// A database of its own for one test, dropped when the value is.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
    admin_url: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let server = server().await;
        let name = format!("parcours_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = AsyncPgConnection::establish(&server.admin_url)
            .await
            .unwrap();
        execute(
            &mut conn,
            &format!(
                "CREATE DATABASE {name} TEMPLATE {} STRATEGY FILE_COPY",
                server.template
            ),
        )
        .await;
        Self {
            url: with_database(&server.admin_url, &name).unwrap(),
            admin_url: server.admin_url.clone(),
            name,
        }
    }

    /// Drops the database under the application's feet (outage tests).
    pub async fn drop_now(&self) {
        let mut conn = AsyncPgConnection::establish(&self.admin_url).await.unwrap();
        execute(
            &mut conn,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        )
        .await;
    }

    /// Creates it again from the template (outage tests).
    pub async fn recreate(&self) {
        let server = server().await;
        let mut conn = AsyncPgConnection::establish(&self.admin_url).await.unwrap();
        execute(
            &mut conn,
            &format!(
                "CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY",
                self.name, server.template
            ),
        )
        .await;
    }

    pub async fn connect(&self) -> AsyncPgConnection {
        AsyncPgConnection::establish(&self.url).await.unwrap()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        let dropped = on_own_runtime(async move {
            let mut conn = AsyncPgConnection::establish(&admin_url).await.unwrap();
            execute(
                &mut conn,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            )
            .await;
        });
        if dropped.is_err() && !std::thread::panicking() {
            panic!("dropping the test database failed");
        }
    }
}

/// Runs `work` to its end on a runtime of its own, on another thread: a
/// `Drop` runs inside the test's runtime, which cannot be blocked on. `Err`
/// when `work` panicked.
pub fn on_own_runtime<T: Send + 'static>(
    work: impl std::future::Future<Output = T> + Send + 'static,
) -> std::thread::Result<T> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(work)
    })
    .join()
}

pub async fn execute(conn: &mut AsyncPgConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn database_exists(conn: &mut AsyncPgConnection, name: &str) -> bool {
    !databases_like(conn, name).await.is_empty()
}

#[derive(diesel::QueryableByName)]
struct Datname {
    #[diesel(sql_type = Text)]
    datname: String,
}

/// Templates other than `current` built more than a day ago (or unmarked).
async fn stale_templates(conn: &mut AsyncPgConnection, current: &str) -> Vec<String> {
    let rows: Vec<Datname> = diesel::sql_query(
        "SELECT datname FROM pg_database \
         WHERE datname LIKE 'parcours_template_%' AND datname NOT LIKE '%_building' \
           AND datname <> $1 \
           AND coalesce(substring(shobj_description(oid, 'pg_database') \
                   FROM 'built ([0-9]+)$')::bigint, 0) \
               < extract(epoch FROM now() - interval '1 day')",
    )
    .bind::<Text, _>(current)
    .load(conn)
    .await
    .unwrap();
    rows.into_iter().map(|r| r.datname).collect()
}

async fn databases_like(conn: &mut AsyncPgConnection, pattern: &str) -> Vec<String> {
    let rows: Vec<Datname> =
        diesel::sql_query("SELECT datname FROM pg_database WHERE datname LIKE $1")
            .bind::<Text, _>(pattern)
            .load(conn)
            .await
            .unwrap();
    rows.into_iter().map(|r| r.datname).collect()
}
