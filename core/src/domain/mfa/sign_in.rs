//! The second step of sign-in: what it may offer, sending a code by SMS, checking an answer
//! (reserved before it is checked), and promoting the session.

use super::*;

/// What a session becomes after the right password, and, when SMS is the user's only way in,
/// the number the code goes to with the password step itself.
pub(crate) async fn stage_after_password(
    h: &mut impl Handle,
    ctx: &Ctx,
    user: &UserRow,
) -> Result<(Stage, Option<String>)> {
    let (required, policy) = requirement(h, ctx, user).await?;
    let factors = store::factor::list_factors(h.ex(), user.id).await?;
    let usable = usable(&factors, &policy);
    Ok(match usable.as_slice() {
        [] if required => (Stage::Enrol, None),
        [] => (Stage::Full, None),
        [only] if only.kind == "sms" => (Stage::Mfa, Some(only.data.clone())),
        _ => (Stage::Mfa, None),
    })
}

/// Sends the sign-in code that goes out with the password step (none within a minute of the
/// last one: that one still works).
pub(crate) async fn send_code_with_password(
    h: &mut impl Handle,
    user: &UserRow,
    phone: &str,
    attempt: Uuid,
    now: Timestamp,
) -> Result<()> {
    match enqueue_sign_in_code(h, user, phone, attempt, now).await {
        Ok(()) | Err(Error::RateLimited { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

pub(super) async fn enqueue_sign_in_code(
    h: &mut impl Handle,
    user: &UserRow,
    phone: &str,
    attempt: Uuid,
    now: Timestamp,
) -> Result<()> {
    super::phone::check_allowance(h, user.id, SIGN_IN_SMS, now).await?;
    // The code itself is drawn when the message is sent, and only its hash is kept.
    message::enqueue(
        h.ex(),
        &Message::SignInCode {
            attempt: attempt.to_string(),
        },
        phone,
        user.id,
        user.node_id,
        now,
    )
    .await
}

/// What the second step may offer this user.
#[derive(Debug, Clone, Default)]
pub struct Challenge {
    /// The end of the verified number a code goes to, when SMS is a way in.
    pub sms_to: Option<String>,
    pub totp: bool,
    pub passkey: bool,
    pub recovery: bool,
}

pub(super) fn mask_phone(phone: &str) -> String {
    let tail: String = phone
        .chars()
        .rev()
        .take(2)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("••• ••• ••{tail}")
}

pub(super) fn pending(actor: &Actor) -> Result<()> {
    if actor.stage == Stage::Mfa {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

pub async fn challenge(ctx: &Ctx, actor: &Actor) -> Result<Challenge> {
    pending(actor)?;
    let mut conn = ctx.db.conn().await?;
    let user = own_user(&mut conn, actor).await?;
    let (_, policy) = requirement(&mut conn, ctx, &user).await?;
    let factors = store::factor::list_factors(conn.ex(), user.id).await?;
    let usable = usable(&factors, &policy);
    let recovery = !store::factor::unused_recovery_codes(conn.ex(), user.id)
        .await?
        .is_empty();
    Ok(Challenge {
        sms_to: usable
            .iter()
            .find(|f| f.kind == "sms")
            .map(|f| mask_phone(&f.data)),
        totp: usable.iter().any(|f| f.kind == "totp"),
        passkey: usable.iter().any(|f| f.kind == "passkey") && ctx.webauthn.is_some(),
        recovery,
    })
}

/// Sends (again) a sign-in code by SMS: one a minute, ten a day.
pub async fn send_sign_in_code(ctx: &Ctx, actor: &Actor) -> Result<()> {
    pending(actor)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let user = own_user(&mut tx, actor).await?;
    let (_, policy) = requirement(&mut tx, ctx, &user).await?;
    let factors = store::factor::list_factors(tx.ex(), user.id).await?;
    let Some(sms) = usable(&factors, &policy)
        .into_iter()
        .find(|f| f.kind == "sms")
        .cloned()
    else {
        return Err(Error::field("code", "mfa-sms-none"));
    };
    enqueue_sign_in_code(&mut tx, &user, &sms.data, actor.session_ref, now).await?;
    tx.commit().await
}

/// An answer to the second step.
pub enum Answer<'a> {
    Totp(&'a str),
    Sms(&'a str),
    Recovery(&'a str),
    /// The browser's `PublicKeyCredential` as JSON.
    Passkey(&'a str),
}

impl Answer<'_> {
    fn kind(&self) -> &'static str {
        match self {
            Answer::Totp(_) => "totp",
            Answer::Sms(_) => "sms",
            Answer::Recovery(_) => "recovery",
            Answer::Passkey(_) => "passkey",
        }
    }
}

/// The per-user key that counts wrong second-factor answers across sessions.
pub(super) fn user_key(user: UserId) -> Key {
    Key::new(
        format!("mfa:{}", user.0),
        throttle::FREE_FAILURES,
        THROTTLE_CAP_SECS,
    )
}

/// Checks the second factor; right → the session's new token (full stage). Every answer is
/// reserved before it is checked — on the session (5, then it ends) and on the user (delays
/// after 5, at most 5 minutes) — so answers sent at once are checked at most that often.
pub async fn answer(ctx: &Ctx, actor: &Actor, answer: Answer<'_>) -> Result<String> {
    pending(actor)?;
    let now = ctx.clock.now();
    let key = user_key(actor.user_id);
    let reserved = {
        let mut tx = ctx.db.begin().await?;
        throttle::reserve_in(&mut tx, std::slice::from_ref(&key), now).await?;
        let n =
            store::session::reserve_mfa_answer(tx.ex(), &actor.session_hash, MAX_FAILURES).await?;
        if n.is_none() {
            // The session has had its answers: it ends.
            store::session::delete_session(tx.ex(), &actor.session_hash).await?;
        }
        tx.commit().await?;
        n
    };
    let Some(failures) = reserved else {
        return Err(Error::Unauthenticated("mfa-too-many"));
    };
    let (user, factors, policy) = {
        let mut conn = ctx.db.conn().await?;
        let user = own_user(&mut conn, actor).await?;
        let (_, policy) = requirement(&mut conn, ctx, &user).await?;
        let factors = store::factor::list_factors(conn.ex(), user.id).await?;
        (user, factors, policy)
    };
    let usable: Vec<FactorRow> = usable(&factors, &policy).into_iter().cloned().collect();
    let kind = answer.kind();
    let checked = check_answer(ctx, actor, &user, &usable, answer, now).await?;
    let mut tx = ctx.db.begin().await?;
    let outcome = match checked {
        Checked::Right(apply) => apply.apply(&mut tx, now).await?,
        Checked::Wrong(code) => Err(code),
    };
    match outcome {
        Ok(()) => {
            throttle::clear(tx.ex(), &key).await?;
            let token = promote(&mut tx, ctx, actor, now).await?;
            audit::Event::new(actor, "sign-in.mfa")
                .target("user", user.id, Some(user.node_id))
                .after(json!({ "factor": kind }))
                .write(tx.ex(), now)
                .await?;
            tx.commit().await?;
            Ok(token)
        }
        Err(code) => {
            // The answer was counted when it was reserved.
            audit::Event::new(actor, "sign-in.mfa.failed")
                .target("user", user.id, Some(user.node_id))
                .after(json!({ "factor": kind, "failures": failures }))
                .write(tx.ex(), now)
                .await?;
            if failures >= MAX_FAILURES {
                store::session::delete_session(tx.ex(), &actor.session_hash).await?;
                audit::Event::new(actor, "sign-in.mfa.locked")
                    .target("user", user.id, Some(user.node_id))
                    .after(json!({ "failures": failures }))
                    .write(tx.ex(), now)
                    .await?;
                tx.commit().await?;
                return Err(Error::Unauthenticated("mfa-too-many"));
            }
            tx.commit().await?;
            Err(Error::field("code", code))
        }
    }
}

/// Finishes sign-in: the session gets a new id, a new CSRF token, the full stage and lifetime.
pub(super) async fn promote(
    tx: &mut store::Tx,
    ctx: &Ctx,
    actor: &Actor,
    now: Timestamp,
) -> Result<String> {
    let token = secret::new_token()?;
    let promoted = store::session::promote_session(
        tx.ex(),
        &actor.session_hash,
        &secret::hash_token(&token),
        &secret::new_token()?,
        now.millis(),
        now.plus_secs(ctx.settings.session_absolute_secs).millis(),
    )
    .await?;
    if promoted {
        Ok(token)
    } else {
        Err(Error::Unauthenticated("signin-failed"))
    }
}

pub(super) enum Checked {
    Right(Apply),
    Wrong(&'static str),
}

/// What a right answer writes, in the transaction that finishes sign-in.
pub(super) enum Apply {
    TotpStep(Uuid, i64),
    SmsCode(Uuid),
    Recovery(Uuid),
    Passkey(Uuid, String),
}

impl Apply {
    /// Ok(Err(code)) when the answer was used meanwhile (a replay racing the first use).
    async fn apply(
        self,
        tx: &mut store::Tx,
        now: Timestamp,
    ) -> Result<std::result::Result<(), &'static str>> {
        let fresh = match self {
            Apply::TotpStep(id, step) => {
                store::factor::accept_step(tx.ex(), id, step, now.millis()).await?
            }
            Apply::SmsCode(id) => store::code::use_code(tx.ex(), id, now.millis()).await?,
            Apply::Recovery(id) => {
                store::factor::use_recovery_code(tx.ex(), id, now.millis()).await?
            }
            Apply::Passkey(id, data) => {
                store::factor::touch_factor(tx.ex(), id, Some(&data), now.millis()).await?;
                true
            }
        };
        Ok(if fresh { Ok(()) } else { Err("code-used") })
    }
}

pub(super) async fn check_answer(
    ctx: &Ctx,
    actor: &Actor,
    user: &UserRow,
    factors: &[FactorRow],
    answer: Answer<'_>,
    now: Timestamp,
) -> Result<Checked> {
    match answer {
        Answer::Totp(typed) => {
            let typed = digits(typed);
            for f in factors.iter().filter(|f| f.kind == "totp") {
                if let Some(step) = totp_of(ctx, f)?.check(&typed, now_secs(now)) {
                    let step = step as i64;
                    return Ok(if step <= f.last_step {
                        Checked::Wrong("code-used")
                    } else {
                        Checked::Right(Apply::TotpStep(f.id, step))
                    });
                }
            }
            Ok(Checked::Wrong("code-wrong"))
        }
        Answer::Sms(typed) => {
            if !factors.iter().any(|f| f.kind == "sms") {
                return Ok(Checked::Wrong("mfa-sms-none"));
            }
            let typed = digits(typed);
            let code = {
                let mut conn = ctx.db.conn().await?;
                store::code::latest_code(conn.ex(), user.id, SIGN_IN_SMS).await?
            };
            let Some(code) = code.filter(|c| !c.code_hash.is_empty()) else {
                return Ok(Checked::Wrong("code-none"));
            };
            if code.used_at.is_some() {
                return Ok(Checked::Wrong("code-used"));
            }
            // A code asked for in another sign-in attempt does not open this one.
            if code.bound_to != actor.session_ref.to_string() {
                return Ok(Checked::Wrong("code-wrong"));
            }
            if code.expires_at <= now.millis() {
                return Ok(Checked::Wrong("code-expired"));
            }
            if typed.len() == 6 && hasher::verify(ctx, &typed, Some(code.code_hash.clone())).await?
            {
                Ok(Checked::Right(Apply::SmsCode(code.id)))
            } else {
                Ok(Checked::Wrong("code-wrong"))
            }
        }
        Answer::Recovery(typed) => {
            let typed = normalize_recovery(typed);
            if typed.len() != 12 {
                return Ok(Checked::Wrong("code-wrong"));
            }
            let codes = {
                let mut conn = ctx.db.conn().await?;
                store::factor::unused_recovery_codes(conn.ex(), user.id).await?
            };
            for (id, hash) in codes {
                if hasher::verify(ctx, &typed, Some(hash)).await? {
                    return Ok(Checked::Right(Apply::Recovery(id)));
                }
            }
            Ok(Checked::Wrong("code-wrong"))
        }
        Answer::Passkey(json_text) => {
            let webauthn = ctx
                .webauthn
                .as_ref()
                .ok_or(Error::Conflict("passkey-unavailable"))?;
            let state = {
                let mut tx = ctx.db.begin().await?;
                let s = store::factor::take_ceremony(
                    tx.ex(),
                    &actor.session_hash,
                    "sign-in",
                    now.millis(),
                )
                .await?;
                tx.commit().await?;
                s
            };
            let Some(state) =
                state.and_then(|s| serde_json::from_str::<PasskeyAuthentication>(&s).ok())
            else {
                return Ok(Checked::Wrong("passkey-failed"));
            };
            let Ok(credential) = serde_json::from_str::<PublicKeyCredential>(json_text) else {
                return Ok(Checked::Wrong("passkey-failed"));
            };
            let Ok(result) = webauthn.finish_passkey_authentication(&credential, &state) else {
                return Ok(Checked::Wrong("passkey-failed"));
            };
            for f in factors.iter().filter(|f| f.kind == "passkey") {
                let Ok(mut key) = serde_json::from_str::<Passkey>(&f.data) else {
                    continue;
                };
                if key.cred_id() == result.cred_id() {
                    key.update_credential(&result);
                    let data = serde_json::to_string(&key).map_err(Error::internal)?;
                    return Ok(Checked::Right(Apply::Passkey(f.id, data)));
                }
            }
            Ok(Checked::Wrong("passkey-failed"))
        }
    }
}

/// The options for `navigator.credentials.get`, for the passkeys the user holds.
pub async fn start_passkey_sign_in(ctx: &Ctx, actor: &Actor) -> Result<Value> {
    pending(actor)?;
    let now = ctx.clock.now();
    let webauthn = ctx
        .webauthn
        .as_ref()
        .ok_or(Error::Conflict("passkey-unavailable"))?;
    let mut tx = ctx.db.begin().await?;
    let user = own_user(&mut tx, actor).await?;
    let (_, policy) = requirement(&mut tx, ctx, &user).await?;
    let factors = store::factor::list_factors(tx.ex(), user.id).await?;
    let keys: Vec<Passkey> = usable(&factors, &policy)
        .into_iter()
        .filter(|f| f.kind == "passkey")
        .filter_map(|f| serde_json::from_str(&f.data).ok())
        .collect();
    if keys.is_empty() {
        return Err(Error::Conflict("passkey-none"));
    }
    let (options, state) = webauthn
        .start_passkey_authentication(&keys)
        .map_err(Error::internal)?;
    keep_ceremony(tx, actor, "sign-in", &state, options, now).await
}
