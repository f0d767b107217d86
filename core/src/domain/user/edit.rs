//! The user page's sections: Settings, Services, Organizational belonging, Password, Notes,
//! status and Delete. Each loads the user in scope, checks, saves against the version, audits.

use serde_json::json;

use super::profile::ProfileInput;
use super::{keep_an_admin, save, search_terms, user_json};
use crate::context::Ctx;
use crate::domain::node::node_in_scope;
use crate::domain::rank::{Need, user_to_change};
use crate::domain::{Actor, audit};
use crate::error::{Error, Problems, Result};
use crate::model::{Lang, NodeId, UserId, UserStatus, UserType, parse_line, parse_text};
use crate::password;
use crate::store;

pub const NOTES_MAX: usize = 4000;

/// The Settings section as typed (seed 001: friendly name, country code, language, user type,
/// phone; seed 000: name, role, language, "Receive paid invoices by e-mail"; seed 002:
/// external notifications and their channels).
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    pub profile: ProfileInput,
    pub friendly_name: String,
    /// Seed 002 (h): "Multifactor Authentication" for this user. Administrators need a second
    /// factor whatever this says, under the policy of their account.
    pub mfa_required: bool,
}

pub async fn update_settings(
    ctx: &Ctx,
    actor: &Actor,
    id: UserId,
    version: i64,
    input: &SettingsInput,
) -> Result<()> {
    let now = ctx.clock.now();
    // Scope first (out of scope is 404 whatever the input), then every field.
    let mut tx = ctx.db.begin().await?;
    let (before, _) = user_to_change(&mut tx, actor, id.0, Need::Any, now.millis()).await?;
    let mut p = Problems::default();
    let friendly_name = p
        .check(parse_line("friendly_name", &input.friendly_name, 100))
        .unwrap_or_default();
    let profile = input.profile.check(&mut p, before.kind == "system");
    p.finish()?;
    let user_type = profile.user_type;
    let tenant = store::node::get_node(tx.ex(), before.account_id).await?;
    let role_changes = before.user_type != user_type.as_str();
    if role_changes && !actor.administers_path(&tenant.path) {
        return Err(Error::Forbidden);
    }
    keep_an_admin(
        &mut tx,
        &before,
        role_changes && user_type == UserType::User,
    )
    .await?;
    let mut after = before.clone();
    profile.apply(&mut after);
    after.friendly_name = friendly_name;
    after.mfa_required = input.mfa_required;
    after.updated_at = now.millis();
    save(tx.ex(), &after, version).await?;
    if after.phone != before.phone {
        // Sign-in codes never go to a number that has not been verified as the user's.
        store::factor::delete_factors_of(tx.ex(), after.id, Some("sms")).await?;
    }
    if role_changes {
        match user_type {
            UserType::Administrator => {
                store::grant::insert_node_grant(
                    tx.ex(),
                    before.id,
                    "administrator",
                    tenant.id,
                    actor.audit_id(),
                    now.millis(),
                )
                .await?
            }
            UserType::User => {
                store::grant::delete_node_grant(tx.ex(), before.id, tenant.id).await?;
            }
        }
    }
    store::user::replace_terms(tx.ex(), after.id, after.account_id, &search_terms(&after)).await?;
    audit::record(
        tx.ex(),
        actor,
        now,
        "user.update",
        "user",
        before.id,
        Some(before.node_id),
        user_json(&before),
        user_json(&after),
    )
    .await?;
    tx.commit().await
}

