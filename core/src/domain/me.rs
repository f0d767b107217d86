//! What every user has of their own (the Toolbox page): their profile, password, address,
//! phone and sessions. An administrator in scope sees a user's toolbox read-only.

use serde_json::json;

use super::user::{ProfileInput, save, search_terms_of, user_in_scope};
use super::{Actor, audit, hasher};
use crate::context::Ctx;
use crate::error::{Error, Problems, Result};
use crate::model::{SessionId, Timestamp, UserId, parse_line, phone};
use crate::outbox::message::{self, Message};
use crate::password;
use crate::store::{self, user::UserRow};

#[derive(Debug, Clone)]
pub struct SessionItem {
    pub id: SessionId,
    pub signed_in_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub ip: String,
    pub user_agent: String,
    pub current: bool,
}

#[derive(Debug, Clone)]
pub struct Me {
    pub user_id: UserId,
    pub email: String,
    pub email_pending: String,
    pub first_name: String,
    pub last_name: String,
    pub friendly_name: String,
    pub language: String,
    pub country_code: String,
    /// The account's default country: the calling code offered when the user has none.
    pub account_country: String,
    pub phone: String,
    pub phone_verified: bool,
    pub notifications_enabled: bool,
    pub notify_email: bool,
    pub notify_sms: bool,
    pub version: i64,
    pub sessions: Vec<SessionItem>,
    /// Seen by an administrator: nothing can be changed.
    pub read_only: bool,
}

fn view(
    u: UserRow,
    account_country: String,
    phone_verified: bool,
    sessions: Vec<store::session::SessionRow>,
    current: &[u8],
    read_only: bool,
) -> Me {
    Me {
        user_id: UserId(u.id),
        email: u.email.unwrap_or_default(),
        email_pending: u.email_pending.unwrap_or_default(),
        first_name: u.first_name,
        last_name: u.last_name,
        friendly_name: u.friendly_name,
        language: u.language,
        country_code: u.country_code,
        account_country,
        phone: u.phone.unwrap_or_default(),
        phone_verified,
        notifications_enabled: u.notifications_enabled,
        notify_email: u.notify_email,
        notify_sms: u.notify_sms,
        version: u.version,
        sessions: sessions
            .into_iter()
            .map(|s| SessionItem {
                id: SessionId(s.ref_id),
                signed_in_at: Timestamp::from_millis(s.created_at),
                last_seen_at: Timestamp::from_millis(s.last_seen_at),
                ip: s.ip,
                user_agent: s.user_agent,
                current: s.id_hash == current,
            })
            .collect(),
        read_only,
    }
}

/// The actor's own toolbox, or (read-only) that of a user the actor administers.
pub async fn get_me(ctx: &Ctx, actor: &Actor, id: UserId) -> Result<Me> {
    let now = ctx.clock.now().millis();
    let mut conn = ctx.db.conn().await?;
    let user = if id == actor.user_id {
        store::user::find_user(conn.ex(), id.0)
            .await?
            .ok_or(Error::NotFound)?
    } else {
        user_in_scope(&mut conn, actor, id.0).await?.0
    };
    let sessions = store::session::list_sessions_of(conn.ex(), user.id, now).await?;
    let verified = store::user::phone_verified(conn.ex(), user.id).await?;
    let account = store::node::get_node(conn.ex(), user.account_id).await?;
    Ok(view(
        user,
        account.default_country,
        verified,
        sessions,
        &actor.session_hash,
        id != actor.user_id,
    ))
}

/// The profile fields a user edits for themself: names, language, country, phone, and the
/// channels of their notifications — never their role or invoice flag.
#[derive(Debug, Clone, Default)]
pub struct OwnProfile {
    pub first_name: String,
    pub last_name: String,
    pub friendly_name: String,
    pub language: String,
    pub country_code: String,
    pub phone_country: String,
    pub phone_number: String,
    pub notifications_enabled: bool,
    pub notify_email: bool,
    pub notify_sms: bool,
}

