//! Sign-in, the session behind every request, re-authentication and sign-out.
//!
//! Throttling (`throttle`): attempts are reserved per client address and per typed email
//! address before the password is checked. After `FREE_FAILURES` a key must wait a delay that
//! doubles with each further failure, up to a cap; while it waits, attempts are refused before
//! any password is checked. A browser that has signed in as a user before carries a device
//! cookie, and for that user it skips the per-account count: an attacker guessing a user's
//! password from elsewhere cannot keep the real user out.

use uuid::Uuid;

use super::actor::{Actor, Scope, Stage};
use super::throttle::{self, Key};
use super::{hasher, mfa};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::{Email, Lang, NodeId, NodeKind, Timestamp, UserId};
use crate::password;
use crate::secret;
use serde_json::json;

use crate::store::{self, Ex, audit::NewAuditEvent, session::SessionRow};

pub use super::throttle::FREE_FAILURES;
/// Longest wait for one client address.
pub const ADDRESS_DELAY_CAP_SECS: i64 = 15 * 60;
/// Longest wait for one account (short: the owner may be the one waiting).
pub const ACCOUNT_DELAY_CAP_SECS: i64 = 60;
/// A session's last-seen time is written at most this often.
const TOUCH_EVERY_SECS: i64 = 60;

pub struct SignIn<'a> {
    pub email: &'a str,
    pub password: &'a str,
    pub ip: &'a str,
    pub user_agent: &'a str,
    /// The device cookie the browser sent, if any.
    pub device_token: Option<&'a str>,
}

#[derive(Debug)]
pub struct SignedIn {
    pub user_id: UserId,
    /// The new session's cookie value (shown to nobody else, stored hashed).
    pub session_token: String,
    /// A new device cookie to set, when this browser was not yet known for this user.
    pub new_device_token: Option<String>,
    pub lang: Lang,
    /// Whether the session still waits for a second factor (or its enrolment).
    pub stage: Stage,
}

/// The sign-in keys of an attempt: the client address, and (unless the browser is known for
/// this user) the typed address, normalized like stored addresses so that case and spaces give
/// an attacker no extra tries.
pub(crate) fn throttle_keys(ip: &str, email: &str, check_account: bool) -> Vec<Key> {
    let mut keys = vec![Key::new(
        format!("ip:{}", crate::model::address_bucket(ip)),
        FREE_FAILURES,
        ADDRESS_DELAY_CAP_SECS,
    )];
    if check_account {
        keys.push(account_key(email));
    }
    keys
}

pub(crate) fn account_key(email: &str) -> Key {
    Key::new(
        format!("account:{}", email.trim().to_lowercase()),
        FREE_FAILURES,
        ACCOUNT_DELAY_CAP_SECS,
    )
}

