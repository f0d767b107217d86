//! Re-authentication: the user's own password again, for a sensitive change — throttled like
//! sign-in and checked by the bounded hasher. The session gets a new id and a fresh proof time.

use super::Actor;
use super::auth::{account_key, audit_sign_in, throttle_keys};
use super::{hasher, throttle};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::secret;
use crate::store;

/// Checks the actor's own password (re-authentication, the toolbox's current password):
/// reserved against the same throttle as sign-in and verified by the bounded hasher. A wrong
/// password is audited as `failed_action` and named on `field`.
pub(crate) async fn check_own_password(
    ctx: &Ctx,
    actor: &Actor,
    typed: &str,
    field: &'static str,
    failed_action: &str,
) -> Result<()> {
    let now = ctx.clock.now();
    let keys = throttle_keys(&actor.ip, &actor.email, true);
    throttle::reserve(ctx, &keys, now).await?;
    let stored = {
        let mut conn = ctx.db.conn().await?;
        store::user::find_user(conn.ex(), actor.user_id.0)
            .await?
            .and_then(|u| u.password_hash)
    };
    let ok = hasher::verify(ctx, typed, stored).await?;
    let mut tx = ctx.db.begin().await?;
    if ok {
        throttle::release(tx.ex(), &keys[0]).await?;
        throttle::clear(tx.ex(), &account_key(&actor.email)).await?;
        return tx.commit().await;
    }
    audit_sign_in(
        tx.ex(),
        now,
        Some(actor.user_id.0),
        &actor.email,
        &actor.ip,
        "",
        failed_action,
        "refused",
    )
    .await?;
    tx.commit().await?;
    Err(Error::field(field, "password-current-wrong"))
}

/// Re-authentication: the password again; the session gets a new id (returned for the cookie)
/// and a fresh proof time. Wrong passwords count against the same throttle as sign-in.
pub async fn reauthenticate(ctx: &Ctx, actor: &Actor, password_typed: &str) -> Result<String> {
    check_own_password(ctx, actor, password_typed, "password", "reauth.failed").await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let token = secret::new_token()?;
    if !store::session::rotate_session(
        tx.ex(),
        &actor.session_hash,
        &secret::hash_token(&token),
        now.millis(),
    )
    .await?
    {
        return Err(Error::Unauthenticated("signin-failed"));
    }
    audit_sign_in(
        tx.ex(),
        now,
        Some(actor.user_id.0),
        &actor.email,
        &actor.ip,
        "",
        "reauth",
        "ok",
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}
