//! Passkeys (WebAuthn, with user verification): registration ceremonies in the toolbox.

use super::*;

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
    keep_ceremony(tx, actor, "register", &state, options, now).await
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
