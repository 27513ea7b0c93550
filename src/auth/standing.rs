//! What each account may do now, known to every API instance within about
//! a second: its role, territories, domains and organization, whether it is
//! active, whether it must first set a new password, and the logins
//! (sessions) revoked lately.
//!
//! An access token only says who its holder is and which login it belongs
//! to; the authority is read here on every request. Each instance keeps the
//! standings in memory and listens on the `parcours_principals` channel
//! (triggers notify it when an account, its territories or a login change),
//! so a request costs no database round trip. While the listener is not
//! connected, every request reads the database instead: it never fails open.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, Bool, Double, Nullable, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryableByName};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::StreamExt;
use uuid::Uuid;

use crate::auth::Subject;
use crate::db::DbPool;
use crate::db::Error;
use crate::db::schema::sql_types::{Domain as SqlDomain, Role as SqlRole};
use crate::domain::{Domain, Role};

const CHANNEL: &str = "parcours_principals";
/// A full reload now and then, in case a notification was missed.
const RELOAD_EVERY: Duration = Duration::from_secs(30);
/// Reconnection delays double from the first to the last while the database
/// stays away, so that an outage does not flood the log.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_LAST: Duration = Duration::from_secs(30);

/// What an account may do now.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct Standing {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlRole)]
    pub role: Role,
    #[diesel(sql_type = Array<SqlUuid>)]
    pub territories: Vec<Uuid>,
    #[diesel(sql_type = Array<SqlDomain>)]
    pub domains: Vec<Domain>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub organization: Option<Uuid>,
    #[diesel(sql_type = Bool)]
    pub active: bool,
    /// It holds a password an admin handed out: only setting a new one is allowed.
    #[diesel(sql_type = Bool)]
    pub password_change_required: bool,
    /// Tokens issued before this instant are refused (a password change).
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub tokens_valid_after: Option<DateTime<Utc>>,
}

/// Why a token's holder may not act now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown or deactivated account.
    Inactive,
    /// The login was revoked (`/v1/auth/revoke`, reuse of a refresh token,
    /// a password change).
    Revoked,
}

impl Refusal {
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::Inactive => "the account is deactivated",
            Refusal::Revoked => "this login was revoked",
        }
    }
}

const ACCOUNTS: &str = "\
    SELECT u.id, u.role, \
           coalesce((SELECT array_agg(ut.territory_id ORDER BY ut.territory_id) \
                     FROM user_territories ut WHERE ut.user_id = u.id), '{}') AS territories, \
           u.domains, NULL::uuid AS organization, u.active, u.password_change_required, \
           nullif(u.tokens_valid_after, '-infinity') AS tokens_valid_after \
    FROM users u WHERE $1::uuid IS NULL OR u.id = $1 \
    UNION ALL \
    SELECT c.id, 'partner'::role, '{}', '{}', c.organization_id, c.active, false, NULL \
    FROM clients c WHERE $1::uuid IS NULL OR c.id = $1";

#[derive(QueryableByName)]
struct Session {
    #[diesel(sql_type = SqlUuid)]
    family_id: Uuid,
}

pub struct Standings {
    accounts: RwLock<HashMap<Uuid, Standing>>,
    revoked_sessions: RwLock<HashSet<Uuid>>,
    listening: AtomicBool,
    /// How long an access token lives: a login revoked longer ago than
    /// that has no live token left to refuse.
    token_ttl: Duration,
}

impl Standings {
    pub fn new(token_ttl: Duration) -> Self {
        Self {
            accounts: RwLock::default(),
            revoked_sessions: RwLock::default(),
            listening: AtomicBool::new(false),
            token_ttl,
        }
    }

    /// What the holder of a token issued at `issued_at` for `session` may
    /// do now. Cheap while listening; otherwise read from the database.
    pub async fn current(
        &self,
        subject: Subject,
        session: Option<Uuid>,
        issued_at: i64,
        pool: &DbPool,
    ) -> Result<Result<Standing, Refusal>, Error> {
        let cached = if AtomicBool::load(&self.listening, Ordering::Acquire) {
            self.cached(subject.id(), session)?
        } else {
            None
        };
        let (standing, revoked) = match cached {
            Some(found) => found,
            None => {
                let mut conn = pool.get().await?;
                read(&mut conn, subject.id(), session).await?
            }
        };
        let Some(standing) = standing.filter(|s| s.active) else {
            return Ok(Err(Refusal::Inactive));
        };
        let before_change = standing
            .tokens_valid_after
            .is_some_and(|after| issued_at < after.timestamp());
        if revoked || before_change {
            return Ok(Err(Refusal::Revoked));
        }
        Ok(Ok(standing))
    }

    /// From memory: `None` when the account is not (yet) known here.
    #[allow(clippy::type_complexity)]
    fn cached(
        &self,
        id: Uuid,
        session: Option<Uuid>,
    ) -> Result<Option<(Option<Standing>, bool)>, Error> {
        let poisoned = || Error::internal(anyhow::anyhow!("account standings poisoned"));
        let accounts = self.accounts.read().map_err(|_| poisoned())?;
        let Some(standing) = accounts.get(&id) else {
            return Ok(None);
        };
        let revoked = match session {
            Some(session) => self
                .revoked_sessions
                .read()
                .map_err(|_| poisoned())?
                .contains(&session),
            None => false,
        };
        Ok(Some((Some(standing.clone()), revoked)))
    }

    async fn reload(&self, conn: &mut AsyncPgConnection) -> diesel::QueryResult<()> {
        let accounts: Vec<Standing> = diesel::sql_query(ACCOUNTS)
            .bind::<Nullable<SqlUuid>, _>(None::<Uuid>)
            .load(conn)
            .await?;
        let revoked: Vec<Session> = diesel::sql_query(
            "SELECT DISTINCT family_id FROM refresh_tokens \
             WHERE revoked_at > now() - make_interval(secs => $1)",
        )
        .bind::<Double, _>(self.token_ttl.as_secs_f64() + 120.0)
        .load(conn)
        .await?;
        if let Ok(mut map) = self.accounts.write() {
            *map = accounts.into_iter().map(|s| (s.id, s)).collect();
        }
        if let Ok(mut set) = self.revoked_sessions.write() {
            *set = revoked.into_iter().map(|s| s.family_id).collect();
        }
        Ok(())
    }

    /// Keeps the standings current for as long as the process runs.
    pub fn spawn_listener(self: std::sync::Arc<Self>, database_url: String) {
        tokio::spawn(async move {
            let mut delay = RETRY_FIRST;
            loop {
                let started = std::time::Instant::now();
                if let Err(error) = self.listen(&database_url).await {
                    tracing::warn!(error = %error, retry_in_secs = delay.as_secs(),
                        "account listener disconnected; checking the database per request");
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

/// One account's standing and whether the session is revoked, from the database.
async fn read(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    session: Option<Uuid>,
) -> Result<(Option<Standing>, bool), Error> {
    let standing: Option<Standing> = diesel::sql_query(ACCOUNTS)
        .bind::<Nullable<SqlUuid>, _>(Some(id))
        .get_result(&mut *conn)
        .await
        .optional()?;
    let revoked = match session {
        Some(session) => {
            let found: Option<Session> = diesel::sql_query(
                "SELECT family_id FROM refresh_tokens \
                 WHERE family_id = $1 AND revoked_at IS NOT NULL LIMIT 1",
            )
            .bind::<SqlUuid, _>(session)
            .get_result(conn)
            .await
            .optional()?;
            found.is_some()
        }
        None => false,
    };
    Ok((standing, revoked))
}
