//! Second factors: SMS codes to a verified number, TOTP authenticator apps (RFC 6238), passkeys
//! (WebAuthn), and ten one-time recovery codes. A user may hold several.
//!
//! Sign-in with a factor is two steps. The right password gives a session in the `mfa` stage
//! (or `enrol`, when the policy requires a factor the user does not have yet); such a session
//! opens nothing but the second step, lives 10 minutes, and ends after 5 wrong answers. The
//! right answer gives the session a new id, a new CSRF token and the full stage.
//!
//! Who must use a factor is a policy per node, inherited down the tree: administrators (the
//! default, seed 002) or everyone, plus each user an administrator switches on one by one
//! (seed 002 h). Which factors are allowed is set the same way.

use serde_json::{Value, json};
use totp_rs::{Algorithm, Builder, Totp};
use uuid::Uuid;
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential,
};

use super::actor::Stage;
use super::auth::{self, require_recent_auth};
use super::hasher;
use super::throttle::{self, Key};
use super::{Actor, audit};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::{NodeId, Timestamp, UserId};
use crate::secret;
use crate::store::{self, Handle, factor::FactorRow, user::UserRow};

/// Wrong answers a half-signed-in session may give before it ends.
pub const MAX_FAILURES: i64 = 5;
/// How long a session waits for its second factor (or for enrolment).
pub const PENDING_SECS: i64 = 10 * 60;
/// The outbox kind and code purpose of a sign-in code sent by SMS.
pub const SIGN_IN_SMS: &str = "sign-in-code";
/// A sign-in code by SMS lives this long.
pub const SIGN_IN_CODE_SECS: i64 = 5 * 60;
const RECOVERY_CODES: usize = 10;
const CEREMONY_SECS: i64 = 5 * 60;
/// Per-user throttle of wrong second-factor answers across sessions.
const THROTTLE_CAP_SECS: i64 = 5 * 60;
/// Letters and digits that cannot be mistaken for each other (no I, O, 0, 1).
const RECOVERY_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// Who must use a second factor, from the least to the most demanding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Require {
    /// Only the users an administrator switched on one by one (an operator-wide choice).
    Users,
    /// Administrators, and the users switched on one by one (seed 002's default).
    Administrators,
    Everyone,
}

