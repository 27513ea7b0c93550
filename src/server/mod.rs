//! Building and running the application: the database (given or private),
//! migrations, the HTTP server and its middleware, the jobs, graceful shutdown.

pub mod cluster;
pub mod front_door;

use std::net::TcpListener;
use std::sync::Arc;

use actix_service::{IntoServiceFactory, ServiceFactoryExt, fn_service, map_config};
use actix_web::body::MessageBody;
use actix_web::dev::AppConfig;
use actix_web::dev::{Server, ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, web};
use anyhow::{Context, bail};
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use utoipa_actix_web::AppExt;

use crate::audit::keys::SealKey;
use crate::auth::AuthContext;
use crate::auth::keys::KeySet;
use crate::auth::passwords::PasswordHasherPool;
use crate::auth::standing::Standings;
use crate::auth::tokens::TokenService;
use crate::config::{Environment, Settings};
use crate::db::{self, migrations};
use crate::http as api;
use crate::http::middleware::idempotency;
use crate::http::middleware::metrics::{self, Metrics};
use crate::http::middleware::request_context::{RouteTable, fallback, request_context};
use crate::http::middleware::security;
use crate::http::state::AppState;
use crate::jobs::periodic::Periodic;
use crate::privacy::PersonalDataKeys;
use crate::server::cluster::{ClusterOptions, PrivateCluster};

/// Runs a one-off command's `work` on the migrated database, then stops
/// the private cluster if the command started one, whatever `work` did.
pub async fn on_migrated_database<T>(
    settings: &Settings,
    work: impl AsyncFnOnce(&mut AsyncPgConnection) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let database = Database::resolve_for_command(settings).await?;
    let result = async {
        migrations::run_pending(&database.url).await?;
        let mut conn = AsyncPgConnection::establish(&database.url).await?;
        work(&mut conn).await
    }
    .await;
    database.shutdown().await?;
    result
}

/// Name of the application database in the private cluster.
const PRIVATE_DATABASE: &str = "parcours";

/// Extra routes mounted beside the API, inside all its middleware. Only the
/// tests use it, to exercise the request pipeline (body limits, media types)
/// before any resource of the API accepts a body.
pub type ExtraRoutes = fn(&mut web::ServiceConfig);

/// A built application, listening but not yet serving.
pub struct Application {
    server: Server,
    port: u16,
    metrics: web::Data<Metrics>,
    cluster: Option<PrivateCluster>,
    background: Vec<Periodic>,
}

/// The database to use: the configured server, or a private cluster started now.
pub struct Database {
    pub url: String,
    pub cluster: Option<PrivateCluster>,
}

impl Database {
    /// For a one-off command: like [`Database::resolve`], but uses the
    /// private cluster of a running `parcours serve` when there is one.
    pub async fn resolve_for_command(settings: &Settings) -> anyhow::Result<Self> {
        if settings.database.database_url.is_none()
            && let Some(url) =
                PrivateCluster::running_url(&cluster_options(settings), PRIVATE_DATABASE)
        {
            return Ok(Self { url, cluster: None });
        }
        Self::resolve(settings).await
    }

    pub async fn resolve(settings: &Settings) -> anyhow::Result<Self> {
        if let Some(url) = &settings.database.database_url {
            return Ok(Self {
                url: url.clone(),
                cluster: None,
            });
        }
        if settings.environment == Environment::Production {
            bail!("DATABASE_URL is required in production (PARCOURS_ENV=production)");
        }
        let options = cluster_options(settings);
        let cluster =
            tokio::task::spawn_blocking(move || PrivateCluster::start(&options)).await??;
        create_database_if_missing(&cluster.url("postgres"), PRIVATE_DATABASE).await?;
        let url = cluster.url(PRIVATE_DATABASE);
        tracing::info!(url = %url, "using the private PostgreSQL cluster");
        Ok(Self {
            url,
            cluster: Some(cluster),
        })
    }

    /// Stops the private cluster, if this process started one.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        if let Some(cluster) = self.cluster {
            tokio::task::spawn_blocking(move || cluster.stop()).await??;
            tracing::info!("private PostgreSQL cluster stopped");
        }
        Ok(())
    }
}

fn cluster_options(settings: &Settings) -> ClusterOptions {
    ClusterOptions {
        root: settings.database.data_dir.clone(),
        bin_dir: settings.database.pg_bin_dir.clone(),
        run_as: settings.database.pg_user.clone(),
        remove_on_exit: false,
    }
}

/// Creates `name` on the server of `admin_url` unless it exists.
pub async fn create_database_if_missing(admin_url: &str, name: &str) -> anyhow::Result<()> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = Text)]
        #[allow(dead_code)]
        datname: String,
    }
    let mut conn = AsyncPgConnection::establish(admin_url)
        .await
        .context("connecting to the PostgreSQL server")?;
    let found: Vec<Found> = diesel::sql_query("SELECT datname FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .load(&mut conn)
        .await?;
    if found.is_empty() {
        // Identifiers cannot be bound; `name` is ours, not user input.
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await?;
    }
    Ok(())
}

