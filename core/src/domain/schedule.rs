//! The scheduler: every periodic job (session and throttle sweeps, invitation expiry, audit
//! retention) runs once per time slot across all nodes. Time is cut into slots of each job's
//! period; the first node to insert a slot's row in `job_runs` runs it and renews its lease while
//! it works; a run whose lease runs out unfinished (its node died) is taken over by the next
//! node that looks. The same code on both engines; every job is idempotent, so a run taken
//! over does no harm by starting again.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{Actor, auth, throttle};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::Timestamp;
use crate::outbox::worker::INVITATION_PURPOSE;
use crate::store::{self, audit::NewAuditEvent, job::Finish};

/// How long a claimed run is another node's before it may be taken over, unless renewed.
pub const LEASE_SECS: i64 = 60;
/// How often a running job renews its lease.
const RENEW_EVERY: Duration = Duration::from_secs(20);
/// Finished runs are forgotten after this long.
const KEEP_RUNS_DAYS: i64 = 30;
/// Rows a job changes per transaction.
const BATCH: i64 = 1_000;

/// A periodic job: its name and how often it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Job {
    pub name: &'static str,
    pub every_secs: i64,
}

/// Every job, in the order a node looks at them.
pub fn jobs(ctx: &Ctx) -> Vec<Job> {
    vec![
        Job {
            name: "sessions.sweep",
            every_secs: 10 * 60,
        },
        Job {
            name: "throttle.sweep",
            every_secs: 10 * 60,
        },
        Job {
            name: "invitations.expire",
            every_secs: 10 * 60,
        },
        Job {
            name: "audit.retention",
            every_secs: 6 * 60 * 60,
        },
        Job {
            name: super::statistics::ROLLUP_JOB,
            every_secs: super::statistics::interval_secs(ctx),
        },
    ]
}

/// This node's name in the scheduler's runs: the host, the process and a random part.
pub fn node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "node".into());
    let tail = uuid::Uuid::now_v7().simple().to_string();
    format!("{host}:{}:{}", std::process::id(), &tail[tail.len() - 6..])
}

/// The slot `now` falls in for a job.
pub fn slot_of(job: &Job, now: Timestamp) -> i64 {
    now.millis().div_euclid(job.every_secs * 1000)
}

/// When the slot after the one `now` falls in begins.
pub fn next_start(job: &Job, now: Timestamp) -> Timestamp {
    Timestamp::from_millis((slot_of(job, now) + 1) * job.every_secs * 1000)
}

/// What one run of a job did on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ran {
    pub job: &'static str,
    pub slot: i64,
    /// What it did ("removed 3"), or its error.
    pub outcome: std::result::Result<String, String>,
}

/// Runs every job whose current slot nobody has run (or whose run was abandoned), as node
/// `node`; returns what this node ran. A job that fails is recorded with its error and the
/// others still run.
pub async fn run_due(ctx: &Ctx, node: &str) -> Result<Vec<Ran>> {
    let mut ran = vec![];
    for job in jobs(ctx) {
        let now = ctx.clock.now();
        let slot = slot_of(&job, now);
        let lease = now.millis() + LEASE_SECS * 1000;
        let claimed = {
            let mut tx = ctx.db.begin().await?;
            let claimed =
                store::job::claim(&mut tx, job.name, slot, node, now.millis(), lease).await?;
            tx.commit().await?;
            claimed
        };
        if !claimed {
            continue;
        }
        match run_claimed(ctx, job, slot, node).await {
            Ok(r) => ran.push(r),
            Err(e) => tracing::warn!(job = job.name, slot, error = %e, "job not recorded"),
        }
    }
    Ok(ran)
}

