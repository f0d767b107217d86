//! A user's "Email Alias" and "Add number": external email addresses that use the services
//! through the user (with the user's settings), and numbers connected to the user. An alias
//! counts once its owner confirms the link sent to it, since it grants sending rights; a
//! confirmed alias, a number, a sign-in address and a public address are each one in the
//! whole deployment, so a lookup resolves to exactly one user.

use serde_json::json;
use uuid::Uuid;

use super::rank::{Need, user_to_change};
use super::throttle::{self, Key};
use super::user::user_in_scope;
use super::{Actor, audit, link};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::{Email, Timestamp, UserId, parse_line, phone};
use crate::outbox::message::{self, Message};
use crate::store::{self, Ex, Handle, address::AliasRow, address::NumberRow, audit::NewAuditEvent};

/// The purpose of an alias's confirmation link.
pub const ALIAS_VERIFY: &str = "alias-verify";
/// A user's aliases at most, and their numbers.
pub const MAX_ALIASES: usize = 20;
pub const MAX_NUMBERS: usize = 20;
/// Confirmation mails an actor may have sent within the throttle window before each further one
/// waits (doubling, up to an hour), and that one address may receive.
pub const ALIAS_MAILS_PER_ACTOR: i64 = 30;
pub const ALIAS_MAILS_PER_ADDRESS: i64 = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    pub id: Uuid,
    pub address: String,
    pub confirmed: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    pub id: Uuid,
    pub number: String,
    pub label: String,
    /// The services it receives for (service ids).
    pub services: Vec<String>,
    pub created_at: Timestamp,
}

/// What "Add number" asks for.
#[derive(Debug, Clone, Default)]
pub struct NewNumber {
    /// Typed as for the mobile number: with its own `+`, or national after `country`.
    pub number: String,
    pub country: String,
    pub label: String,
    pub services: Vec<String>,
}

fn alias_of(r: AliasRow) -> Alias {
    Alias {
        id: r.id,
        address: r.address,
        confirmed: r.confirmed_at.is_some(),
        created_at: Timestamp::from_millis(r.created_at),
    }
}

fn number_of(r: NumberRow) -> Number {
    Number {
        id: r.id,
        number: r.number,
        label: r.label,
        services: split_services(&r.services),
        created_at: Timestamp::from_millis(r.created_at),
    }
}

pub(crate) fn split_services(text: &str) -> Vec<String> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// An address or number in use: operator staff, who see every account, hear that it is taken;
/// anyone else hears only that it cannot be used, so no account learns another's addresses.
pub(crate) fn unavailable(actor: &Actor, taken: &'static str, other: &'static str) -> &'static str {
    if actor.is_operator() { taken } else { other }
}

/// Whether an email address is in use as a sign-in address, a confirmed alias or a public
/// address (anyone's).
pub(crate) async fn email_in_use(h: &mut impl Handle, address: &str) -> Result<bool> {
    store::address::hold_address(h.ex(), address).await?;
    Ok(store::user::find_user_by_email(h.ex(), address)
        .await?
        .is_some()
        || used_beside_sign_in(h, address).await?)
}

/// Whether an email address is a confirmed alias or a public address (so it cannot become
/// anyone's sign-in address either).
pub(crate) async fn used_beside_sign_in(h: &mut impl Handle, address: &str) -> Result<bool> {
    store::address::hold_address(h.ex(), address).await?;
    Ok(store::address::confirmed_alias(h.ex(), address)
        .await?
        .is_some()
        || store::address::is_public_address(h.ex(), address).await?)
}

/// Whether a number is in use by anyone but `user`: another user's number or verified mobile
/// number, or a public number.
pub(crate) async fn number_in_use(h: &mut impl Handle, number: &str, user: Uuid) -> Result<bool> {
    store::address::hold_address(h.ex(), number).await?;
    Ok(store::address::number_owner(h.ex(), number)
        .await?
        .is_some()
        || store::address::is_public_address(h.ex(), number).await?
        || store::address::users_by_mobile(h.ex(), number)
            .await?
            .iter()
            .any(|u| *u != user))
}

/// A user's aliases, confirmed or waiting, for whoever sees the user.
pub async fn aliases(ctx: &Ctx, actor: &Actor, user: UserId) -> Result<Vec<Alias>> {
    let mut conn = ctx.db.conn().await?;
    let (row, _) = user_in_scope(&mut conn, actor, user.0).await?;
    let rows = store::address::aliases_of(conn.ex(), row.id).await?;
    Ok(rows.into_iter().map(alias_of).collect())
}

