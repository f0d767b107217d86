use super::{Ex, on};
use crate::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Counts {
    pub accounts: i64,
    pub users: i64,
    pub sessions: i64,
    pub queued_messages: i64,
}

pub(crate) async fn counts(ex: Ex<'_>, now: i64) -> Result<Counts> {
    let sql = "SELECT \
        (SELECT COUNT(*) FROM nodes WHERE kind = 'account') AS accounts, \
        (SELECT COUNT(*) FROM users) AS users, \
        (SELECT COUNT(*) FROM sessions WHERE expires_at > $1) AS sessions, \
        (SELECT COUNT(*) FROM outbox WHERE state = 'queued') AS queued_messages";
    Ok(on!(ex, c => sqlx::query_as::<_, Counts>(sql).bind(now).fetch_one(&mut *c).await)?)
}

/// Refreshes the planner's statistics (after a bulk load; both engines know `ANALYZE`).
pub(crate) async fn analyze(ex: Ex<'_>) -> Result<()> {
    on!(ex, c => sqlx::query("ANALYZE").execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
