//! The delivery worker: claims due messages (a lease, so one node sends each), renders them in
//! the recipient's language, sends them, and records the outcome. A crash after sending but
//! before recording leaves the lease to expire and the message is sent again: delivery is at
//! least once, and exactly once whenever the node lives from send to record.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::Value;
use uuid::Uuid;

use super::mail::{self, Rendered};
use crate::context::Ctx;
use crate::domain::{email, links, reset};
use crate::error::{Error, Result};
use crate::model::Lang;
use crate::store::{self, outbox::OutboxRow};

/// How long a node may hold a message while it sends it.
const LEASE_SECS: i64 = 300;
/// Messages claimed per pass.
const BATCH: i64 = 20;
pub const INVITATION_PURPOSE: &str = "invitation";
/// An invitation link lives this long.
pub const INVITATION_SECS: i64 = 7 * 24 * 3600;

/// Where email goes: an SMTP server, or nowhere (messages stay queued and readable in the
/// portal, for a first run without a mail server).
#[derive(Clone)]
pub enum Transport {
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
    None,
}

impl Transport {
    /// `smtp://user:pass@host:587?tls=required`, `smtps://…` or `smtp://127.0.0.1:2525`.
    pub fn smtp(url: &str, from: &str) -> Result<Transport> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| Error::field("smtp_url", "smtp-url-invalid"))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from: Mailbox = from
            .parse()
            .map_err(|_| Error::field("mail_from", "field-email-invalid"))?;
        Ok(Transport::Smtp { transport, from })
    }
}

/// The wait before try number `attempts + 1`: 30 s doubling per try, at most an hour.
pub fn backoff_secs(base_secs: i64, attempts: i64) -> i64 {
    let exp = attempts.clamp(0, 20) as u32;
    base_secs
        .saturating_mul(2_i64.saturating_pow(exp))
        .min(3600)
}