impl Application {
    /// Resolves the database, migrates it, binds the listener.
    pub async fn build(mut settings: Settings, extra: Option<ExtraRoutes>) -> anyhow::Result<Self> {
        // `PARCOURS_CORS_ORIGINS=` (empty) means none.
        settings
            .cors_origins
            .retain(|origin| !origin.trim().is_empty());
        settings
            .auth
            .verify_key_files
            .retain(|path| !path.as_os_str().is_empty());
        validate(&settings)?;
        // Keys first: a missing production key must stop start-up before
        // anything touches the database.
        let auth = build_auth(&settings)?;
        let privacy = PersonalDataKeys::load(
            settings.personal_data_key_file.as_deref(),
            settings.environment,
            &settings.database.data_dir,
        )?;
        let seal_key = SealKey::load(
            settings.audit_signing_key_file.as_deref(),
            settings.environment,
            &settings.database.data_dir,
        )?;
        let database = Database::resolve(&settings).await?;
        let metrics = web::Data::new(Metrics::new()?);
        match Self::build_on(
            &settings,
            &database.url,
            auth,
            privacy,
            seal_key,
            metrics.clone(),
            extra,
        )
        .await
        {
            Ok((server, port, background)) => Ok(Self {
                server,
                port,
                metrics,
                cluster: database.cluster,
                background,
            }),
            Err(error) => {
                database.shutdown().await?;
                Err(error)
            }
        }
    }

    async fn build_on(
        settings: &Settings,
        database_url: &str,
        auth: AuthContext,
        privacy: PersonalDataKeys,
        seal_key: SealKey,
        metrics: web::Data<Metrics>,
        extra: Option<ExtraRoutes>,
    ) -> anyhow::Result<(Server, u16, Vec<Periodic>)> {
        settings.database.check()?;
        let applied = migrations::run_pending(database_url).await?;
        if !applied.is_empty() {
            tracing::info!(applied = ?applied, "database migrated");
        }
        let workers = settings.http_workers();
        let pools = db::Pools::build(database_url, &settings.database, workers)?;
        if let Ok(mut conn) = pools.health().get().await {
            db::pool::warn_if_oversized(&mut conn, pools.status().max).await;
        }
        let state = AppState {
            pool: pools.background(),
            pools,
            migrations: migrations::expected_versions(),
            privacy: Arc::new(privacy),
            seal_key: Arc::new(seal_key),
            idempotency_ttl: chrono::Duration::seconds(settings.idempotency_ttl_secs.into()),
            idempotency_lease: std::time::Duration::from_secs(
                settings.idempotency_lease_secs.into(),
            ),
            environment: settings.environment,
        };
        crate::jobs::audit_months::prepare(&state.pool).await;
        let background = vec![
            crate::jobs::audit_months::spawn(state.pool.clone()),
            crate::jobs::webhooks::spawn(
                state.pool.clone(),
                state.privacy.clone(),
                state.environment,
                settings.webhooks.clone(),
            )?,
            crate::jobs::seal::spawn(
                state.pool.clone(),
                state.seal_key.clone(),
                settings.audit_seal_interval(),
            ),
        ];
        let auth = web::Data::new(auth);
        auth.standings
            .clone()
            .spawn_listener(database_url.to_owned());
        let doc = api::openapi();
        let routes = web::Data::new(RouteTable::from_openapi(&doc));
        let doc_json = web::Data::new(api::docs::OpenApiJson(doc.to_pretty_json()?));
        let docs_config = web::Data::new(api::docs::DocsConfig::new());
        let cors_origins = settings.cors_origins.clone();
        let max_body = settings.max_body_bytes;

        let listener = TcpListener::bind(settings.bind)
            .with_context(|| format!("binding {}", settings.bind))?;
        let address = listener.local_addr()?;
        // The factory runs once on each worker's thread: each takes its
        // own pool, whose connections are then driven on that thread.
        let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        // actix-web's HttpServer, built by hand for one difference: each
        // connection's stream passes through `front_door::Guarded`, so
        // that the HTTP parser's own refusals are problems too.
        let server = actix_server::Server::build()
            .listen("parcours", listener, move || {
                let worker = started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let shared = Shared {
                    state: web::Data::new(AppState {
                        pool: state.pools.for_worker(worker),
                        ..state.clone()
                    }),
                    auth: auth.clone(),
                    routes: routes.clone(),
                    doc_json: doc_json.clone(),
                    docs_config: docs_config.clone(),
                    metrics: metrics.clone(),
                };
                let app = app(shared, cors_origins.clone(), max_body, extra)
                    .into_factory()
                    .map_err(|error| error.error_response());
                let http = actix_http::HttpService::build()
                    .client_disconnect_timeout(std::time::Duration::from_secs(1))
                    .h1_allow_half_closed(true)
                    .local_addr(address)
                    .h1(map_config(app, |_| AppConfig::default()));
                fn_service(|stream: actix_web::rt::net::TcpStream| async move {
                    let peer = stream.peer_addr().ok();
                    stream.set_nodelay(true)?;
                    Ok::<_, actix_http::error::DispatchError>((
                        front_door::Guarded::new(stream),
                        peer,
                    ))
                })
                .and_then(http)
            })?
            .shutdown_timeout(30)
            .workers(workers);
        tracing::info!("parcours listening on http://{address} (docs at http://{address}/docs)");
        crate::auth::passwords::warn_if_autogrouped(settings.auth.password_scheduling);
        Ok((server.run(), address.port(), background))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    /// What the server counts of its answers (also served at `/metrics`).
    pub fn metrics(&self) -> web::Data<Metrics> {
        self.metrics.clone()
    }

    /// Serves until SIGINT/SIGTERM (or [`ServerHandle::stop`]), lets requests
    /// and webhook attempts in flight finish, then stops the private cluster
    /// if there is one.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let served = self.server.await;
        for task in self.background {
            task.stop().await;
        }
        let database = Database {
            url: String::new(),
            cluster: self.cluster,
        };
        database.shutdown().await?;
        Ok(served?)
    }
}

