//! The services' lookup: who a sender is and what they may do. A token with the `lookup` scope
//! asks by email address (a sign-in address, a confirmed alias or a public address), by number
//! (a user's number, a public number or a verified mobile number) or by login, and hears the
//! user with their entitlements and effective settings; for an unknown sender whose address is
//! in an Administered account's domain, that account's contact; else nothing (404). Only what
//! the token's system user sits in is ever answered (its node's subtree). Lookups are counted per token and minute for
//! the audit trail, never written one by one.

use serde_json::json;
use uuid::Uuid;

use super::service::{ServiceSettings, effective_settings};
use super::{Actor, Credential};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::{Email, NodeId, Timestamp, UserId, phone};
use crate::store::{self, audit::NewAuditEvent, user::FindBy, user::PlacedUser};

/// What is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Email(String),
    Number(String),
    Login(String),
}

/// How the asked address reached the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Matched {
    Email,
    Alias,
    Number,
    Mobile,
    Login,
}

impl Matched {
    pub fn as_str(self) -> &'static str {
        match self {
            Matched::Email => "email",
            Matched::Alias => "alias",
            Matched::Number => "number",
            Matched::Mobile => "mobile",
            Matched::Login => "login",
        }
    }
}

/// One configured service for the user: whether they have it, and its settings if so.
#[derive(Debug, Clone, PartialEq)]
pub struct Entitlement {
    pub service: &'static str,
    pub entitled: bool,
    pub settings: Option<ServiceSettings>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FoundUser {
    pub matched: Matched,
    pub id: UserId,
    pub account_id: NodeId,
    pub node_id: NodeId,
    pub email: Option<String>,
    pub login: Option<String>,
    pub name: String,
    pub friendly_name: String,
    pub active: bool,
    pub status: String,
    pub language: String,
    pub country_code: String,
    pub services: Vec<Entitlement>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundPublic {
    pub id: Uuid,
    pub kind: String,
    pub address: String,
    pub label: String,
    pub node_id: NodeId,
    /// The users who may use it.
    pub users: Vec<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub account_id: NodeId,
    pub account_name: String,
    pub name: String,
    pub email: String,
    pub phone: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    User(Box<FoundUser>),
    Public(FoundPublic),
    /// An unknown sender in an Administered account's domain: whom to ask for access.
    Contact(Contact),
}

/// Answers a lookup for a lookup token (403 for any other credential).
pub async fn lookup(ctx: &Ctx, actor: &Actor, query: &Query) -> Result<Answer> {
    let limits = match &actor.credential {
        Credential::ApiToken(t) if t.lookup => t,
        _ => return Err(Error::Forbidden),
    };
    let now = ctx.clock.now();
    ctx.lookups.count(&limits.id.to_string(), now);
    let mut conn = ctx.db.conn().await?;
    let reach = Reach(limits.reach.clone());
    let (user, matched) = match query {
        Query::Email(text) => {
            let email = Email::parse("email", text)?;
            let address = email.as_str();
            let by = FindBy::Email(address);
            if let Some(u) = store::user::find_placed_user(conn.ex(), by).await? {
                let matched = if u.via == 0 {
                    Matched::Email
                } else {
                    Matched::Alias
                };
                (Some(u), matched)
            } else if let Some(p) =
                store::address::find_public_by_address(conn.ex(), address).await?
            {
                return public(&mut conn, &reach, p).await;
            } else {
                return contact(&mut conn, &reach, address).await;
            }
        }
        Query::Number(text) => {
            // The services send E.164 as stored: such a number is looked up as it is, and only
            // a miss (or any other way of writing it) pays for the full parse.
            let t = text.trim();
            if is_e164(t)
                && let Some(u) = store::user::find_placed_user(conn.ex(), FindBy::Number(t)).await?
            {
                return found_user(&mut conn, ctx, &reach, u, Matched::Number).await;
            }
            let number = phone::parse_phone("number", "", text)?
                .ok_or(Error::field("number", "field-required"))?;
            let by = FindBy::Number(&number);
            if let Some(u) = store::user::find_placed_user(conn.ex(), by).await? {
                (Some(u), Matched::Number)
            } else if let Some(p) =
                store::address::find_public_by_address(conn.ex(), &number).await?
            {
                return public(&mut conn, &reach, p).await;
            } else {
                let found = store::address::users_by_mobile(conn.ex(), &number).await?;
                match found.as_slice() {
                    [one] => (
                        store::user::find_placed_user(conn.ex(), FindBy::Id(*one)).await?,
                        Matched::Mobile,
                    ),
                    _ => (None, Matched::Mobile),
                }
            }
        }
        Query::Login(text) => {
            let login = text.trim().to_lowercase();
            (
                store::user::find_placed_user(conn.ex(), FindBy::Login(&login)).await?,
                Matched::Login,
            )
        }
    };
    let user = user.ok_or(Error::NotFound)?;
    found_user(&mut conn, ctx, &reach, user, matched).await
}

/// `+` and 7 to 15 digits, the first not 0: how a number is stored.
fn is_e164(t: &str) -> bool {
    t.strip_prefix('+').is_some_and(|d| {
        (7..=15).contains(&d.len()) && !d.starts_with('0') && d.bytes().all(|b| b.is_ascii_digit())
    })
}

/// What a lookup token answers about: the subtree of the node its system user sits in (the
/// operator root for the operator's, an account for an account's), or the token's narrower
/// node; found when the token authenticated.
struct Reach(String);

impl Reach {
    fn covers(&self, path: &str) -> bool {
        !self.0.is_empty() && path.starts_with(&self.0)
    }
}

async fn found_user(
    conn: &mut store::Conn,
    ctx: &Ctx,
    reach: &Reach,
    placed: PlacedUser,
    matched: Matched,
) -> Result<Answer> {
    if !reach.covers(&placed.node_path) {
        return Err(Error::NotFound);
    }
    let user = placed.user;
    let held = effective_settings(conn, ctx, user.id, &placed.node_path, user.version).await?;
    let services = ctx
        .settings
        .catalog
        .services
        .iter()
        .map(|svc| {
            let settings = held.iter().find(|s| s.service == svc.id).cloned();
            Entitlement {
                service: svc.id,
                entitled: settings.is_some(),
                settings,
            }
        })
        .collect();
    let name = format!("{} {}", user.first_name, user.last_name)
        .trim()
        .to_string();
    Ok(Answer::User(Box::new(FoundUser {
        matched,
        id: UserId(user.id),
        account_id: NodeId(user.account_id),
        node_id: NodeId(user.node_id),
        active: user.status == "active",
        status: user.status,
        email: user.email,
        login: user.login,
        name,
        friendly_name: user.friendly_name,
        language: user.language,
        country_code: user.country_code,
        services,
    })))
}

async fn public(
    conn: &mut store::Conn,
    reach: &Reach,
    p: store::address::PublicRow,
) -> Result<Answer> {
    let node = store::node::get_node(conn.ex(), p.node_id).await?;
    if !reach.covers(&node.path) {
        return Err(Error::NotFound);
    }
    let users = store::address::public_users(conn.ex(), p.id).await?;
    Ok(Answer::Public(FoundPublic {
        id: p.id,
        kind: p.kind,
        address: p.address,
        label: p.label,
        node_id: NodeId(p.node_id),
        users: users.into_iter().map(UserId).collect(),
    }))
}

/// The contact of the Administered account whose domain `address` is in, when the lookup
/// reaches that account.
async fn contact(conn: &mut store::Conn, reach: &Reach, address: &str) -> Result<Answer> {
    let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    let Some(account) = store::account_domain::owner_of(conn.ex(), domain).await? else {
        return Err(Error::NotFound);
    };
    if !store::account_domain::administered(conn.ex(), account).await? {
        return Err(Error::NotFound);
    }
    let node = store::node::get_node(conn.ex(), account).await?;
    if !reach.covers(&node.path) {
        return Err(Error::NotFound);
    }
    Ok(Answer::Contact(Contact {
        account_id: NodeId(node.id),
        account_name: node.name,
        name: node.contact_name,
        email: node.contact_email,
        phone: node.contact_phone,
    }))
}

/// Writes the lookup counts of minutes that are over (all of them with `all`, at shutdown):
/// one audit event per token and minute, with the count.
pub async fn flush_counts(ctx: &Ctx, all: bool) -> Result<usize> {
    let due = ctx.lookups.take(ctx.clock.now(), all);
    if due.is_empty() {
        return Ok(0);
    }
    let mut tx = ctx.db.begin().await?;
    for (minute, token, count) in &due {
        store::audit::insert_audit_event(
            tx.ex(),
            NewAuditEvent {
                at: *minute,
                actor_label: "lookup",
                action: "lookup.count",
                target_kind: "token",
                target_id: token.clone(),
                after: json!({ "count": count, "minute": Timestamp::from_millis(*minute).to_rfc3339() })
                    .to_string(),
                outcome: "ok",
                ..Default::default()
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(due.len())
}
