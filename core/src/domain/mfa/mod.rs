//! Second factors: SMS codes to a verified number, TOTP authenticator apps (RFC 6238), passkeys
//! (WebAuthn), and ten one-time recovery codes. A user may hold several.
//!
//! Sign-in with a factor is two steps. The right password gives a session in the `mfa` stage
//! (or `enrol`, when the policy requires a factor the user does not have yet); such a session
//! opens nothing but the second step, lives 10 minutes, and ends after 5 wrong answers. The
//! right answer gives the session a new id, a new CSRF token and the full stage.
//!
//! Who must use a factor is a policy per node, inherited down the tree: administrators (the
//! default) or everyone, plus each user an administrator switches on one by one
//! ("Multifactor Authentication" on the user). Which factors are allowed is set the same way.

mod factors;
mod passkey;
mod policy;
mod recovery;
mod sign_in;
mod sms;
mod totp;

pub use crate::model::Require;
pub use factors::{
    FactorView, Overview, finish_enrolment, overview, remove_factor, rename_factor, reset_factors,
};
pub use passkey::{finish_passkey, start_passkey};
pub use policy::{FactorKind, Policy, Unenrolled, node_policy, not_enrolled, set_policy};
pub use recovery::new_recovery_codes;
pub use sign_in::{Answer, Challenge, answer, challenge, send_sign_in_code, start_passkey_sign_in};
pub(crate) use sign_in::{send_code_with_password, stage_after_password};
pub use sms::add_sms;
pub use totp::{TotpSetup, confirm_totp, pending_totp, qr_svg, start_totp};

use serde_json::{Value, json};
use totp_rs::{Algorithm, Builder, Totp};
use uuid::Uuid;

use super::actor::Stage;
use super::session::require_recent_auth;
use super::throttle::{self, Key};
use super::{Actor, audit};
use super::{hasher, phone, rank, user};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::{FactorId, NodeId, Timestamp, UserId};
use crate::outbox::message::{self, Message};
use crate::secret;
use crate::store::{self, Handle, factor::FactorRow, user::UserRow};
use policy::requirement;
use recovery::{normalize_recovery, replace_recovery_codes};
use sign_in::{mask_phone, promote};
use totp::{digits, now_secs, totp_of};
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential,
    RegisterPublicKeyCredential,
};

/// Wrong answers a half-signed-in session may give before it ends.
pub const MAX_FAILURES: i64 = 5;

/// How long a session waits for its second factor (or for enrolment).
pub const PENDING_SECS: i64 = 10 * 60;

/// The outbox kind and code purpose of a sign-in code sent by SMS.
pub const SIGN_IN_SMS: &str = "sign-in-code";

/// A sign-in code by SMS lives this long.
pub const SIGN_IN_CODE_SECS: i64 = 5 * 60;

pub(super) const RECOVERY_CODES: usize = 10;

pub(super) const CEREMONY_SECS: i64 = 5 * 60;

/// Per-user throttle of wrong second-factor answers across sessions.
pub(super) const THROTTLE_CAP_SECS: i64 = 5 * 60;

/// Letters and digits that cannot be mistaken for each other (no I, O, 0, 1).
pub(super) const RECOVERY_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

pub(super) fn usable<'a>(factors: &'a [FactorRow], policy: &Policy) -> Vec<&'a FactorRow> {
    factors
        .iter()
        .filter(|f| f.confirmed)
        .filter(|f| FactorKind::parse(&f.kind).is_some_and(|k| policy.allows(k)))
        .collect()
}

/// What enrolling a factor gives back: the recovery codes, when it was the user's first.
#[derive(Debug, Clone, Default)]
pub struct Enrolled {
    pub recovery_codes: Option<Vec<String>>,
}

/// Factor changes are open to the user themself, in a full session with a recent proof of
/// identity, or in the enrolment stage of sign-in.
pub(super) fn may_change_factors(ctx: &Ctx, actor: &Actor) -> Result<()> {
    match actor.stage {
        Stage::Enrol => Ok(()),
        Stage::Full => require_recent_auth(ctx, actor),
        Stage::Mfa => Err(Error::Forbidden),
    }
}

pub(super) async fn own_user(h: &mut impl Handle, actor: &Actor) -> Result<UserRow> {
    store::user::find_user(h.ex(), actor.user_id.0)
        .await?
        .ok_or(Error::NotFound)
}

pub(super) async fn require_allowed(
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

pub(super) fn factor_name(typed: &str, fallback: &str) -> Result<String> {
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
pub(super) async fn after_enrolment(
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
    audit::Event::new(actor, "mfa.factor.add")
        .target("user", user.id, Some(user.node_id))
        .after(json!({ "factor": kind, "name": name }))
        .write(tx.ex(), now)
        .await?;
    Ok(Enrolled { recovery_codes })
}

/// Tells the user by email that their second factors changed (ASVS V6.3.7).
pub(super) async fn notify(
    ex: crate::store::Ex<'_>,
    user: &UserRow,
    change: &str,
    factor: &str,
    now: Timestamp,
) -> Result<()> {
    let Some(email) = &user.email else {
        return Ok(());
    };
    message::enqueue(
        ex,
        &Message::MfaChanged {
            change: change.into(),
            factor: factor.into(),
        },
        email,
        user.id,
        user.node_id,
        now,
    )
    .await
}

/// Keeps a passkey ceremony's state with the session for `CEREMONY_SECS`, commits, and gives
/// the options for the browser.
async fn keep_ceremony(
    mut tx: store::Tx,
    actor: &Actor,
    purpose: &str,
    state: &impl serde::Serialize,
    options: impl serde::Serialize,
    now: Timestamp,
) -> Result<Value> {
    store::factor::put_ceremony(
        tx.ex(),
        &actor.session_hash,
        purpose,
        &serde_json::to_string(state).map_err(Error::internal)?,
        now.plus_secs(CEREMONY_SECS).millis(),
    )
    .await?;
    tx.commit().await?;
    serde_json::to_value(options).map_err(Error::internal)
}
