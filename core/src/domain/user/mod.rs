//! Users: adding, the user page's sections, the list, and who may administer whom.

mod access;
mod create;
mod edit;
mod list;
mod photo;
mod profile;
mod update;

pub use access::{
    AccessHolder, Reach, add_access, add_node_admin, list_access, list_node_admins, remove_access,
    remove_node_admin, who_can_administer,
};
pub use create::{Created, NewUser, PasswordChoice, create_user, generate_password};
pub(crate) use create::{NewUsersUnit, check_new_user};
pub use edit::{delete_user, set_own_language, set_password};
pub use list::{ListFilter, ListPage, ListSort, UserListItem, list_delegated_users, list_users};
pub use photo::{MAX_PHOTO_BYTES, Photo, get_photo, remove_photo, set_photo};
pub use profile::ProfileInput;
pub(crate) use update::update_user_in;
pub use update::{EmailChange, UserChange, update_user};

use serde_json::json;
use uuid::Uuid;

use crate::context::Ctx;
use crate::domain::Actor;
use crate::error::{Error, Result};
use crate::model::{NodeId, Timestamp, UserId, UserStatus, UserType};

/// The longest notes an administrator may keep about a user.
pub const NOTES_MAX: usize = 4000;
use crate::store::{self, Ex, node::NodeRow, user::UserRow};

/// Everything the user page shows (notes only to administrators: this is their view).
#[derive(Debug, Clone)]
pub struct UserDetail {
    pub id: UserId,
    pub is_system: bool,
    pub node_id: NodeId,
    pub node_name: String,
    pub account_id: NodeId,
    pub email: String,
    pub email_pending: String,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub friendly_name: String,
    pub phone: String,
    pub country_code: String,
    /// The account's default country: the calling code offered when the user has none.
    pub account_country: String,
    pub language: String,
    pub user_type: UserType,
    pub status: UserStatus,
    pub notes: String,
    pub receive_invoices: bool,
    pub notifications_enabled: bool,
    pub notify_email: bool,
    pub notify_sms: bool,
    /// "Multifactor Authentication": this user must use a second factor, whatever the policy says.
    pub mfa_required: bool,
    pub password_must_change: bool,
    pub services: Vec<String>,
    pub has_photo: bool,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// The actor administers this user through a node scope (not only through "Access").
    pub managed_by_scope: bool,
    /// The actor may make this user an Administrator (administers the whole account).
    pub can_set_role: bool,
}

impl UserDetail {
    pub fn display_name(&self) -> String {
        let name = format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_string();
        if !name.is_empty() {
            name
        } else if !self.email.is_empty() {
            self.email.clone()
        } else {
            self.login.clone()
        }
    }
}

/// The user at `id` when the actor administers them (through a node scope or "Access"),
/// with their node; NotFound otherwise.
pub(crate) async fn user_in_scope(
    ex: &mut impl crate::store::Handle,
    actor: &Actor,
    id: Uuid,
) -> Result<(UserRow, NodeRow)> {
    let user = store::user::find_user(ex.ex(), id)
        .await?
        .ok_or(Error::NotFound)?;
    let node = store::node::get_node(ex.ex(), user.node_id).await?;
    if actor.administers_path(&node.path) || actor.user_grants.contains(&UserId(id)) {
        Ok((user, node))
    } else {
        Err(Error::NotFound)
    }
}

/// The caller's own record (every user may read themself), else a user in scope.
pub async fn get_own_detail(ctx: &Ctx, actor: &Actor, id: UserId) -> Result<UserDetail> {
    if id != actor.user_id {
        return get_user(ctx, actor, id).await;
    }
    let mut conn = ctx.db.conn().await?;
    let user = store::user::find_user(conn.ex(), id.0)
        .await?
        .ok_or(Error::NotFound)?;
    let node = store::node::get_node(conn.ex(), user.node_id).await?;
    let services = store::user::list_services(conn.ex(), user.id).await?;
    let has_photo = store::user::find_photo(conn.ex(), user.id).await?.is_some();
    let tenant = store::node::get_node(conn.ex(), user.account_id).await?;
    Ok(detail(
        user,
        node.name,
        tenant.default_country,
        services,
        has_photo,
        actor.administers_path(&node.path),
        actor.administers_path(&tenant.path),
    ))
}

/// The user page's data.
pub async fn get_user(ctx: &Ctx, actor: &Actor, id: UserId) -> Result<UserDetail> {
    let mut conn = ctx.db.conn().await?;
    let (user, node) = user_in_scope(&mut conn, actor, id.0).await?;
    let services = store::user::list_services(conn.ex(), user.id).await?;
    let has_photo = store::user::find_photo(conn.ex(), user.id).await?.is_some();
    let tenant = store::node::get_node(conn.ex(), user.account_id).await?;
    Ok(detail(
        user,
        node.name,
        tenant.default_country,
        services,
        has_photo,
        actor.administers_path(&node.path),
        actor.administers_path(&tenant.path),
    ))
}

