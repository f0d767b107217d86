//! SCIM groups: the units below the token's node. A group's members are the users directly in
//! the unit and the units directly below it (nested groups). A user or a unit has exactly one
//! place, so adding a member moves it into the unit, and removing one moves it up to the
//! unit's parent. `externalId` is the provider's id for the group (unique per account).

use serde_json::{Value, json};
use uuid::Uuid;

use super::{GROUP_SCHEMA, field, text, ts};
use crate::context::Ctx;
use crate::domain::Actor;
use crate::domain::node::{self, NodeView};
use crate::domain::user;
use crate::error::{Error, Result};
use crate::model::{NodeId, NodeKind, UserId};
use crate::store;

/// Members listed per group at most (users and units).
const MEMBERS_LIMIT: usize = 100_000;

/// What a member is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberKind {
    User,
    Group,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member {
    pub id: Uuid,
    /// As the provider said (`type`); None: whichever the id names.
    pub kind: Option<MemberKind>,
}

/// A Group body: each attribute is None when the body leaves it out.
#[derive(Debug, Clone, Default)]
pub struct GroupInput {
    pub display_name: Option<String>,
    /// Some(None): the body sets no external id.
    pub external_id: Option<Option<String>>,
    pub members: Option<Vec<Member>>,
}

/// Reads `members`: a list of `{"value": id, "type": "User"|"Group"}`.
pub fn members_of(v: &Value) -> Result<Vec<Member>> {
    let Some(list) = v.as_array() else {
        return Ok(vec![]);
    };
    list.iter()
        .map(|m| {
            let id = Uuid::try_parse(text(m, &["value"]).trim())
                .map_err(|_| Error::field("members", "error-not-found"))?;
            let t = text(m, &["type"]);
            let kind = if t.eq_ignore_ascii_case("user") {
                Some(MemberKind::User)
            } else if t.eq_ignore_ascii_case("group") {
                Some(MemberKind::Group)
            } else {
                None
            };
            Ok(Member { id, kind })
        })
        .collect()
}

impl GroupInput {
    /// Reads a whole Group body (POST, PUT, or a PATCH's result): what it leaves out is empty.
    pub fn from_json(v: &Value) -> Result<GroupInput> {
        Ok(GroupInput {
            display_name: Some(text(v, &["displayName"])),
            external_id: Some(Some(text(v, &["externalId"])).filter(|e| !e.trim().is_empty())),
            members: Some(members_of(field(v, "members").unwrap_or(&Value::Null))?),
        })
    }
}

/// The users directly in a unit and the units directly below it.
async fn direct_members(ctx: &Ctx, actor: &Actor, unit: NodeId) -> Result<Vec<Member>> {
    let mut out = vec![];
    let mut f = user::ListFilter {
        node: Some(unit),
        ..Default::default()
    };
    loop {
        let page = user::list_users(ctx, actor, &f).await?;
        out.extend(
            page.users
                .iter()
                .filter(|u| !u.is_system && u.node_id == unit)
                .map(|u| Member {
                    id: u.id.0,
                    kind: Some(MemberKind::User),
                }),
        );
        match page.next {
            Some(n) if out.len() < MEMBERS_LIMIT => f.after = Some(n),
            _ => break,
        }
    }
    for t in node::tree(ctx, actor, Some(unit)).await? {
        if t.node.parent_id == Some(unit) && t.node.kind == NodeKind::Unit {
            out.push(Member {
                id: t.node.id.0,
                kind: Some(MemberKind::Group),
            });
        }
    }
    Ok(out)
}

/// A unit strictly below the token's node (the token's own node is not a group).
async fn unit_in_scope(ctx: &Ctx, actor: &Actor, id: Uuid) -> Result<NodeView> {
    let n = node::get_node(ctx, actor, NodeId(id)).await?;
    let scope = actor.primary_scope().ok_or(Error::Forbidden)?;
    if n.kind != NodeKind::Unit || n.id == scope.node_id {
        return Err(Error::NotFound);
    }
    Ok(n)
}

/// One group (unit) as SCIM JSON, with its version.
pub async fn get_group(ctx: &Ctx, actor: &Actor, id: Uuid, base: &str) -> Result<(Value, i64)> {
    let n = unit_in_scope(ctx, actor, id).await?;
    let members: Vec<Value> = direct_members(ctx, actor, n.id)
        .await?
        .into_iter()
        .map(|m| {
            let (kind, path) = match m.kind {
                Some(MemberKind::Group) => ("Group", "Groups"),
                _ => ("User", "Users"),
            };
            json!({"value": m.id.to_string(), "$ref": format!("{base}/{path}/{}", m.id),
                   "type": kind})
        })
        .collect();
    let external = {
        let mut conn = ctx.db.conn().await?;
        store::scim::group_external_id(conn.ex(), n.id.0).await?
    };
    let mut v = json!({
        "schemas": [GROUP_SCHEMA],
        "id": n.id.0.to_string(),
        "displayName": n.name,
        "meta": {
            "resourceType": "Group",
            "created": ts(n.created_at),
            "lastModified": ts(n.created_at),
            "version": format!("W/\"v{}\"", n.version),
            "location": format!("{base}/Groups/{}", n.id.0),
        }
    });
    if !members.is_empty() {
        v["members"] = Value::Array(members);
    }
    if let Some(e) = external {
        v["externalId"] = json!(e);
    }
    Ok((v, n.version))
}

