//! SCIM 2.0 provisioning (RFC 7643/7644): an identity provider holds one token per account (or
//! unit) and provisions person users into it. Every change goes through the same domain
//! functions as the portal (scope, unique email, last administrator, invitation by outbox).
//!
//! Mapping of a Roster user to the core User schema and the enterprise extension:
//! `userName` and the primary work `emails` value = the email address; `name.givenName`,
//! `name.familyName`; `displayName` = the friendly name (else the full name); `phoneNumbers`
//! (mobile, E.164); `preferredLanguage` = the language; `userType` = Administrator or User;
//! `active` = not disabled (an invited user is active: they may still accept); `externalId` =
//! the provider's id; enterprise `department` = the user's unit, `organization` = the account.

use serde_json::{Value, json};
use uuid::Uuid;

use super::actor::{Scope, Stage};
use super::user::{self, NewUser, PasswordChoice, ProfileInput, SettingsInput, UserDetail};
use super::{Actor, audit};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::model::{Lang, NodeId, NodeKind, Timestamp, UserId, UserStatus, UserType};
use crate::scim::filter::Filter;
use crate::secret;
use crate::store;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Roster's own extension: whether a new user gets an invitation email (default true).
pub const ROSTER_EXT: &str = "urn:roster:params:scim:schemas:extension:2.0:User";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const TOKEN_PREFIX: &str = "scim_";
/// Users examined for a filter that no index answers.
const SCAN_LIMIT: usize = 100_000;

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
    audit::record(
        tx.ex(),
        actor,
        now,
        "scim.token.create",
        "node",
        row.id,
        Some(row.id),
        json!(null),
        json!({ "token": id.to_string(), "name": name }),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// The provider behind a SCIM bearer token: an actor administering the token's node only.
pub async fn authenticate(ctx: &Ctx, token: &str, ip: &str) -> Result<Actor> {
    let now = ctx.clock.now();
    let mut conn = ctx.db.conn().await?;
    let row = store::scim::find_token(conn.ex(), &secret::hash_token(token))
        .await?
        .filter(|r| r.revoked_at.is_none())
        .ok_or(Error::Unauthenticated("api-auth-failed"))?;
    let node = store::node::get_node(conn.ex(), row.node_id).await?;
    drop(conn);
    if row.last_used_at.is_none_or(|t| now.millis() - t >= 60_000) {
        let mut tx = ctx.db.begin().await?;
        store::scim::touch_token(tx.ex(), row.id, now.millis()).await?;
        tx.commit().await?;
    }
    Ok(Actor {
        user_id: UserId(Uuid::nil()),
        email: "scim".into(),
        display_name: "SCIM".into(),
        lang: Lang::En,
        node_id: NodeId(node.id),
        account_id: NodeId(node.account_id),
        scopes: vec![Scope {
            node_id: NodeId(node.id),
            kind: NodeKind::parse(&node.kind).unwrap_or(NodeKind::Unit),
            name: node.name.clone(),
            path: node.path.clone(),
        }],
        user_grants: vec![],
        csrf_token: String::new(),
        signed_in_at: now,
        authenticated_at: now,
        ip: ip.to_string(),
        must_change_password: false,
        stage: Stage::Full,
        session_ref: Uuid::nil(),
        session_hash: vec![],
    })
}

fn ts(t: Timestamp) -> String {
    t.to_rfc3339()
}

/// A user as SCIM shows it.
pub fn user_json(d: &UserDetail, external_id: Option<&str>, account: &str, base: &str) -> Value {
    let formatted = format!("{} {}", d.first_name, d.last_name)
        .trim()
        .to_string();
    let mut v = json!({
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "id": d.id.0.to_string(),
        "userName": d.email,
        "name": {"givenName": d.first_name, "familyName": d.last_name, "formatted": formatted},
        "displayName": if d.friendly_name.is_empty() { formatted.clone() } else { d.friendly_name.clone() },
        "emails": [{"value": d.email, "type": "work", "primary": true}],
        "preferredLanguage": d.language,
        "userType": if d.user_type == UserType::Administrator { "Administrator" } else { "User" },
        "active": d.status != UserStatus::Disabled,
        ENTERPRISE: {"department": d.node_name, "organization": account},
        "meta": {
            "resourceType": "User",
            "created": ts(d.created_at),
            "lastModified": ts(d.updated_at),
            "version": format!("W/\"v{}\"", d.version),
            "location": format!("{base}/Users/{}", d.id.0),
        }
    });
    if !d.phone.is_empty() {
        v["phoneNumbers"] = json!([{"value": d.phone, "type": "mobile", "primary": true}]);
    }
    if let Some(e) = external_id {
        v["externalId"] = json!(e);
    }
    v
}

/// One user in the token's scope, as SCIM JSON.
pub async fn get_user(ctx: &Ctx, actor: &Actor, id: Uuid, base: &str) -> Result<(Value, i64)> {
    let d = user::get_user(ctx, actor, UserId(id)).await?;
    if d.is_system {
        return Err(Error::NotFound);
    }
    let (external, account) = {
        let mut conn = ctx.db.conn().await?;
        let e = store::scim::external_id(conn.ex(), d.id.0).await?;
        let a = store::node::get_node(conn.ex(), d.account_id.0).await?;
        (e, a.name)
    };
    Ok((
        user_json(&d, external.as_deref(), &account, base),
        d.version,
    ))
}

/// The users matching a filter, sorted by name: (total, the page from `start` (1-based)).
pub async fn list_users(
    ctx: &Ctx,
    actor: &Actor,
    filter: Option<&Filter>,
    start: usize,
    count: usize,
    base: &str,
) -> Result<(usize, Vec<Value>)> {
    let scope = actor.primary_scope().ok_or(Error::Forbidden)?.clone();
    // `userName eq` is answered from the email index, at any size.
    let candidates: Vec<UserId> = match filter.and_then(Filter::user_name_eq) {
        Some(name) => {
            let mut conn = ctx.db.conn().await?;
            let found =
                store::user::find_user_by_email(conn.ex(), &name.trim().to_lowercase()).await?;
            match found {
                Some(u) => {
                    let node = store::node::get_node(conn.ex(), u.node_id).await?;
                    if node.path.starts_with(&scope.path) && u.kind == "person" {
                        vec![UserId(u.id)]
                    } else {
                        vec![]
                    }
                }
                None => vec![],
            }
        }
        None => {
            let mut ids = vec![];
            let mut f = user::ListFilter {
                node: Some(scope.node_id),
                ..Default::default()
            };
            loop {
                let page = user::list_users(ctx, actor, &f).await?;
                ids.extend(page.users.iter().filter(|u| !u.is_system).map(|u| u.id));
                match page.next {
                    Some(n) if ids.len() < SCAN_LIMIT => f.after = Some(n),
                    _ => break,
                }
            }
            ids
        }
    };
    let mut matching = vec![];
    for id in candidates {
        let (v, _) = get_user(ctx, actor, id.0, base).await?;
        if filter.is_none_or(|f| f.matches(&v)) {
            matching.push(v);
        }
    }
    let total = matching.len();
    let page = matching
        .into_iter()
        .skip(start.saturating_sub(1))
        .take(count)
        .collect();
    Ok((total, page))
}

/// The fields a provider sends for a user (create and replace).
#[derive(Debug, Clone, Default)]
pub struct ScimUserInput {
    pub user_name: String,
    pub given_name: String,
    pub family_name: String,
    pub display_name: String,
    pub phone: String,
    pub language: String,
    pub administrator: bool,
    pub active: bool,
    pub external_id: Option<String>,
    pub invite: bool,
}

fn text(v: &Value, path: &[&str]) -> String {
    let mut cur = v;
    for p in path {
        let next = cur.as_object().and_then(|o| {
            o.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(p))
                .map(|(_, v)| v)
        });
        match next {
            Some(n) => cur = n,
            None => return String::new(),
        }
    }
    cur.as_str().unwrap_or_default().to_string()
}