/// A user's data as the user page has it, without services and photo (which SCIM does not
/// show), for a user already found in scope.
pub(crate) fn detail_of(u: UserRow, node_name: String) -> UserDetail {
    detail(u, node_name, String::new(), vec![], false, true, false)
}

fn detail(
    u: UserRow,
    node_name: String,
    account_country: String,
    services: Vec<String>,
    has_photo: bool,
    by_scope: bool,
    can_set_role: bool,
) -> UserDetail {
    UserDetail {
        id: UserId(u.id),
        is_system: u.kind == "system",
        node_id: NodeId(u.node_id),
        node_name,
        account_id: NodeId(u.account_id),
        email: u.email.unwrap_or_default(),
        email_pending: u.email_pending.unwrap_or_default(),
        login: u.login.unwrap_or_default(),
        first_name: u.first_name,
        last_name: u.last_name,
        friendly_name: u.friendly_name,
        phone: u.phone.unwrap_or_default(),
        country_code: u.country_code,
        account_country,
        language: u.language,
        user_type: UserType::parse(&u.user_type).unwrap_or(UserType::User),
        status: UserStatus::parse(&u.status).unwrap_or(UserStatus::Disabled),
        notes: u.notes,
        receive_invoices: u.receive_invoices,
        notifications_enabled: u.notifications_enabled,
        notify_email: u.notify_email,
        notify_sms: u.notify_sms,
        mfa_required: u.mfa_required,
        password_must_change: u.password_must_change,
        services,
        has_photo,
        version: u.version,
        created_at: Timestamp::from_millis(u.created_at),
        updated_at: Timestamp::from_millis(u.updated_at),
        managed_by_scope: by_scope,
        can_set_role,
    }
}

/// The audit view of a user: every field people edit, never a secret.
pub(crate) fn user_json(u: &UserRow) -> serde_json::Value {
    json!({
        "kind": u.kind, "node": u.node_id.to_string(), "email": u.email, "login": u.login,
        "first_name": u.first_name, "last_name": u.last_name, "friendly_name": u.friendly_name,
        "phone": u.phone, "country_code": u.country_code, "language": u.language,
        "user_type": u.user_type, "status": u.status, "receive_invoices": u.receive_invoices,
        "notifications_enabled": u.notifications_enabled, "notify_email": u.notify_email,
        "notify_sms": u.notify_sms, "password_must_change": u.password_must_change,
    })
}

/// Lower-case "last first" (or the login), the key the list sorts by.
pub(crate) fn sort_name(first: &str, last: &str, fallback: &str) -> String {
    let s = format!("{} {}", last.trim(), first.trim())
        .trim()
        .to_lowercase();
    if s.is_empty() {
        fallback.to_lowercase()
    } else {
        s
    }
}

/// The words a user is found by: names, friendly name, the email (whole, name part, domain)
/// and the login; lower case, at most 64 characters each.
pub(crate) fn search_terms(u: &UserRow) -> Vec<String> {
    let mut terms = vec![];
    for text in [&u.first_name, &u.last_name, &u.friendly_name] {
        terms.extend(text.split_whitespace().map(str::to_lowercase));
    }
    if let Some(email) = &u.email {
        terms.push(email.clone());
        if let Some((local, domain)) = email.split_once('@') {
            terms.push(local.to_string());
            terms.push(domain.to_string());
        }
    }
    if let Some(login) = &u.login {
        terms.push(login.clone());
    }
    let mut terms: Vec<String> = terms
        .into_iter()
        .filter(|t| !t.is_empty())
        .map(|t| t.chars().take(64).collect())
        .collect();
    terms.sort();
    terms.dedup();
    terms
}

/// Refuses a change that would leave the user's account without an active administrator.
/// Locks the account first so that two concurrent removals cannot both pass.
pub(crate) async fn keep_an_admin(
    ex: &mut crate::store::Tx,
    user: &UserRow,
    removes_admin: bool,
) -> Result<()> {
    if !removes_admin || user.user_type != "administrator" || user.status != "active" {
        return Ok(());
    }
    store::node::lock_node(ex.ex(), user.account_id).await?;
    if store::grant::count_active_admins_of_node(ex.ex(), user.account_id).await? <= 1 {
        return Err(Error::Conflict("error-last-admin"));
    }
    Ok(())
}

/// Writes the user when the version still matches: a stale edit changes nothing.
pub(crate) async fn save(ex: Ex<'_>, user: &UserRow, version: i64) -> Result<()> {
    if store::user::update_user(ex, user, version).await? {
        Ok(())
    } else {
        Err(Error::Conflict("error-changed-meanwhile"))
    }
}

/// For the set-up of the first administrator (outside this module's commands).
pub(crate) fn sort_name_of(first: &str, last: &str, fallback: &str) -> String {
    sort_name(first, last, fallback)
}

pub(crate) fn search_terms_of(u: &UserRow) -> Vec<String> {
    search_terms(u)
}

pub(crate) fn user_json_of(u: &UserRow) -> serde_json::Value {
    user_json(u)
}
