//! A user's factors as a whole: naming and removing one, finishing enrolment, the overview an
//! administrator sees, and an administrator's reset.

use super::*;

pub async fn rename_factor(ctx: &Ctx, actor: &Actor, id: FactorId, name: &str) -> Result<()> {
    let id = id.0;
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
pub async fn remove_factor(ctx: &Ctx, actor: &Actor, id: FactorId) -> Result<()> {
    let id = id.0;
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
    audit::Event::new(actor, "mfa.factor.remove")
        .target("user", user.id, Some(user.node_id))
        .before(json!({ "factor": gone.kind, "name": gone.name }))
        .write(tx.ex(), now)
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
    audit::Event::new(actor, "sign-in.enrolled")
        .target("user", user.id, Some(user.node_id))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await?;
    Ok(token)
}

/// One factor as the toolbox and the user page show it (never its secret).
#[derive(Debug, Clone)]
pub struct FactorView {
    pub id: FactorId,
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
                id: FactorId(f.id),
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
    audit::Event::new(actor, "mfa.reset")
        .target("user", user.id, Some(node.id))
        .before(json!({ "factors": removed }))
        .after(json!({ "factors": 0 }))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}
