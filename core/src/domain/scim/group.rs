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
use crate::store::{self, Handle, Tx};

/// Members listed per group at most, of each kind (users and units).
const MEMBERS_LIMIT: usize = 10_000;

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

/// The users directly in a unit and the units directly below it (at most `MEMBERS_LIMIT` of
/// each: one indexed query each).
async fn direct_members(h: &mut impl Handle, unit: Uuid) -> Result<Vec<Member>> {
    let users = store::user::list_persons_in(h.ex(), unit, MEMBERS_LIMIT as i64).await?;
    let units = store::node::list_children(h.ex(), unit).await?;
    Ok(users
        .into_iter()
        .map(|id| Member {
            id,
            kind: Some(MemberKind::User),
        })
        .chain(
            units
                .into_iter()
                .filter(|u| u.kind == NodeKind::Unit.as_str())
                .take(MEMBERS_LIMIT)
                .map(|u| Member {
                    id: u.id,
                    kind: Some(MemberKind::Group),
                }),
        )
        .collect())
}

/// A unit strictly below the token's node (the token's own node is not a group).
async fn unit_in_scope(h: &mut impl Handle, actor: &Actor, id: Uuid) -> Result<NodeView> {
    let n = node::view(node::node_in_scope(h.ex(), actor, id).await?);
    let scope = actor.primary_scope().ok_or(Error::Forbidden)?;
    if n.kind != NodeKind::Unit || n.id == scope.node_id {
        return Err(Error::NotFound);
    }
    Ok(n)
}

/// One group (unit) as SCIM JSON, with its version.
pub async fn get_group(ctx: &Ctx, actor: &Actor, id: Uuid, base: &str) -> Result<(Value, i64)> {
    let mut conn = ctx.db.conn().await?;
    let n = unit_in_scope(&mut conn, actor, id).await?;
    let members: Vec<Value> = direct_members(&mut conn, n.id.0)
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
    let external = store::scim::group_external_id(conn.ex(), n.id.0).await?;
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

/// Every group below the token's node; more than `SCAN_LIMIT` units are refused as too many.
pub async fn list_groups(ctx: &Ctx, actor: &Actor, base: &str) -> Result<Vec<Value>> {
    let scope = actor.primary_scope().ok_or(Error::Forbidden)?.node_id;
    let tree = node::tree(ctx, actor, Some(scope)).await?;
    if tree.len() > super::SCAN_LIMIT {
        return Err(Error::field("filter", "scim-too-many"));
    }
    let mut out = vec![];
    for t in tree {
        if t.node.kind == NodeKind::Unit && t.node.id != scope {
            out.push(get_group(ctx, actor, t.node.id.0, base).await?.0);
        }
    }
    Ok(out)
}

/// Moves a member (a user, or a unit with all below it) into `node`, in the caller's
/// transaction.
async fn move_into(tx: &mut Tx, ctx: &Ctx, actor: &Actor, m: Member, node: NodeId) -> Result<()> {
    let not_found = || Error::field("members", "error-not-found");
    if m.kind != Some(MemberKind::Group) {
        match user::user_in_scope(tx, actor, m.id).await {
            Ok((u, _)) if u.kind == "person" => {
                if u.node_id != node.0 {
                    let change = user::UserChange {
                        node: Some(node),
                        ..Default::default()
                    };
                    user::update_user_in(tx, ctx, actor, UserId(u.id), u.version, &change).await?;
                }
                return Ok(());
            }
            Ok(_) => return Err(not_found()),
            Err(Error::NotFound) if m.kind.is_none() => {}
            Err(Error::NotFound) => return Err(not_found()),
            Err(e) => return Err(e),
        }
    }
    let unit = unit_in_scope(tx, actor, m.id)
        .await
        .map_err(|_| not_found())?;
    if unit.parent_id != Some(node) {
        node::move_unit_in(tx, ctx, actor, unit.id, unit.version, node)
            .await
            .map_err(|e| match e {
                Error::Invalid(_) => Error::field("members", "unit-target-invalid"),
                other => other,
            })?;
    }
    Ok(())
}

async fn set_external(tx: &mut Tx, n: &NodeView, external: Option<&str>) -> Result<()> {
    if !store::scim::set_group_external_id(tx.ex(), n.id.0, n.account_id.0, external).await? {
        return Err(Error::field("externalId", "scim-external-id-taken"));
    }
    Ok(())
}

/// A new group: a unit under the token's node, with its external id and its members moved
/// into it, in one transaction.
pub async fn create_group(ctx: &Ctx, actor: &Actor, input: &GroupInput) -> Result<Uuid> {
    let parent = actor.primary_scope().ok_or(Error::Forbidden)?.node_id;
    let name = input.display_name.as_deref().unwrap_or("");
    ctx.write(async |tx| {
        let id = node::create_unit_in(tx, ctx, actor, parent, name)
            .await
            .map_err(|e| match e {
                Error::Invalid(f) if f.iter().any(|f| f.code.contains("taken")) => {
                    Error::field("displayName", "error-taken")
                }
                Error::Invalid(_) => Error::field("displayName", "field-required"),
                other => other,
            })?;
        if let Some(Some(e)) = &input.external_id {
            let n = unit_in_scope(tx, actor, id.0).await?;
            set_external(tx, &n, Some(e)).await?;
        }
        for m in input.members.iter().flatten() {
            move_into(tx, ctx, actor, *m, id).await?;
        }
        Ok(id.0)
    })
    .await
}

/// Changes what the input names — the name, the external id, the members (those left out move
/// up to the unit's parent) — in one transaction: all of it, or nothing.
pub async fn set_group(
    ctx: &Ctx,
    actor: &Actor,
    id: Uuid,
    version: Option<i64>,
    input: &GroupInput,
) -> Result<()> {
    ctx.write(async |tx| {
        let n = unit_in_scope(tx, actor, id).await?;
        if version.is_some_and(|v| v != n.version) {
            return Err(Error::Conflict("api-if-match-stale"));
        }
        if let Some(external) = &input.external_id {
            set_external(tx, &n, external.as_deref()).await?;
        }
        if let Some(name) = &input.display_name
            && *name != n.name
        {
            node::rename_unit_in(tx, ctx, actor, n.id, n.version, name)
                .await
                .map_err(|e| match e {
                    Error::Invalid(_) => Error::field("displayName", "field-required"),
                    other => other,
                })?;
        }
        if let Some(members) = &input.members {
            let parent = n.parent_id.ok_or(Error::NotFound)?;
            for m in direct_members(tx, n.id.0).await? {
                if !members.iter().any(|x| x.id == m.id) {
                    move_into(tx, ctx, actor, m, parent).await?;
                }
            }
            for m in members {
                move_into(tx, ctx, actor, *m, n.id).await?;
            }
        }
        Ok(())
    })
    .await
}

/// Deletes a group: its members (users and units) move up to the parent first, in the same
/// transaction.
pub async fn delete_group(ctx: &Ctx, actor: &Actor, id: Uuid) -> Result<()> {
    ctx.write(async |tx| {
        let n = unit_in_scope(tx, actor, id).await?;
        let parent = n.parent_id.ok_or(Error::NotFound)?;
        for m in direct_members(tx, n.id.0).await? {
            move_into(tx, ctx, actor, m, parent).await?;
        }
        node::delete_unit_in(tx, ctx, actor, n.id).await
    })
    .await
}
