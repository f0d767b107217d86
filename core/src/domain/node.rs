//! The node tree: customer accounts (operators create them) and the units inside an account.

use std::collections::HashMap;

use serde_json::json;
use uuid::Uuid;

use super::audit;
use crate::context::Ctx;
use crate::domain::Actor;
use crate::domain::rank;
use crate::error::{Error, Problems, Result};
use crate::model::{Email, Lang, NodeId, NodeKind, Timestamp, parse_line, phone};
use crate::store::{self, Ex, Tx, node::NodeRow};

pub const NAME_MAX: usize = 100;

#[derive(Debug, Clone)]
pub struct NodeView {
    pub id: NodeId,
    pub parent_id: Option<NodeId>,
    pub kind: NodeKind,
    pub name: String,
    pub account_id: NodeId,
    pub depth: i64,
    pub default_language: String,
    pub default_country: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub user_count: i64,
    pub version: i64,
    pub created_at: Timestamp,
}

pub(crate) fn view(row: NodeRow) -> NodeView {
    NodeView {
        id: NodeId(row.id),
        parent_id: row.parent_id.map(NodeId),
        kind: NodeKind::parse(&row.kind).unwrap_or(NodeKind::Unit),
        name: row.name,
        account_id: NodeId(row.account_id),
        depth: row.depth,
        default_language: row.default_language,
        default_country: row.default_country,
        contact_name: row.contact_name,
        contact_email: row.contact_email,
        contact_phone: row.contact_phone,
        user_count: row.user_count,
        version: row.version,
        created_at: Timestamp::from_millis(row.created_at),
    }
}

/// A node in scope, or NotFound: nothing outside the actor's scope can be told from nothing.
pub(crate) async fn node_in_scope(ex: Ex<'_>, actor: &Actor, id: Uuid) -> Result<NodeRow> {
    match store::node::find_node(ex, id).await? {
        Some(n) if actor.administers_path(&n.path) => Ok(n),
        _ => Err(Error::NotFound),
    }
}

/// One line of the unit tree: the node, how deep it sits below the tree's top, its own users
/// and the users of its whole subtree.
#[derive(Debug, Clone)]
pub struct TreeNode {
    pub node: NodeView,
    pub level: i64,
    pub total_users: i64,
    pub has_children: bool,
}

/// The tree of one tenant as the actor may see it: from `top` (default: the actor's widest
/// scope) down through its units, parents before children, each with its user counts.
pub async fn tree(ctx: &Ctx, actor: &Actor, top: Option<NodeId>) -> Result<Vec<TreeNode>> {
    let top = top
        .or(actor.primary_scope().map(|s| s.node_id))
        .ok_or(Error::NotFound)?;
    let mut conn = ctx.db.conn().await?;
    let top = node_in_scope(conn.ex(), actor, top.0).await?;
    let rows = store::node::list_tenant_nodes(conn.ex(), &top.path, top.account_id).await?;
    // Totals: each node's users plus those of every node below it. Rows come parents first,
    // so adding each row to its parent from the last row up sums whole subtrees.
    let index: HashMap<Uuid, usize> = rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let mut totals: Vec<i64> = rows.iter().map(|r| r.user_count).collect();
    let mut children: Vec<Vec<usize>> = vec![vec![]; rows.len()];
    for i in (1..rows.len()).rev() {
        if let Some(&p) = rows[i].parent_id.as_ref().and_then(|p| index.get(p)) {
            totals[p] += totals[i];
            children[p].push(i);
        }
    }
    for c in &mut children {
        c.reverse();
    }
    let mut ordered = Vec::with_capacity(rows.len());
    let mut stack = if rows.is_empty() { vec![] } else { vec![0] };
    while let Some(i) = stack.pop() {
        ordered.push(i);
        stack.extend(children[i].iter().rev());
    }
    Ok(ordered
        .into_iter()
        .map(|i| TreeNode {
            level: rows[i].depth - top.depth,
            total_users: totals[i],
            has_children: !children[i].is_empty(),
            node: view(rows[i].clone()),
        })
        .collect())
}

