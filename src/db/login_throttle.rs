//! Slowing down failed logins without telling who exists and without
//! letting anyone lock a colleague out.
//!
//! Failures are counted per (login name, source address) and per source
//! address — never per account — under keyed hashes. The same name from
//! another address is untouched, and an unknown name counts exactly like a
//! known one, so the answers never differ between them.

use diesel::prelude::*;
use diesel::sql_types::{Array, Bytea, Integer, Nullable, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Failures of one name from one address before it must wait.
pub const NAME_FAILURES: i32 = 5;
/// Failures from one address, whatever the names, before it must wait.
pub const ADDRESS_FAILURES: i32 = 50;
/// Failures are counted over this window, in minutes.
const WINDOW_MINUTES: i32 = 15;
/// The longest wait, in minutes; the first is one minute, then it doubles.
const MAX_WAIT_MINUTES: i32 = 15;

#[derive(QueryableByName)]
struct Blocked {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    until: Option<chrono::DateTime<chrono::Utc>>,
}

/// Until when any of these keys must wait, if one must.
pub async fn blocked_until(
    conn: &mut AsyncPgConnection,
    keys: &[Vec<u8>],
) -> QueryResult<Option<chrono::DateTime<chrono::Utc>>> {
    let row: Blocked = diesel::sql_query(
        "SELECT max(blocked_until) AS until FROM login_throttle \
         WHERE key = ANY($1) AND blocked_until > now()",
    )
    .bind::<Array<Bytea>, _>(keys)
    .get_result(conn)
    .await?;
    Ok(row.until)
}

/// Counts one failure under `key`; from `threshold` failures within the
/// window on, the key waits one minute, then twice as long each time.
pub async fn record_failure(
    conn: &mut AsyncPgConnection,
    key: &[u8],
    threshold: i32,
) -> QueryResult<()> {
    diesel::sql_query(format!(
        "INSERT INTO login_throttle AS t (key, failures) VALUES ($1, 1) \
         ON CONFLICT (key) DO UPDATE SET \
             failures = CASE WHEN t.window_started_at < now() - interval '{WINDOW_MINUTES} minutes' \
                             AND (t.blocked_until IS NULL OR t.blocked_until < now()) \
                        THEN 1 ELSE t.failures + 1 END, \
             window_started_at = CASE WHEN t.window_started_at < now() - interval '{WINDOW_MINUTES} minutes' \
                             AND (t.blocked_until IS NULL OR t.blocked_until < now()) \
                        THEN now() ELSE t.window_started_at END, \
             blocked_until = CASE WHEN t.failures + 1 >= $2 \
                 THEN now() + make_interval(mins => LEAST({MAX_WAIT_MINUTES}, \
                      power(2, LEAST(t.failures + 1 - $2, 10))::int)) \
                 ELSE t.blocked_until END"
    ))
    .bind::<Bytea, _>(key)
    .bind::<Integer, _>(threshold)
    .execute(&mut *conn)
    .await?;
    // Counters long finished are dropped a few at a time, on the failing
    // path only: the table stays as small as the recent failures.
    diesel::sql_query(
        "DELETE FROM login_throttle WHERE key IN (SELECT key FROM login_throttle \
         WHERE window_started_at < now() - interval '1 day' \
           AND (blocked_until IS NULL OR blocked_until < now()) LIMIT 100)",
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A successful login clears its name's failures from that address.
pub async fn forget(conn: &mut AsyncPgConnection, key: &[u8]) -> QueryResult<()> {
    diesel::sql_query("DELETE FROM login_throttle WHERE key = $1")
        .bind::<Bytea, _>(key)
        .execute(conn)
        .await?;
    Ok(())
}
