//! Changing an email address: the new address takes effect only when it
//! confirms a link sent to it; until then the old one stays in force and the page shows the
//! pending one. The old address gets a notice with a link that cancels the change.

use serde_json::json;

use super::user::{EmailChange, UserChange, save, search_terms_of};
use super::{Actor, audit, link};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::Timestamp;
use crate::model::{Email, UserId};
use crate::outbox::message::{self, Message};
use crate::store::{self, Handle, Tx, audit::NewAuditEvent, user::UserRow};

pub const VERIFY: &str = "email-verify";
pub const CANCEL: &str = "email-cancel";
/// Confirmation and cancel links live this long.
pub const LINK_SECS: i64 = 7 * 24 * 3600;

/// Refuses an address another user has (to sign in, or as a confirmed alias) or that is a
/// public address: people sign in with it, so an address is one user in the whole deployment.
pub(crate) async fn address_free(h: &mut impl Handle, actor: &Actor, address: &str) -> Result<()> {
    if super::address::email_in_use(h, address).await? {
        Err(address_taken(actor))
    } else {
        Ok(())
    }
}

/// The answer to an address another user has. Only operator staff, who see every account, are
/// told it is taken; anyone else hears what any unusable address gets, so that an account's
/// administrators never learn that an address lives in another account.
pub(crate) fn address_taken(actor: &Actor) -> Error {
    if actor.is_operator() {
        Error::field("email", "error-email-taken")
    } else {
        Error::field("email", "error-email-unavailable")
    }
}

/// A user is moved to a new address: an administrator's change (`update_user`), or the user's
/// own from the toolbox (after a recent proof of identity). The new address takes effect when
/// it confirms the link sent to it.
pub async fn request_email_change(
    ctx: &Ctx,
    actor: &Actor,
    id: UserId,
    version: i64,
    new_email: &str,
) -> Result<()> {
    if id != actor.user_id {
        let change = UserChange {
            email: Some(EmailChange::Confirm(new_email.to_string())),
            ..Default::default()
        };
        return super::user::update_user(ctx, actor, id, version, &change).await;
    }
    let new = Email::parse("email", new_email)?;
    super::session::require_recent_auth(ctx, actor)?;
    let now = ctx.clock.now();
    ctx.write(async |tx| {
        let before = store::user::find_user(tx.ex(), id.0)
            .await?
            .ok_or(Error::NotFound)?;
        if before.kind != "person" {
            return Err(Error::NotFound);
        }
        if before.email.as_deref() == Some(new.as_str()) {
            return Err(Error::field("email", "email-unchanged"));
        }
        address_free(tx, actor, new.as_str()).await?;
        let mut after = before.clone();
        after.email_pending = Some(new.as_str().to_string());
        after.updated_at = now.millis();
        save(tx.ex(), &after, version).await?;
        let change = EmailChange::Confirm(new.as_str().to_string());
        after_change(tx, actor, &before, &after, &change, now).await?;
        audit::Event::new(actor, "user.email.request")
            .target("user", before.id, Some(before.node_id))
            .before(json!({"email": before.email, "pending": before.email_pending}))
            .after(json!({"pending": new.as_str()}))
            .write(tx.ex(), now)
            .await
    })
    .await
}

/// What follows a new address, in the change's transaction: for a change to confirm, the link
/// to the new address and a notice (with a cancel link) to the old one; for the directory's
/// change, pending links die and the old address is told.
pub(crate) async fn after_change(
    tx: &mut Tx,
    actor: &Actor,
    before: &UserRow,
    after: &UserRow,
    change: &EmailChange,
    now: Timestamp,
) -> Result<()> {
    match change {
        EmailChange::Confirm(new) => {
            message::enqueue(
                tx.ex(),
                &Message::EmailVerify {
                    new: new.clone(),
                    by: actor.display_name.clone(),
                },
                new,
                before.id,
                before.node_id,
                now,
            )
            .await?;
            if let Some(old) = &before.email {
                message::enqueue(
                    tx.ex(),
                    &Message::EmailChangeNotice {
                        new: new.clone(),
                        by: actor.display_name.clone(),
                    },
                    old,
                    before.id,
                    before.node_id,
                    now,
                )
                .await?;
            }
        }
        EmailChange::Directory(new) => {
            store::link::void_user_tokens(tx.ex(), VERIFY, before.id, now.millis()).await?;
            store::link::void_user_tokens(tx.ex(), CANCEL, before.id, now.millis()).await?;
            if let Some(old) = before
                .email
                .as_ref()
                .filter(|o| after.email.as_ref() != Some(*o))
            {
                message::enqueue(
                    tx.ex(),
                    &Message::EmailChanged {
                        new: new.clone(),
                        by: actor.display_name.clone(),
                    },
                    old,
                    before.id,
                    before.node_id,
                    now,
                )
                .await?;
            }
        }
    }
    Ok(())
}

