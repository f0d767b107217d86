//! Ten one-time recovery codes (60 bits each, argon2id-hashed), made with the first factor.

use super::*;

pub(super) fn new_recovery_code() -> Result<String> {
    let mut bytes = [0u8; 12];
    secret::fill_random(&mut bytes)?;
    Ok(bytes
        .iter()
        .map(|b| RECOVERY_ALPHABET[(*b & 31) as usize] as char)
        .collect())
}

/// "abcd-efgh-jkmn" and "ABCD EFGH JKMN" are the same code.
pub(super) fn normalize_recovery(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Shown as three groups of four.
pub(super) fn format_recovery(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

pub(super) async fn replace_recovery_codes(
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
    audit::Event::new(actor, "mfa.recovery.renew")
        .target("user", user.id, Some(user.node_id))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await?;
    Ok(codes)
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
}