/// A node the actor administers.
pub async fn get_node(ctx: &Ctx, actor: &Actor, id: NodeId) -> Result<NodeView> {
    let mut conn = ctx.db.conn().await?;
    Ok(view(node_in_scope(conn.ex(), actor, id.0).await?))
}

/// The widest node the actor administers (the Account tab's subject).
pub async fn administered_node(ctx: &Ctx, actor: &Actor) -> Result<NodeView> {
    let scope = actor.primary_scope().ok_or(Error::NotFound)?;
    get_node(ctx, actor, scope.node_id).await
}

#[derive(Debug, Clone)]
pub struct AccountListItem {
    pub id: NodeId,
    pub name: String,
    pub users: i64,
    pub created_at: Timestamp,
}

/// The customer accounts directly under the operator root; operator staff only.
pub async fn list_accounts(ctx: &Ctx, actor: &Actor, limit: i64) -> Result<Vec<AccountListItem>> {
    let root = actor
        .scopes
        .iter()
        .find(|s| s.kind == NodeKind::Operator)
        .ok_or(Error::NotFound)?;
    let mut conn = ctx.db.conn().await?;
    let rows = store::node::list_child_accounts(conn.ex(), root.node_id.0, limit).await?;
    Ok(rows
        .into_iter()
        .map(|r| AccountListItem {
            id: NodeId(r.node.id),
            name: r.node.name,
            users: r.users,
            created_at: Timestamp::from_millis(r.node.created_at),
        })
        .collect())
}

/// What an account form carries.
#[derive(Debug, Clone, Default)]
pub struct AccountInput {
    pub name: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub default_language: String,
    pub default_country: String,
}

struct CheckedAccount {
    name: String,
    contact_name: String,
    contact_email: String,
    contact_phone: String,
    default_language: String,
    default_country: String,
}

fn check_account(input: &AccountInput) -> Result<CheckedAccount> {
    let mut p = Problems::default();
    let name = p.check(parse_name("name", &input.name));
    let contact_name = p.check(parse_line("contact_name", &input.contact_name, NAME_MAX));
    let contact_email = if input.contact_email.trim().is_empty() {
        Some(String::new())
    } else {
        p.check(Email::parse("contact_email", &input.contact_email).map(|e| e.as_str().to_string()))
    };
    let default_country = p.check(phone::parse_country(
        "default_country",
        &input.default_country,
    ));
    let contact_phone = p.check(phone::parse_phone(
        "contact_phone",
        default_country.as_deref().unwrap_or(""),
        &input.contact_phone,
    ));
    let default_language = Lang::parse(&input.default_language).map(|l| l.code().to_string());
    if default_language.is_none() {
        p.add("default_language", "field-language-invalid");
    }
    p.finish()?;
    Ok(CheckedAccount {
        name: name.unwrap_or_default(),
        contact_name: contact_name.unwrap_or_default(),
        contact_email: contact_email.unwrap_or_default(),
        contact_phone: contact_phone.flatten().unwrap_or_default(),
        default_language: default_language.unwrap_or_default(),
        default_country: default_country.unwrap_or_default(),
    })
}

fn parse_name(field: &'static str, input: &str) -> Result<String> {
    let name = parse_line(field, input, NAME_MAX)?;
    if name.is_empty() {
        return Err(Error::field(field, "field-required"));
    }
    Ok(name)
}

fn child_path(parent_path: &str, id: Uuid) -> String {
    format!("{parent_path}{}/", id.simple())
}

/// Operators create a customer account under the operator root.
pub async fn create_account(ctx: &Ctx, actor: &Actor, input: &AccountInput) -> Result<NodeId> {
    let root = actor
        .scopes
        .iter()
        .find(|s| s.kind == NodeKind::Operator)
        .ok_or(Error::NotFound)?;
    let a = check_account(input)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let parent = store::node::get_node(tx.ex(), root.node_id.0).await?;
    let id = Uuid::now_v7();
    let row = NodeRow {
        id,
        parent_id: Some(parent.id),
        kind: NodeKind::Account.as_str().into(),
        name: a.name,
        path: child_path(&parent.path, id),
        depth: parent.depth + 1,
        account_id: id,
        contact_name: a.contact_name,
        contact_email: a.contact_email,
        contact_phone: a.contact_phone,
        default_language: a.default_language,
        default_country: a.default_country,
        user_count: 0,
        version: 1,
        created_at: now.millis(),
        mfa_policy: None,
        mfa_factors: None,
    };
    store::node::insert_node(tx.ex(), &row, now.millis()).await?;
    audit::Event::new(actor, "account.create")
        .target("node", id, Some(id))
        .after(node_json(&row))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await?;
    Ok(NodeId(id))
}

