//! System status for operator staff (Management tab).

use crate::context::Ctx;
use crate::domain::Actor;
use crate::error::{Error, Result};
use crate::model::Timestamp;
use crate::store;

#[derive(Debug, Clone)]
pub struct SystemStatus {
    pub engine: &'static str,
    pub schema_version: i64,
    pub accounts: i64,
    pub users: i64,
    pub sessions: i64,
    pub queued_messages: i64,
    pub recent_events: Vec<AuditView>,
    /// The scheduler's jobs and their last runs.
    pub jobs: Vec<super::schedule::JobStatus>,
}

#[derive(Debug, Clone)]
pub struct AuditView {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub ip: String,
    pub outcome: String,
}

pub async fn system_status(ctx: &Ctx, actor: &Actor) -> Result<SystemStatus> {
    if !actor.is_operator() {
        return Err(Error::NotFound);
    }
    let mut conn = ctx.db.conn().await?;
    let counts = store::stats::counts(conn.ex(), ctx.clock.now().millis()).await?;
    let events = store::audit::list_recent_audit_events(conn.ex(), 20).await?;
    drop(conn);
    let jobs = super::schedule::job_status(ctx, actor).await?;
    Ok(SystemStatus {
        engine: ctx.db.engine().name(),
        schema_version: ctx.db.schema_version(),
        accounts: counts.accounts,
        users: counts.users,
        sessions: counts.sessions,
        queued_messages: counts.queued_messages,
        jobs,
        recent_events: events
            .into_iter()
            .map(|e| AuditView {
                at: Timestamp::from_millis(e.at),
                actor: e.actor_label,
                action: e.action,
                target: if e.target_id.is_empty() {
                    e.target_kind
                } else {
                    format!("{} {}", e.target_kind, e.target_id)
                },
                ip: e.ip,
                outcome: e.outcome,
            })
            .collect(),
    })
}
