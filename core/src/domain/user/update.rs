//! One change to a user, from any surface, in one transaction behind one version check: the
//! user page's sections, the API's PATCH and SCIM's PUT and PATCH all describe what they change
//! as a [`UserChange`] and call [`update_user`] (or [`update_user_in`] inside a transaction of
//! their own). Every field is checked before anything is written, so a change with one bad
//! field changes nothing, and a change made against a version someone else has saved since is
//! refused whole.

use serde_json::json;

use super::profile::ProfileInput;
use super::{NOTES_MAX, keep_an_admin, search_terms, user_json};
use crate::context::Ctx;
use crate::domain::node::node_in_scope;
use crate::domain::rank::{Need, user_to_change};
use crate::domain::{Actor, audit, email};
use crate::error::{Error, Problems, Result};
use crate::model::{Email, NodeId, UserId, UserStatus, UserType, parse_line, parse_text};
use crate::store::{self, Tx, node::NodeRow, user::UserRow};

/// A new email address, and how it takes effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailChange {
    /// The portal's change: the new address confirms a link first; the old one may cancel.
    Confirm(String),
    /// The organization's directory (SCIM): applies at once; the old address is told.
    Directory(String),
}

/// What changes; `None` stays as it is. Texts are as typed: they are checked here.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub friendly_name: Option<String>,
    /// `user` or `administrator`.
    pub user_type: Option<String>,
    pub language: Option<String>,
    pub country_code: Option<String>,
    /// (country the number is read in, number); an empty number removes it.
    pub phone: Option<(String, String)>,
    pub receive_invoices: Option<bool>,
    pub notifications_enabled: Option<bool>,
    pub notify_email: Option<bool>,
    pub notify_sms: Option<bool>,
    /// "Multifactor Authentication" for this user.
    pub mfa_required: Option<bool>,
    /// The services the user may use: the whole list.
    pub services: Option<Vec<String>>,
    /// Enabled (an invited user stays invited) or disabled.
    pub active: Option<bool>,
    /// Moves the user to another unit of the same account.
    pub node: Option<NodeId>,
    pub notes: Option<String>,
    pub email: Option<EmailChange>,
}

impl UserChange {
    /// Disabling and moving need a node scope over the user; the rest also Access.
    fn need(&self) -> Need {
        if self.active.is_some() || self.node.is_some() {
            Need::Scope
        } else {
            Need::Any
        }
    }

    fn touches_profile(&self) -> bool {
        self.first_name.is_some()
            || self.last_name.is_some()
            || self.friendly_name.is_some()
            || self.user_type.is_some()
            || self.language.is_some()
            || self.country_code.is_some()
            || self.phone.is_some()
            || self.receive_invoices.is_some()
            || self.notifications_enabled.is_some()
            || self.notify_email.is_some()
            || self.notify_sms.is_some()
            || self.mfa_required.is_some()
    }
}

/// Applies a whole change in one transaction.
pub async fn update_user(
    ctx: &Ctx,
    actor: &Actor,
    id: UserId,
    version: i64,
    change: &UserChange,
) -> Result<()> {
    ctx.write(async |tx| update_user_in(tx, ctx, actor, id, version, change).await)
        .await
}

/// The change checked whole, with what follows from it.
struct Checked {
    after: UserRow,
    services: Option<Vec<String>>,
    to: Option<NodeRow>,
    email: Option<EmailChange>,
}