fn primary_value(v: &Value, attr: &str) -> String {
    let list = v
        .as_object()
        .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(attr)))
        .and_then(|(_, v)| v.as_array());
    let Some(list) = list else {
        return String::new();
    };
    list.iter()
        .find(|e| e["primary"].as_bool() == Some(true))
        .or_else(|| list.first())
        .and_then(|e| e["value"].as_str())
        .unwrap_or_default()
        .to_string()
}

impl ScimUserInput {
    /// Reads a SCIM User body; `userName` is required (RFC 7643 §4.1.1).
    pub fn from_json(v: &Value) -> Result<ScimUserInput> {
        if !v.is_object() {
            return Err(Error::field("userName", "field-required"));
        }
        let user_name = text(v, &["userName"]);
        if user_name.trim().is_empty() {
            return Err(Error::field("userName", "field-required"));
        }
        let active = v
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case("active")))
            .map(|(_, v)| v.as_bool().unwrap_or(true))
            .unwrap_or(true);
        Ok(ScimUserInput {
            user_name,
            given_name: text(v, &["name", "givenName"]),
            family_name: text(v, &["name", "familyName"]),
            display_name: text(v, &["displayName"]),
            phone: primary_value(v, "phoneNumbers"),
            language: text(v, &["preferredLanguage"]),
            administrator: text(v, &["userType"]).eq_ignore_ascii_case("administrator"),
            active,
            external_id: Some(text(v, &["externalId"])).filter(|e| !e.is_empty()),
            invite: v[ROSTER_EXT]["sendInvitation"].as_bool().unwrap_or(true),
        })
    }

    fn profile(&self) -> ProfileInput {
        let language = Lang::parse(
            &self
                .language
                .to_lowercase()
                .chars()
                .take(2)
                .collect::<String>(),
        )
        .unwrap_or_default();
        ProfileInput {
            first_name: self.given_name.clone(),
            last_name: self.family_name.clone(),
            user_type: if self.administrator {
                "administrator"
            } else {
                "user"
            }
            .into(),
            language: language.code().into(),
            country_code: String::new(),
            phone_country: String::new(),
            phone_number: self.phone.clone(),
            ..Default::default()
        }
    }
}