impl Require {
    pub fn parse(s: &str) -> Option<Require> {
        match s {
            "users" => Some(Require::Users),
            "administrators" => Some(Require::Administrators),
            "everyone" => Some(Require::Everyone),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Require::Users => "users",
            Require::Administrators => "administrators",
            Require::Everyone => "everyone",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FactorKind {
    Sms,
    Totp,
    Passkey,
}

impl FactorKind {
    pub const ALL: [FactorKind; 3] = [FactorKind::Sms, FactorKind::Totp, FactorKind::Passkey];

    pub fn parse(s: &str) -> Option<FactorKind> {
        match s {
            "sms" => Some(FactorKind::Sms),
            "totp" => Some(FactorKind::Totp),
            "passkey" => Some(FactorKind::Passkey),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FactorKind::Sms => "sms",
            FactorKind::Totp => "totp",
            FactorKind::Passkey => "passkey",
        }
    }
}

fn parse_factors(s: &str) -> Vec<FactorKind> {
    s.split(',')
        .filter_map(|k| FactorKind::parse(k.trim()))
        .collect()
}

fn factors_text(kinds: &[FactorKind]) -> String {
    FactorKind::ALL
        .iter()
        .filter(|k| kinds.contains(k))
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The policy in force at a node, and what the node itself sets (None: inherited).
#[derive(Clone, Debug)]
pub struct Policy {
    pub require: Require,
    pub factors: Vec<FactorKind>,
    pub own_require: Option<Require>,
    pub own_factors: Option<Vec<FactorKind>>,
}

impl Policy {
    pub fn allows(&self, kind: FactorKind) -> bool {
        self.factors.contains(&kind)
    }

    /// `allows` by the factor's name ("sms", "totp", "passkey"), for templates.
    pub fn allows_named(&self, kind: &str) -> bool {
        FactorKind::parse(kind).is_some_and(|k| self.allows(k))
    }

    /// What this node itself says about who must use a factor: "inherit" or the choice.
    pub fn own_require_name(&self) -> &'static str {
        self.own_require.map(Require::as_str).unwrap_or("inherit")
    }

    fn requires(&self, is_admin: bool, switched_on: bool) -> bool {
        match self.require {
            Require::Everyone => true,
            Require::Administrators => is_admin || switched_on,
            Require::Users => switched_on,
        }
    }
}

/// The policy in force at `node`. An account (and the operator root) chooses for itself, over
/// the operator's default; a unit only tightens what it inherits: it may require more, never
/// less, and allow only some of the factors allowed above it (should a parent later narrow its
/// factors to none the unit allows, the parent's stand).
async fn policy_at(h: &mut impl Handle, ctx: &Ctx, node: Uuid) -> Result<Policy> {
    let rows = store::node::mfa_settings_up(h.ex(), node).await?;
    let own = rows
        .first()
        .map(|(_, p, f)| (p.clone(), f.clone()))
        .unwrap_or((None, None));
    let (require, factors) = inherited(ctx.settings.mfa_default, rows.iter().rev());
    Ok(Policy {
        require,
        factors,
        own_require: own.0.as_deref().and_then(Require::parse),
        own_factors: own.1.as_deref().map(parse_factors),
    })
}

/// Folds the settings of a chain of nodes, root first, into the policy at its end.
fn inherited<'a>(
    default: Require,
    top_down: impl Iterator<Item = &'a (String, Option<String>, Option<String>)>,
) -> (Require, Vec<FactorKind>) {
    let mut require = default;
    let mut factors = FactorKind::ALL.to_vec();
    for (kind, own_require, own_factors) in top_down {
        let unit = kind == "unit";
        if let Some(r) = own_require.as_deref().and_then(Require::parse) {
            require = if unit { require.max(r) } else { r };
        }
        if let Some(f) = own_factors.as_deref().map(parse_factors) {
            if !unit {
                factors = f;
            } else {
                let narrowed: Vec<FactorKind> =
                    factors.iter().copied().filter(|k| f.contains(k)).collect();
                if !narrowed.is_empty() {
                    factors = narrowed;
                }
            }
        }
    }
    (require, factors)
}

/// Whether a user must use a second factor, with the policy that says so.
async fn requirement(h: &mut impl Handle, ctx: &Ctx, user: &UserRow) -> Result<(bool, Policy)> {
    let policy = policy_at(h, ctx, user.node_id).await?;
    // Whether the user administers anything matters only when nothing else decides.
    let required = match policy.require {
        Require::Everyone => true,
        _ if user.mfa_required => true,
        Require::Users => false,
        Require::Administrators => {
            user.user_type == "administrator" || store::grant::holds_grants(h.ex(), user.id).await?
        }
    };
    Ok((required, policy))
}

fn usable<'a>(factors: &'a [FactorRow], policy: &Policy) -> Vec<&'a FactorRow> {
    factors
        .iter()
        .filter(|f| f.confirmed)
        .filter(|f| FactorKind::parse(&f.kind).is_some_and(|k| policy.allows(k)))
        .collect()
}

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