/// [`update_user`] inside the caller's transaction (which the caller must not commit after an
/// error).
pub(crate) async fn update_user_in(
    tx: &mut Tx,
    ctx: &Ctx,
    actor: &Actor,
    id: UserId,
    version: i64,
    change: &UserChange,
) -> Result<()> {
    let now = ctx.clock.now();
    // Sight and rank first (out of sight is 404 whatever the input), then every field.
    let (before, from) = user_to_change(tx, actor, id.0, change.need(), now.millis()).await?;
    let Checked {
        after,
        services,
        to,
        email,
    } = check(tx, ctx, actor, &before, &from, change).await?;
    if before.version != version {
        return Err(Error::Conflict("error-changed-meanwhile"));
    }
    let tenant = store::node::get_node(tx.ex(), before.account_id).await?;
    let role_changes = before.user_type != after.user_type;
    if role_changes && !actor.administers_path(&tenant.path) {
        return Err(Error::Forbidden);
    }
    let disables = before.status != after.status && after.status == UserStatus::Disabled.as_str();
    keep_an_admin(
        tx,
        &before,
        disables || (role_changes && after.user_type == UserType::User.as_str()),
    )
    .await?;

    let mut after = after;
    after.updated_at = now.millis();
    super::save(tx.ex(), &after, version).await?;
    if after.phone != before.phone {
        // Sign-in codes never go to a number that has not been verified as the user's.
        store::factor::delete_factors_of(tx.ex(), after.id, Some("sms")).await?;
    }
    if role_changes {
        if after.user_type == UserType::Administrator.as_str() {
            store::grant::insert_node_grant(
                tx.ex(),
                before.id,
                "administrator",
                tenant.id,
                actor.audit_id(),
                now.millis(),
            )
            .await?;
        } else {
            store::grant::delete_node_grant(tx.ex(), before.id, tenant.id).await?;
        }
    }
    let before_services = store::user::list_services(tx.ex(), before.id).await?;
    let mut dropped_settings = serde_json::Map::new();
    if let Some(list) = &services {
        for (service, settings) in
            store::user::set_services(tx.ex(), after.id, list, &ctx.settings.catalog.ids()).await?
        {
            if settings.trim() != "{}" && !settings.trim().is_empty() {
                let v = serde_json::from_str(&settings).unwrap_or(json!(settings));
                dropped_settings.insert(service, v);
            }
        }
    }
    if let Some(to) = &to {
        store::node::adjust_user_count(tx.ex(), from.id, -1).await?;
        store::node::adjust_user_count(tx.ex(), to.id, 1).await?;
        // Public addresses are for the users below their unit.
        store::resource::prune_public_users(tx.ex()).await?;
    }
    if disables {
        store::session::delete_sessions_of(tx.ex(), before.id).await?;
    }
    if let Some(e) = &email {
        email::after_change(tx, actor, &before, &after, e, now).await?;
    }
    if search_terms(&before) != search_terms(&after) {
        store::user::replace_terms(tx.ex(), after.id, after.account_id, &search_terms(&after))
            .await?;
    }
    let mut old = user_json(&before);
    let mut new = user_json(&after);
    old["services"] = json!(before_services);
    if !dropped_settings.is_empty() {
        // A service taken away takes the user's settings of it: the trail keeps them.
        old["service_settings"] = serde_json::Value::Object(dropped_settings);
    }
    new["services"] = json!(services.as_ref().unwrap_or(&before_services));
    old["node_name"] = json!(from.name);
    new["node_name"] = json!(to.as_ref().map_or(&from.name, |t| &t.name));
    if change.notes.is_some() {
        old["notes"] = json!(before.notes);
        new["notes"] = json!(after.notes);
    }
    if let Some(EmailChange::Confirm(_)) = &email {
        new["email_pending"] = json!(after.email_pending);
    }
    audit::Event::new(actor, action(change))
        .target("user", before.id, Some(after.node_id))
        .before(old)
        .after(new)
        .write(tx.ex(), now)
        .await
}

/// The audit action: a new address names the event (it is what a reader of the trail looks
/// for); else the section's own when one thing changes, else `user.update`.
fn action(c: &UserChange) -> &'static str {
    match c.email {
        Some(EmailChange::Directory(_)) => return "user.email.set",
        Some(EmailChange::Confirm(_)) => return "user.email.request",
        None => {}
    }
    let parts = [
        (c.touches_profile(), "user.update"),
        (c.services.is_some(), "user.services"),
        (c.active.is_some(), "user.status"),
        (c.node.is_some(), "user.move"),
        (c.notes.is_some(), "user.notes"),
    ];
    let mut touched = parts.iter().filter(|(t, _)| *t);
    match (touched.next(), touched.next()) {
        (Some((_, one)), None) => one,
        _ => "user.update",
    }
}

