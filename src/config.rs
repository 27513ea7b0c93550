//! Configuration: environment variables (`DATABASE_URL`, `PARCOURS_*`), each also
//! a command-line flag, with development defaults. The README's table mirrors
//! this file.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    /// Defaults that make `cargo run` work on a fresh machine.
    Development,
    /// Nothing is guessed: a missing setting stops start-up.
    Production,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Pretty,
    /// One JSON object per line, for a log collector.
    Json,
}

/// How the password-hashing threads are scheduled beside the requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PasswordScheduling {
    /// Like every other thread.
    Normal,
    /// At nice 10: about a tenth of a busy core's share.
    Nice,
    /// `SCHED_IDLE`: only on CPU time nothing else wants; under sustained
    /// load, logins wait (and answer 503 after 10 s) rather than requests.
    Idle,
}

/// Where the database is and how the pool behaves.
#[derive(Debug, Clone, Args)]
pub struct DatabaseSettings {
    /// PostgreSQL server to use. Unset: parcours runs a private cluster in its
    /// data folder with the machine's PostgreSQL binaries.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// Folder for the private PostgreSQL cluster and generated development files.
    #[arg(long, env = "PARCOURS_DATA_DIR", default_value = "./var")]
    pub data_dir: PathBuf,

    /// Folder holding `initdb` and `postgres`, when they are not found by themselves.
    #[arg(long, env = "PARCOURS_PG_BIN_DIR")]
    pub pg_bin_dir: Option<PathBuf>,

    /// Unprivileged user that runs the private cluster when parcours runs as root.
    #[arg(long, env = "PARCOURS_PG_USER", default_value = "postgres")]
    pub pg_user: String,

    /// Maximum number of database connections of this instance: an eighth
    /// for the background jobs, the rest shared evenly among the HTTP
    /// workers, one pool each (at least one connection per pool).
    #[arg(long, env = "PARCOURS_DB_POOL_SIZE", default_value_t = 16)]
    pub pool_size: usize,

    /// Longest wait for a free connection or a new one, in milliseconds,
    /// before a request answers 503.
    #[arg(long, env = "PARCOURS_DB_TIMEOUT_MS", default_value_t = 3000)]
    pub timeout_ms: u64,

    /// Longest a statement may run, in milliseconds (`statement_timeout`
    /// of every connection); past it the request answers 503.
    #[arg(
        long,
        env = "PARCOURS_DB_STATEMENT_TIMEOUT_MS",
        default_value_t = 30_000
    )]
    pub statement_timeout_ms: u64,

    /// Longest a statement may wait for a lock, in milliseconds
    /// (`lock_timeout`); past it the request answers 503 with Retry-After,
    /// and its connection serves other requests again. Shorter than
    /// `PARCOURS_DB_TIMEOUT_MS`, or start-up stops.
    #[arg(long, env = "PARCOURS_DB_LOCK_TIMEOUT_MS", default_value_t = 1_000)]
    pub lock_timeout_ms: u64,
}

impl DatabaseSettings {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    /// The waits must nest: a request waiting on a lock holds its
    /// connection, so a lock wait as long as the wait for a connection
    /// lets one locked table make every other request time out too.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.lock_timeout_ms >= self.timeout_ms {
            anyhow::bail!(
                "PARCOURS_DB_LOCK_TIMEOUT_MS ({} ms) must be shorter than PARCOURS_DB_TIMEOUT_MS \
                 ({} ms): requests waiting on a locked table would hold every connection longer \
                 than the others wait for one",
                self.lock_timeout_ms,
                self.timeout_ms
            );
        }
        Ok(())
    }
}

/// Tokens, keys and passwords.
#[derive(Debug, Clone, Args)]
pub struct AuthSettings {
    /// Ed25519 private key (PKCS#8 PEM) that signs access tokens. Development:
    /// generated once into the data folder. Production: required.
    #[arg(long, env = "PARCOURS_JWT_SIGNING_KEY_FILE")]
    pub signing_key_file: Option<PathBuf>,

    /// Older public keys (PEM, comma-separated) whose tokens are still
    /// accepted, so that the signing key rotates without logging anyone out.
    #[arg(long, env = "PARCOURS_JWT_VERIFY_KEY_FILES", value_delimiter = ',')]
    pub verify_key_files: Vec<PathBuf>,

    /// `iss` of the access tokens.
    #[arg(long, env = "PARCOURS_JWT_ISSUER", default_value = "parcours")]
    pub issuer: String,

    /// `aud` of the access tokens.
    #[arg(long, env = "PARCOURS_JWT_AUDIENCE", default_value = "parcours-api")]
    pub audience: String,

    /// Lifetime of an access token, in seconds.
    #[arg(long, env = "PARCOURS_ACCESS_TOKEN_TTL_SECS", default_value_t = 900)]
    pub access_ttl_secs: u64,