pub async fn update_own_profile(
    ctx: &Ctx,
    actor: &Actor,
    version: i64,
    input: &OwnProfile,
) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let before = store::user::find_user(tx.ex(), actor.user_id.0)
        .await?
        .ok_or(Error::NotFound)?;
    let mut p = Problems::default();
    let friendly_name = p
        .check(parse_line("friendly_name", &input.friendly_name, 100))
        .unwrap_or_default();
    // The same checks as everywhere else, with the role and invoice flag as they are.
    let profile = ProfileInput {
        first_name: input.first_name.clone(),
        last_name: input.last_name.clone(),
        user_type: before.user_type.clone(),
        language: input.language.clone(),
        country_code: input.country_code.clone(),
        phone_country: input.phone_country.clone(),
        phone_number: input.phone_number.clone(),
        receive_invoices: before.receive_invoices,
        notifications_enabled: input.notifications_enabled,
        notify_email: input.notify_email,
        notify_sms: input.notify_sms,
    }
    .check(&mut p, before.kind == "system");
    p.finish()?;
    let mut after = before.clone();
    profile.apply(&mut after);
    after.friendly_name = friendly_name;
    if after.phone != before.phone {
        // A new number may receive sign-in codes: prove who you are first.
        super::session::require_recent_auth(ctx, actor)?;
        store::factor::delete_factors_of(tx.ex(), after.id, Some("sms")).await?;
    }
    after.updated_at = now.millis();
    save(tx.ex(), &after, version).await?;
    store::user::replace_terms(
        tx.ex(),
        after.id,
        after.account_id,
        &search_terms_of(&after),
    )
    .await?;
    profile_event(actor, &before, &after)
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}

/// A change of the user's own password.
pub struct PasswordChange<'a> {
    /// The current password: asked for in the Toolbox; not for the change a user must make at
    /// sign-in after someone else set their password.
    pub current: Option<&'a str>,
    pub new: &'a str,
    pub repeat: &'a str,
    /// End every other session (always, for the change forced at sign-in).
    pub sign_out_others: bool,
}

/// The user changes their own password: the current one first (throttled like sign-in), then
/// the new one, checked and hashed outside the transaction by the bounded hasher. After a
/// password someone else set, the current one is not asked, and every other session ends.
/// A change from the Toolbox is told to the user by email.
pub async fn change_password(ctx: &Ctx, actor: &Actor, change: &PasswordChange<'_>) -> Result<()> {
    let forced = change.current.is_none();
    match change.current {
        Some(current) => {
            super::reauth::check_own_password(
                ctx,
                actor,
                current,
                "current_password",
                "password.check.failed",
            )
            .await?
        }
        None if actor.must_change_password => {}
        None => return Err(Error::field("current_password", "password-current-wrong")),
    }
    password::check_new("password", change.new, Some(&actor.email))?;
    if change.new != change.repeat {
        return Err(Error::field("password_repeat", "password-mismatch"));
    }
    let same = match change.current {
        Some(current) => change.new == current,
        None => {
            let stored = {
                let mut conn = ctx.db.conn().await?;
                store::user::find_user(conn.ex(), actor.user_id.0)
                    .await?
                    .ok_or(Error::NotFound)?
                    .password_hash
            };
            stored.is_some() && hasher::verify(ctx, change.new, stored).await?
        }
    };
    if same {
        return Err(Error::field("password", "password-same"));
    }
    let hash = hasher::hash(ctx, change.new).await?;
    let now = ctx.clock.now();
    ctx.write(async |tx| {
        let before = store::user::find_user(tx.ex(), actor.user_id.0)
            .await?
            .ok_or(Error::NotFound)?;
        let mut after = before.clone();
        after.password_hash = Some(hash);
        after.password_must_change = false;
        after.updated_at = now.millis();
        save(tx.ex(), &after, before.version).await?;
        let sign_out = forced || change.sign_out_others;
        if sign_out {
            store::session::delete_other_sessions(tx.ex(), before.id, &actor.session_hash).await?;
        }
        if let (false, Some(email)) = (forced, &before.email) {
            message::enqueue(
                tx.ex(),
                &Message::PasswordChanged,
                email,
                before.id,
                before.node_id,
                now,
            )
            .await?;
        }
        audit::Event::new(actor, "user.password.change")
            .target("user", before.id, Some(before.node_id))
            .before(json!({"password_must_change": before.password_must_change}))
            .after(json!({"password_must_change": false, "signed_out_others": sign_out}))
            .write(tx.ex(), now)
            .await
    })
    .await
}