/// Signs a person in with email and password. Wrong credentials, unknown addresses, invited,
/// disabled and system users all get the same `signin-failed` after the same work.
pub async fn sign_in(ctx: &Ctx, input: SignIn<'_>) -> Result<SignedIn> {
    let now = ctx.clock.now();
    let email = Email::parse("email", input.email).ok();
    let device_hash = input.device_token.map(secret::hash_token);

    // Reads first, outside any transaction: the hash is checked with no lock held.
    let mut conn = ctx.db.conn().await?;
    let user = match &email {
        Some(e) => store::user::find_user_by_email(conn.ex(), e.as_str()).await?,
        None => None,
    };
    let known_device = match (&user, &device_hash) {
        (Some(u), Some(h)) => store::device::is_known_device(conn.ex(), h, u.id).await?,
        _ => false,
    };
    drop(conn);
    let keys = throttle_keys(input.ip, input.email, !known_device);
    let user_id = user.as_ref().map(|u| u.id);
    if let Err(refused) = throttle::reserve(ctx, &keys, now).await {
        let mut tx = ctx.db.begin().await?;
        audit_sign_in(
            tx.ex(),
            now,
            user_id,
            input.email,
            input.ip,
            input.user_agent,
            "sign-in.throttled",
            "refused",
        )
        .await?;
        tx.commit().await?;
        return Err(refused);
    }

    let usable =
        user.filter(|u| u.kind == "person" && u.status == "active" && u.password_hash.is_some());
    let ok = hasher::verify(
        ctx,
        input.password,
        usable.as_ref().and_then(|u| u.password_hash.clone()),
    )
    .await?;
    // Who the user is decides the next step; read before the write transaction.
    let next = match usable.as_ref().filter(|_| ok) {
        Some(u) => {
            let mut conn = ctx.db.conn().await?;
            Some(mfa::stage_after_password(&mut conn, ctx, u).await?)
        }
        None => None,
    };
    let mut tx = ctx.db.begin().await?;
    let (Some(user), Some((stage, sms_to))) = (usable.filter(|_| ok), next) else {
        // The attempt stays counted: it was reserved as a failure.
        audit_sign_in(
            tx.ex(),
            now,
            user_id,
            input.email,
            input.ip,
            input.user_agent,
            "sign-in.failed",
            "refused",
        )
        .await?;
        tx.commit().await?;
        return Err(Error::Unauthenticated("signin-failed"));
    };

    if user
        .password_hash
        .as_deref()
        .is_some_and(|h| password::needs_rehash(ctx.settings.hash_cost, h))
    {
        let rehashed = hasher::hash(ctx, input.password).await?;
        store::user::update_password_hash(tx.ex(), user.id, &rehashed).await?;
    }
    // The right password takes its reservation back, and the account's count is forgotten.
    throttle::release(tx.ex(), &keys[0]).await?;
    throttle::clear(tx.ex(), &account_key(input.email)).await?;
    let (session_token, session_ref) = create_session(
        tx.ex(),
        ctx,
        user.id,
        stage,
        input.ip,
        input.user_agent,
        now,
    )
    .await?;
    if let Some(phone) = sms_to {
        mfa::send_code_with_password(&mut tx, &user, &phone, session_ref, now).await?;
    }
    let new_device_token = match (&device_hash, known_device) {
        (Some(h), true) => {
            store::device::touch_device(tx.ex(), h, now.millis()).await?;
            None
        }
        _ => {
            let token = secret::new_token()?;
            store::device::insert_device(
                tx.ex(),
                &secret::hash_token(&token),
                user.id,
                now.millis(),
            )
            .await?;
            Some(token)
        }
    };
    audit_sign_in(
        tx.ex(),
        now,
        Some(user.id),
        input.email,
        input.ip,
        input.user_agent,
        if stage == Stage::Full {
            "sign-in"
        } else {
            "sign-in.password"
        },
        "ok",
    )
    .await?;
    tx.commit().await?;
    Ok(SignedIn {
        user_id: UserId(user.id),
        session_token,
        new_device_token,
        lang: Lang::parse(&user.language).unwrap_or_default(),
        stage,
    })
}

pub(crate) async fn create_session(
    ex: Ex<'_>,
    ctx: &Ctx,
    user: Uuid,
    stage: Stage,
    ip: &str,
    user_agent: &str,
    now: Timestamp,
) -> Result<(String, Uuid)> {
    let token = secret::new_token()?;
    let row = SessionRow {
        id_hash: secret::hash_token(&token),
        ref_id: Uuid::now_v7(),
        user_id: user,
        csrf_token: secret::new_token()?,
        created_at: now.millis(),
        auth_at: now.millis(),
        last_seen_at: now.millis(),
        // A half-finished sign-in lives only as long as the second step may take.
        expires_at: now
            .plus_secs(if stage == Stage::Full {
                ctx.settings.session_absolute_secs
            } else {
                mfa::PENDING_SECS
            })
            .millis(),
        ip: ip.chars().take(64).collect(),
        user_agent: user_agent.chars().take(256).collect(),
        stage: stage.as_str().into(),
        mfa_failures: 0,
    };
    store::session::insert_session(ex, &row).await?;
    Ok((token, row.ref_id))
}

/// Writes a sign-in event: who typed which address, from where and with which browser.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn audit_sign_in(
    ex: Ex<'_>,
    now: Timestamp,
    user: Option<Uuid>,
    typed_email: &str,
    ip: &str,
    browser: &str,
    action: &str,
    outcome: &str,
) -> Result<()> {
    let label: String = typed_email
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_control())
        .take(254)
        .collect();
    store::audit::insert_audit_event(
        ex,
        NewAuditEvent {
            at: now.millis(),
            actor_user_id: user,
            actor_label: &label,
            action,
            target_kind: "user",
            target_id: user.map(|u| u.to_string()).unwrap_or_default(),
            after: if browser.is_empty() {
                String::new()
            } else {
                let browser: String = browser
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(256)
                    .collect();
                serde_json::json!({ "browser": browser }).to_string()
            },
            ip,
            outcome,
            ..Default::default()
        },
    )
    .await
}

