//! API credentials. A token acts as its user, narrowed to a node subtree when it names one, and
//! read-only when made so; it is shown once, only its SHA-256 is stored (256 random bits), and
//! it can expire and be revoked. System users may also use HTTP Basic with their
//! login and secret. Failures are throttled per client address and audited.

use serde_json::json;
use uuid::Uuid;

use super::actor::{Credential, Scope, TokenLimits};
use super::throttle::{self, Key};
use super::{Actor, audit, auth, hasher, rank};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::{NodeId, NodeKind, Timestamp, TokenId, UserId, address_bucket, parse_line};
use crate::secret;
use crate::store::{self, Handle};

/// Every token starts with this, so secret scanners and people recognise it.
pub const PREFIX: &str = "rst_";
/// Failures per client address before delays start, and the longest delay.
const FREE_FAILURES: i64 = 10;
const DELAY_CAP_SECS: i64 = 15 * 60;
/// The last-used time is written at most this often.
const TOUCH_EVERY_MS: i64 = 60_000;
/// The longest a token may live, in days.
const MAX_DAYS: i64 = 3650;

#[derive(Debug, Clone)]
pub struct NewToken {
    /// Who the token acts as: the actor, or a system user the actor administers.
    pub user: UserId,
    pub name: String,
    /// Limit to this subtree (one the actor administers).
    pub node: Option<NodeId>,
    pub read_only: bool,
    pub scope: TokenScope,
    pub expires_days: Option<i64>,
}

/// What a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenScope {
    /// What its user may do, within the token's limits.
    #[default]
    Admin,
    /// The services' lookup (`GET /api/v1/lookup`) and nothing else; a system user's.
    Lookup,
    /// The services' usage reports (`POST /api/v1/usage`) and nothing else; a system user's.
    Usage,
}

impl TokenScope {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Admin => "admin",
            TokenScope::Lookup => "lookup",
            TokenScope::Usage => "usage",
        }
    }

    pub fn parse(s: &str) -> Option<TokenScope> {
        [TokenScope::Admin, TokenScope::Lookup, TokenScope::Usage]
            .into_iter()
            .find(|t| t.as_str() == s)
    }

    /// A service's token: a system user's, reaching by where that user sits.
    pub fn for_service(self) -> bool {
        self != TokenScope::Admin
    }
}

#[derive(Debug, Clone)]
pub struct CreatedToken {
    pub id: TokenId,
    /// Shown once; never stored.
    pub token: String,
}

#[derive(Debug, Clone)]
pub struct TokenView {
    pub id: TokenId,
    pub name: String,
    pub user_id: UserId,
    pub node_id: Option<NodeId>,
    pub read_only: bool,
    pub scope: TokenScope,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked: bool,
}