/// Adds an alias, waiting for its confirmation: a link goes to the address, in the change's
/// transaction. Whoever may change the user's settings may.
pub async fn add_alias(ctx: &Ctx, actor: &Actor, user: UserId, address: &str) -> Result<Uuid> {
    let address = Email::parse("address", address)?;
    let now = ctx.clock.now();
    ctx.write(async |tx| {
        let (row, _) = user_to_change(tx, actor, user.0, Need::Any, now.millis()).await?;
        let own = store::address::aliases_of(tx.ex(), row.id).await?;
        if own.iter().any(|a| a.address == address.as_str()) {
            return Err(Error::field("address", "alias-exists"));
        }
        if own.len() >= MAX_ALIASES {
            return Err(Error::field("address", "alias-too-many"));
        }
        if row.email.as_deref() == Some(address.as_str()) {
            return Err(Error::field("address", "alias-is-sign-in"));
        }
        if email_in_use(tx, address.as_str()).await? {
            let code = unavailable(actor, "alias-taken", "alias-unavailable");
            return Err(Error::field("address", code));
        }
        let alias = AliasRow {
            id: Uuid::now_v7(),
            user_id: row.id,
            address: address.as_str().to_string(),
            confirmed_at: None,
            created_at: now.millis(),
        };
        // Each alias mails an address nobody has proved yet: bounded per actor and per address,
        // so adding and removing cannot turn Roster into a mailer.
        let keys = [
            Key::new(
                format!("alias-mail:actor:{}", actor.user_id.0),
                ALIAS_MAILS_PER_ACTOR,
                3600,
            ),
            Key::new(
                format!("alias-mail:to:{}", alias.address),
                ALIAS_MAILS_PER_ADDRESS,
                3600,
            ),
        ];
        throttle::reserve_in(tx, &keys, now).await?;
        store::address::insert_alias(tx.ex(), &alias).await?;
        message::enqueue(
            tx.ex(),
            &Message::AliasVerify {
                alias: alias.id.to_string(),
                address: alias.address.clone(),
                by: actor.display_name.clone(),
            },
            &alias.address,
            row.id,
            row.node_id,
            now,
        )
        .await?;
        audit::Event::new(actor, "user.alias.add")
            .target("user", row.id, Some(row.node_id))
            .after(json!({ "alias": alias.address, "confirmed": false }))
            .write(tx.ex(), now)
            .await?;
        Ok(alias.id)
    })
    .await
}

/// Removes an alias (confirmed or waiting): the address no longer reaches the user.
pub async fn remove_alias(ctx: &Ctx, actor: &Actor, user: UserId, alias: Uuid) -> Result<()> {
    let now = ctx.clock.now();
    ctx.write(async |tx| {
        let (row, _) = user_to_change(tx, actor, user.0, Need::Any, now.millis()).await?;
        let found = store::address::find_alias(tx.ex(), alias)
            .await?
            .filter(|a| a.user_id == row.id)
            .ok_or(Error::NotFound)?;
        store::address::delete_alias(tx.ex(), found.id).await?;
        audit::Event::new(actor, "user.alias.remove")
            .target("user", row.id, Some(row.node_id))
            .before(json!({ "alias": found.address, "confirmed": found.confirmed_at.is_some() }))
            .write(tx.ex(), now)
            .await
    })
    .await
}

/// The address a live confirmation link would confirm (the page names it).
pub async fn check_alias_link(ctx: &Ctx, token: &str) -> Result<String> {
    let row = link::check(ctx, token, ALIAS_VERIFY).await?;
    let mut conn = ctx.db.conn().await?;
    let alias = pending_alias(conn.ex(), &row.data, row.user_id).await?;
    Ok(alias.address)
}

/// The alias a link is for, while it still waits for its confirmation.
async fn pending_alias(ex: Ex<'_>, data: &str, user: Option<Uuid>) -> Result<AliasRow> {
    let id = Uuid::parse_str(data).map_err(|_| Error::Unauthenticated("link-invalid"))?;
    store::address::find_alias(ex, id)
        .await?
        .filter(|a| Some(a.user_id) == user && a.confirmed_at.is_none())
        .ok_or(Error::Unauthenticated("link-invalid"))
}

