//! SCIM 2.0 provisioning (RFC 7643/7644): an identity provider holds one token per account (or
//! unit) and provisions person users into it. Every change goes through the same domain
//! functions as the portal (scope, unique email, last administrator, invitation by outbox).
//!
//! Users are in `user`, groups (the units below the token's node) in `group`.

mod group;
mod mapping;
mod user;

pub use group::*;
pub use mapping::{Provided, ScimUserInput, Shown, user_json};
pub use user::*;

use serde_json::{Value, json};
use uuid::Uuid;

use super::actor::{Credential, Scope, Stage};

use super::{Actor, audit};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::{Lang, NodeId, NodeKind, Timestamp, UserId};

use crate::secret;
use crate::store;

pub use crate::scim::{ENTERPRISE, GROUP_SCHEMA, LIST_SCHEMA, ROSTER_EXT, USER_SCHEMA};
const TOKEN_PREFIX: &str = "scim_";

/// A new SCIM token for a node the actor administers; shown once, stored as SHA-256.
pub async fn create_token(ctx: &Ctx, actor: &Actor, node: NodeId, name: &str) -> Result<String> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let row = store::node::find_node(tx.ex(), node.0)
        .await?
        .ok_or(Error::NotFound)?;
    if !actor.administers_path(&row.path) || row.kind == "operator" {
        return Err(Error::NotFound);
    }
    let token = format!("{TOKEN_PREFIX}{}", secret::new_token()?);
    let id = Uuid::now_v7();
    let name = if name.trim().is_empty() {
        "SCIM"
    } else {
        name.trim()
    };
    store::scim::insert_token(
        tx.ex(),
        id,
        &secret::hash_token(&token),
        row.id,
        name,
        actor.audit_id(),
        now.millis(),
    )
    .await?;
    audit::Event::new(actor, "scim.token.create")
        .target("node", row.id, Some(row.id))
        .after(json!({ "token": id.to_string(), "name": name }))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await?;
    Ok(token)
}

/// The provider behind a SCIM bearer token: an actor administering the token's node only.
pub async fn authenticate(ctx: &Ctx, token: &str, ip: &str) -> Result<Actor> {
    let now = ctx.clock.now();
    ctx.auth_failures.refuse(ip, now)?;
    let mut conn = ctx.db.conn().await?;
    let found = store::scim::find_token(conn.ex(), &secret::hash_token(token))
        .await?
        .filter(|r| r.revoked_at.is_none());
    drop(conn);
    let Some(row) = found else {
        ctx.auth_failures.count(ip, now);
        return Err(Error::Unauthenticated("api-auth-failed"));
    };
    if row.last_used_at.is_none_or(|t| now.millis() - t >= 60_000) {
        let mut tx = ctx.db.begin().await?;
        store::scim::touch_token(tx.ex(), row.id, now.millis()).await?;
        tx.commit().await?;
    }
    Ok(Actor {
        user_id: UserId(Uuid::nil()),
        email: "scim".into(),
        // The token's name (the provider, as its administrator named it) signs its changes.
        display_name: format!("SCIM: {}", row.name),
        lang: Lang::En,
        node_id: NodeId(row.node_id),
        account_id: NodeId(row.account_id),
        scopes: vec![Scope {
            node_id: NodeId(row.node_id),
            kind: NodeKind::parse(&row.node_kind).unwrap_or(NodeKind::Unit),
            name: row.node_name.clone(),
            path: row.node_path.clone(),
        }],
        user_grants: vec![],
        csrf_token: String::new(),
        signed_in_at: now,
        authenticated_at: now,
        ip: ip.to_string(),
        must_change_password: false,
        stage: Stage::Full,
        credential: Credential::Scim {
            token_id: row.id,
            name: row.name.clone(),
        },
        session_ref: Uuid::nil(),
        session_hash: vec![],
    })
}

pub(crate) fn ts(t: Timestamp) -> String {
    t.to_rfc3339()
}

/// An attribute of a JSON object, its name compared without case (RFC 7643 §2.1).
pub fn field<'v>(v: &'v Value, name: &str) -> Option<&'v Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// The text at a path of attributes (names without case), or "".
pub(crate) fn text(v: &Value, path: &[&str]) -> String {
    let mut cur = v;
    for p in path {
        match field(cur, p) {
            Some(n) => cur = n,
            None => return String::new(),
        }
    }
    cur.as_str().unwrap_or_default().to_string()
}