/// The actor behind a session cookie, or None when the session is unknown, expired or idle,
/// or its user can no longer sign in (the session is then removed).
pub async fn authenticate(ctx: &Ctx, session_token: &str) -> Result<Option<Actor>> {
    let now = ctx.clock.now();
    let id_hash = secret::hash_token(session_token);
    let mut conn = ctx.db.conn().await?;
    let Some(session) = store::session::find_session(conn.ex(), &id_hash).await? else {
        return Ok(None);
    };
    let idle_limit = session.last_seen_at + ctx.settings.session_idle_secs * 1000;
    let user = store::user::find_user(conn.ex(), session.user_id).await?;
    let live = session.expires_at > now.millis() && idle_limit > now.millis();
    let Some(user) = user.filter(|u| live && u.status == "active") else {
        drop(conn);
        let mut tx = ctx.db.begin().await?;
        store::session::delete_session(tx.ex(), &id_hash).await?;
        tx.commit().await?;
        return Ok(None);
    };
    let grants = store::grant::list_grants_of(conn.ex(), user.id).await?;
    drop(conn);
    if now.millis() - session.last_seen_at >= TOUCH_EVERY_SECS * 1000 {
        let mut tx = ctx.db.begin().await?;
        store::session::touch_session(tx.ex(), &id_hash, now.millis()).await?;
        tx.commit().await?;
    }
    let mut actor = actor_of(user, grants);
    actor.csrf_token = session.csrf_token;
    actor.signed_in_at = Timestamp::from_millis(session.created_at);
    actor.authenticated_at = Timestamp::from_millis(session.auth_at);
    actor.stage = Stage::parse(&session.stage);
    actor.session_ref = session.ref_id;
    actor.session_hash = id_hash;
    Ok(Some(actor))
}

/// The actor a user is, from their row and grants (no session yet: the caller fills it in).
pub(crate) fn actor_of(user: store::user::UserRow, grants: Vec<store::grant::HeldGrant>) -> Actor {
    let user_grants = grants
        .iter()
        .filter_map(|g| g.target_user_id)
        .map(UserId)
        .collect();
    let scopes = grants
        .into_iter()
        .filter(|g| g.role == "administrator")
        .filter_map(|g| {
            Some(Scope {
                node_id: NodeId(g.target_node_id?),
                kind: NodeKind::parse(g.node_kind.as_deref()?)?,
                name: g.node_name?,
                path: g.node_path?,
            })
        })
        .collect();
    let display_name = format!("{} {}", user.first_name, user.last_name)
        .trim()
        .to_string();
    Actor {
        user_id: UserId(user.id),
        email: user.email.clone().unwrap_or_default(),
        display_name: if display_name.is_empty() {
            user.email.unwrap_or_default()
        } else {
            display_name
        },
        lang: Lang::parse(&user.language).unwrap_or_default(),
        node_id: NodeId(user.node_id),
        account_id: NodeId(user.account_id),
        scopes,
        user_grants,
        ip: String::new(),
        must_change_password: user.password_must_change,
        stage: Stage::Full,
        credential: super::actor::Credential::Session,
        session_ref: Uuid::nil(),
        csrf_token: String::new(),
        signed_in_at: Timestamp::from_millis(0),
        authenticated_at: Timestamp::from_millis(0),
        session_hash: vec![],
    }
}

/// Ends the actor's session on the server.
pub async fn sign_out(ctx: &Ctx, actor: &Actor, ip: &str) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    store::session::delete_session(tx.ex(), &actor.session_hash).await?;
    audit_sign_in(
        tx.ex(),
        now,
        Some(actor.user_id.0),
        &actor.email,
        ip,
        "",
        "sign-out",
        "ok",
    )
    .await?;
    tx.commit().await
}

/// Writes one audit event per address and past minute (with `all`, the current minute too).
pub async fn flush_failures(ctx: &Ctx, all: bool) -> Result<usize> {
    let now = ctx.clock.now();
    let due = ctx.auth_failures.take(now, all);
    if due.is_empty() {
        return Ok(0);
    }
    let mut tx = ctx.db.begin().await?;
    for (minute, address, count) in &due {
        store::audit::insert_audit_event(
            tx.ex(),
            NewAuditEvent {
                at: *minute,
                actor_label: "",
                action: "api.auth.failed",
                target_kind: "api",
                after: json!({ "count": count, "minute": Timestamp::from_millis(*minute).to_rfc3339() })
                    .to_string(),
                ip: address,
                outcome: "refused",
                ..Default::default()
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(due.len())
}

/// Removes expired and idle sessions (run on a schedule).
pub async fn sweep_sessions(ctx: &Ctx) -> Result<u64> {
    let now = ctx.clock.now().millis();
    let mut tx = ctx.db.begin().await?;
    let n = store::session::delete_stale_sessions(
        tx.ex(),
        now,
        now - ctx.settings.session_idle_secs * 1000,
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_normalized() {
        let a = throttle_keys("1.2.3.4", "  Alice@X.test ", true);
        let b = throttle_keys("1.2.3.4", "alice@x.test", true);
        assert_eq!(a, b);
        assert_eq!(throttle_keys("1.2.3.4", "a@x.test", false).len(), 1);
        // One IPv6 network of 64 bits is one client.
        let c = throttle_keys("2001:db8:1:2:aaaa::1", "a@x.test", false);
        let d = throttle_keys("2001:db8:1:2:bbbb::9", "a@x.test", false);
        assert_eq!(c, d);
    }
}
