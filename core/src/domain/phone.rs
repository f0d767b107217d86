//! Verifying a mobile number with a code sent by SMS (SMS sign-in codes only ever go to a
//! verified number). Codes: 6 digits from the operating system's random source, 10 minutes,
//! 5 tries, a new one at most every minute and 10 a day; only an argon2id hash is stored.

use serde_json::json;

use super::{Actor, audit, hasher};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::Timestamp;
use crate::outbox::message::{self, Message};
use crate::store::{self, Handle};
use uuid::Uuid;

pub const VERIFY: &str = "phone-verify";
pub const CODE_SECS: i64 = 10 * 60;
const MAX_TRIES: i64 = 5;
const COOL_DOWN_SECS: i64 = 60;
const PER_DAY: i64 = 10;

/// Six digits, uniformly drawn.
pub fn new_code() -> Result<String> {
    loop {
        let mut b = [0u8; 4];
        crate::secret::fill_random(&mut b)?;
        let n = u32::from_le_bytes(b);
        // Reject the top of the range so every code is equally likely.
        if n < 4_294_000_000 {
            return Ok(format!("{:06}", n % 1_000_000));
        }
    }
}

/// Refuses a new code of `purpose` within a minute of the last one, or past ten a day.
pub(crate) async fn check_allowance(
    h: &mut impl Handle,
    user: Uuid,
    purpose: &str,
    now: Timestamp,
) -> Result<()> {
    if let Some(last) = store::code::latest_code(h.ex(), user, purpose).await? {
        let wait = last.created_at + COOL_DOWN_SECS * 1000 - now.millis();
        if wait > 0 {
            return Err(Error::RateLimited {
                retry_after_secs: (wait + 999) / 1000,
            });
        }
    }
    if store::code::count_since(h.ex(), user, purpose, now.plus_secs(-86_400).millis()).await?
        >= PER_DAY
    {
        return Err(Error::RateLimited {
            retry_after_secs: 3600,
        });
    }
    Ok(())
}

/// Sends a code to the actor's own number.
pub async fn request_verification(ctx: &Ctx, actor: &Actor) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let user = store::user::find_user(tx.ex(), actor.user_id.0)
        .await?
        .ok_or(Error::NotFound)?;
    let Some(phone) = user.phone.clone() else {
        return Err(Error::field("phone_number", "phone-none"));
    };
    if store::user::phone_verified(tx.ex(), user.id).await? {
        return Err(Error::Conflict("phone-already-verified"));
    }
    check_allowance(&mut tx, user.id, VERIFY, now).await?;
    message::enqueue(
        tx.ex(),
        &Message::PhoneVerify,
        &phone,
        user.id,
        user.node_id,
        now,
    )
    .await?;
    audit::Event::new(actor, "phone.verify.request")
        .target("user", user.id, Some(user.node_id))
        .after(json!({"phone": phone}))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}

/// Checks a typed code: right → the number is verified; wrong → one try fewer.
pub async fn verify(ctx: &Ctx, actor: &Actor, typed: &str) -> Result<()> {
    let now = ctx.clock.now();
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    let code = {
        let mut conn = ctx.db.conn().await?;
        store::code::latest_code(conn.ex(), actor.user_id.0, VERIFY).await?
    };
    let Some(code) = code.filter(|c| c.used_at.is_none()) else {
        return Err(Error::field("code", "code-none"));
    };
    if code.expires_at <= now.millis() {
        return Err(Error::field("code", "code-expired"));
    }
    // The try is counted before the code is checked, so tries sent at once cannot pass the
    // limit.
    let attempt = {
        let mut tx = ctx.db.begin().await?;
        let n = store::code::reserve_attempt(tx.ex(), code.id, MAX_TRIES).await?;
        tx.commit().await?;
        n
    };
    let Some(attempt) = attempt else {
        return Err(Error::field("code", "code-dead"));
    };
    let right =
        typed.len() == 6 && hasher::verify(ctx, &typed, Some(code.code_hash.clone())).await?;
    let mut tx = ctx.db.begin().await?;
    if !right {
        audit::Event::new(actor, "phone.verify.failed")
            .target("user", actor.user_id.0, None)
            .after(json!({"attempt": attempt}))
            .write(tx.ex(), now)
            .await?;
        tx.commit().await?;
        let dead = attempt >= MAX_TRIES;
        return Err(Error::field(
            "code",
            if dead { "code-dead" } else { "code-wrong" },
        ));
    }
    if !store::code::use_code(tx.ex(), code.id, now.millis()).await? {
        return Err(Error::field("code", "code-none"));
    }
    if !store::user::set_phone_verified(tx.ex(), actor.user_id.0, &code.phone).await? {
        return Err(Error::field("code", "code-none"));
    }
    audit::Event::new(actor, "phone.verify")
        .target("user", actor.user_id.0, None)
        .after(json!({"phone": code.phone, "verified": true}))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_six_digits_and_vary() {
        let codes: std::collections::HashSet<String> =
            (0..200).map(|_| super::new_code().unwrap()).collect();
        assert!(codes.len() > 190);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 6 && c.chars().all(|d| d.is_ascii_digit()))
        );
    }
}
