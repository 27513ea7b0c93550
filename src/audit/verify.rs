//! Verification: recomputes the chain from the records, checks every seal's
//! signature and hash, and names the first record altered, removed or
//! inserted out of place.

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::chain::{self, GENESIS};
use crate::audit::keys::SealKey;
use crate::db::audit;

const BATCH: i64 = 5_000;

closed_set! {
    pub enum ProblemKind {
        /// The record's content differs from what was sealed.
        Altered => "altered",
        /// A sealed record (or its link) is gone.
        Removed => "removed",
        /// A record appeared among sealed ones after they were sealed.
        Inserted => "inserted",
        /// A seal's signature or hash does not match the chain it closes.
        BadSeal => "bad_seal",
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    pub kind: ProblemKind,
    /// The record concerned (`seq`), when one can be named.
    pub record_seq: Option<i64>,
    pub seal_id: Option<i64>,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verification {
    /// Whether every sealed record is as it was sealed.
    pub intact: bool,
    /// The first problem, in chain order.
    pub problem: Option<Problem>,
    pub records_sealed: i64,
    /// Records written since the last seal (sealed within seconds).
    pub records_pending: i64,
    pub seals: i64,
    pub last_sealed_at: Option<DateTime<Utc>>,
}

fn problem(
    kind: ProblemKind,
    record_seq: Option<i64>,
    seal_id: Option<i64>,
    detail: String,
) -> Problem {
    Problem {
        kind,
        record_seq,
        seal_id,
        detail,
    }
}

pub async fn verify(
    conn: &mut AsyncPgConnection,
    key: &SealKey,
) -> diesel::QueryResult<Verification> {
    let seals = audit::seals(conn).await?;
    let last = seals.last().cloned();
    let pending = match &last {
        Some(seal) => audit::count_after(conn, (seal.upto_txid, seal.upto_seq)).await?,
        None => audit::count_after(conn, (0, 0)).await?,
    };
    let mut report = Verification {
        intact: true,
        problem: None,
        records_sealed: 0,
        records_pending: pending,
        seals: seals.len() as i64,
        last_sealed_at: last.as_ref().map(|s| s.sealed_at),
    };
    let found = find_problem(conn, key, &seals, &mut report.records_sealed).await?;
    report.intact = found.is_none();
    report.problem = found;
    Ok(report)
}

async fn find_problem(
    conn: &mut AsyncPgConnection,
    key: &SealKey,
    seals: &[audit::Seal],
    checked: &mut i64,
) -> diesel::QueryResult<Option<Problem>> {
    for seal in seals {
        if !key.verify(
            &chain::seal_message(seal.upto_position, &seal.hash),
            &seal.signature,
        ) {
            return Ok(Some(problem(
                ProblemKind::BadSeal,
                None,
                Some(seal.id),
                format!(
                    "seal {} is not signed by this instance's audit key",
                    seal.id
                ),
            )));
        }
    }
    let mut pending_seals = seals.iter().peekable();
    let mut head = GENESIS.to_vec();
    let mut position = 0;
    loop {
        let batch = audit::links_with_records(conn, position, BATCH).await?;
        if batch.is_empty() {
            break;
        }
        for (link, record) in batch {
            if link.position != position + 1 {
                return Ok(Some(problem(
                    ProblemKind::Removed,
                    None,
                    None,
                    format!(
                        "the chain jumps from link {position} to link {}",
                        link.position
                    ),
                )));
            }
            let Some(record) = record else {
                return Ok(Some(problem(
                    ProblemKind::Removed,
                    Some(link.record_seq),
                    None,
                    format!("record {} was sealed and is gone", link.record_seq),
                )));
            };
            let hash = chain::link(&head, &record);
            if hash.as_slice() != link.hash.as_slice() {
                return Ok(Some(problem(
                    ProblemKind::Altered,
                    Some(record.seq),
                    None,
                    format!("record {} differs from what was sealed", record.seq),
                )));
            }
            head = hash.to_vec();
            position = link.position;
            *checked += 1;
            while let Some(seal) = pending_seals.next_if(|s| s.upto_position == position) {
                if seal.hash != head {
                    return Ok(Some(problem(
                        ProblemKind::BadSeal,
                        None,
                        Some(seal.id),
                        format!("the chain up to seal {} is not what was signed", seal.id),
                    )));
                }
            }
        }
    }
    if let Some(seal) = pending_seals.next() {
        return Ok(Some(problem(
            ProblemKind::Removed,
            None,
            Some(seal.id),
            format!(
                "the chain ends at link {position}, before seal {} (link {})",
                seal.id, seal.upto_position
            ),
        )));
    }
    if let Some(seal) = seals.last()
        && let Some(seq) = audit::first_unlinked_before(conn, seal.horizon).await?
    {
        return Ok(Some(problem(
            ProblemKind::Inserted,
            Some(seq),
            None,
            format!("record {seq} belongs among sealed records but was never sealed"),
        )));
    }
    Ok(None)
}
