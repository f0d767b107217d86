//! One-time links (set-up, invitation, password reset, email verification): only the token's
//! hash is stored; a link is bound to one purpose, lives until its expiry, and works once.

use uuid::Uuid;

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::Timestamp;
use crate::secret;
use crate::store::{
    self, Ex,
    link::{LinkTokenRow, NewLinkToken},
};

/// The token's row when it is live for `purpose`; otherwise why not, as the link page says it.
pub(crate) async fn live(
    ex: Ex<'_>,
    token: &str,
    purpose: &str,
    now: Timestamp,
) -> Result<LinkTokenRow> {
    let row = store::link::find_link_token(ex, &secret::hash_token(token)).await?;
    let Some(row) = row.filter(|r| r.purpose == purpose) else {
        return Err(Error::Unauthenticated("link-invalid"));
    };
    if row.used_at.is_some() {
        return Err(Error::Unauthenticated("link-used"));
    }
    if row.expires_at <= now.millis() {
        return Err(Error::Unauthenticated("link-expired"));
    }
    Ok(row)
}

/// Uses a live token once, in the caller's transaction (a second use loses the race).
pub(crate) async fn use_once(ex: Ex<'_>, token: &str, now: Timestamp) -> Result<()> {
    if store::link::use_link_token(ex, &secret::hash_token(token), now.millis()).await? {
        Ok(())
    } else {
        Err(Error::Unauthenticated("link-used"))
    }
}

/// Mints a new link for a user, voiding their older ones of the same purpose; returns the raw
/// token for the message (it is stored nowhere).
pub(crate) async fn mint_for_user(
    ex: &mut crate::store::Tx,
    purpose: &str,
    user: Uuid,
    node: Option<Uuid>,
    data: &str,
    now: Timestamp,
    lifetime_secs: i64,
) -> Result<(String, Timestamp)> {
    store::link::void_user_tokens(ex.ex(), purpose, user, now.millis()).await?;
    mint_beside(ex, purpose, user, node, data, now, lifetime_secs).await
}

/// Mints a new link for a user beside their others of the same purpose (each for its own
/// `data`, as every alias waiting has its link).
pub(crate) async fn mint_beside(
    ex: &mut crate::store::Tx,
    purpose: &str,
    user: Uuid,
    node: Option<Uuid>,
    data: &str,
    now: Timestamp,
    lifetime_secs: i64,
) -> Result<(String, Timestamp)> {
    let token = secret::new_token()?;
    let expires = now.plus_secs(lifetime_secs);
    store::link::insert_link_token(
        ex.ex(),
        NewLinkToken {
            token_hash: &secret::hash_token(&token),
            purpose,
            user_id: Some(user),
            node_id: node,
            data,
            now: now.millis(),
            expires_at: expires.millis(),
        },
    )
    .await?;
    Ok((token, expires))
}

/// For the pages: whether a link is live, without using it.
pub(crate) async fn check(ctx: &Ctx, token: &str, purpose: &str) -> Result<LinkTokenRow> {
    let mut conn = ctx.db.conn().await?;
    live(conn.ex(), token, purpose, ctx.clock.now()).await
}