/// The services (seed 001: SMS, Fax, …) the user may use.
pub async fn set_services(
    ctx: &Ctx,
    actor: &Actor,
    id: UserId,
    version: i64,
    services: &[String],
) -> Result<()> {
    if services.iter().any(|s| !ctx.settings.services.contains(s)) {
        return Err(Error::field("services", "field-service-unknown"));
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (mut user, _) = user_to_change(&mut tx, actor, id.0, Need::Any, now.millis()).await?;
    let before = store::user::list_services(tx.ex(), user.id).await?;
    let after: Vec<String> = ctx
        .settings
        .services
        .iter()
        .filter(|s| services.contains(s))
        .cloned()
        .collect();
    user.updated_at = now.millis();
    save(tx.ex(), &user, version).await?;
    store::user::set_services(tx.ex(), user.id, &after).await?;
    audit::record(
        tx.ex(),
        actor,
        now,
        "user.services",
        "user",
        user.id,
        Some(user.node_id),
        json!({"services": before}),
        json!({"services": after}),
    )
    .await?;
    tx.commit().await
}

/// Organizational belonging: moves the user to another unit of the same account. The actor
/// must administer both the unit the user leaves and the one they join.
pub async fn move_user(
    ctx: &Ctx,
    actor: &Actor,
    id: UserId,
    version: i64,
    target: NodeId,
) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (before, from) = user_to_change(&mut tx, actor, id.0, Need::Scope, now.millis()).await?;
    let to = node_in_scope(tx.ex(), actor, target.0)
        .await
        .map_err(|_| Error::field("node", "move-target-invalid"))?;
    if to.account_id != before.account_id {
        return Err(Error::field("node", "move-target-invalid"));
    }
    if to.id == from.id {
        return Ok(());
    }
    let mut after = before.clone();
    after.node_id = to.id;
    after.updated_at = now.millis();
    save(tx.ex(), &after, version).await?;
    store::node::adjust_user_count(tx.ex(), from.id, -1).await?;
    store::node::adjust_user_count(tx.ex(), to.id, 1).await?;
    audit::record(
        tx.ex(),
        actor,
        now,
        "user.move",
        "user",
        before.id,
        Some(to.id),
        json!({"node": from.id.to_string(), "node_name": from.name}),
        json!({"node": to.id.to_string(), "node_name": to.name}),
    )
    .await?;
    tx.commit().await
}

/// Change password (seed 001): the administrator gives the user a new password, which is not
/// sent to them; they must change it at their next sign-in.
pub async fn set_password(
    ctx: &Ctx,
    actor: &Actor,
    id: UserId,
    version: i64,
    new_password: &str,
) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (before, _) = user_to_change(&mut tx, actor, id.0, Need::Any, now.millis()).await?;
    if before.kind == "system" {
        return Err(Error::NotFound);
    }
    password::check_new("password", new_password, before.email.as_deref())?;
    drop(tx);
    let hash = crate::domain::hasher::hash(ctx, new_password).await?;
    let mut tx = ctx.db.begin().await?;
    let (before, _) = user_to_change(&mut tx, actor, id.0, Need::Any, now.millis()).await?;
    let mut after = before.clone();
    after.password_hash = Some(hash);
    after.password_must_change = true;
    if after.status == UserStatus::Invited.as_str() {
        after.status = UserStatus::Active.as_str().into();
    }
    after.updated_at = now.millis();
    save(tx.ex(), &after, version).await?;
    // Whoever held the user's sessions or personal tokens is out.
    store::session::delete_sessions_of(tx.ex(), before.id).await?;
    store::api_token::revoke_tokens_of(tx.ex(), before.id, now.millis()).await?;
    // The user hears that someone else set their password (never the password itself).
    if let Some(email) = &before.email {
        let payload = json!({ "user": before.id.to_string(), "by": actor.display_name });
        store::outbox::enqueue_email(
            tx.ex(),
            "password-set-by-admin",
            email,
            Some(before.id),
            Some(before.node_id),
            &payload.to_string(),
            now.millis(),
        )
        .await?;
    }
    audit::record(
        tx.ex(),
        actor,
        now,
        "user.password.set",
        "user",
        before.id,
        Some(before.node_id),
        json!({"status": before.status}),
        json!({"status": after.status, "password_must_change": true}),
    )
    .await?;
    tx.commit().await
}

/// Notes: only administrators see them.
pub async fn set_notes(
    ctx: &Ctx,
    actor: &Actor,
    id: UserId,
    version: i64,
    notes: &str,
) -> Result<()> {
    let notes = parse_text("notes", notes, NOTES_MAX)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (before, _) = user_to_change(&mut tx, actor, id.0, Need::Any, now.millis()).await?;
    let mut after = before.clone();
    after.notes = notes;
    after.updated_at = now.millis();
    save(tx.ex(), &after, version).await?;
    audit::record(
        tx.ex(),
        actor,
        now,
        "user.notes",
        "user",
        before.id,
        Some(before.node_id),
        json!({"notes": before.notes}),
        json!({"notes": after.notes}),
    )
    .await?;
    tx.commit().await
}