/// Every group below the token's node.
pub async fn list_groups(ctx: &Ctx, actor: &Actor, base: &str) -> Result<Vec<Value>> {
    let scope = actor.primary_scope().ok_or(Error::Forbidden)?.node_id;
    let tree = node::tree(ctx, actor, Some(scope)).await?;
    let mut out = vec![];
    for t in tree {
        if t.node.kind == NodeKind::Unit && t.node.id != scope {
            out.push(get_group(ctx, actor, t.node.id.0, base).await?.0);
        }
    }
    Ok(out)
}

/// Moves a member (a user, or a unit with all below it) into `node`.
async fn move_into(ctx: &Ctx, actor: &Actor, m: Member, node: NodeId) -> Result<()> {
    if m.kind != Some(MemberKind::Group) {
        match user::get_user(ctx, actor, UserId(m.id)).await {
            Ok(d) if !d.is_system => {
                if d.node_id != node {
                    let change = user::UserChange {
                        node: Some(node),
                        ..Default::default()
                    };
                    user::update_user(ctx, actor, d.id, d.version, &change).await?;
                }
                return Ok(());
            }
            Ok(_) => return Err(Error::field("members", "error-not-found")),
            Err(Error::NotFound) if m.kind.is_none() => {}
            Err(Error::NotFound) => return Err(Error::field("members", "error-not-found")),
            Err(e) => return Err(e),
        }
    }
    let unit = unit_in_scope(ctx, actor, m.id)
        .await
        .map_err(|_| Error::field("members", "error-not-found"))?;
    if unit.parent_id != Some(node) {
        node::move_unit(ctx, actor, unit.id, unit.version, node)
            .await
            .map_err(|e| match e {
                Error::Invalid(_) => Error::field("members", "unit-target-invalid"),
                other => other,
            })?;
    }
    Ok(())
}

async fn set_external(ctx: &Ctx, n: &NodeView, external: Option<&str>) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    if !store::scim::set_group_external_id(tx.ex(), n.id.0, n.account_id.0, external).await? {
        return Err(Error::field("externalId", "scim-external-id-taken"));
    }
    tx.commit().await
}

/// A new group: a unit under the token's node, with its members moved into it.
pub async fn create_group(ctx: &Ctx, actor: &Actor, input: &GroupInput) -> Result<Uuid> {
    let parent = actor.primary_scope().ok_or(Error::Forbidden)?.node_id;
    let name = input.display_name.as_deref().unwrap_or("");
    let id = node::create_unit(ctx, actor, parent, name)
        .await
        .map_err(|e| match e {
            Error::Invalid(f) if f.iter().any(|f| f.code.contains("taken")) => {
                Error::field("displayName", "error-taken")
            }
            Error::Invalid(_) => Error::field("displayName", "field-required"),
            other => other,
        })?;
    if let Some(Some(e)) = &input.external_id {
        let n = node::get_node(ctx, actor, id).await?;
        if let Err(e) = set_external(ctx, &n, Some(e)).await {
            node::delete_unit(ctx, actor, id).await?;
            return Err(e);
        }
    }
    for m in input.members.iter().flatten() {
        move_into(ctx, actor, *m, id).await?;
    }
    Ok(id.0)
}

/// Changes what the input names: the name, the external id, the members (those left out
/// move up to the unit's parent).
pub async fn set_group(
    ctx: &Ctx,
    actor: &Actor,
    id: Uuid,
    version: Option<i64>,
    input: &GroupInput,
) -> Result<()> {
    let n = unit_in_scope(ctx, actor, id).await?;
    if version.is_some_and(|v| v != n.version) {
        return Err(Error::Conflict("api-if-match-stale"));
    }
    if let Some(external) = &input.external_id {
        set_external(ctx, &n, external.as_deref()).await?;
    }
    if let Some(name) = &input.display_name
        && *name != n.name
    {
        node::rename_unit(ctx, actor, n.id, n.version, name)
            .await
            .map_err(|e| match e {
                Error::Invalid(_) => Error::field("displayName", "field-required"),
                other => other,
            })?;
    }
    if let Some(members) = &input.members {
        let parent = n.parent_id.ok_or(Error::NotFound)?;
        for m in direct_members(ctx, actor, n.id).await? {
            if !members.iter().any(|x| x.id == m.id) {
                move_into(ctx, actor, m, parent).await?;
            }
        }
        for m in members {
            move_into(ctx, actor, *m, n.id).await?;
        }
    }
    Ok(())
}

/// Deletes a group: its members (users and units) move up to the parent first.
pub async fn delete_group(ctx: &Ctx, actor: &Actor, id: Uuid) -> Result<()> {
    let n = unit_in_scope(ctx, actor, id).await?;
    let parent = n.parent_id.ok_or(Error::NotFound)?;
    for m in direct_members(ctx, actor, n.id).await? {
        move_into(ctx, actor, m, parent).await?;
    }
    node::delete_unit(ctx, actor, n.id).await
}
