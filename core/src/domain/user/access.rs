//! Who administers whom: administrators of a node ("Access / Administrators"),
//! "Access" to one user, and the answer to "who can administer this user, and why".

use serde_json::json;
use uuid::Uuid;

use super::{keep_an_admin, user_in_scope};
use crate::context::Ctx;
use crate::domain::node::node_in_scope;
use crate::domain::rank::{Need, require_outranks, user_to_change};
use crate::domain::{Actor, audit};
use crate::error::{Error, Result};
use crate::model::{Email, NodeId, NodeKind, UserId};
use crate::store::{self, Tx, grant::GrantHolder, user::UserRow};

/// Someone holding a grant, as the pages list them.
#[derive(Debug, Clone)]
pub struct AccessHolder {
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    pub active: bool,
}

fn holder(g: &GrantHolder) -> AccessHolder {
    let name = format!("{} {}", g.first_name, g.last_name)
        .trim()
        .to_string();
    AccessHolder {
        user_id: UserId(g.subject_user_id),
        name,
        email: g.email.clone().unwrap_or_default(),
        active: g.status == "active",
    }
}

/// The person named by `email`, when the actor administers them through a node scope. An
/// unknown address and one outside the scope get the same answer.
async fn subject_in_scope(tx: &mut Tx, actor: &Actor, email: &str) -> Result<UserRow> {
    let not_found = || Error::field("email", "access-user-not-found");
    let email = Email::parse("email", email).map_err(|_| not_found())?;
    let user = store::user::find_user_by_email(tx.ex(), email.as_str())
        .await?
        .ok_or_else(not_found)?;
    let node = store::node::get_node(tx.ex(), user.node_id).await?;
    if !actor.administers_path(&node.path) || user.kind != "person" {
        return Err(not_found());
    }
    Ok(user)
}

/// The administrators of exactly this node.
pub async fn list_node_admins(ctx: &Ctx, actor: &Actor, node: NodeId) -> Result<Vec<AccessHolder>> {
    let mut conn = ctx.db.conn().await?;
    let node = node_in_scope(conn.ex(), actor, node.0).await?;
    let rows = store::grant::list_node_admins(conn.ex(), &[node.id]).await?;
    Ok(rows.iter().map(holder).collect())
}

/// Makes the person with `email` an administrator of `node` (and everything below it). On an
/// account node that is the user type Administrator.
pub async fn add_node_admin(ctx: &Ctx, actor: &Actor, node: NodeId, email: &str) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let node = node_in_scope(tx.ex(), actor, node.0).await?;
    let subject = subject_in_scope(&mut tx, actor, email).await?;
    if subject.account_id != node.account_id {
        return Err(Error::field("email", "access-user-not-found"));
    }
    require_outranks(&mut tx, actor, &subject, now.millis()).await?;
    let existing = store::grant::list_node_admins(tx.ex(), &[node.id]).await?;
    if existing.iter().any(|g| g.subject_user_id == subject.id) {
        return Ok(());
    }
    store::grant::insert_node_grant(
        tx.ex(),
        subject.id,
        "administrator",
        node.id,
        actor.audit_id(),
        now.millis(),
    )
    .await?;
    if node.id == subject.account_id && subject.user_type != "administrator" {
        let mut after = subject.clone();
        after.user_type = "administrator".into();
        after.updated_at = now.millis();
        super::save(tx.ex(), &after, subject.version).await?;
    }
    audit::Event::new(actor, "grant.add")
        .target("node", node.id, Some(node.id))
        .after(json!({"administrator": subject.id.to_string(), "email": subject.email}))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}

/// Takes `subject`'s administrator rights on `node` away; never the last active administrator
/// of an account.
pub async fn remove_node_admin(
    ctx: &Ctx,
    actor: &Actor,
    node: NodeId,
    subject: UserId,
) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let node = node_in_scope(tx.ex(), actor, node.0).await?;
    let user = store::user::find_user(tx.ex(), subject.0)
        .await?
        .ok_or(Error::NotFound)?;
    require_outranks(&mut tx, actor, &user, now.millis()).await?;
    if node.id == user.account_id {
        keep_an_admin(&mut tx, &user, true).await?;
    }
    if node.kind == NodeKind::Operator.as_str() {
        store::node::lock_node(tx.ex(), node.id).await?;
        if store::grant::count_active_admins_of_node(tx.ex(), node.id).await? <= 1 {
            return Err(Error::Conflict("error-last-admin"));
        }
    }
    if !store::grant::delete_node_grant(tx.ex(), user.id, node.id).await? {
        return Err(Error::NotFound);
    }
    if node.id == user.account_id && user.user_type == "administrator" {
        let mut after = user.clone();
        after.user_type = "user".into();
        after.receive_invoices = false;
        after.updated_at = now.millis();
        super::save(tx.ex(), &after, user.version).await?;
    }
    audit::Event::new(actor, "grant.remove")
        .target("node", node.id, Some(node.id))
        .before(json!({"administrator": user.id.to_string(), "email": user.email}))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}

