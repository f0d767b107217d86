//! Invitations: the one-time link that lets an invited user choose their own
//! password, "Resend invitation", and the invitation's history on the user page.

use serde_json::json;

use super::user::user_in_scope;
use super::{Actor, audit};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::{Timestamp, UserId};
use crate::outbox::message::{self, Message};
use crate::outbox::worker::INVITATION_PURPOSE;

/// The outbox kind of an invitation.
const INVITATION_KIND: &str = "invitation";
use crate::password;
use crate::store;

/// Who the link is for (the page greets them), without using it.
pub async fn check_invitation(ctx: &Ctx, token: &str) -> Result<String> {
    let mut conn = ctx.db.conn().await?;
    let row = super::link::live(conn.ex(), token, INVITATION_PURPOSE, ctx.clock.now()).await?;
    let user = store::user::find_user(conn.ex(), row.user_id.unwrap_or_default())
        .await?
        .ok_or(Error::Unauthenticated("link-invalid"))?;
    Ok(user.email.unwrap_or_default())
}

/// Uses the link once: the user's own password, the address verified, the user active.
pub async fn accept_invitation(
    ctx: &Ctx,
    token: &str,
    new_password: &str,
    repeat: &str,
    ip: &str,
) -> Result<()> {
    let now = ctx.clock.now();
    let email = check_invitation(ctx, token).await?;
    password::check_new("password", new_password, Some(&email))?;
    if new_password != repeat {
        return Err(Error::field("password_repeat", "password-mismatch"));
    }
    let hash = crate::domain::hasher::hash(ctx, new_password).await?;
    let mut tx = ctx.db.begin().await?;
    let row = super::link::live(tx.ex(), token, INVITATION_PURPOSE, now).await?;
    super::link::use_once(tx.ex(), token, now).await?;
    let user_id = row.user_id.unwrap_or_default();
    let before = store::user::find_user(tx.ex(), user_id)
        .await?
        .ok_or(Error::Unauthenticated("link-invalid"))?;
    if before.status != "invited" {
        return Err(Error::Unauthenticated("link-used"));
    }
    let mut after = before.clone();
    after.password_hash = Some(hash);
    after.password_must_change = false;
    after.status = "active".into();
    after.email_verified = true;
    after.updated_at = now.millis();
    super::user::save(tx.ex(), &after, before.version).await?;
    store::audit::insert_audit_event(
        tx.ex(),
        store::audit::NewAuditEvent {
            at: now.millis(),
            actor_user_id: Some(user_id),
            actor_label: before.email.as_deref().unwrap_or(""),
            action: "invitation.accept",
            target_kind: "user",
            target_id: user_id.to_string(),
            node_id: Some(before.node_id),
            before: json!({"status": before.status}).to_string(),
            after: json!({"status": "active", "email_verified": true}).to_string(),
            ip,
            outcome: "ok",
            credential_id: None,
        },
    )
    .await?;
    tx.commit().await
}

/// Resend invitation: a new message with a new link; the old link dies now.
pub async fn resend_invitation(ctx: &Ctx, actor: &Actor, id: UserId) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (user, _) =
        super::rank::user_to_change(&mut tx, actor, id.0, super::rank::Need::Any, now.millis())
            .await?;
    if user.status != "invited" {
        return Err(Error::Conflict("invitation-not-invited"));
    }
    store::link::void_user_tokens(tx.ex(), INVITATION_PURPOSE, user.id, now.millis()).await?;
    let invitation = Message::Invitation {
        inviter: actor.display_name.clone(),
        signature: actor.signature(tx.ex()).await?,
    };
    message::enqueue(
        tx.ex(),
        &invitation,
        user.email.as_deref().unwrap_or(""),
        user.id,
        user.node_id,
        now,
    )
    .await?;
    audit::Event::new(actor, "invitation.resend")
        .target("user", user.id, Some(user.node_id))
        .after(json!({"recipient": user.email}))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}

/// One line of an invitation's history.
#[derive(Debug, Clone)]
pub struct InvitationEvent {
    pub at: Timestamp,
    /// "queued", "sent", "failed", "accepted" or "expired".
    pub what: &'static str,
    pub detail: String,
}

/// The invitation history of a user the actor administers: each message and its fate, the
/// acceptance, and a link that expired unused. Newest first.
pub async fn invitation_history(
    ctx: &Ctx,
    actor: &Actor,
    id: UserId,
) -> Result<Vec<InvitationEvent>> {
    let now = ctx.clock.now();
    let mut conn = ctx.db.conn().await?;
    let (user, _) = user_in_scope(&mut conn, actor, id.0).await?;
    let messages = store::outbox::list_for_user(conn.ex(), user.id, INVITATION_KIND).await?;
    let tokens = store::link::list_user_tokens(conn.ex(), INVITATION_PURPOSE, user.id).await?;
    let mut events = vec![];
    for m in &messages {
        let (what, at) = match m.state.as_str() {
            "sent" => ("sent", m.sent_at.unwrap_or(m.created_at)),
            "failed" => ("failed", m.next_attempt_at.max(m.created_at)),
            _ => ("queued", m.created_at),
        };
        events.push(InvitationEvent {
            at: Timestamp::from_millis(at),
            what,
            detail: m.last_error.clone(),
        });
    }
    for t in &tokens {
        if t.used_at.is_some()
            && user.status != "invited"
            && t.used_at == tokens.iter().filter_map(|x| x.used_at).max()
        {
            events.push(InvitationEvent {
                at: Timestamp::from_millis(t.used_at.unwrap_or(0)),
                what: "accepted",
                detail: String::new(),
            });
        } else if t.used_at.is_none() && t.expires_at <= now.millis() {
            events.push(InvitationEvent {
                at: Timestamp::from_millis(t.expires_at),
                what: "expired",
                detail: String::new(),
            });
        }
    }
    events.sort_by_key(|e| std::cmp::Reverse(e.at));
    Ok(events)
}