    /// Lifetime of a refresh token, in seconds (a working day by default).
    #[arg(
        long,
        env = "PARCOURS_REFRESH_TOKEN_TTL_SECS",
        default_value_t = 43_200
    )]
    pub refresh_ttl_secs: u64,

    /// Argon2id memory cost in KiB (OWASP: 19456).
    #[arg(long, env = "PARCOURS_ARGON2_MEMORY_KIB", default_value_t = 19_456)]
    pub argon2_memory_kib: u32,

    /// Argon2id iterations (OWASP: 2).
    #[arg(long, env = "PARCOURS_ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,

    /// Argon2id lanes (OWASP: 1).
    #[arg(long, env = "PARCOURS_ARGON2_LANES", default_value_t = 1)]
    pub argon2_lanes: u32,

    /// Password hashes computed at once; 0 means one less than the cores (at
    /// least one), so that a flood of logins leaves a core for everything else.
    #[arg(long, env = "PARCOURS_PASSWORD_CONCURRENCY", default_value_t = 0)]
    pub password_concurrency: usize,

    /// How the hashing threads are scheduled beside requests: a priority
    /// ranks them below this server's own threads; what bounds them against
    /// everything else is `password_cpu_share`.
    #[arg(
        long,
        env = "PARCOURS_PASSWORD_SCHEDULING",
        value_enum,
        default_value_t = PasswordScheduling::Idle
    )]
    pub password_scheduling: PasswordScheduling,

    /// The share of the machine's cores that password hashing may take on
    /// average (0.25: a quarter of each core), measured in CPU time, so
    /// that it holds whatever the kernel's scheduling does; logins beyond
    /// it wait in the queue. Between 0 (excluded) and 1.
    #[arg(long, env = "PARCOURS_PASSWORD_CPU_SHARE", default_value_t = 0.25)]
    pub password_cpu_share: f64,

    /// Logins that may wait for the hashing at once; one more answers 503
    /// with `Retry-After` at once.
    #[arg(long, env = "PARCOURS_PASSWORD_QUEUE", default_value_t = 64)]
    pub password_queue: usize,

    /// Token requests allowed per minute from one address (burst included).
    #[arg(long, env = "PARCOURS_TOKEN_RATE_PER_MINUTE", default_value_t = 60)]
    pub token_rate_per_minute: u32,
}

impl AuthSettings {
    pub fn access_ttl(&self) -> Duration {
        Duration::from_secs(self.access_ttl_secs)
    }

    pub fn refresh_ttl(&self) -> Duration {
        Duration::from_secs(self.refresh_ttl_secs)
    }

    pub fn check(&self) -> anyhow::Result<()> {
        if !(self.password_cpu_share > 0.0 && self.password_cpu_share <= 1.0) {
            anyhow::bail!(
                "PARCOURS_PASSWORD_CPU_SHARE must be above 0 and at most 1 (a share of the \
                 cores), not {}",
                self.password_cpu_share
            );
        }
        Ok(())
    }

    /// Password hashes computed at once: as configured, or one less than
    /// the cores (at least one).
    pub fn password_threads(&self) -> usize {
        match self.password_concurrency {
            0 => cores().saturating_sub(1).max(1),
            n => n,
        }
    }
}

/// The cores this process may use; 2 when the system cannot tell, as
/// actix-web assumes.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// How webhook deliveries are sent and retried.
#[derive(Debug, Clone, Args)]
pub struct WebhookSettings {
    /// Attempts of one delivery before it is dead-lettered.
    #[arg(
        long = "webhook-max-attempts",
        id = "webhook_max_attempts",
        env = "PARCOURS_WEBHOOK_MAX_ATTEMPTS",
        default_value_t = 10
    )]
    pub max_attempts: u32,

    /// Wait before the first retry, in milliseconds; it doubles at each
    /// failure (up to six hours), with up to 10 % of jitter.
    #[arg(
        long = "webhook-retry-base-ms",
        id = "webhook_retry_base_ms",
        env = "PARCOURS_WEBHOOK_RETRY_BASE_MS",
        default_value_t = 30_000
    )]
    pub retry_base_ms: u64,

    /// Longest wait for an endpoint's answer, in milliseconds.
    #[arg(
        long = "webhook-timeout-ms",
        id = "webhook_timeout_ms",
        env = "PARCOURS_WEBHOOK_TIMEOUT_MS",
        default_value_t = 10_000
    )]
    pub timeout_ms: u64,

    /// How often each instance looks for due deliveries, in milliseconds.
    #[arg(
        long = "webhook-poll-ms",
        id = "webhook_poll_ms",
        env = "PARCOURS_WEBHOOK_POLL_MS",
        default_value_t = 1_000
    )]
    pub poll_ms: u64,
}

impl WebhookSettings {
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }

    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.poll_ms)
    }

    /// The wait after the `attempts`-th failure.
    pub fn backoff(&self, attempts: u32) -> Duration {
        const CAP: Duration = Duration::from_secs(6 * 3600);
        let doubled = 2u64.saturating_pow(attempts.saturating_sub(1));
        Duration::from_millis(self.retry_base_ms.saturating_mul(doubled)).min(CAP)
    }
}

