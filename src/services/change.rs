//! The ceremony every change goes through, written once: the change and
//! its audit record commit in one transaction (the record also marks the
//! request's `Idempotency-Key` committed, [`crate::audit::record::changed`]),
//! or neither does; a refused or failed change rolls back and is recorded
//! with its outcome. The use cases of this layer change data through
//! [`Change::run`], or through [`transaction`] and the record functions
//! where a record says more (an account before and after, a rescheduled
//! domain); HTTP never does (`tests/api/layers.rs`).

use diesel::result::Error as QueryError;
use diesel_async::{AnsiTransactionManager, AsyncPgConnection, TransactionManager};
use uuid::Uuid;

use crate::audit::record::{self, Outcome};
use crate::audit::{Acting, AuditContext, Entry};
use crate::db::{self, Tx};
use crate::domain::AuditOutcome;
use crate::domain::audit::{AuditAction, AuditTarget};
use crate::domain::principal::Principal;

/// Who changes what, for the records.
#[derive(Clone, Copy)]
pub struct Change<'a> {
    pub who: &'a Principal,
    pub audit: &'a AuditContext,
    pub action: AuditAction,
    pub target: AuditTarget,
    /// The record changed, when known before the change (an update); a
    /// creation's id comes from its result.
    pub id: Option<Uuid>,
}

impl<'a> Change<'a> {
    pub fn new(by: Acting<'a>, action: AuditAction, target: AuditTarget) -> Self {
        Self {
            who: by.who,
            audit: by.audit,
            action,
            target,
            id: None,
        }
    }

    /// Of the record `id`.
    pub fn of(self, id: Uuid) -> Self {
        Self {
            id: Some(id),
            ..self
        }
    }

    /// Runs `work` in a transaction with the change's record; `id_of`
    /// names the record changed from what `work` returns.
    pub async fn run<T, E>(
        self,
        conn: &mut AsyncPgConnection,
        work: impl AsyncFnOnce(&mut Tx<'_>) -> Result<T, E>,
        id_of: impl FnOnce(&T) -> Uuid,
    ) -> Result<T, E>
    where
        E: From<db::Error> + From<QueryError> + Outcome,
    {
        let done = transaction(conn, async |tx| {
            let value = work(tx).await?;
            let id = id_of(&value);
            record::changed(tx, self.audit, self.who, self.action, self.target, id).await?;
            Ok(value)
        })
        .await;
        let target = (self.target, self.id);
        record::settled(conn, self.audit, self.who, self.action, target, done).await
    }
}

/// Records a change refused before it started (a rule checked outside its
/// transaction), and passes the refusal on.
pub async fn refused<E: Outcome>(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    action: AuditAction,
    target: (AuditTarget, Option<Uuid>),
    refusal: E,
) -> E {
    record::refused(conn, by.audit, by.who, action, target, &refusal).await;
    refusal
}

/// `work` in a transaction: committed when it succeeds, rolled back when
/// it fails (as diesel-async's own, without requiring `work` to be `Send`:
/// a handler's future need not be). The only place a [`Tx`] is made.
pub async fn transaction<T, E: From<QueryError>>(
    conn: &mut AsyncPgConnection,
    work: impl AsyncFnOnce(&mut Tx<'_>) -> Result<T, E>,
) -> Result<T, E> {
    AnsiTransactionManager::begin_transaction(conn).await?;
    let done = work(&mut Tx::begun(conn)).await;
    settle(conn, done).await
}

/// `read` in one read-only, repeatable-read snapshot: statements that must
/// agree with each other (a report's figures) see the same data.
pub async fn snapshot<T>(
    conn: &mut AsyncPgConnection,
    read: impl AsyncFnOnce(&mut AsyncPgConnection) -> Result<T, QueryError>,
) -> Result<T, QueryError> {
    let begin = "BEGIN TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";
    AnsiTransactionManager::begin_transaction_sql(conn, begin).await?;
    let done = read(conn).await;
    settle(conn, done).await
}

/// Commits what succeeded, rolls back what failed.
async fn settle<T, E: From<QueryError>>(
    conn: &mut AsyncPgConnection,
    done: Result<T, E>,
) -> Result<T, E> {
    match done {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn).await?;
            Ok(value)
        }
        Err(error) => match AnsiTransactionManager::rollback_transaction(conn).await {
            Ok(()) | Err(QueryError::BrokenTransactionManager) => Err(error),
            Err(rollback) => Err(rollback.into()),
        },
    }
}

/// A change with no id of its own (reference data, a caseload transfer),
/// in one transaction with its record; `work` says what the record tells
/// of it. A refused or failed change is recorded with its outcome.
pub async fn described<T, F: FnOnce(Entry) -> Entry>(
    conn: &mut AsyncPgConnection,
    by: Acting<'_>,
    action: AuditAction,
    target: AuditTarget,
    work: impl AsyncFnOnce(&mut Tx<'_>) -> Result<(T, F), db::Error>,
) -> Result<T, db::Error> {
    let done = transaction(conn, async |tx| {
        let (value, tell) = work(tx).await?;
        let entry = Entry::new(action, AuditOutcome::Success).on(target, None);
        record::by(tx, by, tell(entry)).await?;
        Ok::<_, db::Error>(value)
    })
    .await;
    record::settled(conn, by.audit, by.who, action, (target, None), done).await
}
