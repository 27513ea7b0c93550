//! Verification: recomputes the chain from the records, checks every seal's
//! signature and hash, and names the first record altered, removed or
//! inserted out of place.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::chain::{self, GENESIS};
use crate::audit::keys::SealKey;
use crate::db::audit;

const BATCH: i64 = 5_000;
/// Seals read at a time: years of seals (one a second with records) need
/// not fit in memory.
const SEAL_PAGE: i64 = 1_000;

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
/// recomputes links, the seal it starts from (checked again; none from the
/// first record), and the number up to which every record is known to be
/// linked.
struct Start {
    position: i64,
    head: Vec<u8>,
    from_seal: Option<i64>,
    linked_upto_seq: i64,
}

/// The seals a verification checks, in order, read a page at a time; each
/// seal's signature is checked as it is read.
struct Seals<'k> {
    key: &'k SealKey,
    after: i64,
    /// The last seal when the verification began: later ones wait for the next.
    upto: i64,
    page: VecDeque<audit::Seal>,
    checked: i64,
}

impl Seals<'_> {
    /// The next seal if `wanted` holds for it; a problem if it is not
    /// signed by the audit key.
    async fn next_if(
        &mut self,
        conn: &mut AsyncPgConnection,
        wanted: impl Fn(&audit::Seal) -> bool,
    ) -> diesel::QueryResult<Result<Option<audit::Seal>, Problem>> {
        if self.page.is_empty() && self.after < self.upto {
            let page = audit::seals_page(conn, self.after, self.upto, SEAL_PAGE).await?;
            self.after = page.last().map_or(self.upto, |s| s.id);
            for seal in &page {
                if !self.key.verify(
                    &chain::seal_message(seal.upto_position, &seal.hash),
                    &seal.signature,
                ) {
                    return Ok(Err(problem(
                        ProblemKind::BadSeal,
                        None,
                        Some(seal.id),
                        format!(
                            "seal {} is not signed by this instance's audit key",
                            seal.id
                        ),
                    )));
                }
                self.checked += 1;
            }
            self.page = page.into();
        }
        Ok(Ok(match self.page.front() {
            Some(seal) if wanted(seal) => self.page.pop_front(),
            _ => None,
        }))
    }
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
    let last = audit::last_seal(conn).await?;
    let start = match from_seal {
        Some((run, seal)) => Start {
            position: run.upto_position,
            head: audit::seal(conn, seal)
                .await?
                .map(|s| s.hash)
                .unwrap_or_default(),
            from_seal: Some(seal),
            linked_upto_seq: run.linked_upto_seq,
        },
        _ => Start {
            position: 0,
            head: GENESIS.to_vec(),
            from_seal: None,
            linked_upto_seq: 0,
        },
    };
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
        seals: 0,
        last_sealed_at: last.as_ref().map(|s| s.sealed_at),
    };
    let mut seals = Seals {
        key,
        after: start.from_seal.map_or(0, |id| id - 1),
        upto: last.as_ref().map_or(0, |s| s.id),
        page: VecDeque::new(),
        checked: 0,
    };
    // Every record up to here is linked: the search for records slipped
    // in starts after it (one scan of the records since the last run).
    let linked_now = audit::linked_upto(conn, start.linked_upto_seq).await?;
    let found = find_problem(
        conn,
        &start,
        last.as_ref(),
        &mut seals,
        linked_now,
        &mut report.records_checked,
    )
    .await?;
    report.seals = seals.checked;
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
    start: &Start,
    last: Option<&audit::Seal>,
    seals: &mut Seals<'_>,
    linked_upto_seq: i64,
    checked: &mut i64,
) -> diesel::QueryResult<Option<Problem>> {
    let mut position = start.position;
    let mut head = start.head.clone();
    let from = start.position;
    // The seals up to where it starts: their signatures only.
    loop {
        match seals.next_if(conn, |s| s.upto_position <= from).await? {
            Err(found) => return Ok(Some(found)),
            Ok(None) => break,
            Ok(Some(_)) => {}
        }
    }
    if position > 0 {
        // The seal it starts from still closes the chain at its link.
        let link = audit::link_at(conn, position).await?;
        if link.as_ref().map(|l| l.hash.as_slice()) != Some(head.as_slice()) {
            return Ok(Some(problem(
                ProblemKind::BadSeal,
                link.map(|l| l.record_seq),
                start.from_seal,
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
            loop {
                let seal = match seals.next_if(conn, |s| s.upto_position == position).await? {
                    Err(found) => return Ok(Some(found)),
                    Ok(None) => break,
                    Ok(Some(seal)) => seal,
                };
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
    let after_the_chain = match seals.next_if(conn, |_| true).await? {
        Err(found) => return Ok(Some(found)),
        Ok(seal) => seal,
    };
    if let Some(seal) = after_the_chain {
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
    if let Some(seal) = last
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