async fn set_external(ctx: &Ctx, d: &UserDetail, external: Option<&str>) -> Result<()> {
    let mut tx = ctx.db.begin().await?;
    if !store::scim::set_external_id(tx.ex(), d.id.0, d.account_id.0, external).await? {
        return Err(Error::Conflict("scim-external-id-taken"));
    }
    tx.commit().await
}

/// Provisions a new person user into the token's node.
pub async fn create_user(ctx: &Ctx, actor: &Actor, input: &ScimUserInput) -> Result<UserId> {
    let node = actor.primary_scope().ok_or(Error::Forbidden)?.node_id;
    let created = user::create_user(
        ctx,
        actor,
        node,
        &NewUser {
            system: false,
            profile: input.profile(),
            email: input.user_name.clone(),
            login: String::new(),
            message: String::new(),
            services: vec![],
            password: if input.invite {
                PasswordChoice::Invite
            } else {
                PasswordChoice::SetNow(user::generate_password()?)
            },
        },
    )
    .await?;
    let d = user::get_user(ctx, actor, created.id).await?;
    if let Some(e) = &input.external_id {
        set_external(ctx, &d, Some(e)).await?;
    }
    if !input.active {
        user::set_status(ctx, actor, created.id, d.version, false).await?;
    }
    Ok(created.id)
}

/// Replaces a user's provisioned fields (PUT), or applies a PATCH's result.
pub async fn replace_user(
    ctx: &Ctx,
    actor: &Actor,
    id: Uuid,
    version: Option<i64>,
    input: &ScimUserInput,
) -> Result<()> {
    let id = UserId(id);
    let d = user::get_user(ctx, actor, id).await?;
    if d.is_system {
        return Err(Error::NotFound);
    }
    if version.is_some_and(|v| v != d.version) {
        return Err(Error::Conflict("api-if-match-stale"));
    }
    if !input.user_name.eq_ignore_ascii_case(&d.email) {
        return Err(Error::field("userName", "scim-username-immutable"));
    }
    let mut profile = input.profile();
    profile.country_code = d.country_code.clone();
    profile.phone_country = d.country_code.clone();
    profile.notifications_enabled = d.notifications_enabled;
    profile.notify_email = d.notify_email;
    profile.notify_sms = d.notify_sms && !input.phone.is_empty();
    profile.receive_invoices = d.receive_invoices && input.administrator;
    user::update_settings(
        ctx,
        actor,
        id,
        d.version,
        &SettingsInput {
            profile,
            friendly_name: input.display_name.clone(),
            mfa_required: d.mfa_required,
        },
    )
    .await?;
    let d = user::get_user(ctx, actor, id).await?;
    set_external(ctx, &d, input.external_id.as_deref()).await?;
    let active = d.status != UserStatus::Disabled;
    if active != input.active {
        user::set_status(ctx, actor, id, d.version, input.active).await?;
    }
    Ok(())
}

/// Deletes a provisioned user (person users only: system users are the API's, not SCIM's).
pub async fn delete_user(ctx: &Ctx, actor: &Actor, id: Uuid) -> Result<()> {
    let d = user::get_user(ctx, actor, UserId(id)).await?;
    if d.is_system {
        return Err(Error::NotFound);
    }
    user::delete_user(ctx, actor, UserId(id)).await
}

// ---------------------------------------------------------------------------------------------
// Groups: the units below the token's node. A user belongs to exactly one unit, so adding a
// member to a group moves the user into that unit, and removing one moves the user up to the
// unit's parent.

pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

async fn direct_members(ctx: &Ctx, actor: &Actor, unit: NodeId) -> Result<Vec<(UserId, String)>> {
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
                .map(|u| (u.id, u.email.clone())),
        );
        match page.next {
            Some(n) if out.len() < SCAN_LIMIT => f.after = Some(n),
            _ => break,
        }
    }
    Ok(out)
}

