//! Authenticator apps (RFC 6238): a 160-bit seed sealed at rest, shown once as a QR code,
//! counting only after one right code; the accepted time step is kept so a code works once.

use super::*;

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

pub(super) fn totp_for(secret: Vec<u8>, account: &str) -> Result<Totp> {
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

pub(super) fn totp_of(ctx: &Ctx, f: &FactorRow) -> Result<Totp> {
    let sealed = f
        .secret
        .as_deref()
        .ok_or(Error::internal("TOTP factor without a seed"))?;
    let seed = ctx.settings.secret_key.open(sealed, f.id.as_bytes())?;
    totp_for(seed, "")
}

pub(super) fn now_secs(now: Timestamp) -> u64 {
    (now.millis().max(0) / 1000) as u64
}

pub(super) fn digits(typed: &str) -> String {
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

pub(super) fn setup_of(ctx: &Ctx, row: &FactorRow, account: &str) -> Result<TotpSetup> {
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
    fn qr_is_svg() {
        let svg = qr_svg("otpauth://totp/Roster:a@b.test?secret=ABC").unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<path"));
    }
}