/// Everything `parcours serve` needs.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    #[command(flatten)]
    pub database: DatabaseSettings,

    #[command(flatten)]
    pub auth: AuthSettings,

    #[command(flatten)]
    pub webhooks: WebhookSettings,

    /// Address and port to listen on.
    #[arg(long, env = "PARCOURS_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// `development` or `production`.
    #[arg(long, env = "PARCOURS_ENV", value_enum, default_value_t = Environment::Development)]
    pub environment: Environment,

    /// HTTP worker threads; 0 means one per core.
    #[arg(long, env = "PARCOURS_WORKERS", default_value_t = 0)]
    pub workers: usize,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "PARCOURS_MAX_BODY_BYTES", default_value_t = 262_144)]
    pub max_body_bytes: usize,

    /// Browser origins allowed to call the API (comma-separated), e.g. the
    /// partner front-end's `https://rapt.example.fr`. None by default.
    #[arg(long, env = "PARCOURS_CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,

    /// File holding the 32-byte master key (base64) that encrypts NIRs at
    /// rest and keys their search index. Development: generated once into
    /// the data folder. Production: required; keep it out of database backups.
    #[arg(long, env = "PARCOURS_PERSONAL_DATA_KEY_FILE")]
    pub personal_data_key_file: Option<PathBuf>,

    /// Ed25519 private key (PKCS#8 PEM) that signs audit seals. Development:
    /// generated once into the data folder. Production: required.
    #[arg(long, env = "PARCOURS_AUDIT_SIGNING_KEY_FILE")]
    pub audit_signing_key_file: Option<PathBuf>,

    /// How often each instance seals new audit records, in milliseconds.
    #[arg(long, env = "PARCOURS_AUDIT_SEAL_MS", default_value_t = 1_000)]
    pub audit_seal_ms: u64,

    /// How long an `Idempotency-Key` and its stored response are kept, in seconds.
    #[arg(long, env = "PARCOURS_IDEMPOTENCY_TTL_SECS", default_value_t = 86_400)]
    pub idempotency_ttl_secs: u32,

    /// How long a request holds its `Idempotency-Key` before a retry may
    /// take it over (the request died), in seconds. Longer than any request
    /// takes: the statement and lock timeouts bound the database work.
    #[arg(long, env = "PARCOURS_IDEMPOTENCY_LEASE_SECS", default_value_t = 60)]
    pub idempotency_lease_secs: u32,
}

/// Logging, read before anything else so that start-up itself is logged.
#[derive(Debug, Clone, Args)]
pub struct LogSettings {
    /// `pretty` or `json`.
    #[arg(long, env = "PARCOURS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Pretty, global = true)]
    pub log_format: LogFormat,

    /// Log filter in `tracing` syntax, e.g. `info` or `parcours=debug,info`.
    #[arg(long, env = "PARCOURS_LOG", default_value = "info", global = true)]
    pub log: String,
}

impl Settings {
    pub fn audit_seal_interval(&self) -> Duration {
        Duration::from_millis(self.audit_seal_ms)
    }

    /// HTTP worker threads: as configured, or one per core.
    pub fn http_workers(&self) -> usize {
        match self.workers {
            0 => cores(),
            n => n,
        }
    }

    /// Settings for a test: a given database, an ephemeral port, two workers,
    /// cheap password hashing. The data folder holds the generated signing key.
    pub fn for_tests(database_url: String, data_dir: PathBuf) -> Self {
        Self {
            database: DatabaseSettings {
                database_url: Some(database_url),
                data_dir,
                pg_bin_dir: None,
                pg_user: "postgres".to_owned(),
                pool_size: 4,
                timeout_ms: 2000,
                statement_timeout_ms: 30_000,
                lock_timeout_ms: 1_000,
            },
            auth: AuthSettings {
                signing_key_file: None,
                verify_key_files: Vec::new(),
                issuer: "parcours".to_owned(),
                audience: "parcours-api".to_owned(),
                access_ttl_secs: 900,
                refresh_ttl_secs: 43_200,
                // Cheap hashing keeps the tests fast; production uses OWASP's.
                argon2_memory_kib: 1024,
                argon2_iterations: 1,
                argon2_lanes: 1,
                password_concurrency: 2,
                password_scheduling: PasswordScheduling::Normal,
                password_cpu_share: 1.0,
                password_queue: 64,
                token_rate_per_minute: 1000,
            },
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            environment: Environment::Development,
            workers: 2,
            max_body_bytes: 262_144,
            cors_origins: Vec::new(),
            personal_data_key_file: None,
            audit_signing_key_file: None,
            audit_seal_ms: 100,
            webhooks: WebhookSettings {
                max_attempts: 10,
                retry_base_ms: 30_000,
                timeout_ms: 5_000,
                poll_ms: 100,
            },
            idempotency_ttl_secs: 86_400,
            idempotency_lease_secs: 60,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_is_waited_for_less_than_a_connection() {
        let mut settings = Settings::for_tests(String::new(), "./var".into()).database;
        assert!(settings.check().is_ok());
        settings.lock_timeout_ms = settings.timeout_ms;
        let refused = settings.check().unwrap_err().to_string();
        assert!(refused.contains("PARCOURS_DB_LOCK_TIMEOUT_MS"), "{refused}");
    }
}
