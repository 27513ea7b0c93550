//! Prometheus metrics: requests by route and status, a latency histogram,
//! the database pool's usage and failures, what waits behind the requests
//! (webhook deliveries, unsealed audit records, idempotency keys in flight)
//! and the process's resident memory. Served as text at `GET /metrics`; the
//! README says which alert to set on each.
//!
//! Each application owns its registry (tests run several in one process).
//! Routes are labelled by their pattern (`/v1/persons/{id}`), never by the
//! concrete path, so that ids do not explode the label space.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, web};
use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};

use crate::auth::passwords::PasswordLoad;
use crate::db::PoolsStatus;
use crate::db::backlog::Backlog;

/// Requests that found no database connection in time (a process-wide
/// count: one application serves per process).
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    pool_unavailable: IntGauge,
    webhooks: IntGaugeVec,
    webhooks_oldest: Gauge,
    audit_unsealed: IntGauge,
    audit_unsealed_seconds: Gauge,
    idempotency_in_flight: IntGauge,
    backlog_up: IntGauge,
    resident_memory: IntGauge,
    password_queued: IntGauge,
    password_refused: IntGauge,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("parcours".to_owned()), None)?;
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route pattern, method and status.",
            ),
            &["route", "method", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from receiving a request to answering it, by route pattern and method.",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ]),
            &["route", "method"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new(
                "db_pool_connections",
                "Database pool: `max` allowed, `open` now, `idle` among them, `waiting` requests.",
            ),
            &["state"],
        )?;
        let pool_unavailable = IntGauge::new(
            "db_pool_unavailable_total",
            "Requests answered 503 because no database connection came in time (since start).",
        )?;
        let webhooks = IntGaugeVec::new(
            Opts::new(
                "webhook_deliveries",
                "Webhook deliveries: `pending` not yet attempted, `failing` retried with backoff, `dead` given up.",
            ),
            &["state"],
        )?;
        let webhooks_oldest = Gauge::new(
            "webhook_oldest_pending_seconds",
            "Age of the oldest webhook delivery not yet made (0 when none).",
        )?;
        let audit_unsealed = IntGauge::new(
            "audit_unsealed_records",
            "Audit records written after the last seal.",
        )?;
        let audit_unsealed_seconds = Gauge::new(
            "audit_unsealed_seconds",
            "Age of the oldest audit record not yet sealed (0 when none).",
        )?;
        let idempotency_in_flight = IntGauge::new(
            "idempotency_keys_in_flight",
            "Idempotency keys whose request is running (claimed, no response stored yet).",
        )?;
        let backlog_up = IntGauge::new(
            "backlog_measured",
            "1 when the webhook, audit and idempotency figures were read now; 0 when the database did not answer.",
        )?;
        let password_queued = IntGauge::new(
            "password_queue_length",
            "Logins waiting for password hashing (a hashing thread or the CPU budget) now.",
        )?;
        let password_refused = IntGauge::new(
            "password_queue_refused_total",
            "Logins answered 503 because the password hashing queue was full (since start).",
        )?;
        let resident_memory = IntGauge::new(
            "process_resident_memory_bytes",
            "Resident memory of the process (from /proc/self/statm).",
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        for gauge in [
            &pool_unavailable,
            &audit_unsealed,
            &idempotency_in_flight,
            &backlog_up,
            &resident_memory,
            &password_queued,
            &password_refused,
        ] {
            registry.register(Box::new(gauge.clone()))?;
        }
        registry.register(Box::new(webhooks.clone()))?;
        registry.register(Box::new(webhooks_oldest.clone()))?;
        registry.register(Box::new(audit_unsealed_seconds.clone()))?;
        Ok(Self {
            registry,
            requests,
            latency,
            pool,
            pool_unavailable,
            webhooks,
            webhooks_oldest,
            audit_unsealed,
            audit_unsealed_seconds,
            idempotency_in_flight,
            backlog_up,
            resident_memory,
            password_queued,
            password_refused,
        })
    }

    /// Every `(route, method, status)` answered so far.
    pub fn answered(&self) -> Vec<(String, String, String)> {
        use prometheus::core::Collector;
        let mut answered = Vec::new();
        for family in self.requests.collect() {
            for metric in family.get_metric() {
                let label = |name: &str| {
                    metric
                        .get_label()
                        .iter()
                        .find(|l| l.name() == name)
                        .map(|l| l.value().to_owned())
                        .unwrap_or_default()
                };
                answered.push((label("route"), label("method"), label("status")));
            }
        }
        answered
    }

    fn observe(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .with_label_values(&[route, method, &status.to_string()])
            .inc();
        self.latency
            .with_label_values(&[route, method])
            .observe(seconds);
    }

    /// The Prometheus text exposition, with the pool gauges read now and
    /// `backlog` when the database answered.
    pub fn render(
        &self,
        pools: PoolsStatus,
        backlog: Option<&Backlog>,
        passwords: PasswordLoad,
    ) -> anyhow::Result<String> {
        self.password_queued
            .set(i64::try_from(passwords.queued).unwrap_or(i64::MAX));
        self.password_refused
            .set(i64::try_from(passwords.refused).unwrap_or(i64::MAX));
        let gauge = |state: &str, value: usize| {
            self.pool
                .with_label_values(&[state])
                .set(i64::try_from(value).unwrap_or(i64::MAX));
        };
        gauge("max", pools.max);
        gauge("open", pools.open);
        gauge("idle", pools.idle);
        gauge("waiting", pools.waiting);
        let unavailable = crate::db::pool::unavailable_total();
        self.pool_unavailable
            .set(i64::try_from(unavailable).unwrap_or(i64::MAX));
        self.backlog_up.set(i64::from(backlog.is_some()));
        if let Some(b) = backlog {
            self.webhooks
                .with_label_values(&["pending"])
                .set(b.webhooks_pending);
            self.webhooks
                .with_label_values(&["failing"])
                .set(b.webhooks_failing);
            self.webhooks
                .with_label_values(&["dead"])
                .set(b.webhooks_dead);
            self.webhooks_oldest.set(b.webhooks_oldest_pending_seconds);
            self.audit_unsealed.set(b.audit_unsealed);
            self.audit_unsealed_seconds.set(b.audit_unsealed_seconds);
            self.idempotency_in_flight.set(b.idempotency_in_flight);
        }
        self.resident_memory.set(resident_memory_bytes());
        let mut buffer = Vec::new();
        prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut buffer)?;
        Ok(String::from_utf8(buffer)?)
    }
}

/// Resident set size from `/proc/self/statm` (its second field, in pages);
/// 0 where there is no such file.
fn resident_memory_bytes() -> i64 {
    let pages = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<i64>().ok())
        .unwrap_or(0);
    // SAFETY: sysconf reads a constant of the system.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages.saturating_mul(page_size)
}

/// The middleware function (`actix_web::middleware::from_fn`).
pub async fn track(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = req.method().to_string();
    let result = next.call(req).await;
    if let Some(metrics) = metrics {
        let (route, status) = match &result {
            Ok(response) => (response.request().match_pattern(), response.status()),
            Err(error) => (None, error.as_response_error().status_code()),
        };
        metrics.observe(
            route.as_deref().unwrap_or("<unmatched>"),
            &method,
            status.as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    result
}
