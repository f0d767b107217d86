//! Users as the shell needs them so far: the list in the actor's scope, and the language choice.

use crate::context::Ctx;
use crate::domain::Actor;
use crate::error::{Error, Result};
use crate::model::{Lang, UserId, UserStatus};
use crate::store::{self, audit::NewAuditEvent};

#[derive(Debug, Clone)]
pub struct UserListItem {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub user_type: String,
    pub status: UserStatus,
}

/// The first users of the actor's widest scope, by name.
pub async fn list_users(ctx: &Ctx, actor: &Actor, limit: i64) -> Result<Vec<UserListItem>> {
    let scope = actor.primary_scope().ok_or(Error::NotFound)?;
    let mut conn = ctx.db.conn().await?;
    let rows = store::user::list_users_in_subtree(conn.ex(), &scope.path, limit).await?;
    Ok(rows
        .into_iter()
        .map(|u| UserListItem {
            id: UserId(u.id),
            name: format!("{} {}", u.first_name, u.last_name)
                .trim()
                .to_string(),
            email: u.email.or(u.login).unwrap_or_default(),
            user_type: u.user_type,
            status: UserStatus::parse(&u.status).unwrap_or(UserStatus::Disabled),
        })
        .collect())
}

/// Stores the language the actor chose; pages and messages follow it from now on.
pub async fn set_own_language(ctx: &Ctx, actor: &Actor, lang: Lang, ip: &str) -> Result<()> {
    if lang == actor.lang {
        return Ok(());
    }
    let now = ctx.clock.now().millis();
    let mut tx = ctx.db.begin().await?;
    store::user::update_language(tx.ex(), actor.user_id.0, lang.code(), now).await?;
    store::audit::insert_audit_event(
        tx.ex(),
        NewAuditEvent {
            at: now,
            actor_user_id: Some(actor.user_id.0),
            actor_label: &actor.email,
            action: "user.update",
            target_kind: "user",
            target_id: actor.user_id.to_string(),
            node_id: Some(actor.node_id.0),
            before: serde_json::json!({ "language": actor.lang.code() }).to_string(),
            after: serde_json::json!({ "language": lang.code() }).to_string(),
            ip,
            outcome: "ok",
        },
    )
    .await?;
    tx.commit().await
}
