//! The database: connection pool, embedded migrations, and the private
//! PostgreSQL cluster used when no `DATABASE_URL` is given.

pub mod access_log;
pub mod alert_rules;
pub mod alerts;
pub mod audit;
pub mod audited;
pub mod backlog;
pub mod clients;
pub mod commitments;
pub mod communes;
pub mod decisions;
pub mod domain_calendar;
pub mod enums;
pub mod error;
pub mod escalations;
pub mod events;
pub mod exports;
pub mod facility_follow_ups;
pub mod feed;
pub mod fixed_sql;
pub mod idempotency;
pub mod indicators;
pub mod login_throttle;
pub mod meetings;
pub mod migrations;
pub mod notes;
pub mod organizations;
pub mod partner_pathways;
pub mod pathways;
pub mod personal_data;
pub mod persons;
pub mod plans;
pub mod pool;
pub mod referrals;
pub mod refresh_tokens;
pub mod retention;
pub mod schema;
pub mod scope;
pub mod subject_access;
pub mod territories;
pub mod tx;
pub mod users;
pub mod versioned;
pub mod views;
pub mod webhooks;

pub use error::Error;
pub use pool::{Connection, DbPool, PoolError, Pools, PoolsStatus};
pub use tx::Tx;

/// A page of a list in id order: up to `limit` rows after `after`. Query
/// functions fetch `limit + 1` rows, so that the caller knows if more follow.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<uuid::Uuid>,
}

/// A database URL with its password hidden, for logs.
pub fn redacted_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            parsed.to_string()
        }
        Err(_) => "<unparseable database URL>".to_owned(),
    }
}

/// The same server, another database: `postgres://h/parcours` → `postgres://h/{name}`.
pub fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let mut parsed = url::Url::parse(url)?;
    parsed.set_path(&format!("/{name}"));
    Ok(parsed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_the_password_only() {
        assert_eq!(
            redacted_url("postgres://parcours:s3cret@db:5432/parcours"),
            "postgres://parcours:***@db:5432/parcours"
        );
        assert_eq!(
            redacted_url("postgres://postgres@127.0.0.1/x"),
            "postgres://postgres@127.0.0.1/x"
        );
    }

    #[test]
    fn switches_database_keeping_socket_hosts() {
        assert_eq!(
            with_database("postgresql://postgres@%2Ftmp%2Frun:5432/postgres", "t1").unwrap(),
            "postgresql://postgres@%2Ftmp%2Frun:5432/t1"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "t2").unwrap(),
            "postgres://u:p@h/t2?sslmode=disable"
        );
    }
}