/// Changes an account's name, contact and defaults (its administrators and operators).
pub async fn update_account(
    ctx: &Ctx,
    actor: &Actor,
    id: NodeId,
    version: i64,
    input: &AccountInput,
) -> Result<()> {
    let a = check_account(input)?;
    let now = ctx.clock.now();
    let mut tx = ctx.db.begin().await?;
    let before = node_in_scope(tx.ex(), actor, id.0).await?;
    if before.kind != NodeKind::Account.as_str() {
        return Err(Error::NotFound);
    }
    let mut after = before.clone();
    after.name = a.name;
    after.contact_name = a.contact_name;
    after.contact_email = a.contact_email;
    after.contact_phone = a.contact_phone;
    after.default_language = a.default_language;
    after.default_country = a.default_country;
    if !store::node::update_node(tx.ex(), &after, version, now.millis()).await? {
        return Err(Error::Conflict("error-changed-meanwhile"));
    }
    audit::Event::new(actor, "account.update")
        .target("node", id.0, Some(id.0))
        .before(node_json(&before))
        .after(node_json(&after))
        .write(tx.ex(), now)
        .await?;
    tx.commit().await
}

/// Creates a unit (organizational group) under an account or unit the actor administers.
pub async fn create_unit(ctx: &Ctx, actor: &Actor, parent: NodeId, name: &str) -> Result<NodeId> {
    ctx.write(async |tx| create_unit_in(tx, ctx, actor, parent, name).await)
        .await
}

/// [`create_unit`] in the caller's transaction.
pub(crate) async fn create_unit_in(
    tx: &mut Tx,
    ctx: &Ctx,
    actor: &Actor,
    parent: NodeId,
    name: &str,
) -> Result<NodeId> {
    let name = parse_name("name", name)?;
    let now = ctx.clock.now();
    let parent = node_in_scope(tx.ex(), actor, parent.0).await?;
    if parent.kind == NodeKind::Operator.as_str() {
        return Err(Error::field("parent", "unit-needs-account"));
    }
    unique_sibling_name(tx.ex(), &parent, &name, None).await?;
    let id = Uuid::now_v7();
    let row = NodeRow {
        id,
        parent_id: Some(parent.id),
        kind: NodeKind::Unit.as_str().into(),
        name,
        path: child_path(&parent.path, id),
        depth: parent.depth + 1,
        account_id: parent.account_id,
        contact_name: String::new(),
        contact_email: String::new(),
        contact_phone: String::new(),
        default_language: parent.default_language.clone(),
        default_country: parent.default_country.clone(),
        user_count: 0,
        version: 1,
        created_at: now.millis(),
        mfa_policy: None,
        mfa_factors: None,
    };
    store::node::insert_node(tx.ex(), &row, now.millis()).await?;
    audit::Event::new(actor, "unit.create")
        .target("node", id, Some(id))
        .after(node_json(&row))
        .write(tx.ex(), now)
        .await?;
    Ok(NodeId(id))
}

async fn unique_sibling_name(
    ex: Ex<'_>,
    parent: &NodeRow,
    name: &str,
    except: Option<Uuid>,
) -> Result<()> {
    let siblings = store::node::list_children(ex, parent.id).await?;
    let taken = siblings
        .iter()
        .any(|s| Some(s.id) != except && s.name.to_lowercase() == name.to_lowercase());
    if taken {
        Err(Error::field("name", "unit-name-taken"))
    } else {
        Ok(())
    }
}