/// The address confirms: the alias reaches its user from now on; other users' claims on the
/// address die.
pub async fn confirm_alias(ctx: &Ctx, token: &str, ip: &str) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let row = link::live(tx.ex(), token, ALIAS_VERIFY, now).await?;
    let alias = pending_alias(tx.ex(), &row.data, row.user_id).await?;
    if email_in_use(&mut tx, &alias.address).await? {
        return Err(Error::Conflict("alias-taken-meanwhile"));
    }
    link::use_once(tx.ex(), token, now).await?;
    if !store::address::confirm_alias(tx.ex(), alias.id, now.millis()).await? {
        return Err(Error::Unauthenticated("link-used"));
    }
    store::address::delete_pending_aliases(tx.ex(), &alias.address).await?;
    let user = store::user::find_user(tx.ex(), alias.user_id).await?;
    store::audit::insert_audit_event(
        tx.ex(),
        NewAuditEvent {
            at: now.millis(),
            actor_user_id: Some(alias.user_id),
            actor_label: &alias.address,
            action: "user.alias.confirm",
            target_kind: "user",
            target_id: alias.user_id.to_string(),
            node_id: user.map(|u| u.node_id),
            after: json!({ "alias": alias.address, "confirmed": true }).to_string(),
            ip,
            outcome: "ok",
            ..Default::default()
        },
    )
    .await?;
    tx.commit().await
}

/// A user's numbers, for whoever sees the user.
pub async fn numbers(ctx: &Ctx, actor: &Actor, user: UserId) -> Result<Vec<Number>> {
    let mut conn = ctx.db.conn().await?;
    let (row, _) = user_in_scope(&mut conn, actor, user.0).await?;
    let rows = store::address::numbers_of(conn.ex(), row.id).await?;
    Ok(rows.into_iter().map(number_of).collect())
}

/// Connects a number to a user: E.164 (checked and normalised like the mobile number), one in
/// the deployment, with a label and the services it receives for (configured ones).
pub async fn add_number(ctx: &Ctx, actor: &Actor, user: UserId, input: &NewNumber) -> Result<Uuid> {
    let now = ctx.clock.now();
    let mut p = crate::error::Problems::default();
    let label = p
        .check(parse_line("label", &input.label, 100))
        .unwrap_or_default();
    let mut services: Vec<String> = vec![];
    for s in &input.services {
        if !ctx.settings.catalog.has(s) {
            p.add("services", "number-service-unknown");
        } else if !services.contains(s) {
            services.push(s.clone());
        }
    }
    ctx.write(async |tx| {
        let (row, _) = user_to_change(tx, actor, user.0, Need::Any, now.millis()).await?;
        let country = if input.country.trim().is_empty() {
            row.country_code.clone()
        } else {
            p.check(phone::parse_country("country", &input.country))
                .unwrap_or_default()
        };
        let number = match phone::parse_phone("number", &country, &input.number) {
            Ok(Some(n)) => Some(n),
            Ok(None) => {
                p.add("number", "field-required");
                None
            }
            Err(e) => {
                p.check::<()>(Err(e));
                None
            }
        };
        let mut problems = std::mem::take(&mut p);
        if let Some(n) = &number {
            let own = store::address::numbers_of(tx.ex(), row.id).await?;
            if own.iter().any(|x| &x.number == n) {
                problems.add("number", "number-exists");
            } else if own.len() >= MAX_NUMBERS {
                problems.add("number", "number-too-many");
            } else if number_in_use(tx, n, row.id).await? {
                problems.add(
                    "number",
                    unavailable(actor, "number-taken", "number-unavailable"),
                );
            }
        }
        problems.finish()?;
        let number = number.unwrap_or_default();
        let created = NumberRow {
            id: Uuid::now_v7(),
            user_id: row.id,
            number,
            label: label.clone(),
            services: services.join(","),
            created_at: now.millis(),
        };
        store::address::insert_number(tx.ex(), &created).await?;
        audit::Event::new(actor, "user.number.add")
            .target("user", row.id, Some(row.node_id))
            .after(json!({ "number": created.number, "label": label, "services": services }))
            .write(tx.ex(), now)
            .await?;
        Ok(created.id)
    })
    .await
}

/// Takes a number away from a user.
pub async fn remove_number(ctx: &Ctx, actor: &Actor, user: UserId, number: Uuid) -> Result<()> {
    let now = ctx.clock.now();
    ctx.write(async |tx| {
        let (row, _) = user_to_change(tx, actor, user.0, Need::Any, now.millis()).await?;
        let found = store::address::find_number(tx.ex(), number)
            .await?
            .filter(|n| n.user_id == row.id)
            .ok_or(Error::NotFound)?;
        store::address::delete_number(tx.ex(), found.id).await?;
        audit::Event::new(actor, "user.number.remove")
            .target("user", row.id, Some(row.node_id))
            .before(json!({ "number": found.number, "label": found.label,
                "services": split_services(&found.services) }))
            .write(tx.ex(), now)
            .await
    })
    .await
}