/// Disables a user (their sessions end at once) or enables them again.
pub async fn set_status(
    ctx: &Ctx,
    actor: &Actor,
    id: UserId,
    version: i64,
    active: bool,
) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (before, _) = user_to_change(&mut tx, actor, id.0, Need::Scope, now.millis()).await?;
    if before.id == actor.user_id.0 {
        return Err(Error::Conflict("error-not-yourself"));
    }
    let status = match (active, before.password_hash.is_some()) {
        (false, _) => UserStatus::Disabled,
        (true, true) => UserStatus::Active,
        (true, false) => UserStatus::Invited,
    };
    keep_an_admin(&mut tx, &before, status == UserStatus::Disabled).await?;
    let mut after = before.clone();
    after.status = status.as_str().into();
    after.updated_at = now.millis();
    save(tx.ex(), &after, version).await?;
    if status == UserStatus::Disabled {
        store::session::delete_sessions_of(tx.ex(), before.id).await?;
    }
    audit::record(
        tx.ex(),
        actor,
        now,
        "user.status",
        "user",
        before.id,
        Some(before.node_id),
        json!({"status": before.status}),
        json!({"status": after.status}),
    )
    .await?;
    tx.commit().await
}

/// Delete user: the user, their grants, services, photo and sessions go at once.
pub async fn delete_user(ctx: &Ctx, actor: &Actor, id: UserId) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (before, from) = user_to_change(&mut tx, actor, id.0, Need::Scope, now.millis()).await?;
    if before.id == actor.user_id.0 {
        return Err(Error::Conflict("error-not-yourself"));
    }
    keep_an_admin(&mut tx, &before, true).await?;
    store::user::delete_user(tx.ex(), before.id).await?;
    store::node::adjust_user_count(tx.ex(), from.id, -1).await?;
    audit::record(
        tx.ex(),
        actor,
        now,
        "user.delete",
        "user",
        before.id,
        Some(before.node_id),
        user_json(&before),
        json!(null),
    )
    .await?;
    tx.commit().await
}

/// Stores the language the actor chose for themself; pages and messages follow it.
pub async fn set_own_language(ctx: &Ctx, actor: &Actor, lang: Lang) -> Result<()> {
    if lang == actor.lang {
        return Ok(());
    }
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    store::user::update_language(tx.ex(), actor.user_id.0, lang.code(), now.millis()).await?;
    audit::record(
        tx.ex(),
        actor,
        now,
        "user.update",
        "user",
        actor.user_id.0,
        Some(actor.node_id.0),
        json!({ "language": actor.lang.code() }),
        json!({ "language": lang.code() }),
    )
    .await?;
    tx.commit().await
}

/// The user chooses their own password (required after a generated or administrator-set one).
/// Their other sessions end.
pub async fn change_own_password(
    ctx: &Ctx,
    actor: &Actor,
    new_password: &str,
    repeat: &str,
) -> Result<()> {
    password::check_new("password", new_password, Some(&actor.email))?;
    if new_password != repeat {
        return Err(Error::field("password_repeat", "password-mismatch"));
    }
    // Both hashes run outside the transaction, through the bounded hasher.
    let stored = {
        let mut conn = ctx.db.conn().await?;
        store::user::find_user(conn.ex(), actor.user_id.0)
            .await?
            .ok_or(Error::NotFound)?
            .password_hash
    };
    if stored.is_some() && crate::domain::hasher::verify(ctx, new_password, stored).await? {
        return Err(Error::field("password", "password-same"));
    }
    let hash = crate::domain::hasher::hash(ctx, new_password).await?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let before = store::user::find_user(tx.ex(), actor.user_id.0)
        .await?
        .ok_or(Error::NotFound)?;
    let mut after = before.clone();
    after.password_hash = Some(hash);
    after.password_must_change = false;
    after.updated_at = now.millis();
    save(tx.ex(), &after, before.version).await?;
    store::session::delete_other_sessions(tx.ex(), before.id, &actor.session_hash).await?;
    audit::record(
        tx.ex(),
        actor,
        now,
        "user.password.change",
        "user",
        before.id,
        Some(before.node_id),
        json!({"password_must_change": before.password_must_change}),
        json!({"password_must_change": false}),
    )
    .await?;
    tx.commit().await
}