async fn unit_in_scope(ctx: &Ctx, actor: &Actor, id: Uuid) -> Result<super::node::NodeView> {
    let n = super::node::get_node(ctx, actor, NodeId(id)).await?;
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
        .map(|(u, email)| {
            json!({"value": u.0.to_string(), "display": email, "type": "User",
                   "$ref": format!("{base}/Users/{}", u.0)})
        })
        .collect();
    let v = json!({
        "schemas": [GROUP_SCHEMA],
        "id": n.id.0.to_string(),
        "displayName": n.name,
        "members": members,
        "meta": {
            "resourceType": "Group",
            "created": ts(n.created_at),
            "lastModified": ts(n.created_at),
            "version": format!("W/\"v{}\"", n.version),
            "location": format!("{base}/Groups/{}", n.id.0),
        }
    });
    Ok((v, n.version))
}

/// Every group below the token's node.
pub async fn list_groups(ctx: &Ctx, actor: &Actor, base: &str) -> Result<Vec<Value>> {
    let scope = actor.primary_scope().ok_or(Error::Forbidden)?.node_id;
    let tree = super::node::tree(ctx, actor, Some(scope)).await?;
    let mut out = vec![];
    for t in tree {
        if t.node.kind == NodeKind::Unit && t.node.id != scope {
            out.push(get_group(ctx, actor, t.node.id.0, base).await?.0);
        }
    }
    Ok(out)
}

async fn move_into(ctx: &Ctx, actor: &Actor, user: Uuid, node: NodeId) -> Result<()> {
    let d = user::get_user(ctx, actor, UserId(user)).await?;
    if d.is_system {
        return Err(Error::field("members", "error-not-found"));
    }
    if d.node_id != node {
        user::move_user(ctx, actor, UserId(user), d.version, node).await?;
    }
    Ok(())
}

/// A new group: a unit under the token's node, with its members moved into it.
pub async fn create_group(
    ctx: &Ctx,
    actor: &Actor,
    display_name: &str,
    members: &[Uuid],
) -> Result<Uuid> {
    let parent = actor.primary_scope().ok_or(Error::Forbidden)?.node_id;
    let id = super::node::create_unit(ctx, actor, parent, display_name)
        .await
        .map_err(|e| match e {
            Error::Invalid(_) => Error::field("displayName", "field-required"),
            other => other,
        })?;
    for m in members {
        move_into(ctx, actor, *m, id).await?;
    }
    Ok(id.0)
}

/// Renames a group and/or sets its members (those left out move up to the unit's parent).
pub async fn set_group(
    ctx: &Ctx,
    actor: &Actor,
    id: Uuid,
    version: Option<i64>,
    display_name: Option<&str>,
    members: Option<&[Uuid]>,
) -> Result<()> {
    let n = unit_in_scope(ctx, actor, id).await?;
    if version.is_some_and(|v| v != n.version) {
        return Err(Error::Conflict("api-if-match-stale"));
    }
    if let Some(name) = display_name
        && name != n.name
    {
        super::node::rename_unit(ctx, actor, n.id, n.version, name).await?;
    }
    if let Some(members) = members {
        let parent = n.parent_id.ok_or(Error::NotFound)?;
        for (u, _) in direct_members(ctx, actor, n.id).await? {
            if !members.contains(&u.0) {
                move_into(ctx, actor, u.0, parent).await?;
            }
        }
        for m in members {
            move_into(ctx, actor, *m, n.id).await?;
        }
    }
    Ok(())
}

/// Adds members (moves them in) or removes them (moves them up).
pub async fn change_members(
    ctx: &Ctx,
    actor: &Actor,
    id: Uuid,
    add: &[Uuid],
    remove: &[Uuid],
) -> Result<()> {
    let n = unit_in_scope(ctx, actor, id).await?;
    let parent = n.parent_id.ok_or(Error::NotFound)?;
    for m in add {
        move_into(ctx, actor, *m, n.id).await?;
    }
    let current: Vec<Uuid> = direct_members(ctx, actor, n.id)
        .await?
        .into_iter()
        .map(|(u, _)| u.0)
        .collect();
    for m in remove.iter().filter(|m| current.contains(m)) {
        move_into(ctx, actor, *m, parent).await?;
    }
    Ok(())
}

/// Deletes a group: its members move up to the parent first; sub-units keep it (409).
pub async fn delete_group(ctx: &Ctx, actor: &Actor, id: Uuid) -> Result<()> {
    let n = unit_in_scope(ctx, actor, id).await?;
    let parent = n.parent_id.ok_or(Error::NotFound)?;
    for (u, _) in direct_members(ctx, actor, n.id).await? {
        move_into(ctx, actor, u.0, parent).await?;
    }
    super::node::delete_unit(ctx, actor, n.id).await
}
