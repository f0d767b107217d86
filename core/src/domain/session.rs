//! The actor's own sign-in sessions (the Devices tab lists them), and how recent their proof
//! of identity is.

use crate::context::Ctx;
use crate::domain::Actor;
use crate::error::{Error, Result};
use crate::model::Timestamp;
use crate::store;

#[derive(Debug, Clone)]
pub struct SessionView {
    pub signed_in_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub ip: String,
    pub user_agent: String,
    pub current: bool,
}

pub async fn list_own_sessions(ctx: &Ctx, actor: &Actor) -> Result<Vec<SessionView>> {
    let mut conn = ctx.db.conn().await?;
    let rows =
        store::session::list_sessions_of(conn.ex(), actor.user_id.0, ctx.clock.now().millis())
            .await?;
    Ok(rows
        .into_iter()
        .map(|s| SessionView {
            signed_in_at: Timestamp::from_millis(s.created_at),
            last_seen_at: Timestamp::from_millis(s.last_seen_at),
            ip: s.ip,
            user_agent: s.user_agent,
            current: s.id_hash == actor.session_hash,
        })
        .collect())
}

/// Sensitive changes (the user's own address or phone) need a proof of identity this recent.
pub const REAUTH_SECS: i64 = 10 * 60;

/// Refuses a sensitive change when the session's last proof of identity is older than
/// `REAUTH_SECS` (ASVS V7.5.1); the page then asks for the password again.
pub fn require_recent_auth(ctx: &Ctx, actor: &Actor) -> Result<()> {
    if ctx.clock.now().millis() - actor.authenticated_at.millis() > REAUTH_SECS * 1000 {
        Err(Error::Unauthenticated("reauth-required"))
    } else {
        Ok(())
    }
}
