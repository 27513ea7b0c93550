//! Sealing: links the records of finished transactions into the hash chain
//! and signs the chain's head. It runs behind the requests (no request ever
//! waits on the chain), in one instance at a time (an advisory lock), and
//! only over transactions older than every running one (`pg_snapshot_xmin`),
//! so a record that commits late still lands in order, never skipped.

use std::time::Duration;

use diesel::sql_types::{Bool, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::sync::Arc;

use crate::audit::chain::{self, GENESIS};
use crate::audit::keys::SealKey;
use crate::db::DbPool;
use crate::db::audit::{self, Link, NewSeal};
use crate::jobs::periodic::Periodic;
use crate::services::change::transaction;

const BATCH: i64 = 5_000;

pub fn spawn(pool: DbPool, key: Arc<SealKey>, every: Duration) -> Periodic {
    Periodic::spawn(every, move || {
        let (pool, key) = (pool.clone(), key.clone());
        async move {
            loop {
                let sealed = async {
                    let mut conn = pool.get().await?;
                    anyhow::Ok(seal_once(&mut conn, &key).await?)
                };
                match sealed.await {
                    Ok(n) if n == BATCH as usize => continue,
                    Ok(_) => break,
                    Err(error) => {
                        tracing::warn!(error = %error, "audit records could not be sealed");
                        break;
                    }
                }
            }
        }
    })
}

/// The advisory lock (its key's text) that one sealer at a time holds.
pub const SEALING_LOCK: &str = "parcours audit seal";

/// Seals the next batch; how many records it sealed (0 when another
/// instance is sealing, or nothing is due).
pub async fn seal_once(conn: &mut AsyncPgConnection, key: &SealKey) -> diesel::QueryResult<usize> {
    transaction(conn, async |tx| {
        let conn = tx.conn();
        #[derive(diesel::QueryableByName)]
        struct Locked {
            #[diesel(sql_type = Bool)]
            locked: bool,
        }
        let lock: Locked =
            diesel::sql_query("SELECT pg_try_advisory_xact_lock(hashtext($1)) AS locked")
                .bind::<Text, _>(SEALING_LOCK)
                .get_result(conn)
                .await?;
        if !lock.locked {
            return Ok(0);
        }
        let last = audit::last_seal(conn).await?;
        let (after, mut position, mut head) = match &last {
            Some(seal) => (
                (seal.upto_txid, seal.upto_seq),
                seal.upto_position,
                seal.hash.clone(),
            ),
            None => ((0, 0), 0, GENESIS.to_vec()),
        };
        // The next records come from each month's (txid, seq) index, merged;
        // after a backlog, or one large transaction, the planner may think
        // few rows follow and sort them all instead.
        diesel::sql_query("SET LOCAL enable_sort = off")
            .execute(conn)
            .await?;
        let horizon = audit::horizon(conn).await?;
        let records = audit::unsealed(conn, after, horizon, BATCH).await?;
        let Some(newest) = records.last() else {
            return Ok(0);
        };
        let (upto_txid, upto_seq) = (newest.txid, newest.seq);
        let mut links = Vec::with_capacity(records.len());
        for record in &records {
            let hash = chain::link(&head, record);
            position += 1;
            links.push(Link {
                position,
                record_seq: record.seq,
                hash: hash.to_vec(),
            });
            head = hash.to_vec();
        }
        audit::add_links(conn, &links).await?;
        audit::add_seal(
            conn,
            &NewSeal {
                upto_position: position,
                upto_txid,
                upto_seq,
                horizon,
                signature: key.sign(&chain::seal_message(position, &head)),
                hash: head,
                key_id: key.key_id().to_owned(),
            },
        )
        .await?;
        Ok(records.len())
    })
    .await
}