/// The users with "Access" to this one user.
pub async fn list_access(ctx: &Ctx, actor: &Actor, target: UserId) -> Result<Vec<AccessHolder>> {
    let mut conn = ctx.db.conn().await?;
    let (user, _) = user_in_scope(&mut conn, actor, target.0).await?;
    let rows = store::grant::list_user_delegates(conn.ex(), user.id).await?;
    Ok(rows.iter().map(holder).collect())
}

/// Access: the person with `email` gets administrative rights over this one user.
/// Only someone who administers the user through a node scope may give it.
pub async fn add_access(ctx: &Ctx, actor: &Actor, target: UserId, email: &str) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (user, _) = user_to_change(&mut tx, actor, target.0, Need::Scope, now.millis()).await?;
    // A delegate never covers someone who administers anything, nor a system user (whose
    // tokens are credentials of their own): such Access would be empty.
    if user.user_type == "administrator"
        || user.kind == "system"
        || store::grant::holds_grants(tx.ex(), user.id).await?
    {
        return Err(Error::field("email", "access-target-administers"));
    }
    let subject = subject_in_scope(&mut tx, actor, email).await?;
    if subject.id == user.id {
        return Err(Error::field("email", "access-not-self"));
    }
    require_outranks(&mut tx, actor, &subject, now.millis()).await?;
    let existing = store::grant::list_user_delegates(tx.ex(), user.id).await?;
    if existing.iter().any(|g| g.subject_user_id == subject.id) {
        return Ok(());
    }
    store::grant::insert_user_grant(
        tx.ex(),
        subject.id,
        "administrator",
        user.id,
        actor.audit_id(),
        now.millis(),
    )
    .await?;
    audit::Event::new(actor, "access.add")
        .target("user", user.id, Some(user.node_id))
        .after(json!({"delegate": subject.id.to_string(), "email": subject.email}))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}

pub async fn remove_access(
    ctx: &Ctx,
    actor: &Actor,
    target: UserId,
    subject: UserId,
) -> Result<()> {
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let (user, _) = user_to_change(&mut tx, actor, target.0, Need::Scope, now.millis()).await?;
    if let Some(holder) = store::user::find_user(tx.ex(), subject.0).await? {
        require_outranks(&mut tx, actor, &holder, now.millis()).await?;
    }
    if !store::grant::delete_user_grant(tx.ex(), subject.0, user.id).await? {
        return Err(Error::NotFound);
    }
    audit::Event::new(actor, "access.remove")
        .target("user", user.id, Some(user.node_id))
        .before(json!({"delegate": subject.0.to_string()}))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}

/// One way someone can administer a user.
#[derive(Debug, Clone)]
pub struct Reach {
    pub holder: AccessHolder,
    /// "access", "unit", "account" or "operator".
    pub via: &'static str,
    /// The node the grant sits on (empty for "access").
    pub node_name: String,
}

/// Every grant that reaches this user: direct Access, administrators of each unit above them,
/// of their account, and operator staff; nearest first.
pub async fn who_can_administer(ctx: &Ctx, actor: &Actor, target: UserId) -> Result<Vec<Reach>> {
    let mut conn = ctx.db.conn().await?;
    let (user, node) = user_in_scope(&mut conn, actor, target.0).await?;
    let ancestors: Vec<Uuid> = node
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .filter_map(|s| Uuid::try_parse(s).ok())
        .collect();
    let mut node_grants = store::grant::list_node_admins(conn.ex(), &ancestors).await?;
    node_grants.sort_by_key(|g| std::cmp::Reverse(g.node_depth));
    let direct = store::grant::list_user_delegates(conn.ex(), user.id).await?;
    let mut out: Vec<Reach> = direct
        .iter()
        .map(|g| Reach {
            holder: holder(g),
            via: "access",
            node_name: String::new(),
        })
        .collect();
    let mut staff_shown = false;
    for g in &node_grants {
        let via = match g.node_kind.as_deref() {
            Some("operator") => "operator",
            Some("account") => "account",
            _ => "unit",
        };
        // Operator staff are named to operator staff only; anyone else sees that they exist.
        if via == "operator" && !actor.is_operator() {
            if !staff_shown {
                staff_shown = true;
                out.push(Reach {
                    holder: AccessHolder {
                        user_id: UserId(Uuid::nil()),
                        name: String::new(),
                        email: String::new(),
                        active: true,
                    },
                    via,
                    node_name: String::new(),
                });
            }
            continue;
        }
        out.push(Reach {
            holder: holder(g),
            via,
            node_name: g.node_name.clone().unwrap_or_default(),
        });
    }
    Ok(out)
}
