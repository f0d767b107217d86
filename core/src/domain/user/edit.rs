//! The user page's commands that are not a change of the user's fields (those are
//! `update_user`): an administrator's new password, Delete, and the user's own language.

use serde_json::json;

use super::{keep_an_admin, save, user_json};
use crate::context::Ctx;
use crate::domain::rank::{Need, user_to_change};
use crate::domain::{Actor, audit};
use crate::error::{Error, Result};
use crate::model::{Lang, UserId, UserStatus};
use crate::outbox::message::{self, Message};
use crate::password;
use crate::store;

/// Change password: the administrator gives the user a new password, which is not
/// sent to them; they must change it at their next sign-in.
pub async fn set_password(
    ctx: &Ctx,
    actor: &Actor,
    id: UserId,
    version: i64,
    new_password: &str,
) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (before, _) = user_to_change(&mut tx, actor, id.0, Need::Any, now.millis()).await?;
    if before.kind == "system" {
        return Err(Error::NotFound);
    }
    password::check_new("password", new_password, before.email.as_deref())?;
    drop(tx);
    let hash = crate::domain::hasher::hash(ctx, new_password).await?;
    let mut tx = ctx.db.begin().await?;
    let (before, _) = user_to_change(&mut tx, actor, id.0, Need::Any, now.millis()).await?;
    let mut after = before.clone();
    after.password_hash = Some(hash);
    after.password_must_change = true;
    if after.status == UserStatus::Invited.as_str() {
        after.status = UserStatus::Active.as_str().into();
    }
    after.updated_at = now.millis();
    save(tx.ex(), &after, version).await?;
    // Whoever held the user's sessions or personal tokens is out.
    store::session::delete_sessions_of(tx.ex(), before.id).await?;
    store::api_token::revoke_tokens_of(tx.ex(), before.id, now.millis()).await?;
    // The user hears that someone else set their password (never the password itself).
    if let Some(email) = &before.email {
        message::enqueue(
            tx.ex(),
            &Message::PasswordSetByAdmin {
                by: actor.display_name.clone(),
            },
            email,
            before.id,
            before.node_id,
            now,
        )
        .await?;
    }
    audit::Event::new(actor, "user.password.set")
        .target("user", before.id, Some(before.node_id))
        .before(json!({"status": before.status}))
        .after(json!({"status": after.status, "password_must_change": true}))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}

/// Delete user: the user, their grants, services, photo and sessions go at once.
pub async fn delete_user(ctx: &Ctx, actor: &Actor, id: UserId) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (before, from) = user_to_change(&mut tx, actor, id.0, Need::Scope, now.millis()).await?;
    if before.id == actor.user_id.0 {
        return Err(Error::Conflict("error-not-yourself"));
    }
    keep_an_admin(&mut tx, &before, true).await?;
    store::user::delete_user(tx.ex(), before.id).await?;
    store::node::adjust_user_count(tx.ex(), from.id, -1).await?;
    audit::Event::new(actor, "user.delete")
        .target("user", before.id, Some(before.node_id))
        .before(user_json(&before))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}

/// Stores the language the actor chose for themself; pages and messages follow it.
pub async fn set_own_language(ctx: &Ctx, actor: &Actor, lang: Lang) -> Result<()> {
    if lang == actor.lang {
        return Ok(());
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    store::user::update_language(tx.ex(), actor.user_id.0, lang.code(), now.millis()).await?;
    audit::Event::new(actor, "user.update")
        .target("user", actor.user_id.0, Some(actor.node_id.0))
        .before(json!({ "language": actor.lang.code() }))
        .after(json!({ "language": lang.code() }))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}