/// The unit at `id`, when the actor administers it and the node above it (a unit administrator
/// cannot rename, move or delete the unit that is their whole scope).
async fn unit_for_change(tx: &mut Tx, actor: &Actor, id: Uuid) -> Result<(NodeRow, NodeRow)> {
    let unit = node_in_scope(tx.ex(), actor, id).await?;
    if unit.kind != NodeKind::Unit.as_str() {
        return Err(Error::NotFound);
    }
    let parent_id = unit.parent_id.ok_or(Error::NotFound)?;
    let parent = store::node::get_node(tx.ex(), parent_id).await?;
    if !actor.administers_path(&parent.path) {
        return Err(Error::Forbidden);
    }
    Ok((unit, parent))
}

pub async fn rename_unit(
    ctx: &Ctx,
    actor: &Actor,
    id: NodeId,
    version: i64,
    name: &str,
) -> Result<()> {
    ctx.write(async |tx| rename_unit_in(tx, ctx, actor, id, version, name).await)
        .await
}

/// [`rename_unit`] in the caller's transaction.
pub(crate) async fn rename_unit_in(
    tx: &mut Tx,
    ctx: &Ctx,
    actor: &Actor,
    id: NodeId,
    version: i64,
    name: &str,
) -> Result<()> {
    let name = parse_name("name", name)?;
    let now = ctx.clock.now();
    let (before, parent) = unit_for_change(tx, actor, id.0).await?;
    unique_sibling_name(tx.ex(), &parent, &name, Some(before.id)).await?;
    let mut after = before.clone();
    after.name = name;
    if !store::node::update_node(tx.ex(), &after, version, now.millis()).await? {
        return Err(Error::Conflict("error-changed-meanwhile"));
    }
    audit::Event::new(actor, "unit.rename")
        .target("node", id.0, Some(id.0))
        .before(json!({"name": before.name}))
        .after(json!({"name": after.name}))
        .write(tx.ex(), now)
        .await
}

/// Moves a unit (with everything below it) under another node of the same account, both
/// inside the actor's scope, never under itself.
pub async fn move_unit(
    ctx: &Ctx,
    actor: &Actor,
    id: NodeId,
    version: i64,
    new_parent: NodeId,
) -> Result<()> {
    ctx.write(async |tx| move_unit_in(tx, ctx, actor, id, version, new_parent).await)
        .await
}

/// A move changes who administers the unit's users: those who administer the nodes between
/// the actor's scope and the unit's old or new parent lose or gain them, and the users who
/// hold rights inside the unit are carried along. The actor must outrank all of them.
async fn require_rank_for_move(
    tx: &mut Tx,
    actor: &Actor,
    unit: &NodeRow,
    old_parent: &NodeRow,
    target: &NodeRow,
    now: i64,
) -> Result<()> {
    let within_scope = |path: &str| -> Vec<Uuid> {
        let mut ids = vec![];
        let mut prefix = String::from("/");
        for segment in path.split('/').filter(|s| !s.is_empty()) {
            prefix.push_str(segment);
            prefix.push('/');
            if actor.administers_path(&prefix)
                && let Ok(id) = Uuid::try_parse(segment)
            {
                ids.push(id);
            }
        }
        ids
    };
    let mut nodes = within_scope(&old_parent.path);
    nodes.extend(within_scope(&target.path));
    let mut subjects: Vec<Uuid> = store::grant::list_node_admins(tx.ex(), &nodes)
        .await?
        .into_iter()
        .map(|g| g.subject_user_id)
        .collect();
    subjects.extend(store::grant::holders_homed_within(tx.ex(), &unit.path).await?);
    subjects.sort();
    subjects.dedup();
    for id in subjects {
        if let Some(user) = store::user::find_user(tx.ex(), id).await? {
            rank::require_outranks(tx, actor, &user, now).await?;
        }
    }
    Ok(())
}

