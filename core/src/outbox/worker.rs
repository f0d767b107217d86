//! The delivery worker: claims due messages (a lease, so one node sends each), renders them in
//! the recipient's language, sends them, and records the outcome. A crash after sending but
//! before recording leaves the lease to expire and the message is sent again: delivery is at
//! least once, and exactly once whenever the node lives from send to record.

use super::message::Message;
use crate::model::log_safe;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use uuid::Uuid;

use super::mail::{self, Rendered};
use crate::context::Ctx;
use crate::domain::{email, link, reset};
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

/// Where messages go: email to an SMTP server, SMS to an HTTP gateway. A channel without its
/// server is not delivered at all: its messages wait in the outbox (first run, no set-up).
#[derive(Clone, Default)]
pub struct Transport {
    email: Option<(AsyncSmtpTransport<Tokio1Executor>, Mailbox)>,
    sms: Option<SmsDriver>,
}

/// How SMS leave: an HTTP gateway, or the log (the embedded default: an operator trying Roster
/// reads sign-in codes in the server's output).
#[derive(Clone)]
enum SmsDriver {
    Http(SmsGateway),
    Log,
}

/// The SMS gateway contract: `POST url` with `{"id", "to", "text"}` as JSON and the configured
/// `Authorization` header; any 2xx is accepted, anything else is tried again later.
#[derive(Clone)]
struct SmsGateway {
    client: reqwest::Client,
    url: String,
    auth: Option<String>,
}

impl Transport {
    /// Delivers nothing (messages wait in the outbox).
    pub fn none() -> Transport {
        Transport::default()
    }

