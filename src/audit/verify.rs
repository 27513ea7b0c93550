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
    /// Whether every record checked is as it was sealed.
    pub intact: bool,
    /// The first problem, in chain order.
    pub problem: Option<Problem>,
    /// Whether the whole chain was recomputed; otherwise only what was
    /// sealed since the last intact verification (`from_position`).
    pub full: bool,
    /// The link this verification started after (0: the first record).
    pub from_position: i64,
    /// Records whose link this verification recomputed.
    pub records_checked: i64,
    /// Records in the chain, up to the last seal checked.
    pub records_sealed: i64,
    /// Records written since the last seal (sealed within seconds).
    pub records_pending: i64,
    /// Seals whose signature this verification checked.
    pub seals: i64,
    pub last_sealed_at: Option<DateTime<Utc>>,
}

/// How much of the trail a verification recomputes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything, from the first record.
    Full,
    /// What was sealed since the last verification that found the trail
    /// intact (everything when there is none): a record sealed before it
    /// and altered since is found only by a full verification.
    SinceLastIntact,
}

impl Scope {
    /// What `--full` (the command) and `full=true` (the API) ask for.
    pub fn full_if(full: bool) -> Self {
        if full {
            Self::Full
        } else {
            Self::SinceLastIntact
        }
    }
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

/// Where a verification starts: the position and chain hash after which it
/// recomputes links, the seals it checks, and the number up to which every
/// record is known to be linked.
struct Start {
    position: i64,
    head: Vec<u8>,
    seals: Vec<audit::Seal>,
    linked_upto_seq: i64,
}

/// Verifies the trail and records the verification (`audit_verifications`),
/// whatever it found.
pub async fn verify(
    conn: &mut AsyncPgConnection,
    key: &SealKey,
    scope: Scope,
) -> diesel::QueryResult<Verification> {
    let anchor = match scope {
        Scope::Full => None,
        Scope::SinceLastIntact => audit::last_intact_verification(conn).await?,
    };
    let from_seal = anchor
        .as_ref()
        .and_then(|run| run.upto_seal_id.map(|seal| (run, seal)));
    let full = from_seal.is_none();
    let start = match from_seal {
        Some((run, seal)) => {
            let seals = audit::seals_from(conn, seal).await?;
            let head = seals.first().map(|s| s.hash.clone()).unwrap_or_default();
            Start {
                position: run.upto_position,
                head,
                seals,
                linked_upto_seq: run.linked_upto_seq,
            }
        }
        _ => Start {
            position: 0,
            head: GENESIS.to_vec(),
            seals: audit::seals(conn).await?,
            linked_upto_seq: 0,
        },
    };
    let last = start.seals.last().cloned();
    let pending = match &last {
        Some(seal) => audit::count_after(conn, (seal.upto_txid, seal.upto_seq)).await?,
        None => audit::count_after(conn, (0, 0)).await?,
    };
    let mut report = Verification {
        intact: true,
        problem: None,
        full,
        from_position: start.position,
        records_checked: 0,
        records_sealed: last.as_ref().map_or(0, |s| s.upto_position),
        records_pending: pending,
        seals: start.seals.len() as i64,
        last_sealed_at: last.as_ref().map(|s| s.sealed_at),
    };
    // Every record up to here is linked: the search for records slipped
    // in starts after it (one scan of the records since the last run).
    let linked_now = audit::linked_upto(conn, start.linked_upto_seq).await?;
    let found = find_problem(conn, key, &start, linked_now, &mut report.records_checked).await?;
    report.intact = found.is_none();
    report.problem = found;
    let linked_upto_seq = if report.intact {
        linked_now
    } else {
        start.linked_upto_seq
    };
    audit::add_verification(
        conn,
        &audit::VerificationRun {
            full_check: report.full,
            from_position: start.position,
            upto_seal_id: last.as_ref().map(|s| s.id),
            upto_position: last.as_ref().map_or(start.position, |s| s.upto_position),
            linked_upto_seq,
            records_checked: report.records_checked,
            intact: report.intact,
        },
    )
    .await?;
    Ok(report)
}

async fn find_problem(
    conn: &mut AsyncPgConnection,
    key: &SealKey,
    start: &Start,
    linked_upto_seq: i64,
    checked: &mut i64,
) -> diesel::QueryResult<Option<Problem>> {
    let seals = &start.seals;
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
    let mut position = start.position;
    let mut head = start.head.clone();
    let from = start.position;
    let mut pending_seals = seals
        .iter()
        .skip_while(|s| s.upto_position <= from)
        .peekable();
    if position > 0 {
        // The seal it starts from still closes the chain at its link.
        let link = audit::link_at(conn, position).await?;
        if link.as_ref().map(|l| l.hash.as_slice()) != Some(head.as_slice()) {
            return Ok(Some(problem(
                ProblemKind::BadSeal,
                link.map(|l| l.record_seq),
                seals.first().map(|s| s.id),
                format!("link {position}, checked by the last verification, has changed since"),
            )));
        }
    }
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
        && let Some(seq) = audit::first_unlinked_before(conn, seal.horizon, linked_upto_seq).await?
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