/// [`move_unit`] in the caller's transaction.
pub(crate) async fn move_unit_in(
    tx: &mut Tx,
    ctx: &Ctx,
    actor: &Actor,
    id: NodeId,
    version: i64,
    new_parent: NodeId,
) -> Result<()> {
    let now = ctx.clock.now();
    let (unit, old_parent) = unit_for_change(tx, actor, id.0).await?;
    if unit.version != version {
        return Err(Error::Conflict("error-changed-meanwhile"));
    }
    let target = node_in_scope(tx.ex(), actor, new_parent.0)
        .await
        .map_err(|_| Error::field("parent", "field-unit-unknown"))?;
    if target.account_id != unit.account_id
        || target.path.starts_with(&unit.path)
        || target.kind == NodeKind::Operator.as_str()
    {
        return Err(Error::field("parent", "unit-target-invalid"));
    }
    if target.id == old_parent.id {
        return Ok(());
    }
    require_rank_for_move(tx, actor, &unit, &old_parent, &target, now.millis()).await?;
    unique_sibling_name(tx.ex(), &target, &unit.name, Some(unit.id)).await?;
    let new_path = child_path(&target.path, unit.id);
    let delta = target.depth + 1 - unit.depth;
    store::node::move_subtree(
        tx.ex(),
        unit.id,
        target.id,
        &unit.path,
        &new_path,
        delta,
        now.millis(),
    )
    .await?;
    store::resource::prune_public_users(tx.ex()).await?;
    audit::Event::new(actor, "unit.move")
        .target("node", unit.id, Some(unit.id))
        .before(json!({"parent": old_parent.id.to_string(), "parent_name": old_parent.name}))
        .after(json!({"parent": target.id.to_string(), "parent_name": target.name}))
        .write(tx.ex(), now)
        .await
}

/// Renames and moves a unit in one transaction (the API's PATCH): both, or neither.
pub async fn update_unit(
    ctx: &Ctx,
    actor: &Actor,
    id: NodeId,
    version: i64,
    name: Option<&str>,
    parent: Option<NodeId>,
) -> Result<()> {
    ctx.write(async |tx| {
        if name.is_none() && parent.is_none() {
            // Nothing to change, but the version If-Match named must still be the stored one.
            let (unit, _) = unit_for_change(tx, actor, id.0).await?;
            if unit.version != version {
                return Err(Error::Conflict("error-changed-meanwhile"));
            }
            return Ok(());
        }
        let mut version = version;
        if let Some(name) = name {
            rename_unit_in(tx, ctx, actor, id, version, name).await?;
            version += 1;
        }
        if let Some(parent) = parent {
            move_unit_in(tx, ctx, actor, id, version, parent).await?;
        }
        Ok(())
    })
    .await
}

/// Deletes an empty unit; one with users or units inside says so and stays, and so does one
/// that still gives someone rights (an administrator of it, or a token narrowed to it).
pub async fn delete_unit(ctx: &Ctx, actor: &Actor, id: NodeId) -> Result<()> {
    ctx.write(async |tx| delete_unit_in(tx, ctx, actor, id).await)
        .await
}

/// [`delete_unit`] in the caller's transaction.
pub(crate) async fn delete_unit_in(
    tx: &mut Tx,
    ctx: &Ctx,
    actor: &Actor,
    id: NodeId,
) -> Result<()> {
    let now = ctx.clock.now();
    let (unit, _) = unit_for_change(tx, actor, id.0).await?;
    if unit.user_count > 0 || store::node::count_children(tx.ex(), unit.id).await? > 0 {
        return Err(Error::Conflict("unit-not-empty"));
    }
    if store::grant::node_has_rights(tx.ex(), unit.id).await? {
        return Err(Error::Conflict("unit-has-rights"));
    }
    store::node::delete_node(tx.ex(), unit.id).await?;
    audit::Event::new(actor, "unit.delete")
        .target("node", unit.id, Some(unit.account_id))
        .before(node_json(&unit))
        .write(tx.ex(), now)
        .await
}

fn node_json(n: &NodeRow) -> serde_json::Value {
    json!({
        "kind": n.kind, "name": n.name, "parent": n.parent_id.map(|p| p.to_string()),
        "contact_name": n.contact_name, "contact_email": n.contact_email,
        "contact_phone": n.contact_phone, "default_language": n.default_language,
        "default_country": n.default_country,
    })
}

/// Whether the actor administers the whole account `node` belongs to (and so may make people
/// Administrators of it).
pub async fn administers_account_of(ctx: &Ctx, actor: &Actor, node: NodeId) -> Result<bool> {
    let mut conn = ctx.db.conn().await?;
    let node = node_in_scope(conn.ex(), actor, node.0).await?;
    let tenant = store::node::get_node(conn.ex(), node.account_id).await?;
    Ok(actor.administers_path(&tenant.path))
}