/// One pass: claims and delivers every due message; returns how many were sent.
pub async fn deliver_due(ctx: &Ctx, transport: &Transport, node: &str) -> Result<usize> {
    let Transport::Smtp { transport, from } = transport else {
        return Ok(0);
    };
    let now = ctx.clock.now();
    let claimed = {
        let mut tx = ctx.db.begin().await?;
        let rows = store::outbox::claim_due(
            tx.ex(),
            node,
            now.millis(),
            now.plus_secs(LEASE_SECS).millis(),
            BATCH,
        )
        .await?;
        tx.commit().await?;
        rows
    };
    let mut sent = 0;
    for row in claimed {
        let outcome = match prepare(ctx, &row).await {
            Ok(Some(rendered)) => send(transport, from, &row.recipient, &rendered).await,
            Ok(None) => Err("obsolete: the user no longer needs this message".to_string()),
            Err(e) => Err(e.to_string()),
        };
        let now = ctx.clock.now();
        let mut tx = ctx.db.begin().await?;
        match outcome {
            Ok(()) => {
                store::outbox::mark_sent(tx.ex(), row.id, now.millis()).await?;
                sent += 1;
            }
            Err(error) => {
                tracing::warn!(message = %row.id, kind = %row.kind, attempt = row.attempts + 1, %error, "delivery failed");
                let last = row.attempts + 1 >= ctx.settings.outbox_max_attempts
                    || error.starts_with("obsolete");
                let next = (!last).then(|| {
                    now.plus_secs(backoff_secs(
                        ctx.settings.outbox_retry_base_secs,
                        row.attempts,
                    ))
                    .millis()
                });
                store::outbox::mark_attempt_failed(tx.ex(), row.id, &error, next).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(sent)
}

async fn send(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    from: &Mailbox,
    to: &str,
    m: &Rendered,
) -> std::result::Result<(), String> {
    let to: Mailbox = to.parse().map_err(|e| format!("bad recipient: {e}"))?;
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(m.subject.clone())
        .multipart(MultiPart::alternative_plain_html(
            m.text.clone(),
            m.html.clone(),
        ))
        .map_err(|e| e.to_string())?;
    transport
        .send(message)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Renders a message, minting its link token when it carries one. None when it is no longer
/// needed (an invitation to someone who is no longer invited).
async fn prepare(ctx: &Ctx, row: &OutboxRow) -> Result<Option<Rendered>> {
    let payload: Value = serde_json::from_str(&row.payload).unwrap_or(Value::Null);
    let text = |k: &str| {
        payload
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let Some(user_id) = row.user_id else {
        return Ok(None);
    };
    let mut tx = ctx.db.begin().await?;
    let Some(user) = store::user::find_user(tx.ex(), user_id).await? else {
        return Ok(None);
    };
    let lang = Lang::parse(&user.language).unwrap_or_default();
    let name = {
        let n = format!("{} {}", user.first_name, user.last_name)
            .trim()
            .to_string();
        if n.is_empty() {
            user.email.clone().unwrap_or_default()
        } else {
            n
        }
    };
    let now = ctx.clock.now();
    let rendered = match row.kind.as_str() {
        "invitation" => {
            if user.status != "invited" {
                return Ok(None);
            }
            // A new link voids the old one; only its hash is stored.
            let (token, expires) = links::mint_for_user(
                &mut tx,
                INVITATION_PURPOSE,
                user.id,
                Some(user.node_id),
                &row.id.to_string(),
                now,
                INVITATION_SECS,
            )
            .await?;
            let link = ctx.settings.link(&format!("/invitation?token={token}"));
            mail::invitation(
                lang,
                &name,
                &text("inviter"),
                &user.invite_message,
                &link,
                &expires.to_utc_string(),
            )
        }
        "password-set-by-admin" => mail::password_set_by_admin(lang, &name, &text("by")),
        "password-changed" => mail::password_changed(lang, &name),
        "password-reset" => {
            if user.status != "active" {
                return Ok(None);
            }
            let (token, expires) = links::mint_for_user(
                &mut tx,
                reset::PURPOSE,
                user.id,
                Some(user.node_id),
                "",
                now,
                reset::LINK_SECS,
            )
            .await?;
            mail::password_reset(
                lang,
                &name,
                &ctx.settings.link(&format!("/reset/confirm?token={token}")),
                &expires.to_utc_string(),
            )
        }
        "email-verify" | "email-change-notice" => {
            let new = text("new");
            if user.email_pending.as_deref() != Some(new.as_str()) {
                return Ok(None);
            }
            let (purpose, path) = if row.kind == "email-verify" {
                (email::VERIFY, "/email/confirm")
            } else {
                (email::CANCEL, "/email/cancel")
            };
            let (token, expires) = links::mint_for_user(
                &mut tx,
                purpose,
                user.id,
                Some(user.node_id),
                &new,
                now,
                email::LINK_SECS,
            )
            .await?;
            let link = ctx.settings.link(&format!("{path}?token={token}"));
            if row.kind == "email-verify" {
                mail::email_verify(lang, &name, &new, &link, &expires.to_utc_string())
            } else {
                mail::email_change_notice(lang, &name, &new, &link, &expires.to_utc_string())
            }
        }
        other => return Err(Error::internal(format!("unknown message kind {other}"))),
    };
    tx.commit().await?;
    Ok(Some(rendered))
}

/// Delivers until `shutdown` changes: a pass every `every`.
pub async fn run(
    ctx: Ctx,
    transport: Transport,
    every: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let node = Uuid::now_v7().to_string();
    loop {
        match deliver_due(&ctx, &transport, &node).await {
            Ok(n) if n > 0 => tracing::info!(sent = n, "messages delivered"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox pass failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(super::backoff_secs(30, 0), 30);
        assert_eq!(super::backoff_secs(30, 1), 60);
        assert_eq!(super::backoff_secs(30, 3), 240);
        assert_eq!(super::backoff_secs(30, 30), 3600);
    }
}
