//! Password reset by email from the sign-in page. The answer never says whether the address
//! exists; the link lives an hour and works once; the reset ends every session of the user and
//! signs nobody in (the next sign-in asks for every factor again).

use super::link;
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::Email;
use crate::outbox::message::{self, Message};
use crate::password;
use crate::store::{self, audit::NewAuditEvent};

pub const PURPOSE: &str = "reset";
/// A reset link lives this long.
pub const LINK_SECS: i64 = 3600;
/// Reset mails per user and hour; more requests are answered alike and send nothing.
const PER_HOUR: i64 = 3;

/// Queues a reset link when the address belongs to an active person; does the same amount of
/// writing either way, and answers the same.
pub async fn request_reset(ctx: &Ctx, email: &str, ip: &str) -> Result<()> {
    let now = ctx.clock.now();
    let email = Email::parse("email", email).ok();
    let mut tx = ctx.db.begin().await?;
    let user = match &email {
        Some(e) => store::user::find_user_by_email(tx.ex(), e.as_str()).await?,
        None => None,
    };
    let user = user.filter(|u| u.kind == "person" && u.status == "active");
    let mut outcome = "unknown";
    if let Some(u) = &user {
        let recent = store::outbox::count_recent(
            tx.ex(),
            u.id,
            Message::PasswordReset.kind(),
            now.plus_secs(-3600).millis(),
        )
        .await?;
        if recent < PER_HOUR {
            message::enqueue(
                tx.ex(),
                &Message::PasswordReset,
                u.email.as_deref().unwrap_or(""),
                u.id,
                u.node_id,
                now,
            )
            .await?;
            outcome = "ok";
        } else {
            outcome = "capped";
        }
    }
    let label: String = email
        .as_ref()
        .map(|e| e.as_str().to_string())
        .unwrap_or_default();
    store::audit::insert_audit_event(
        tx.ex(),
        NewAuditEvent {
            at: now.millis(),
            actor_user_id: user.as_ref().map(|u| u.id),
            actor_label: &label,
            action: "password-reset.request",
            target_kind: "user",
            target_id: user.as_ref().map(|u| u.id.to_string()).unwrap_or_default(),
            ip,
            outcome,
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await
}

/// Whether a reset link is live (the page shows its form), without using it.
pub async fn check_reset(ctx: &Ctx, token: &str) -> Result<()> {
    link::check(ctx, token, PURPOSE).await.map(|_| ())
}

/// Uses the link: the new password, every session of the user ended, nobody signed in.
pub async fn complete_reset(
    ctx: &Ctx,
    token: &str,
    new_password: &str,
    repeat: &str,
    ip: &str,
) -> Result<()> {
    let now = ctx.clock.now();
    let row = link::check(ctx, token, PURPOSE).await?;
    let user_id = row.user_id.ok_or(Error::Unauthenticated("link-invalid"))?;
    let email = {
        let mut conn = ctx.db.conn().await?;
        store::user::find_user(conn.ex(), user_id)
            .await?
            .and_then(|u| u.email)
            .unwrap_or_default()
    };
    password::check_new("password", new_password, Some(&email))?;
    if new_password != repeat {
        return Err(Error::field("password_repeat", "password-mismatch"));
    }
    let hash = crate::domain::hasher::hash(ctx, new_password).await?;
    let mut tx = ctx.db.begin().await?;
    link::live(tx.ex(), token, PURPOSE, now).await?;
    link::use_once(tx.ex(), token, now).await?;
    let before = store::user::find_user(tx.ex(), user_id)
        .await?
        .ok_or(Error::Unauthenticated("link-invalid"))?;
    let mut after = before.clone();
    after.password_hash = Some(hash);
    after.password_must_change = false;
    after.updated_at = now.millis();
    super::user::save(tx.ex(), &after, before.version).await?;
    // Whoever knew the old password is out: every session ends, every personal token dies.
    store::session::delete_sessions_of(tx.ex(), user_id).await?;
    store::api_token::revoke_tokens_of(tx.ex(), user_id, now.millis()).await?;
    store::audit::insert_audit_event(
        tx.ex(),
        NewAuditEvent {
            at: now.millis(),
            actor_user_id: Some(user_id),
            actor_label: &email,
            action: "password-reset.complete",
            target_kind: "user",
            target_id: user_id.to_string(),
            node_id: Some(before.node_id),
            ip,
            outcome: "ok",
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await
}