    /// Email through `smtp://user:pass@host:587?tls=required`, `smtps://…` or
    /// `smtp://127.0.0.1:2525`, from `from` ("Roster <roster@example.com>").
    pub fn with_smtp(mut self, url: &str, from: &str) -> Result<Transport> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|_| Error::field("smtp_url", "smtp-url-invalid"))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from: Mailbox = from
            .parse()
            .map_err(|_| Error::field("mail_from", "field-email-invalid"))?;
        self.email = Some((transport, from));
        Ok(self)
    }

    /// SMS through an HTTP gateway (see `SmsGateway`); `auth` is the `Authorization` value.
    pub fn with_sms_gateway(mut self, url: &str, auth: Option<&str>) -> Result<Transport> {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(Error::field("sms_gateway_url", "sms-url-invalid"));
        }
        super::install_tls_provider();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(Error::internal)?;
        self.sms = Some(SmsDriver::Http(SmsGateway {
            client,
            url: url.to_string(),
            auth: auth.map(str::to_string),
        }));
        Ok(self)
    }

    /// SMS written to the log instead of sent (`--sms-driver log`).
    pub fn with_sms_log(mut self) -> Transport {
        self.sms = Some(SmsDriver::Log);
        self
    }

    pub fn sends_email(&self) -> bool {
        self.email.is_some()
    }

    pub fn sends_sms(&self) -> bool {
        self.sms.is_some()
    }

    /// For compatibility with the email-only constructor.
    pub fn smtp(url: &str, from: &str) -> Result<Transport> {
        Transport::none().with_smtp(url, from)
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
    if !transport.sends_email() && !transport.sends_sms() {
        return Ok(0);
    }
    let now = ctx.clock.now();
    let claimed = {
        let mut tx = ctx.db.begin().await?;
        let rows = store::outbox::claim_due(
            tx.ex(),
            node,
            now.millis(),
            now.plus_secs(LEASE_SECS).millis(),
            BATCH,
            transport.sends_email(),
            transport.sends_sms(),
        )
        .await?;
        tx.commit().await?;
        rows
    };
    let mut sent = 0;
    for row in claimed {
        let outcome = match prepare(ctx, &row).await {
            Ok(Some(Prepared::Email(rendered))) => match &transport.email {
                Some((smtp, from)) => send(smtp, from, &row.recipient, &rendered).await,
                None => Err("no mail server".to_string()),
            },
            Ok(Some(Prepared::Sms(text))) => match &transport.sms {
                Some(SmsDriver::Http(gateway)) => {
                    send_sms(gateway, row.id, &row.recipient, &text).await
                }
                Some(SmsDriver::Log) => {
                    tracing::info!(message = %row.id, to = %log_safe(&row.recipient), text = %log_safe(&text), "SMS (log driver)");
                    Ok(())
                }
                None => Err("no SMS gateway".to_string()),
            },
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
                tracing::warn!(message = %row.id, kind = %row.kind, attempt = row.attempts + 1, error = %log_safe(&error), "delivery failed");
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
    let message = lettre::Message::builder()
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

async fn send_sms(
    gateway: &SmsGateway,
    id: Uuid,
    to: &str,
    text: &str,
) -> std::result::Result<(), String> {
    let mut req = gateway
        .client
        .post(&gateway.url)
        .json(&serde_json::json!({ "id": id.to_string(), "to": to, "text": text }));
    if let Some(auth) = &gateway.auth {
        req = req.header(reqwest::header::AUTHORIZATION, auth);
    }
    match req.send().await {
        Ok(res) if res.status().is_success() => Ok(()),
        Ok(res) => Err(format!("gateway answered {}", res.status())),
        Err(e) => Err(format!("gateway unreachable: {e}")),
    }
}

/// What a message becomes once rendered.
enum Prepared {
    Email(Rendered),
    Sms(String),
}

/// Renders a message, minting its link token when it carries one. None when it is no longer
/// needed (an invitation to someone who is no longer invited).
async fn prepare(ctx: &Ctx, row: &OutboxRow) -> Result<Option<Prepared>> {
    let Some(message) = Message::from_row(&row.kind, &row.payload) else {
        return Err(Error::internal(format!(
            "unknown message kind {}",
            row.kind
        )));
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
    let rendered = match &message {
        Message::Invitation { inviter, signature } => {
            if user.status != "invited" {
                return Ok(None);
            }
            // A new link voids the old one; only its hash is stored.
            let (token, expires) = link::mint_for_user(
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
                inviter,
                signature,
                &user.invite_message,
                &link,
                &expires.to_utc_string(),
            )
        }
        Message::PasswordSetByAdmin { by } => mail::password_set_by_admin(lang, &name, by),
        Message::PasswordChanged => mail::password_changed(lang, &name),
        Message::EmailChanged { new, by } => mail::email_changed(lang, &name, new, by),
        Message::MfaChanged { change, factor } => mail::mfa_changed(lang, &name, change, factor),
        Message::PasswordReset => {
            if user.status != "active" {
                return Ok(None);
            }
            let (token, expires) = link::mint_for_user(
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
        Message::EmailVerify { new, .. } | Message::EmailChangeNotice { new, .. } => {
            if user.email_pending.as_deref() != Some(new.as_str()) {
                return Ok(None);
            }
            let verify = matches!(message, Message::EmailVerify { .. });
            let (purpose, path) = if verify {
                (email::VERIFY, "/email/confirm")
            } else {
                (email::CANCEL, "/email/cancel")
            };
            let (token, expires) = link::mint_for_user(
                &mut tx,
                purpose,
                user.id,
                Some(user.node_id),
                new,
                now,
                email::LINK_SECS,
            )
            .await?;
            let link = ctx.settings.link(&format!("{path}?token={token}"));
            if verify {
                mail::email_verify(lang, &name, new, &link, &expires.to_utc_string())
            } else {
                mail::email_change_notice(lang, &name, new, &link, &expires.to_utc_string())
            }
        }
        Message::AliasVerify { alias, address, .. } => {
            // Only while the alias still waits for its confirmation.
            let waiting = match Uuid::parse_str(alias) {
                Ok(id) => store::address::find_alias(tx.ex(), id)
                    .await?
                    .is_some_and(|a| a.user_id == user.id && a.confirmed_at.is_none()),
                Err(_) => false,
            };
            if !waiting {
                return Ok(None);
            }
            let (token, expires) = link::mint_beside(
                &mut tx,
                crate::domain::address::ALIAS_VERIFY,
                user.id,
                Some(user.node_id),
                alias,
                now,
                email::LINK_SECS,
            )
            .await?;
            let link = ctx.settings.link(&format!("/alias/confirm?token={token}"));
            mail::alias_verify(lang, &name, address, &link, &expires.to_utc_string())
        }
        Message::PhoneVerify => {
            // The number must still be the user's and not yet verified; the code is drawn now,
            // and only its hash is kept.
            if user.phone.as_deref() != Some(row.recipient.as_str())
                || store::user::phone_verified(tx.ex(), user.id).await?
            {
                return Ok(None);
            }
            let code = crate::domain::phone::new_code()?;
            let hash = crate::domain::hasher::hash(ctx, &code).await?;
            store::code::insert_code(
                tx.ex(),
                store::code::NewCode {
                    user: user.id,
                    purpose: crate::domain::phone::VERIFY,
                    phone: &row.recipient,
                    code_hash: &hash,
                    now: now.millis(),
                    expires_at: now.plus_secs(crate::domain::phone::CODE_SECS).millis(),
                    bound_to: "",
                },
            )
            .await?;
            tx.commit().await?;
            let text =
                crate::i18n::t_args(lang, "sms-phone-verify", &[("code", code.as_str().into())]);
            return Ok(Some(Prepared::Sms(text)));
        }
        Message::SignInCode { attempt } => {
            // Only to a number that is still one of the user's sign-in factors.
            if !store::factor::list_factors(tx.ex(), user.id)
                .await?
                .iter()
                .any(|f| f.kind == "sms" && f.data == row.recipient)
            {
                return Ok(None);
            }
            let code = crate::domain::phone::new_code()?;
            let hash = crate::domain::hasher::hash(ctx, &code).await?;
            store::code::insert_code(
                tx.ex(),
                store::code::NewCode {
                    user: user.id,
                    purpose: crate::domain::mfa::SIGN_IN_SMS,
                    phone: &row.recipient,
                    code_hash: &hash,
                    now: now.millis(),
                    expires_at: now
                        .plus_secs(crate::domain::mfa::SIGN_IN_CODE_SECS)
                        .millis(),
                    bound_to: attempt,
                },
            )
            .await?;
            tx.commit().await?;
            let text =
                crate::i18n::t_args(lang, "sms-sign-in-code", &[("code", code.as_str().into())]);
            return Ok(Some(Prepared::Sms(text)));
        }
    };
    tx.commit().await?;
    Ok(Some(Prepared::Email(rendered)))
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