/// The address a confirmation link would make current (the page names it).
pub async fn check_link(ctx: &Ctx, token: &str, purpose: &str) -> Result<String> {
    Ok(link::check(ctx, token, purpose).await?.data)
}

/// The new address confirms: it becomes the user's address, verified.
pub async fn confirm_email_change(ctx: &Ctx, token: &str, ip: &str) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let row = link::live(tx.ex(), token, VERIFY, now).await?;
    let user_id = row.user_id.ok_or(Error::Unauthenticated("link-invalid"))?;
    let before = store::user::find_user(tx.ex(), user_id)
        .await?
        .ok_or(Error::Unauthenticated("link-invalid"))?;
    // The link is for the address it was sent to, and only while that change is pending.
    if before.email_pending.as_deref() != Some(row.data.as_str()) {
        return Err(Error::Unauthenticated("link-invalid"));
    }
    if super::address::email_in_use(&mut tx, &row.data).await? {
        return Err(Error::Conflict("error-email-taken"));
    }
    link::use_once(tx.ex(), token, now).await?;
    let mut after = before.clone();
    after.email = Some(row.data.clone());
    after.email_pending = None;
    after.email_verified = true;
    after.updated_at = now.millis();
    save(tx.ex(), &after, before.version).await?;
    store::link::void_user_tokens(tx.ex(), CANCEL, user_id, now.millis()).await?;
    store::user::replace_terms(
        tx.ex(),
        after.id,
        after.account_id,
        &search_terms_of(&after),
    )
    .await?;
    store::audit::insert_audit_event(
        tx.ex(),
        NewAuditEvent {
            at: now.millis(),
            actor_user_id: Some(user_id),
            actor_label: &row.data,
            action: "user.email.confirm",
            target_kind: "user",
            target_id: user_id.to_string(),
            node_id: Some(before.node_id),
            before: json!({"email": before.email}).to_string(),
            after: json!({"email": after.email}).to_string(),
            ip,
            outcome: "ok",
            credential_id: None,
        },
    )
    .await?;
    tx.commit().await
}

/// The old address cancels the change: nothing changes, the confirmation link dies.
pub async fn cancel_email_change(ctx: &Ctx, token: &str, ip: &str) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let row = link::live(tx.ex(), token, CANCEL, now).await?;
    let user_id = row.user_id.ok_or(Error::Unauthenticated("link-invalid"))?;
    link::use_once(tx.ex(), token, now).await?;
    let before = store::user::find_user(tx.ex(), user_id)
        .await?
        .ok_or(Error::Unauthenticated("link-invalid"))?;
    if before.email_pending.as_deref() == Some(row.data.as_str()) {
        let mut after = before.clone();
        after.email_pending = None;
        after.updated_at = now.millis();
        save(tx.ex(), &after, before.version).await?;
    }
    store::link::void_user_tokens(tx.ex(), VERIFY, user_id, now.millis()).await?;
    store::audit::insert_audit_event(
        tx.ex(),
        NewAuditEvent {
            at: now.millis(),
            actor_user_id: Some(user_id),
            actor_label: before.email.as_deref().unwrap_or(""),
            action: "user.email.cancel",
            target_kind: "user",
            target_id: user_id.to_string(),
            node_id: Some(before.node_id),
            before: json!({"pending": before.email_pending}).to_string(),
            ip,
            outcome: "ok",
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await
}