/// Runs a claimed slot while a task of its own renews the lease (on its own connection, so a
/// job holding SQLite's one writer only delays it), and records how it ended. A run whose lease
/// another node took over stops.
async fn run_claimed(ctx: &Ctx, job: Job, slot: i64, node: &str) -> Result<Ran> {
    let started = Instant::now();
    let (lost_tx, lost) = tokio::sync::oneshot::channel::<()>();
    let renewer = {
        let (ctx, node) = (ctx.clone(), node.to_string());
        tokio::spawn(async move {
            let mut every = tokio::time::interval(RENEW_EVERY);
            every.tick().await;
            loop {
                every.tick().await;
                let until = ctx.clock.now().millis() + LEASE_SECS * 1000;
                let kept = async {
                    let mut tx = ctx.db.begin().await?;
                    let kept = store::job::renew(tx.ex(), job.name, slot, &node, until).await?;
                    tx.commit().await?;
                    Ok::<_, Error>(kept)
                }
                .await;
                match kept {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(job = job.name, slot, "run taken over by another node");
                        let _ = lost_tx.send(());
                        return;
                    }
                    Err(e) => tracing::warn!(job = job.name, slot, error = %e, "lease not renewed"),
                }
            }
        })
    };
    let outcome = tokio::select! {
        out = run_job(ctx, job.name) => Some(out),
        _ = lost => None,
    };
    renewer.abort();
    let Some(outcome) = outcome else {
        return Ok(Ran {
            job: job.name,
            slot,
            outcome: Err("taken over by another node".into()),
        });
    };
    let outcome = outcome.map_err(|e| e.to_string());
    let (done, error) = match &outcome {
        Ok(done) => (done.as_str(), ""),
        Err(e) => ("", e.as_str()),
    };
    let mut tx = ctx.db.begin().await?;
    store::job::finish(
        tx.ex(),
        Finish {
            job: job.name,
            slot,
            node,
            now: ctx.clock.now().millis(),
            duration_ms: started.elapsed().as_millis() as i64,
            outcome: done,
            error,
        },
    )
    .await?;
    tx.commit().await?;
    match &outcome {
        Ok(done) => tracing::info!(job = job.name, slot, done = %done, "job ran"),
        Err(e) => tracing::warn!(job = job.name, slot, error = %e, "job failed"),
    }
    Ok(Ran {
        job: job.name,
        slot,
        outcome,
    })
}

/// One job's work; what it did, in a few words.
async fn run_job(ctx: &Ctx, name: &str) -> Result<String> {
    match name {
        "sessions.sweep" => Ok(format!("removed {}", auth::sweep_sessions(ctx).await?)),
        "throttle.sweep" => {
            let n = throttle::sweep(ctx).await?;
            let before = ctx.clock.now().millis() - KEEP_RUNS_DAYS * 86_400_000;
            let mut tx = ctx.db.begin().await?;
            let runs = store::job::prune(tx.ex(), before).await?;
            tx.commit().await?;
            Ok(format!("removed {n}, forgot {runs} old runs"))
        }
        "invitations.expire" => Ok(format!("noted {}", note_expired_invitations(ctx).await?)),
        "audit.retention" => Ok(format!(
            "removed {} events, {} usage events",
            purge_audit(ctx).await?,
            purge_usage(ctx).await?
        )),
        super::statistics::ROLLUP_JOB => super::statistics::roll_up(ctx).await,
        _ => Err(Error::NotFound),
    }
}

/// Writes one `user.invitation.expired` event for each invitation link that expired unused,
/// once (the link remembers it was noted).
async fn note_expired_invitations(ctx: &Ctx) -> Result<u64> {
    let mut noted = 0;
    loop {
        let now = ctx.clock.now();
        let mut tx = ctx.db.begin().await?;
        let due =
            store::link::expired_unnoted(tx.ex(), INVITATION_PURPOSE, now.millis(), BATCH).await?;
        for link in &due {
            if !store::link::note_expiry(tx.ex(), &link.token_hash, now.millis()).await? {
                continue;
            }
            let Some(user) = link.user_id else { continue };
            store::audit::insert_audit_event(
                tx.ex(),
                NewAuditEvent {
                    at: link.expires_at,
                    actor_label: "scheduler",
                    action: "user.invitation.expired",
                    target_kind: "user",
                    target_id: user.to_string(),
                    node_id: link.node_id,
                    after: json!({ "expired_at": Timestamp::from_millis(link.expires_at).to_rfc3339() })
                        .to_string(),
                    outcome: "ok",
                    ..Default::default()
                },
            )
            .await?;
            noted += 1;
        }
        tx.commit().await?;
        if (due.len() as i64) < BATCH {
            return Ok(noted);
        }
    }
}