/// Whose tokens the actor may see: their own, and those of system users in scope.
async fn token_owner(h: &mut impl Handle, actor: &Actor, user: UserId) -> Result<()> {
    if user == actor.user_id || actor.credential == Credential::CommandLine {
        return store::user::find_user(h.ex(), user.0)
            .await?
            .map(|_| ())
            .ok_or(Error::NotFound);
    }
    let (row, _) = super::user::user_in_scope(h, actor, user.0).await?;
    if row.kind == "system" {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// Whose tokens the actor may make and revoke: their own, and those of system users the actor
/// outranks through a node scope (a delegate never manages a system user's credentials).
async fn token_manager(h: &mut impl Handle, actor: &Actor, user: UserId, now: i64) -> Result<()> {
    if user == actor.user_id || actor.credential == Credential::CommandLine {
        return token_owner(h, actor, user).await;
    }
    let (row, _) = rank::user_to_change(h, actor, user.0, rank::Need::Scope, now).await?;
    if row.kind == "system" {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// The limits of a new token: what was asked, within what the creating token may do (a token
/// made with a token is never wider, longer-lived or more writable than its parent; what is not
/// asked is inherited from it).
fn derived_limits(
    parent: Option<&TokenLimits>,
    input: &NewToken,
    now: Timestamp,
    p: &mut crate::error::Problems,
) -> (Option<NodeId>, bool, Option<i64>) {
    let asked_expiry = match input.expires_days {
        None => None,
        Some(d) if (1..=MAX_DAYS).contains(&d) => Some(now.plus_secs(d * 86_400).millis()),
        Some(_) => {
            p.add("expires_days", "token-expiry-invalid");
            None
        }
    };
    let Some(parent) = parent else {
        return (input.node, input.read_only, asked_expiry);
    };
    let parent_expiry = parent.expires_at.map(Timestamp::millis);
    let expires_at = match (asked_expiry, parent_expiry) {
        (Some(a), Some(limit)) if a > limit => {
            p.add("expires_days", "token-outlives-parent");
            None
        }
        (None, limit) => limit,
        (asked, _) => asked,
    };
    (
        input.node.or(parent.node),
        input.read_only || parent.read_only,
        expires_at,
    )
}

/// Makes a token. In the portal this needs a recent proof of identity; a token made with a
/// token stays within that token's limits.
pub async fn create_token(ctx: &Ctx, actor: &Actor, input: &NewToken) -> Result<CreatedToken> {
    let now = ctx.clock.now();
    if actor.credential == Credential::Session {
        super::session::require_recent_auth(ctx, actor)?;
    }
    let parent = match &actor.credential {
        Credential::ApiToken(limits) => Some(limits),
        _ => None,
    };
    let mut tx = ctx.db.begin().await?;
    token_manager(&mut tx, actor, input.user, now.millis()).await?;
    let mut p = crate::error::Problems::default();
    let name = p
        .check(parse_line("name", &input.name, 100))
        .unwrap_or_default();
    if name.is_empty() {
        p.add("name", "field-required");
    }
    let (node, read_only, expires_at) = derived_limits(parent, input, now, &mut p);
    // The services connect as a system user of their own, given its lookup token by an
    // administrator over it (a system user never widens what it reads by itself), limited to
    // no more than the system user's own subtree.
    if input.scope.for_service() {
        match store::user::find_user(tx.ex(), input.user.0).await? {
            Some(u) if u.kind == "system" => {
                if u.id == actor.user_id.0 && actor.credential != Credential::CommandLine {
                    p.add("scope", "token-lookup-by-administrator");
                }
                if let Some(n) = node {
                    let home = store::node::get_node(tx.ex(), u.node_id).await?.path;
                    let within = store::node::find_node(tx.ex(), n.0)
                        .await?
                        .is_some_and(|row| row.path.starts_with(&home));
                    if !within {
                        p.add("node_id", "field-unit-unknown");
                    }
                }
            }
            _ => p.add("scope", "token-lookup-system-only"),
        }
    }
    if let Some(node) = node {
        let within = match store::node::find_node(tx.ex(), node.0).await? {
            Some(row) => actor.administers_path(&row.path),
            None => false,
        };
        if !within {
            p.add("node_id", "field-unit-unknown");
        }
    }
    p.finish()?;
    let token = format!("{PREFIX}{}", secret::new_token()?);
    let id = Uuid::now_v7();
    store::api_token::insert_api_token(
        tx.ex(),
        store::api_token::ApiTokenRow {
            id,
            token_hash: secret::hash_token(&token),
            user_id: input.user.0,
            node_id: node.map(|n| n.0),
            name: name.clone(),
            read_only,
            created_by: actor.audit_id(),
            created_at: now.millis(),
            expires_at,
            last_used_at: None,
            revoked_at: None,
            scope: input.scope.as_str().into(),
        },
    )
    .await?;
    audit::Event::new(actor, "token.create")
        .target("user", input.user.0, node.map(|n| n.0))
        .after(
            json!({ "token": id.to_string(), "name": name, "read_only": read_only,
                "scope": input.scope.as_str(),
                "node": node.map(|n| n.0.to_string()), "expires_at": expires_at }),
        )
        .write(tx.ex(), now)
        .await?;
    tx.commit().await?;
    Ok(CreatedToken {
        id: TokenId(id),
        token,
    })
}

pub async fn list_tokens(ctx: &Ctx, actor: &Actor, user: UserId) -> Result<Vec<TokenView>> {
    let mut conn = ctx.db.conn().await?;
    token_owner(&mut conn, actor, user).await?;
    let rows = store::api_token::list_api_tokens(conn.ex(), user.0).await?;
    Ok(rows
        .into_iter()
        .map(|r| TokenView {
            id: TokenId(r.id),
            name: r.name,
            user_id: UserId(r.user_id),
            node_id: r.node_id.map(NodeId),
            read_only: r.read_only,
            scope: TokenScope::parse(&r.scope).unwrap_or_default(),
            created_at: Timestamp::from_millis(r.created_at),
            expires_at: r.expires_at.map(Timestamp::from_millis),
            last_used_at: r.last_used_at.map(Timestamp::from_millis),
            revoked: r.revoked_at.is_some(),
        })
        .collect())
}

/// Revokes a token at once (its owner, or an administrator of its system user).
pub async fn revoke_token(ctx: &Ctx, actor: &Actor, id: TokenId) -> Result<()> {
    let id = id.0;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let row = store::api_token::find_api_token(tx.ex(), id)
        .await?
        .ok_or(Error::NotFound)?;
    token_owner(&mut tx, actor, UserId(row.user_id))
        .await
        .map_err(|_| Error::NotFound)?;
    token_manager(&mut tx, actor, UserId(row.user_id), now.millis()).await?;
    // A token revokes only tokens within its own limits (a narrowed token cannot end a wider
    // one of its user).
    if let Credential::ApiToken(limits) = &actor.credential
        && limits.node.is_some()
    {
        let within = match row.node_id {
            Some(n) => store::node::get_node(tx.ex(), n)
                .await
                .is_ok_and(|n| actor.administers_path(&n.path)),
            None => false,
        };
        if !within && row.id != limits.id {
            return Err(Error::Forbidden);
        }
    }
    store::api_token::revoke_api_token(tx.ex(), id, now.millis()).await?;
    audit::Event::new(actor, "token.revoke")
        .target("user", row.user_id, row.node_id)
        .before(json!({ "token": id.to_string(), "name": row.name }))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}

/// A user by email address or login (for `roster token create`).
pub async fn find_user(ctx: &Ctx, email_or_login: &str) -> Result<UserId> {
    let name = email_or_login.trim().to_lowercase();
    let mut conn = ctx.db.conn().await?;
    if let Some(u) = store::user::find_user_by_email(conn.ex(), &name).await? {
        return Ok(UserId(u.id));
    }
    store::user::find_user_by_login(conn.ex(), &name)
        .await?
        .map(|u| UserId(u.id))
        .ok_or(Error::NotFound)
}

/// Who calls the API, and whether they may write.
#[derive(Debug, Clone)]
pub struct ApiCaller {
    pub actor: Actor,
    pub read_only: bool,
    /// A lookup token: the services' lookup and nothing else.
    pub lookup: bool,
    /// A usage token: the services' usage reports and nothing else.
    pub usage: bool,
}

/// The throttle key of wrong HTTP Basic secrets from one client address (each costs a hash).
fn basic_key(ip: &str) -> Key {
    Key::new(
        format!("api-ip:{}", address_bucket(ip)),
        FREE_FAILURES,
        DELAY_CAP_SECS,
    )
}

/// The caller behind `Authorization: Bearer <token>`.
pub async fn authenticate_bearer(ctx: &Ctx, token: &str, ip: &str) -> Result<ApiCaller> {
    let now = ctx.clock.now();
    // An address that keeps sending wrong credentials is refused before any lookup.
    ctx.auth_failures.refuse(ip, now)?;
    // The token, its user and the paths it reaches from, in one read.
    let found = {
        let mut conn = ctx.db.conn().await?;
        store::api_token::find_token_holder(conn.ex(), &secret::hash_token(token)).await?
    };
    let usable = found.filter(|h| {
        h.token_revoked_at.is_none()
            && h.token_expires_at.is_none_or(|e| e > now.millis())
            && h.user.status == "active"
    });
    // Guessing a token is hopeless (256 bits): wrong ones are counted per address (and audited
    // once a minute with their count), so a client sending a stale token never locks out one
    // sending a good one from elsewhere.
    let Some(held) = usable else {
        ctx.auth_failures.count(ip, now);
        return Err(Error::Unauthenticated("api-auth-failed"));
    };
    let lookup = held.token_scope == "lookup";
    let usage = held.token_scope == "usage";
    let service = lookup || usage;
    // A service's token reaches by where its system user sits, never by grants: its user's
    // subtree, or the narrower node it names (a node outside that subtree reaches nothing).
    let reach = match (&held.token_node_path, service) {
        (_, false) => String::new(),
        (None, true) => held.home_path.clone(),
        (Some(p), true) if p.starts_with(&held.home_path) => p.clone(),
        (Some(_), true) => String::new(),
    };
    let mut actor = if service {
        auth::actor_of(held.user, vec![])
    } else {
        let mut conn = ctx.db.conn().await?;
        let grants = store::grant::list_grants_of(conn.ex(), held.user.id).await?;
        let mut actor = auth::actor_of(held.user, grants);
        if let Some(node) = held.token_node_id {
            let node = store::node::get_node(conn.ex(), node).await?;
            narrow(&mut actor, &node);
        }
        actor
    };
    actor.ip = ip.to_string();
    actor.authenticated_at = now;
    actor.credential = Credential::ApiToken(TokenLimits {
        id: held.token_id,
        node: held.token_node_id.map(NodeId),
        read_only: held.token_read_only,
        lookup,
        usage,
        reach,
        expires_at: held.token_expires_at.map(Timestamp::from_millis),
    });
    if held
        .token_last_used_at
        .is_none_or(|t| now.millis() - t >= TOUCH_EVERY_MS)
    {
        let mut tx = ctx.db.begin().await?;
        store::api_token::touch_api_token(tx.ex(), held.token_id, now.millis()).await?;
        tx.commit().await?;
    }
    Ok(ApiCaller {
        actor,
        read_only: held.token_read_only || service,
        lookup,
        usage,
    })
}

/// Limits an actor to one subtree: scopes above it shrink to it, scopes inside it stay, the
/// rest (and single-user grants) go.
fn narrow(actor: &mut Actor, node: &store::node::NodeRow) {
    let mut scopes: Vec<Scope> = vec![];
    for s in actor.scopes.drain(..) {
        if node.path.starts_with(&s.path) {
            if !scopes.iter().any(|x| x.node_id.0 == node.id) {
                scopes.push(Scope {
                    node_id: NodeId(node.id),
                    kind: NodeKind::parse(&node.kind).unwrap_or(NodeKind::Unit),
                    name: node.name.clone(),
                    path: node.path.clone(),
                });
            }
        } else if s.path.starts_with(&node.path) {
            scopes.push(s);
        }
    }
    actor.scopes = scopes;
    actor.user_grants.clear();
}

/// The caller behind `Authorization: Basic` (system users only: login and secret).
pub async fn authenticate_basic(
    ctx: &Ctx,
    login: &str,
    typed_secret: &str,
    ip: &str,
) -> Result<ApiCaller> {
    let now = ctx.clock.now();
    ctx.auth_failures.refuse(ip, now)?;
    let key = basic_key(ip);
    throttle::reserve(ctx, std::slice::from_ref(&key), now).await?;
    let user = {
        let mut conn = ctx.db.conn().await?;
        store::user::find_user_by_login(conn.ex(), &login.trim().to_lowercase()).await?
    };
    let usable = user.filter(|u| u.kind == "system" && u.status == "active");
    let stored = usable.as_ref().and_then(|u| u.password_hash.clone());
    let ok = hasher::verify(ctx, typed_secret, stored).await?;
    let Some(user) = usable.filter(|_| ok) else {
        ctx.auth_failures.count(ip, now);
        return Err(Error::Unauthenticated("api-auth-failed"));
    };
    {
        let mut tx = ctx.db.begin().await?;
        throttle::release(tx.ex(), &key).await?;
        tx.commit().await?;
    }
    let mut conn = ctx.db.conn().await?;
    let grants = store::grant::list_grants_of(conn.ex(), user.id).await?;
    drop(conn);
    let mut actor = auth::actor_of(user, grants);
    actor.ip = ip.to_string();
    actor.authenticated_at = now;
    actor.credential = Credential::Basic;
    Ok(ApiCaller {
        actor,
        read_only: false,
        lookup: false,
        usage: false,
    })
}