/// Per-worker copies of the shared data.
struct Shared {
    state: web::Data<AppState>,
    auth: web::Data<AuthContext>,
    routes: web::Data<RouteTable>,
    doc_json: web::Data<api::docs::OpenApiJson>,
    docs_config: web::Data<api::docs::DocsConfig>,
    metrics: web::Data<Metrics>,
}

/// The application: routes, shared data, extractor configuration and the
/// middleware, outermost last.
fn app(
    shared: Shared,
    cors_origins: Vec<String>,
    max_body: usize,
    extra: Option<ExtraRoutes>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .into_utoipa_app()
        .configure(api::routes)
        .into_app()
        .app_data(shared.state)
        .app_data(shared.auth)
        .app_data(shared.routes)
        .app_data(shared.doc_json)
        .app_data(shared.docs_config)
        .app_data(shared.metrics)
        .configure(|cfg| api::extract::configure(cfg, max_body))
        .configure(|cfg| {
            if let Some(extra) = extra {
                extra(cfg);
            }
        })
        .default_service(web::to(fallback))
        .wrap(from_fn(idempotency::idempotency))
        .wrap(from_fn(crate::http::middleware::input::input_guard))
        .wrap(security::cors(&cors_origins))
        .wrap(from_fn(metrics::track))
        .wrap(from_fn(request_context))
}

fn build_auth(settings: &Settings) -> anyhow::Result<AuthContext> {
    let keys = KeySet::load(
        &settings.auth,
        settings.environment,
        &settings.database.data_dir,
    )?;
    Ok(AuthContext {
        tokens: TokenService::new(keys, &settings.auth),
        passwords: PasswordHasherPool::new(&settings.auth)?,
        standings: Arc::new(Standings::new(settings.auth.access_ttl())),
        refresh_ttl: chrono::Duration::from_std(settings.auth.refresh_ttl())?,
        rate_limiter: governor::RateLimiter::keyed(governor::Quota::per_minute(
            std::num::NonZeroU32::new(settings.auth.token_rate_per_minute).ok_or_else(|| {
                anyhow::anyhow!("PARCOURS_TOKEN_RATE_PER_MINUTE must be positive")
            })?,
        )),
    })
}

/// Refuses settings that would only fail later, or panic in a library.
fn validate(settings: &Settings) -> anyhow::Result<()> {
    for origin in &settings.cors_origins {
        let parsed = url::Url::parse(origin)
            .with_context(|| format!("PARCOURS_CORS_ORIGINS: `{origin}` is not a URL"))?;
        let bare = parsed.path() == "/" && parsed.query().is_none() && !origin.ends_with('/');
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() || !bare {
            bail!(
                "PARCOURS_CORS_ORIGINS: `{origin}` must be an origin such as \
                 https://front.example.fr (scheme and host, no path, no trailing slash)"
            );
        }
    }
    if settings.max_body_bytes == 0 {
        bail!("PARCOURS_MAX_BODY_BYTES must be positive");
    }
    if settings.database.pool_size == 0 {
        bail!("PARCOURS_DB_POOL_SIZE must be positive");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_origins_must_be_bare_origins() {
        let mut settings = Settings::for_tests("postgres://localhost/x".to_owned(), "./var".into());
        for good in ["https://rapt.hautes-alpes.fr", "http://localhost:5173"] {
            settings.cors_origins = vec![good.to_owned()];
            assert!(validate(&settings).is_ok(), "{good}");
        }
        for bad in [
            "*",
            "https://a.fr/",
            "https://a.fr/app",
            "ftp://a.fr",
            "a.fr",
        ] {
            settings.cors_origins = vec![bad.to_owned()];
            assert!(validate(&settings).is_err(), "{bad}");
        }
    }
}