/// Removes audit events older than their account's retention: each chain is cut from its
/// start, up to its oldest event still to keep, a batch per transaction; events written before
/// the chains began go by age.
async fn purge_audit(ctx: &Ctx) -> Result<u64> {
    let mut removed = 0;
    let heads = {
        let mut conn = ctx.db.conn().await?;
        store::audit::chains(conn.ex()).await?
    };
    for head in heads {
        let now = ctx.clock.now().millis();
        let mut tx = ctx.db.begin().await?;
        let days = store::audit::chain_retention(tx.ex(), &head.chain_key)
            .await?
            .unwrap_or(ctx.settings.audit_retention_days);
        let cutoff = now - days * 86_400_000;
        let keep_from = store::audit::first_kept(tx.ex(), &head.chain_key, cutoff)
            .await?
            .unwrap_or(head.seq + 1);
        let mut through = head.purged_through;
        tx.commit().await?;
        while through < keep_from - 1 {
            let next = (through + BATCH).min(keep_from - 1);
            let mut tx = ctx.db.begin().await?;
            removed += store::audit::purge_chain(&mut tx, &head.chain_key, next).await?;
            tx.commit().await?;
            through = next;
        }
    }
    loop {
        let now = ctx.clock.now().millis();
        let mut tx = ctx.db.begin().await?;
        let n =
            store::audit::purge_unchained(tx.ex(), now, ctx.settings.audit_retention_days, BATCH)
                .await?;
        tx.commit().await?;
        removed += n;
        if (n as i64) < BATCH {
            return Ok(removed);
        }
    }
}

/// Removes usage events older than the deployment's retention (their figures stay).
async fn purge_usage(ctx: &Ctx) -> Result<u64> {
    let mut removed = 0;
    loop {
        let day = ctx.clock.now().day() - ctx.settings.audit_retention_days;
        let mut tx = ctx.db.begin().await?;
        let n = store::usage::purge_usage(tx.ex(), day, BATCH).await?;
        tx.commit().await?;
        removed += n;
        if (n as i64) < BATCH {
            return Ok(removed);
        }
    }
}

/// A job as Management › System status shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    pub name: &'static str,
    pub every_secs: i64,
    pub last_started: Option<Timestamp>,
    pub finished: Option<Timestamp>,
    pub duration_ms: Option<i64>,
    pub node: String,
    pub attempts: i64,
    pub outcome: String,
    pub error: String,
    /// A node is running it now (its lease holds).
    pub running: bool,
    /// When its next slot begins.
    pub next_due: Timestamp,
}

/// Every job's last run, for operator staff.
pub async fn job_status(ctx: &Ctx, actor: &Actor) -> Result<Vec<JobStatus>> {
    if !actor.is_operator() {
        return Err(Error::NotFound);
    }
    let mut conn = ctx.db.conn().await?;
    let runs = store::job::latest_runs(conn.ex()).await?;
    let now = ctx.clock.now();
    Ok(jobs(ctx)
        .into_iter()
        .map(|job| {
            let run = runs.iter().find(|r| r.job == job.name);
            JobStatus {
                name: job.name,
                every_secs: job.every_secs,
                last_started: run.map(|r| Timestamp::from_millis(r.started_at)),
                finished: run.and_then(|r| r.finished_at.map(Timestamp::from_millis)),
                duration_ms: run.and_then(|r| r.duration_ms),
                node: run.map(|r| r.node.clone()).unwrap_or_default(),
                attempts: run.map_or(0, |r| r.attempts),
                outcome: run.map(|r| r.outcome.clone()).unwrap_or_default(),
                error: run.map(|r| r.error.clone()).unwrap_or_default(),
                running: run
                    .is_some_and(|r| r.finished_at.is_none() && r.lease_until >= now.millis()),
                next_due: next_start(&job, now),
            }
        })
        .collect())
}
