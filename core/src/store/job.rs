//! The scheduler's runs (`job_runs`): a slot is claimed by inserting it, kept by renewing its
//! lease, and taken over once the lease ran out unfinished.

use super::{Ex, Tx, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct JobRunRow {
    pub job: String,
    pub node: String,
    pub started_at: i64,
    pub lease_until: i64,
    pub attempts: i64,
    pub finished_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub outcome: String,
    pub error: String,
}

/// Claims a job's slot for `node`: true when this node now holds it (it inserted the slot, or
/// took over a run whose lease ran out unfinished).
pub(crate) async fn claim(
    tx: &mut Tx,
    job: &str,
    slot: i64,
    node: &str,
    now: i64,
    lease_until: i64,
) -> Result<bool> {
    let insert = "INSERT INTO job_runs (job, slot, node, started_at, lease_until) \
                  VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job, slot) DO NOTHING";
    let take_over = "UPDATE job_runs SET node = $3, started_at = $4, lease_until = $5, \
                     attempts = attempts + 1 \
                     WHERE job = $1 AND slot = $2 AND finished_at IS NULL AND lease_until < $4";
    let mut n = 0;
    for sql in [insert, take_over] {
        n = on!(tx.ex(), c => sqlx::query(sql).bind(job).bind(slot).bind(node).bind(now).bind(lease_until)
            .execute(&mut *c).await.map(|r| r.rows_affected()))?;
        if n == 1 {
            break;
        }
    }
    Ok(n == 1)
}

/// Extends the lease of a run this node holds; false when another node took it over.
pub(crate) async fn renew(
    ex: Ex<'_>,
    job: &str,
    slot: i64,
    node: &str,
    lease_until: i64,
) -> Result<bool> {
    let sql = "UPDATE job_runs SET lease_until = $4 \
               WHERE job = $1 AND slot = $2 AND node = $3 AND finished_at IS NULL";
    let n = on!(ex, c => sqlx::query(sql).bind(job).bind(slot).bind(node).bind(lease_until)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// How a run ended: what it did, or its error.
pub(crate) struct Finish<'a> {
    pub job: &'a str,
    pub slot: i64,
    pub node: &'a str,
    pub now: i64,
    pub duration_ms: i64,
    pub outcome: &'a str,
    pub error: &'a str,
}

/// Records the end of a run this node holds; false when another node took it over.
pub(crate) async fn finish(ex: Ex<'_>, f: Finish<'_>) -> Result<bool> {
    let sql = "UPDATE job_runs SET finished_at = $4, duration_ms = $5, outcome = $6, error = $7 \
               WHERE job = $1 AND slot = $2 AND node = $3 AND finished_at IS NULL";
    let n = on!(ex, c => sqlx::query(sql).bind(f.job).bind(f.slot).bind(f.node).bind(f.now)
        .bind(f.duration_ms).bind(f.outcome).bind(f.error)
        .execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Each job's newest run.
pub(crate) async fn latest_runs(ex: Ex<'_>) -> Result<Vec<JobRunRow>> {
    let sql = "SELECT job, slot, node, started_at, lease_until, attempts, finished_at, \
               duration_ms, outcome, error FROM job_runs r \
               WHERE slot = (SELECT MAX(slot) FROM job_runs x WHERE x.job = r.job) ORDER BY job";
    Ok(on!(ex, c => sqlx::query_as::<_, JobRunRow>(sql).fetch_all(&mut *c).await)?)
}

/// Forgets finished runs that started before `before`.
pub(crate) async fn prune(ex: Ex<'_>, before: i64) -> Result<u64> {
    let sql = "DELETE FROM job_runs WHERE started_at < $1 AND finished_at IS NOT NULL";
    Ok(
        on!(ex, c => sqlx::query(sql).bind(before).execute(&mut *c).await.map(|r| r.rows_affected()))?,
    )
}
