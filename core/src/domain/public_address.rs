//! Public email addresses and numbers of a unit or account: the shared inboxes of the services,
//! with the users who may use them. Each is one in the deployment, like any address a lookup
//! resolves. Whoever administers the unit manages them; only users below the unit may use them.

use serde_json::json;
use uuid::Uuid;

use super::address::email_in_use;
use super::node::node_in_scope;
use super::user::user_in_scope;
use super::{Actor, audit};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::{Email, NodeId, UserId, parse_line, phone};
use crate::store::{self, Handle, resource::PlacedPublic};

/// A node's public addresses at most.
pub const MAX_PUBLIC: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicAddress {
    pub id: Uuid,
    /// `email` or `number`.
    pub kind: String,
    pub address: String,
    pub label: String,
    pub node_id: NodeId,
    pub node_name: String,
    /// Who may use it: each user with their sign-in address or login.
    pub users: Vec<(UserId, String)>,
}

/// A public address as the actor may see it: who may use it only for whoever administers its
/// unit.
async fn public_of(h: &mut impl Handle, actor: &Actor, p: PlacedPublic) -> Result<PublicAddress> {
    let users = if actor.administers_path(&p.node_path) {
        store::resource::public_users_named(h.ex(), p.id).await?
    } else {
        vec![]
    };
    Ok(PublicAddress {
        id: p.id,
        kind: p.kind,
        address: p.address,
        label: p.label,
        node_id: NodeId(p.node_id),
        node_name: p.node_name,
        users: users.into_iter().map(|(id, n)| (UserId(id), n)).collect(),
    })
}

/// A public address of a node the actor administers (else 404).
async fn public_to_manage(h: &mut impl Handle, actor: &Actor, id: Uuid) -> Result<PlacedPublic> {
    store::resource::find_public(h.ex(), id)
        .await?
        .filter(|p| actor.administers_path(&p.node_path))
        .ok_or(Error::NotFound)
}

/// A node's own public addresses.
pub async fn public_addresses(
    ctx: &Ctx,
    actor: &Actor,
    node: NodeId,
) -> Result<Vec<PublicAddress>> {
    let mut conn = ctx.db.conn().await?;
    let row = node_in_scope(conn.ex(), actor, node.0).await?;
    let mut out = vec![];
    for p in store::resource::publics_of_node(conn.ex(), row.id).await? {
        out.push(public_of(&mut conn, actor, p).await?);
    }
    Ok(out)
}

/// The public addresses a user may use (for whoever sees the user, and the user).
pub async fn publics_of_user(ctx: &Ctx, actor: &Actor, user: UserId) -> Result<Vec<PublicAddress>> {
    let mut conn = ctx.db.conn().await?;
    if user != actor.user_id {
        user_in_scope(&mut conn, actor, user.0).await?;
    }
    let mut out = vec![];
    for p in store::resource::publics_of_user(conn.ex(), user.0).await? {
        out.push(public_of(&mut conn, actor, p).await?);
    }
    Ok(out)
}

/// Adds a public email address or number (told apart by the `@`) to a unit or account.
pub async fn add_public_address(
    ctx: &Ctx,
    actor: &Actor,
    node: NodeId,
    address: &str,
    label: &str,
) -> Result<Uuid> {
    let label = parse_line("label", label, 100)?;
    let now = ctx.clock.now();
    ctx.write(async |tx| {
        let row = node_in_scope(tx.ex(), actor, node.0).await?;
        if row.kind == "operator" {
            return Err(Error::field("node_id", "book-needs-account"));
        }
        let taken = |taken, other| {
            Error::field("address", super::address::unavailable(actor, taken, other))
        };
        let (kind, address) = if address.contains('@') {
            let email = Email::parse("address", address)?;
            // An account shares addresses of its own domains (the operator sets them); operator
            // staff may share any.
            let domain = email.as_str().rsplit_once('@').map(|(_, d)| d).unwrap_or("");
            let owner = store::account_domain::owner_of(tx.ex(), domain).await?;
            if !actor.is_operator() && owner != Some(row.account_id) {
                return Err(Error::field("address", "public-domain-not-yours"));
            }
            if email_in_use(tx, email.as_str()).await? {
                return Err(taken("public-taken", "public-unavailable"));
            }
            ("email", email.as_str().to_string())
        } else {
            let account = store::node::get_node(tx.ex(), row.account_id).await?;
            let number = phone::parse_phone("address", &account.default_country, address)
                .map_err(|_| Error::field("address", "public-invalid"))?
                .ok_or(Error::field("address", "field-required"))?;
            if super::address::number_in_use(tx, &number, uuid::Uuid::nil()).await? {
                return Err(taken("public-taken", "public-unavailable"));
            }
            ("number", number)
        };
        if store::resource::publics_of_node(tx.ex(), row.id).await?.len() >= MAX_PUBLIC {
            return Err(Error::field("address", "public-too-many"));
        }
        let id = Uuid::now_v7();
        store::resource::insert_public(tx.ex(), id, row.id, kind, &address, &label, now.millis())
            .await?;
        audit::Event::new(actor, "public.add")
            .target("node", row.id, Some(row.id))
            .after(json!({ "public": id.to_string(), "kind": kind, "address": address, "label": label }))
            .write(tx.ex(), now)
            .await?;
        Ok(id)
    })
    .await
}

pub async fn remove_public_address(ctx: &Ctx, actor: &Actor, id: Uuid) -> Result<()> {
    let now = ctx.clock.now();
    ctx.write(async |tx| {
        let p = public_to_manage(tx, actor, id).await?;
        store::resource::delete_public(tx.ex(), id).await?;
        audit::Event::new(actor, "public.remove")
            .target("node", p.node_id, Some(p.node_id))
            .before(json!({ "public": id.to_string(), "kind": p.kind, "address": p.address }))
            .write(tx.ex(), now)
            .await
    })
    .await
}

/// Lets a user below the address's unit use it (named by sign-in address or login).
pub async fn allow_user(ctx: &Ctx, actor: &Actor, id: Uuid, who: &str) -> Result<()> {
    let now = ctx.clock.now();
    let name = who.trim().to_lowercase();
    ctx.write(async |tx| {
        let p = public_to_manage(tx, actor, id).await?;
        let unknown = || Error::field("user", "access-user-not-found");
        let user = match store::user::find_user_by_email(tx.ex(), &name).await? {
            Some(u) => Some(u),
            None => store::user::find_user_by_login(tx.ex(), &name).await?,
        }
        .ok_or_else(unknown)?;
        let home = store::node::get_node(tx.ex(), user.node_id).await?;
        if !home.path.starts_with(&p.node_path) {
            return Err(unknown());
        }
        if store::resource::add_public_user(tx.ex(), id, user.id).await? {
            audit::Event::new(actor, "public.user.add")
                .target("user", user.id, Some(user.node_id))
                .after(json!({ "public": id.to_string(), "address": p.address }))
                .write(tx.ex(), now)
                .await?;
        }
        Ok(())
    })
    .await
}

pub async fn disallow_user(ctx: &Ctx, actor: &Actor, id: Uuid, user: UserId) -> Result<()> {
    let now = ctx.clock.now();
    ctx.write(async |tx| {
        let p = public_to_manage(tx, actor, id).await?;
        if !store::resource::remove_public_user(tx.ex(), id, user.0).await? {
            return Err(Error::NotFound);
        }
        audit::Event::new(actor, "public.user.remove")
            .target("user", user.0, Some(p.node_id))
            .before(json!({ "public": id.to_string(), "address": p.address }))
            .write(tx.ex(), now)
            .await
    })
    .await
}
