//! Operations endpoints: liveness, readiness and metrics.

use actix_web::{HttpResponse, get, web};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::migrations;
use crate::http::error::{ApiError, ProblemDetails};
use crate::http::middleware::metrics::Metrics;
use crate::http::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`: the process answers.
    #[schema(example = "ok")]
    status: &'static str,
}

/// Liveness: the process is up and answering. Touches nothing else.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "The process is alive.", body = Health))
)]
#[get("/health")]
pub async fn health() -> web::Json<Health> {
    web::Json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`: the database answers and every migration is applied.
    #[schema(example = "ready")]
    status: &'static str,
    /// Migrations built into this binary, all applied.
    #[schema(example = 1)]
    migrations: usize,
}

/// Readiness: the database is reachable and its schema is this binary's.
/// Load balancers should route traffic only to ready instances.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Ready to serve requests.", body = Readiness),
        (status = 503, description = "The database is unreachable or migrations are missing; \
            `Retry-After` says when to ask again.", body = ProblemDetails,
            content_type = "application/problem+json",
            headers(("Retry-After" = u32, description = "Seconds to wait before retrying.")))
    )
)]
#[get("/ready")]
pub async fn ready(state: web::Data<AppState>) -> Result<web::Json<Readiness>, ApiError> {
    // Its own connection: requests waiting on a locked table do not make
    // the instance look unready.
    let mut conn = state.pools.health().get().await?;
    diesel::sql_query("SELECT 1").execute(&mut conn).await?;
    // An error here means the migrations table does not exist yet: none applied.
    let applied = migrations::applied_versions(&mut conn)
        .await
        .unwrap_or_default();
    let missing = state.migrations.difference(&applied).count();
    if missing > 0 {
        return Err(ApiError::unavailable(format!(
            "{missing} database migration(s) are not applied yet. Run `parcours migrate`."
        )));
    }
    Ok(web::Json(Readiness {
        status: "ready",
        migrations: state.migrations.len(),
    }))
}

/// Prometheus metrics in the text exposition format: requests by route and
/// status, latency histogram, database pool usage and failures, webhook
/// deliveries waiting, unsealed audit records, idempotency keys in flight,
/// resident memory.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text format 0.0.4.",
        body = String, content_type = "text/plain; version=0.0.4"))
)]
#[get("/metrics")]
pub async fn metrics(
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    auth: web::Data<crate::auth::AuthContext>,
) -> Result<HttpResponse, ApiError> {
    // The backlog is read on a connection of its own, within a second; a
    // database that does not answer leaves it out (`backlog_measured 0`),
    // never the rest of the metrics.
    let backlog = tokio::time::timeout(std::time::Duration::from_secs(1), async {
        let mut conn = state.pool.get().await.ok()?;
        crate::db::backlog::measure(&mut conn).await.ok()
    })
    .await
    .ok()
    .flatten();
    let text = metrics
        .render(
            state.pools.status(),
            backlog.as_ref(),
            auth.passwords.current_load(),
        )
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type(prometheus::TEXT_FORMAT)
        .body(text))
}