/// Every field of the change checked against the user as they are; all problems at once.
async fn check(
    tx: &mut Tx,
    ctx: &Ctx,
    actor: &Actor,
    before: &UserRow,
    from: &NodeRow,
    change: &UserChange,
) -> Result<Checked> {
    let system = before.kind == "system";
    let mut p = Problems::default();
    let mut after = before.clone();
    if change.touches_profile() {
        let pick = |new: &Option<String>, old: &str| new.clone().unwrap_or_else(|| old.into());
        let country_code = pick(&change.country_code, &before.country_code);
        // A national number is read in the country given with it, else the user's country.
        let (phone_country, phone_number) = match &change.phone {
            Some((c, n)) if c.is_empty() => (country_code.clone(), n.clone()),
            Some((c, n)) => (c.clone(), n.clone()),
            None => (
                before.country_code.clone(),
                before.phone.clone().unwrap_or_default(),
            ),
        };
        let merged = ProfileInput {
            first_name: pick(&change.first_name, &before.first_name),
            last_name: pick(&change.last_name, &before.last_name),
            user_type: pick(&change.user_type, &before.user_type),
            language: pick(&change.language, &before.language),
            country_code,
            phone_country,
            phone_number,
            receive_invoices: change.receive_invoices.unwrap_or(before.receive_invoices),
            notifications_enabled: change
                .notifications_enabled
                .unwrap_or(before.notifications_enabled),
            notify_email: change.notify_email.unwrap_or(before.notify_email),
            notify_sms: change.notify_sms.unwrap_or(before.notify_sms),
        };
        let profile = merged.check(&mut p, system);
        profile.apply(&mut after);
        if let Some(f) = &change.friendly_name {
            after.friendly_name = p
                .check(parse_line("friendly_name", f, 100))
                .unwrap_or_default();
        }
        after.mfa_required = change.mfa_required.unwrap_or(before.mfa_required);
    }
    let services = change.services.as_ref().map(|asked| {
        if asked.iter().any(|s| !ctx.settings.catalog.has(s)) {
            p.add("services", "field-service-unknown");
        }
        // Kept in the configuration's order.
        ctx.settings
            .catalog
            .ids()
            .into_iter()
            .filter(|s| asked.contains(s))
            .collect::<Vec<_>>()
    });
    if let Some(notes) = &change.notes
        && let Some(n) = p.check(parse_text("notes", notes, NOTES_MAX))
    {
        after.notes = n;
    }
    if let Some(active) = change.active {
        if before.id == actor.user_id.0 {
            return Err(Error::Conflict("error-not-yourself"));
        }
        let status = match (active, before.password_hash.is_some()) {
            (false, _) => UserStatus::Disabled,
            (true, _) if before.status != UserStatus::Disabled.as_str() => {
                UserStatus::parse(&before.status).unwrap_or(UserStatus::Active)
            }
            (true, true) => UserStatus::Active,
            (true, false) => UserStatus::Invited,
        };
        after.status = status.as_str().into();
    }
    let mut to = None;
    if let Some(target) = change.node {
        match node_in_scope(tx.ex(), actor, target.0).await {
            Ok(n) if n.account_id == before.account_id && n.kind != "operator" => {
                if n.id != from.id {
                    after.node_id = n.id;
                    to = Some(n);
                }
            }
            Ok(_) => p.add("node", "move-target-invalid"),
            Err(_) => p.add("node", "field-unit-unknown"),
        }
    }
    let email = match &change.email {
        None => None,
        Some(e) => {
            let (EmailChange::Confirm(typed) | EmailChange::Directory(typed)) = e;
            match Email::parse("email", typed) {
                Err(Error::Invalid(f)) => {
                    for x in f {
                        p.add(x.field, x.code);
                    }
                    None
                }
                Err(other) => return Err(other),
                Ok(_) if system => return Err(Error::NotFound),
                Ok(new) if before.email.as_deref() == Some(new.as_str()) => match e {
                    EmailChange::Confirm(_) => {
                        p.add("email", "email-unchanged");
                        None
                    }
                    EmailChange::Directory(_) => None,
                },
                Ok(new) => {
                    if let Err(Error::Invalid(f)) =
                        email::address_free(tx, actor, new.as_str()).await
                    {
                        for x in f {
                            p.add(x.field, x.code);
                        }
                    }
                    let address = new.as_str().to_string();
                    match e {
                        EmailChange::Confirm(_) => {
                            after.email_pending = Some(address.clone());
                            Some(EmailChange::Confirm(address))
                        }
                        EmailChange::Directory(_) => {
                            after.email = Some(address.clone());
                            after.email_pending = None;
                            after.email_verified = false;
                            Some(EmailChange::Directory(address))
                        }
                    }
                }
            }
        }
    };
    p.finish()?;
    let fallback = after
        .email
        .clone()
        .or(after.login.clone())
        .unwrap_or_default();
    after.sort_name = super::sort_name(&after.first_name, &after.last_name, &fallback);
    Ok(Checked {
        after,
        services,
        to,
        email,
    })
}
