//! Tamper evidence for the audit trail: each account's events form a hash chain (events outside
//! any account form one of their own). Every event stores the previous event's hash and its own,
//! computed over all its fields; the chain's head (last number and hash) is kept apart. An event
//! altered, removed from the middle or from the end, or inserted by hand, breaks a link, and
//! [`verify`] names the first one. Retention removes a chain's oldest events: the check then
//! starts at the oldest one left, trusting the hash it names as its predecessor.

use uuid::Uuid;

use crate::context::Ctx;
use crate::error::Result;
use crate::store::{self, audit::ChainedRow, audit::Linked, audit::NewAuditEvent};

/// What is wrong at a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Broken {
    /// The event's fields no longer give its hash (it was altered).
    Altered,
    /// It does not name the hash of the event before it (one was removed or put in between).
    Unlinked,
    /// A number is missing in the middle of the chain (an event was removed).
    Missing,
    /// The chain's head names a later event than the last one there (events removed at the end).
    Truncated,
}

impl Broken {
    pub fn as_str(self) -> &'static str {
        match self {
            Broken::Altered => "altered",
            Broken::Unlinked => "unlinked",
            Broken::Missing => "missing",
            Broken::Truncated => "truncated",
        }
    }
}

/// One chain's check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    /// The account's id, or "" for events outside any account.
    pub chain: String,
    /// The first and last number checked (None for an empty chain).
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub events: u64,
    /// The first broken link: the event's number and id, and what is wrong.
    pub broken: Option<(i64, Option<Uuid>, Broken)>,
}

const BATCH: i64 = 5_000;

/// Checks every chain, event by event, in batches.
pub async fn verify(ctx: &Ctx) -> Result<Vec<ChainReport>> {
    let mut conn = ctx.db.conn().await?;
    let heads = store::audit::chains(conn.ex()).await?;
    let mut reports = vec![];
    for head in heads {
        let key = head.chain_key.clone();
        let mut report = ChainReport {
            chain: key.clone(),
            first: None,
            last: None,
            events: 0,
            broken: None,
        };
        // What retention removed is gone: the chain is checked from the first event it kept.
        let mut prev: Option<(i64, Vec<u8>)> = None;
        let mut expect = head.purged_through + 1;
        'chain: loop {
            let after = prev.as_ref().map_or(head.purged_through, |(s, _)| *s);
            let rows = store::audit::chain_after(conn.ex(), &key, after, BATCH).await?;
            let done = (rows.len() as i64) < BATCH;
            for row in rows {
                let wrong = if row.seq != expect {
                    Some(Broken::Missing)
                } else {
                    check(&key, prev.as_ref(), &row)
                };
                expect = row.seq + 1;
                if let Some(b) = wrong {
                    report.broken = Some((row.seq, Some(row.id), b));
                    break 'chain;
                }
                report.first.get_or_insert(row.seq);
                report.last = Some(row.seq);
                report.events += 1;
                prev = Some((row.seq, row.hash));
            }
            if done {
                break;
            }
        }
        if report.broken.is_none() {
            let last = prev.as_ref().map_or(head.purged_through, |(s, _)| *s);
            let cut = last != head.seq
                || prev.as_ref().is_some_and(|(_, h)| *h != head.hash)
                || (prev.is_none() && head.seq == 0 && head.hash != store::audit::GENESIS);
            if cut {
                report.broken = Some((last + 1, None, Broken::Truncated));
            }
        }
        reports.push(report);
    }
    Ok(reports)
}

/// What is wrong with `row` after `prev` (None for the oldest event left).
fn check(key: &str, prev: Option<&(i64, Vec<u8>)>, row: &ChainedRow) -> Option<Broken> {
    match prev {
        Some((_, hash)) if row.prev_hash != *hash => return Some(Broken::Unlinked),
        // The very first event follows nothing.
        None if row.seq == 1 && row.prev_hash != store::audit::GENESIS => {
            return Some(Broken::Unlinked);
        }
        _ => {}
    }
    let e = NewAuditEvent {
        at: row.at,
        actor_user_id: row.actor_user_id,
        actor_label: &row.actor_label,
        action: &row.action,
        target_kind: &row.target_kind,
        target_id: row.target_id.clone(),
        node_id: row.node_id,
        before: row.before_data.clone(),
        after: row.after_data.clone(),
        ip: &row.ip,
        outcome: &row.outcome,
        credential_id: row.credential_id,
    };
    let linked = Linked {
        id: row.id,
        key,
        seq: row.seq,
        e: &e,
    };
    let hash = store::audit::chain_hash(&row.prev_hash, &linked);
    (hash.as_slice() != row.hash.as_slice()).then_some(Broken::Altered)
}