/// Ends one of the actor's own sessions (or, from a user's toolbox, one of theirs: the user
/// administers nothing else, and an administrator ends it only in scope).
pub async fn end_session(ctx: &Ctx, actor: &Actor, user: UserId, session: SessionId) -> Result<()> {
    let session = session.0;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    if user != actor.user_id {
        super::rank::user_to_change(
            &mut tx,
            actor,
            user.0,
            super::rank::Need::Scope,
            now.millis(),
        )
        .await?;
    }
    if !store::session::delete_session_by_ref(tx.ex(), user.0, session).await? {
        return Err(Error::NotFound);
    }
    audit::Event::new(actor, "session.end")
        .target("user", user.0, None)
        .before(json!({"session": session.to_string()}))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}

/// Sign out everywhere else: every session of the actor but this one ends, and their personal
/// API tokens are revoked. Returns (sessions ended, tokens revoked).
pub async fn end_other_sessions(ctx: &Ctx, actor: &Actor) -> Result<(u64, u64)> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let n = store::session::delete_other_sessions(tx.ex(), actor.user_id.0, &actor.session_hash)
        .await?;
    let tokens = store::api_token::revoke_tokens_of(tx.ex(), actor.user_id.0, now.millis()).await?;
    audit::Event::new(actor, "session.end-others")
        .target("user", actor.user_id.0, None)
        .after(json!({"ended": n, "tokens_revoked": tokens}))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await?;
    Ok((n, tokens))
}

/// For the toolbox's phone field: the stored number split for the form.
/// The audit event of a change to the user's own profile.
fn profile_event<'a>(actor: &'a Actor, before: &UserRow, after: &UserRow) -> audit::Event<'a> {
    audit::Event::new(actor, "user.profile")
        .target("user", after.id, Some(after.node_id))
        .before(super::user::user_json_of(before))
        .after(super::user::user_json_of(after))
}

pub fn phone_parts(t: &Me) -> (String, String) {
    phone::phone_parts(&t.phone, &t.country_code, &t.account_country)
}

/// Sets the user's own mobile number (enrolment: SMS codes need one). A new number is not
/// verified, and stops being a way to sign in until it is.
pub async fn set_own_phone(
    ctx: &Ctx,
    actor: &Actor,
    phone_country: &str,
    phone_number: &str,
) -> Result<()> {
    let now = ctx.clock.now();
    let mut p = Problems::default();
    let phone = p
        .check(phone::parse_phone(
            "phone_number",
            phone_country,
            phone_number,
        ))
        .flatten();
    p.finish()?;
    let Some(phone) = phone else {
        return Err(Error::field("phone_number", "field-required"));
    };
    super::session::require_recent_auth(ctx, actor)?;
    let mut tx = ctx.db.begin().await?;
    let before = store::user::find_user(tx.ex(), actor.user_id.0)
        .await?
        .ok_or(Error::NotFound)?;
    if before.phone.as_deref() == Some(phone.as_str()) {
        return Ok(());
    }
    let mut after = before.clone();
    after.phone = Some(phone);
    after.updated_at = now.millis();
    save(tx.ex(), &after, before.version).await?;
    store::factor::delete_factors_of(tx.ex(), after.id, Some("sms")).await?;
    profile_event(actor, &before, &after)
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}
