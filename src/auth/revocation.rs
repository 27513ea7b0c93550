//! Deactivated accounts, known to every API instance within about a second.
//!
//! Each instance keeps the set of inactive users and clients in memory and
//! listens on the `parcours_principals` channel (a trigger notifies it when
//! an `active` flag changes), so a request costs no database round trip to
//! learn that its token's account was deactivated. While the listener is not
//! connected, the check falls back to the database: it never fails open.

use std::collections::HashSet;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use uuid::Uuid;

use crate::auth::Subject;
use crate::db::DbPool;
use crate::db::schema::{clients, users};
use crate::error::ApiError;

const CHANNEL: &str = "parcours_principals";
/// A full reload now and then, in case a notification was missed.
const RELOAD_EVERY: Duration = Duration::from_secs(30);
/// Reconnection delays double from the first to the last while the database
/// stays away, so that an outage does not flood the log.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_LAST: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct Revocations {
    inactive: RwLock<HashSet<Uuid>>,
    listening: AtomicBool,
}

impl Revocations {
    /// Whether the subject's account is active. Cheap while listening.
    pub async fn is_active(&self, subject: Subject, pool: &DbPool) -> Result<bool, ApiError> {
        if AtomicBool::load(&self.listening, Ordering::Acquire) {
            let inactive = self
                .inactive
                .read()
                .map_err(|_| ApiError::internal(anyhow::anyhow!("revocation set poisoned")))?;
            return Ok(!inactive.contains(&subject.id()));
        }
        let mut conn = pool.get().await?;
        let active: Option<bool> = match subject {
            Subject::User(id) => users::table
                .find(id)
                .select(users::active)
                .first(&mut conn)
                .await
                .optional()?,
            Subject::Client(id) => clients::table
                .find(id)
                .select(clients::active)
                .first(&mut conn)
                .await
                .optional()?,
        };
        Ok(active.unwrap_or(false))
    }

    async fn reload(&self, conn: &mut AsyncPgConnection) -> QueryResult<()> {
        let mut inactive: HashSet<Uuid> = users::table
            .filter(users::active.eq(false))
            .select(users::id)
            .load::<Uuid>(conn)
            .await?
            .into_iter()
            .collect();
        inactive.extend(
            clients::table
                .filter(clients::active.eq(false))
                .select(clients::id)
                .load::<Uuid>(conn)
                .await?,
        );
        if let Ok(mut set) = self.inactive.write() {
            *set = inactive;
        }
        Ok(())
    }

    /// Keeps the set current for as long as the process runs.
    pub fn spawn_listener(self: std::sync::Arc<Self>, database_url: String) {
        tokio::spawn(async move {
            let mut delay = RETRY_FIRST;
            loop {
                let started = std::time::Instant::now();
                if let Err(error) = self.listen(&database_url).await {
                    tracing::warn!(error = %error, retry_in_secs = delay.as_secs(),
                        "revocation listener disconnected; checking the database per request");
                }
                self.listening.store(false, Ordering::Release);
                // A connection that lasted a while starts the delays afresh.
                if started.elapsed() > RETRY_LAST {
                    delay = RETRY_FIRST;
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(RETRY_LAST);
            }
        });
    }

    async fn listen(&self, database_url: &str) -> anyhow::Result<()> {
        let mut conn = AsyncPgConnection::establish(database_url).await?;
        diesel::sql_query(format!("LISTEN {CHANNEL}"))
            .execute(&mut conn)
            .await?;
        // Listening before loading: a change between the two is not missed.
        self.reload(&mut conn).await?;
        self.listening.store(true, Ordering::Release);
        loop {
            let notified = {
                let mut stream = std::pin::pin!(conn.notifications_stream());
                tokio::time::timeout(RELOAD_EVERY, stream.next()).await
            };
            match notified {
                Ok(Some(Ok(_))) | Err(_) => self.reload(&mut conn).await?,
                Ok(Some(Err(error))) => return Err(error.into()),
                Ok(None) => anyhow::bail!("the notification stream ended"),
            }
        }
    }
}
