//! SMS codes as a factor: the user's verified mobile number.

use super::*;

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
