use uuid::Uuid;

use super::{Ex, on};
use crate::error::Result;

/// One audit event as written; `before`/`after` are JSON texts (empty when not applicable).
#[derive(Debug, Clone, Default)]
pub(crate) struct NewAuditEvent<'a> {
    pub at: i64,
    pub actor_user_id: Option<Uuid>,
    pub actor_label: &'a str,
    pub action: &'a str,
    pub target_kind: &'a str,
    pub target_id: String,
    pub node_id: Option<Uuid>,
    pub before: String,
    pub after: String,
    pub ip: &'a str,
    pub outcome: &'a str,
    /// The API or SCIM token the change was made with.
    pub credential_id: Option<Uuid>,
}

pub(crate) async fn insert_audit_event(ex: Ex<'_>, e: NewAuditEvent<'_>) -> Result<()> {
    let sql = "INSERT INTO audit_events (id, at, actor_user_id, actor_label, action, target_kind, \
               target_id, node_id, before_data, after_data, ip, outcome, credential_id) \
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)";
    let id = Uuid::now_v7();
    macro_rules! insert {
        ($c:expr) => {
            sqlx::query(sql)
                .bind(id)
                .bind(e.at)
                .bind(e.actor_user_id)
                .bind(e.actor_label)
                .bind(e.action)
                .bind(e.target_kind)
                .bind(&e.target_id)
                .bind(e.node_id)
                .bind(&e.before)
                .bind(&e.after)
                .bind(e.ip)
                .bind(e.outcome)
                .bind(e.credential_id)
                .execute($c)
                .await?
        };
    }
    match ex {
        Ex::Sqlite(c) => {
            insert!(&mut *c);
        }
        // Other nodes hear of it when this transaction commits (PostgreSQL sends one notice
        // per transaction for the same payload).
        Ex::Postgres(c) => {
            insert!(&mut *c);
            sqlx::query("SELECT pg_notify($1, '')")
                .bind(super::changes::CHANNEL)
                .execute(&mut *c)
                .await?;
        }
    }
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct AuditRow {
    pub at: i64,
    pub actor_label: String,
    pub action: String,
    pub target_kind: String,
    pub target_id: String,
    pub ip: String,
    pub outcome: String,
}

/// The newest events, newest first.
pub(crate) async fn list_recent_audit_events(ex: Ex<'_>, limit: i64) -> Result<Vec<AuditRow>> {
    let sql = "SELECT at, actor_label, action, target_kind, target_id, ip, outcome \
               FROM audit_events ORDER BY at DESC, id DESC LIMIT $1";
    Ok(on!(ex, c => sqlx::query_as::<_, AuditRow>(sql).bind(limit).fetch_all(&mut *c).await)?)
}

/// Removes up to `batch` events older than their account's retention (`default_days` where the
/// account set none, and for events outside any account); how many went.
pub(crate) async fn purge_expired(
    ex: Ex<'_>,
    now: i64,
    default_days: i64,
    batch: i64,
) -> Result<u64> {
    let sql = "DELETE FROM audit_events WHERE id IN (SELECT e.id FROM audit_events e \
               LEFT JOIN nodes n ON n.id = e.node_id LEFT JOIN nodes a ON a.id = n.account_id \
               WHERE e.at < $1 - COALESCE(a.audit_retention_days, $2) * 86400000 LIMIT $3)";
    Ok(
        on!(ex, c => sqlx::query(sql).bind(now).bind(default_days).bind(batch).execute(&mut *c).await
        .map(|r| r.rows_affected()))?,
    )
}