async fn enqueue_sign_in_code(
    h: &mut impl Handle,
    user: &UserRow,
    phone: &str,
    attempt: Uuid,
    now: Timestamp,
) -> Result<()> {
    super::phone::check_allowance(h, user.id, SIGN_IN_SMS, now).await?;
    // The code itself is drawn when the message is sent, and only its hash is kept.
    store::outbox::enqueue_sms(
        h.ex(),
        SIGN_IN_SMS,
        phone,
        Some(user.id),
        Some(user.node_id),
        &json!({ "user": user.id.to_string(), "attempt": attempt.to_string() }).to_string(),
        now.millis(),
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// The second step of sign-in

/// What the second step may offer this user.
#[derive(Debug, Clone, Default)]
pub struct Challenge {
    /// The end of the verified number a code goes to, when SMS is a way in.
    pub sms_to: Option<String>,
    pub totp: bool,
    pub passkey: bool,
    pub recovery: bool,
}

fn mask_phone(phone: &str) -> String {
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

fn pending(actor: &Actor) -> Result<()> {
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
fn user_key(user: UserId) -> Key {
    Key::new(
        format!("mfa:{}", user.0),
        auth::FREE_FAILURES,
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
            audit::record(
                tx.ex(),
                actor,
                now,
                "sign-in.mfa",
                "user",
                user.id,
                Some(user.node_id),
                json!(null),
                json!({ "factor": kind }),
            )
            .await?;
            tx.commit().await?;
            Ok(token)
        }
        Err(code) => {
            // The answer was counted when it was reserved.
            audit::record(
                tx.ex(),
                actor,
                now,
                "sign-in.mfa.failed",
                "user",
                user.id,
                Some(user.node_id),
                json!(null),
                json!({ "factor": kind, "failures": failures }),
            )
            .await?;
            if failures >= MAX_FAILURES {
                store::session::delete_session(tx.ex(), &actor.session_hash).await?;
                audit::record(
                    tx.ex(),
                    actor,
                    now,
                    "sign-in.mfa.locked",
                    "user",
                    user.id,
                    Some(user.node_id),
                    json!(null),
                    json!({ "failures": failures }),
                )
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
async fn promote(tx: &mut store::Tx, ctx: &Ctx, actor: &Actor, now: Timestamp) -> Result<String> {
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

enum Checked {
    Right(Apply),
    Wrong(&'static str),
}

/// What a right answer writes, in the transaction that finishes sign-in.
enum Apply {
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

async fn check_answer(
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
    store::factor::put_ceremony(
        tx.ex(),
        &actor.session_hash,
        "sign-in",
        &serde_json::to_string(&state).map_err(Error::internal)?,
        now.plus_secs(CEREMONY_SECS).millis(),
    )
    .await?;
    tx.commit().await?;
    serde_json::to_value(options).map_err(Error::internal)
}

// ---------------------------------------------------------------------------------------------
// Enrolment and the toolbox

/// A TOTP seed waiting for its first code.
#[derive(Debug, Clone)]
pub struct TotpSetup {
    pub factor_id: Uuid,
    /// The seed in base32, for typing into an app by hand.
    pub secret: String,
    pub uri: String,
    /// The `otpauth://` address as an SVG QR code.
    pub qr_svg: String,
}

/// What enrolling a factor gives back: the recovery codes, when it was the user's first.
#[derive(Debug, Clone, Default)]
pub struct Enrolled {
    pub recovery_codes: Option<Vec<String>>,
}

/// Factor changes are open to the user themself, in a full session with a recent proof of
/// identity, or in the enrolment stage of sign-in.
fn may_change_factors(ctx: &Ctx, actor: &Actor) -> Result<()> {
    match actor.stage {
        Stage::Enrol => Ok(()),
        Stage::Full => require_recent_auth(ctx, actor),
        Stage::Mfa => Err(Error::Forbidden),
    }
}

async fn own_user(h: &mut impl Handle, actor: &Actor) -> Result<UserRow> {
    store::user::find_user(h.ex(), actor.user_id.0)
        .await?
        .ok_or(Error::NotFound)
}

async fn require_allowed(
    h: &mut impl Handle,
    ctx: &Ctx,
    user: &UserRow,
    kind: FactorKind,
) -> Result<()> {
    let (_, policy) = requirement(h, ctx, user).await?;
    if policy.allows(kind) {
        Ok(())
    } else {
        Err(Error::Conflict("factor-not-allowed"))
    }
}

fn totp_for(secret: Vec<u8>, account: &str) -> Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_issuer(Some("Roster"))
        .with_account_name(account.replace(':', ""))
        .build()
        .map_err(Error::internal)
}

fn totp_of(ctx: &Ctx, f: &FactorRow) -> Result<Totp> {
    let sealed = f
        .secret
        .as_deref()
        .ok_or(Error::internal("TOTP factor without a seed"))?;
    let seed = ctx.settings.secret_key.open(sealed, f.id.as_bytes())?;
    totp_for(seed, "")
}

fn now_secs(now: Timestamp) -> u64 {
    (now.millis().max(0) / 1000) as u64
}

fn digits(typed: &str) -> String {
    typed.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Starts adding an authenticator app: a new seed (160 bits), shown once as a QR code.
pub async fn start_totp(ctx: &Ctx, actor: &Actor) -> Result<TotpSetup> {
    may_change_factors(ctx, actor)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let user = own_user(&mut tx, actor).await?;
    require_allowed(&mut tx, ctx, &user, FactorKind::Totp).await?;
    store::factor::delete_unconfirmed(tx.ex(), user.id).await?;
    let mut seed = [0u8; 20];
    secret::fill_random(&mut seed)?;
    let id = Uuid::now_v7();
    let row = FactorRow {
        id,
        user_id: user.id,
        kind: "totp".into(),
        name: String::new(),
        secret: Some(ctx.settings.secret_key.seal(&seed, id.as_bytes())?),
        data: String::new(),
        last_step: 0,
        confirmed: false,
        created_at: now.millis(),
        last_used_at: None,
    };
    store::factor::insert_factor(tx.ex(), &row).await?;
    tx.commit().await?;
    setup_of(ctx, &row, &actor.email)
}

fn setup_of(ctx: &Ctx, row: &FactorRow, account: &str) -> Result<TotpSetup> {
    let sealed = row.secret.as_deref().unwrap_or_default();
    let seed = ctx.settings.secret_key.open(sealed, row.id.as_bytes())?;
    let totp = totp_for(seed, account)?;
    let uri = totp.to_url().map_err(Error::internal)?;
    Ok(TotpSetup {
        factor_id: row.id,
        secret: totp.secret().to_base32(),
        qr_svg: qr_svg(&uri)?,
        uri,
    })
}

/// The seed waiting for its first code, to show again (a wrong first code, a reload).
pub async fn pending_totp(ctx: &Ctx, actor: &Actor, id: Uuid) -> Result<TotpSetup> {
    may_change_factors(ctx, actor)?;
    let mut conn = ctx.db.conn().await?;
    let row = store::factor::list_factors(conn.ex(), actor.user_id.0)
        .await?
        .into_iter()
        .find(|f| f.id == id && f.kind == "totp" && !f.confirmed)
        .ok_or(Error::NotFound)?;
    setup_of(ctx, &row, &actor.email)
}

/// Checks the first code from a new authenticator app; right → the factor counts.
pub async fn confirm_totp(
    ctx: &Ctx,
    actor: &Actor,
    id: Uuid,
    name: &str,
    code: &str,
) -> Result<Enrolled> {
    may_change_factors(ctx, actor)?;
    let now = ctx.clock.now();
    let name = factor_name(name, "Authenticator app")?;
    let mut tx = ctx.db.begin().await?;
    let user = own_user(&mut tx, actor).await?;
    let factors = store::factor::list_factors(tx.ex(), user.id).await?;
    let row = factors
        .iter()
        .find(|f| f.id == id && f.kind == "totp" && !f.confirmed)
        .ok_or(Error::NotFound)?;
    let Some(step) = totp_of(ctx, row)?.check(&digits(code), now_secs(now)) else {
        return Err(Error::field("code", "code-wrong"));
    };
    if !store::factor::accept_step(tx.ex(), id, step as i64, now.millis()).await? {
        return Err(Error::field("code", "code-used"));
    }
    store::factor::rename_factor(tx.ex(), id, user.id, &name).await?;
    let enrolled =
        after_enrolment(&mut tx, ctx, actor, &user, &factors, "totp", &name, now).await?;
    tx.commit().await?;
    Ok(enrolled)
}

/// Adds sign-in codes by SMS to the user's verified mobile number.
pub async fn add_sms(ctx: &Ctx, actor: &Actor) -> Result<Enrolled> {
    may_change_factors(ctx, actor)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let user = own_user(&mut tx, actor).await?;
    require_allowed(&mut tx, ctx, &user, FactorKind::Sms).await?;
    let Some(phone) = user.phone.clone() else {
        return Err(Error::field("phone_number", "phone-none"));
    };
    if !store::user::phone_verified(tx.ex(), user.id).await? {
        return Err(Error::field("phone_number", "mfa-phone-unverified"));
    }
    let factors = store::factor::list_factors(tx.ex(), user.id).await?;
    store::factor::delete_factors_of(tx.ex(), user.id, Some("sms")).await?;
    let name = mask_phone(&phone);
    store::factor::insert_factor(
        tx.ex(),
        &FactorRow {
            id: Uuid::now_v7(),
            user_id: user.id,
            kind: "sms".into(),
            name: name.clone(),
            secret: None,
            data: phone,
            last_step: 0,
            confirmed: true,
            created_at: now.millis(),
            last_used_at: None,
        },
    )
    .await?;
    let enrolled = after_enrolment(&mut tx, ctx, actor, &user, &factors, "sms", &name, now).await?;
    tx.commit().await?;
    Ok(enrolled)
}

/// The options for `navigator.credentials.create`.
pub async fn start_passkey(ctx: &Ctx, actor: &Actor) -> Result<Value> {
    may_change_factors(ctx, actor)?;
    let now = ctx.clock.now();
    let webauthn = ctx
        .webauthn
        .as_ref()
        .ok_or(Error::Conflict("passkey-unavailable"))?;
    let mut tx = ctx.db.begin().await?;
    let user = own_user(&mut tx, actor).await?;
    require_allowed(&mut tx, ctx, &user, FactorKind::Passkey).await?;
    let existing: Vec<_> = store::factor::list_factors(tx.ex(), user.id)
        .await?
        .into_iter()
        .filter(|f| f.kind == "passkey")
        .filter_map(|f| serde_json::from_str::<Passkey>(&f.data).ok())
        .map(|k| k.cred_id().clone())
        .collect();
    let (options, state) = webauthn
        .start_passkey_registration(user.id, &actor.email, &actor.display_name, Some(existing))
        .map_err(Error::internal)?;
    store::factor::put_ceremony(
        tx.ex(),
        &actor.session_hash,
        "register",
        &serde_json::to_string(&state).map_err(Error::internal)?,
        now.plus_secs(CEREMONY_SECS).millis(),
    )
    .await?;
    tx.commit().await?;
    serde_json::to_value(options).map_err(Error::internal)
}

/// Stores the passkey the browser created.
pub async fn finish_passkey(
    ctx: &Ctx,
    actor: &Actor,
    name: &str,
    credential: &str,
) -> Result<Enrolled> {
    may_change_factors(ctx, actor)?;
    let now = ctx.clock.now();
    let name = factor_name(name, "Passkey")?;
    let webauthn = ctx
        .webauthn
        .as_ref()
        .ok_or(Error::Conflict("passkey-unavailable"))?;
    let mut tx = ctx.db.begin().await?;
    let user = own_user(&mut tx, actor).await?;
    let state =
        store::factor::take_ceremony(tx.ex(), &actor.session_hash, "register", now.millis())
            .await?
            .and_then(|s| serde_json::from_str::<PasskeyRegistration>(&s).ok());
    let Some(state) = state else {
        tx.commit().await?;
        return Err(Error::field("credential", "passkey-failed"));
    };
    let key = serde_json::from_str::<RegisterPublicKeyCredential>(credential)
        .ok()
        .and_then(|c| webauthn.finish_passkey_registration(&c, &state).ok());
    let Some(key) = key else {
        tx.commit().await?;
        return Err(Error::field("credential", "passkey-failed"));
    };
    let factors = store::factor::list_factors(tx.ex(), user.id).await?;
    store::factor::insert_factor(
        tx.ex(),
        &FactorRow {
            id: Uuid::now_v7(),
            user_id: user.id,
            kind: "passkey".into(),
            name: name.clone(),
            secret: None,
            data: serde_json::to_string(&key).map_err(Error::internal)?,
            last_step: 0,
            confirmed: true,
            created_at: now.millis(),
            last_used_at: None,
        },
    )
    .await?;
    let enrolled =
        after_enrolment(&mut tx, ctx, actor, &user, &factors, "passkey", &name, now).await?;
    tx.commit().await?;
    Ok(enrolled)
}

fn factor_name(typed: &str, fallback: &str) -> Result<String> {
    let name: String = typed.trim().chars().filter(|c| !c.is_control()).collect();
    if name.chars().count() > 60 {
        return Err(Error::field("name", "field-too-long"));
    }
    Ok(if name.is_empty() {
        fallback.to_string()
    } else {
        name
    })
}

/// Audits a new factor; the first one comes with recovery codes.
#[allow(clippy::too_many_arguments)]
async fn after_enrolment(
    tx: &mut store::Tx,
    ctx: &Ctx,
    actor: &Actor,
    user: &UserRow,
    before: &[FactorRow],
    kind: &str,
    name: &str,
    now: Timestamp,
) -> Result<Enrolled> {
    let first = !before.iter().any(|f| f.confirmed);
    let recovery_codes = if first {
        Some(replace_recovery_codes(tx, ctx, user.id, now).await?)
    } else {
        None
    };
    notify(tx.ex(), user, "added", kind, now).await?;
    audit::record(
        tx.ex(),
        actor,
        now,
        "mfa.factor.add",
        "user",
        user.id,
        Some(user.node_id),
        json!(null),
        json!({ "factor": kind, "name": name }),
    )
    .await?;
    Ok(Enrolled { recovery_codes })
}

/// Tells the user by email that their second factors changed (ASVS V6.3.7).
async fn notify(
    ex: crate::store::Ex<'_>,
    user: &UserRow,
    change: &str,
    factor: &str,
    now: Timestamp,
) -> Result<()> {
    let Some(email) = &user.email else {
        return Ok(());
    };
    let payload = json!({ "user": user.id.to_string(), "change": change, "factor": factor });
    store::outbox::enqueue_email(
        ex,
        "mfa-changed",
        email,
        Some(user.id),
        Some(user.node_id),
        &payload.to_string(),
        now.millis(),
    )
    .await
}

fn new_recovery_code() -> Result<String> {
    let mut bytes = [0u8; 12];
    secret::fill_random(&mut bytes)?;
    Ok(bytes
        .iter()
        .map(|b| RECOVERY_ALPHABET[(*b & 31) as usize] as char)
        .collect())
}

/// "abcd-efgh-jkmn" and "ABCD EFGH JKMN" are the same code.
fn normalize_recovery(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Shown as three groups of four.
fn format_recovery(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

async fn replace_recovery_codes(
    tx: &mut store::Tx,
    ctx: &Ctx,
    user: Uuid,
    now: Timestamp,
) -> Result<Vec<String>> {
    let mut codes = Vec::with_capacity(RECOVERY_CODES);
    let mut hashes = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let code = new_recovery_code()?;
        hashes.push(hasher::hash(ctx, &code).await?);
        codes.push(format_recovery(&code));
    }
    store::factor::replace_recovery_codes(tx.ex(), user, &hashes, now.millis()).await?;
    Ok(codes)
}

/// Ten new recovery codes; the old ones stop working.
pub async fn new_recovery_codes(ctx: &Ctx, actor: &Actor) -> Result<Vec<String>> {
    may_change_factors(ctx, actor)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let user = own_user(&mut tx, actor).await?;
    let factors = store::factor::list_factors(tx.ex(), user.id).await?;
    if !factors.iter().any(|f| f.confirmed) {
        return Err(Error::Conflict("mfa-no-factor"));
    }
    let codes = replace_recovery_codes(&mut tx, ctx, user.id, now).await?;
    notify(tx.ex(), &user, "recovery", "", now).await?;
    audit::record(
        tx.ex(),
        actor,
        now,
        "mfa.recovery.renew",
        "user",
        user.id,
        Some(user.node_id),
        json!(null),
        json!(null),
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

pub async fn rename_factor(ctx: &Ctx, actor: &Actor, id: Uuid, name: &str) -> Result<()> {
    if actor.stage != Stage::Full {
        return Err(Error::Forbidden);
    }
    let name = factor_name(name, "")?;
    if name.is_empty() {
        return Err(Error::field("name", "field-required"));
    }
    let mut tx = ctx.db.begin().await?;
    if !store::factor::rename_factor(tx.ex(), id, actor.user_id.0, &name).await? {
        return Err(Error::NotFound);
    }
    tx.commit().await
}

/// Removes one of the user's own factors; the last one stays when the policy requires one.
pub async fn remove_factor(ctx: &Ctx, actor: &Actor, id: Uuid) -> Result<()> {
    if actor.stage != Stage::Full {
        return Err(Error::Forbidden);
    }
    require_recent_auth(ctx, actor)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let user = own_user(&mut tx, actor).await?;
    let (required, _) = requirement(&mut tx, ctx, &user).await?;
    let factors = store::factor::list_factors(tx.ex(), user.id).await?;
    let Some(gone) = factors.iter().find(|f| f.id == id) else {
        return Err(Error::NotFound);
    };
    let left = factors.iter().filter(|f| f.confirmed && f.id != id).count();
    if left == 0 && required {
        return Err(Error::Conflict("mfa-last-required"));
    }
    store::factor::delete_factor(tx.ex(), id, user.id).await?;
    if left == 0 {
        store::factor::delete_recovery_codes(tx.ex(), user.id).await?;
    }
    notify(tx.ex(), &user, "removed", &gone.kind, now).await?;
    audit::record(
        tx.ex(),
        actor,
        now,
        "mfa.factor.remove",
        "user",
        user.id,
        Some(user.node_id),
        json!({ "factor": gone.kind, "name": gone.name }),
        json!(null),
    )
    .await?;
    tx.commit().await
}

/// Ends the enrolment stage once the user holds a factor: a new session id, fully signed in.
pub async fn finish_enrolment(ctx: &Ctx, actor: &Actor) -> Result<String> {
    if actor.stage != Stage::Enrol {
        return Err(Error::Forbidden);
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let user = own_user(&mut tx, actor).await?;
    let (_, policy) = requirement(&mut tx, ctx, &user).await?;
    let factors = store::factor::list_factors(tx.ex(), user.id).await?;
    if usable(&factors, &policy).is_empty() {
        return Err(Error::Conflict("mfa-no-factor"));
    }
    let token = promote(&mut tx, ctx, actor, now).await?;
    audit::record(
        tx.ex(),
        actor,
        now,
        "sign-in.enrolled",
        "user",
        user.id,
        Some(user.node_id),
        json!(null),
        json!(null),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// One factor as the toolbox and the user page show it (never its secret).
#[derive(Debug, Clone)]
pub struct FactorView {
    pub id: Uuid,
    pub kind: FactorKind,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A user's second factors and what the policy asks of them.
#[derive(Debug, Clone)]
pub struct Overview {
    pub factors: Vec<FactorView>,
    pub recovery_left: usize,
    pub required: bool,
    /// Required whatever the user's own switch says (an administrator, or everyone).
    pub required_by_policy: bool,
    pub policy: Policy,
    pub passkeys_available: bool,
    pub phone: Option<String>,
    pub phone_verified: bool,
}

/// The user's own factors, or those of a user the actor administers (read only).
pub async fn overview(ctx: &Ctx, actor: &Actor, id: UserId) -> Result<Overview> {
    let mut conn = ctx.db.conn().await?;
    let user = if id == actor.user_id {
        own_user(&mut conn, actor).await?
    } else {
        super::user::user_in_scope(&mut conn, actor, id.0).await?.0
    };
    let (required, policy) = requirement(&mut conn, ctx, &user).await?;
    let is_admin = user.user_type == "administrator"
        || !store::grant::list_grants_of(conn.ex(), user.id)
            .await?
            .is_empty();
    let required_by_policy = policy.requires(is_admin, false);
    let factors = store::factor::list_factors(conn.ex(), user.id)
        .await?
        .into_iter()
        .filter(|f| f.confirmed)
        .filter_map(|f| {
            Some(FactorView {
                id: f.id,
                kind: FactorKind::parse(&f.kind)?,
                name: f.name,
                created_at: Timestamp::from_millis(f.created_at),
                last_used_at: f.last_used_at.map(Timestamp::from_millis),
            })
        })
        .collect();
    let recovery_left = store::factor::unused_recovery_codes(conn.ex(), user.id)
        .await?
        .len();
    let phone_verified = store::user::phone_verified(conn.ex(), user.id).await?;
    Ok(Overview {
        factors,
        recovery_left,
        required,
        required_by_policy,
        policy,
        passkeys_available: ctx.webauthn.is_some(),
        phone: user.phone,
        phone_verified,
    })
}

/// An administrator removes every factor and recovery code of a user in scope (a lost phone);
/// the user's sessions end, and the next sign-in leads through enrolment again when required.
pub async fn reset_factors(ctx: &Ctx, actor: &Actor, id: UserId) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    if id == actor.user_id {
        return Err(Error::Forbidden);
    }
    let (user, node) =
        super::rank::user_to_change(&mut tx, actor, id.0, super::rank::Need::Any, now.millis())
            .await?;
    let removed = store::factor::delete_factors_of(tx.ex(), user.id, None).await?;
    store::factor::delete_recovery_codes(tx.ex(), user.id).await?;
    store::session::delete_sessions_of(tx.ex(), user.id).await?;
    if user.kind == "person" {
        store::api_token::revoke_tokens_of(tx.ex(), user.id, now.millis()).await?;
    }
    notify(tx.ex(), &user, "reset", "", now).await?;
    audit::record(
        tx.ex(),
        actor,
        now,
        "mfa.reset",
        "user",
        user.id,
        Some(node.id),
        json!({ "factors": removed }),
        json!({ "factors": 0 }),
    )
    .await?;
    tx.commit().await
}

/// The policy in force at a node the actor administers.
pub async fn node_policy(ctx: &Ctx, actor: &Actor, node: NodeId) -> Result<Policy> {
    let mut conn = ctx.db.conn().await?;
    let row = store::node::get_node(conn.ex(), node.0).await?;
    if !actor.administers_path(&row.path) {
        return Err(Error::NotFound);
    }
    policy_at(&mut conn, ctx, row.id).await
}

/// Sets who must use a second factor below a node, and which factors are allowed; None
/// inherits. Accounts and units choose administrators or everyone (seed 002: administrators
/// always), and at least one factor.
pub async fn set_policy(
    ctx: &Ctx,
    actor: &Actor,
    node: NodeId,
    require: Option<&str>,
    factors: Option<&[String]>,
) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let row = store::node::find_node(tx.ex(), node.0)
        .await?
        .ok_or(Error::NotFound)?;
    if !actor.administers_path(&row.path) {
        return Err(Error::NotFound);
    }
    // A unit's own policy is set from above: its administrator could otherwise undo what the
    // level above them required of their unit.
    if row.kind == "unit"
        && let Some(parent) = row.parent_id
    {
        let parent = store::node::get_node(tx.ex(), parent).await?;
        if !actor.administers_path(&parent.path) {
            return Err(Error::Forbidden);
        }
    }
    let require = match require
        .map(str::trim)
        .filter(|s| !s.is_empty() && *s != "inherit")
    {
        None => None,
        Some(s) => match Require::parse(s) {
            Some(r @ (Require::Administrators | Require::Everyone)) => Some(r),
            _ => return Err(Error::field("mfa_policy", "mfa-policy-invalid")),
        },
    };
    let factors = match factors {
        None => None,
        Some(list) => {
            let kinds: Vec<FactorKind> = list.iter().filter_map(|k| FactorKind::parse(k)).collect();
            if kinds.len() != list.len() {
                return Err(Error::field("mfa_factors", "mfa-factors-invalid"));
            }
            if kinds.is_empty() {
                return Err(Error::field("mfa_factors", "mfa-factors-none"));
            }
            Some(factors_text(&kinds))
        }
    };
    // A unit only tightens the policy above it.
    if row.kind == "unit"
        && let Some(parent) = row.parent_id
    {
        let above = policy_at(&mut tx, ctx, parent).await?;
        if require.is_some_and(|r| r < above.require) {
            return Err(Error::field("mfa_policy", "mfa-policy-weaker"));
        }
        if let Some(list) = &factors
            && parse_factors(list).iter().any(|k| !above.allows(*k))
        {
            return Err(Error::field("mfa_factors", "mfa-factors-wider"));
        }
    }
    let before = (row.mfa_policy.clone(), row.mfa_factors.clone());
    store::node::set_mfa_settings(
        tx.ex(),
        row.id,
        require.map(Require::as_str),
        factors.as_deref(),
        now.millis(),
    )
    .await?;
    audit::record(
        tx.ex(),
        actor,
        now,
        "mfa.policy",
        "node",
        row.id,
        Some(row.id),
        json!({ "policy": before.0, "factors": before.1 }),
        json!({ "policy": require.map(Require::as_str), "factors": factors }),
    )
    .await?;
    tx.commit().await
}

/// A user still without a second factor, for the administrator's list.
#[derive(Debug, Clone)]
pub struct Unenrolled {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub invited: bool,
    pub required: bool,
}

/// Users below a node the actor administers without a second factor, required ones first.
pub async fn not_enrolled(
    ctx: &Ctx,
    actor: &Actor,
    node: NodeId,
    limit: i64,
) -> Result<Vec<Unenrolled>> {
    let mut conn = ctx.db.conn().await?;
    let row = store::node::get_node(conn.ex(), node.0).await?;
    if !actor.administers_path(&row.path) {
        return Err(Error::NotFound);
    }
    let rows = store::node::users_without_factor(conn.ex(), &row.path, limit).await?;
    let mut policies: std::collections::HashMap<Uuid, Policy> = Default::default();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if let std::collections::hash_map::Entry::Vacant(slot) = policies.entry(r.node_id) {
            slot.insert(policy_at(&mut conn, ctx, r.node_id).await?);
        }
        let policy = &policies[&r.node_id];
        let is_admin = r.user_type == "administrator" || r.has_grants;
        let email = r.email.unwrap_or_default();
        let name = format!("{} {}", r.first_name, r.last_name)
            .trim()
            .to_string();
        out.push(Unenrolled {
            id: UserId(r.id),
            name: if name.is_empty() { email.clone() } else { name },
            email,
            invited: r.status == "invited",
            required: policy.requires(is_admin, r.mfa_required),
        });
    }
    out.sort_by_key(|u| !u.required);
    Ok(out)
}

/// An SVG QR code: dark modules as one path, a quiet zone of four modules.
pub fn qr_svg(text: &str) -> Result<String> {
    use qrcodegen::{QrCode, QrCodeEcc};
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).map_err(Error::internal)?;
    let size = qr.size();
    let border = 4;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let dim = size + 2 * border;
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {dim} {dim}\" \
         shape-rendering=\"crispEdges\" role=\"img\" class=\"qr\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_long_and_forgiving() {
        let code = new_recovery_code().unwrap();
        assert_eq!(code.len(), 12);
        let shown = format_recovery(&code);
        assert_eq!(shown.len(), 14);
        assert_eq!(
            normalize_recovery(&shown.to_lowercase().replace('-', " ")),
            code
        );
    }

    #[test]
    fn policy_requires() {
        let p = |require| Policy {
            require,
            factors: FactorKind::ALL.to_vec(),
            own_require: None,
            own_factors: None,
        };
        assert!(p(Require::Administrators).requires(true, false));
        assert!(!p(Require::Administrators).requires(false, false));
        assert!(p(Require::Administrators).requires(false, true));
        assert!(p(Require::Everyone).requires(false, false));
        assert!(!p(Require::Users).requires(true, false));
        assert!(p(Require::Users).requires(false, true));
    }

    #[test]
    fn factor_lists_round_trip() {
        assert_eq!(
            parse_factors("totp, passkey,bogus"),
            vec![FactorKind::Totp, FactorKind::Passkey]
        );
        assert_eq!(
            factors_text(&[FactorKind::Passkey, FactorKind::Sms]),
            "sms,passkey"
        );
    }

    #[test]
    fn qr_is_svg() {
        let svg = qr_svg("otpauth://totp/Roster:a@b.test?secret=ABC").unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<path"));
    }
}
