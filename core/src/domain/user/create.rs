//! Add user: a person (invited, or with a password set now) or a system user, under a unit.

use serde_json::json;
use uuid::Uuid;

use super::profile::ProfileInput;
use super::{search_terms, user_json};
use crate::context::Ctx;
use crate::domain::node::node_in_scope;
use crate::domain::{Actor, audit};
use crate::error::{Error, Problems, Result};
use crate::model::{
    Email, NodeId, NodeKind, UserId, UserType, parse_line, parse_login, parse_text,
};
use crate::outbox::message::{self, Message};
use crate::password;
use crate::store::{self, Tx, node::NodeRow, user::UserRow};

pub const MESSAGE_MAX: usize = 1000;

/// How a new person gets in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum PasswordChoice {
    /// An invitation lets them choose their own password (the default).
    #[default]
    Invite,
    /// The administrator sets a password now (generated, kept or replaced); the user changes
    /// it at first sign-in. It is never emailed.
    SetNow(String),
}

/// What the Add user form carries, as typed.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    pub system: bool,
    pub profile: ProfileInput,
    pub email: String,
    pub login: String,
    pub message: String,
    pub services: Vec<String>,
    pub password: PasswordChoice,
    /// The friendly name (the Settings section sets it later; SCIM's `displayName`
    /// sets it at once).
    pub friendly_name: String,
    /// An identity provider creates this user and names it (SCIM): its userName is the
    /// provider's, kept beside the user.
    pub provider_named: bool,
    /// Created disabled (SCIM `active: false`): no invitation goes out until it is enabled and
    /// the invitation resent.
    pub disabled: bool,
}

#[derive(Debug, Clone)]
pub struct Created {
    pub id: UserId,
    /// A secret to show once: the system user's generated secret.
    pub secret: Option<String>,
}

/// A readable random password: four groups of four letters and digits (about 80 bits).
pub fn generate_password() -> Result<String> {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789";
    let mut bytes = [0u8; 16];
    crate::secret::fill_random(&mut bytes)?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// Adds a user under `node`. Checks scope (the node must be administered by the actor), the
/// role (Administrator only by someone who administers the whole account), every field, and
/// uniqueness; then writes the user, its grant, services, search terms, audit event and (for
/// an invitation) the outbox message, in one transaction.
pub async fn create_user(
    ctx: &Ctx,
    actor: &Actor,
    node: NodeId,
    input: &NewUser,
) -> Result<Created> {
    let checked = check_new_user(ctx, input).await?;
    let mut tx = ctx.db.begin().await?;
    let created = insert_new_user(&mut tx, ctx, actor, node, input, checked).await?;
    tx.commit().await?;
    Ok(created)
}

/// A new user's input, checked, with what was derived from it (hashes are made outside any
/// transaction).
pub(crate) struct CheckedUser {
    email: Option<Email>,
    login: Option<String>,
    profile: super::profile::Profile,
    friendly_name: String,
    message: String,
    set_now: Option<String>,
    system_secret: Option<String>,
    hash: Option<String>,
}

/// Checks every field of a new user (each problem on its field) and hashes its password.
pub(crate) async fn check_new_user(ctx: &Ctx, input: &NewUser) -> Result<CheckedUser> {
    let mut p = Problems::default();
    let (email, login) = if input.system {
        (None, p.check(parse_login("login", &input.login)))
    } else {
        (p.check(Email::parse("email", &input.email)), None)
    };
    let profile = input.profile.check(&mut p, input.system);
    let message = p
        .check(parse_text("message", &input.message, MESSAGE_MAX))
        .unwrap_or_default();
    let friendly_name = p
        .check(parse_line("friendly_name", &input.friendly_name, 100))
        .unwrap_or_default();
    for s in &input.services {
        if !ctx.settings.catalog.has(s) {
            p.add("services", "field-service-unknown");
        }
    }
    let set_now = match &input.password {
        PasswordChoice::SetNow(pw) if !input.system => {
            p.check(password::check_new(
                "password",
                pw,
                email.as_ref().map(Email::as_str),
            ));
            Some(pw.clone())
        }
        _ => None,
    };
    p.finish()?;

    let system_secret = if input.system {
        Some(crate::secret::new_token()?)
    } else {
        None
    };
    let hash = match (&set_now, &system_secret) {
        (Some(pw), _) | (None, Some(pw)) => Some(crate::domain::hasher::hash(ctx, pw).await?),
        _ => None,
    };
    Ok(CheckedUser {
        email,
        login,
        profile,
        friendly_name,
        message,
        set_now,
        system_secret,
        hash,
    })
}

/// Writes a checked new user inside `tx`: scope, uniqueness, the row, its unit's count, its
/// role, services, search terms, the invitation (through the outbox) and the audit event.
pub(crate) async fn insert_new_user(
    tx: &mut Tx,
    ctx: &Ctx,
    actor: &Actor,
    node: NodeId,
    input: &NewUser,
    checked: CheckedUser,
) -> Result<Created> {
    let mut unit = NewUsersUnit::open(tx, actor, node).await?;
    let created = unit.insert(tx, ctx, actor, input, checked).await?;
    unit.close(tx).await?;
    Ok(created)
}

/// The unit new users go to, checked once for a whole batch of them (a `/Bulk` run of
/// creates): in the actor's scope, its account, the inviter's signature, and how many were
/// added (its count is adjusted once, last).
pub(crate) struct NewUsersUnit {
    node: NodeRow,
    tenant: NodeRow,
    signature: Option<String>,
    added: i64,
}

impl NewUsersUnit {
    pub(crate) async fn open(tx: &mut Tx, actor: &Actor, node: NodeId) -> Result<NewUsersUnit> {
        let node = node_in_scope(tx.ex(), actor, node.0).await?;
        if node.kind == NodeKind::Operator.as_str() && !actor.is_operator() {
            return Err(Error::NotFound);
        }
        let tenant = if node.id == node.account_id {
            node.clone()
        } else {
            store::node::get_node(tx.ex(), node.account_id).await?
        };
        Ok(NewUsersUnit {
            node,
            tenant,
            signature: None,
            added: 0,
        })
    }

    /// Adjusts the unit's count. Last: the unit's row stays locked (PostgreSQL) only until the
    /// commit that follows.
    pub(crate) async fn close(self, tx: &mut Tx) -> Result<()> {
        if self.added > 0 {
            store::node::adjust_user_count(tx.ex(), self.node.id, self.added).await?;
        }
        Ok(())
    }

    /// One checked new user into the unit.
    pub(crate) async fn insert(
        &mut self,
        tx: &mut Tx,
        ctx: &Ctx,
        actor: &Actor,
        input: &NewUser,
        checked: CheckedUser,
    ) -> Result<Created> {
        let CheckedUser {
            email,
            login,
            profile,
            friendly_name,
            message,
            set_now,
            system_secret,
            hash,
        } = checked;
        let now = ctx.clock.now();
        let (node, tenant) = (&self.node, &self.tenant);
        let user_type = profile.user_type;
        if user_type == UserType::Administrator && !actor.administers_path(&tenant.path) {
            return Err(Error::Forbidden);
        }
        // A taken address or login is refused by the unique index at the insert below; an
        // alias or a public address is looked up.
        if let Some(e) = &email
            && crate::domain::address::used_beside_sign_in(tx, e.as_str()).await?
        {
            return Err(crate::domain::email::address_taken(actor));
        }
        let id = Uuid::now_v7();
        let invited = !input.system && set_now.is_none() && !input.disabled;
        let mut row = UserRow {
            id,
            node_id: node.id,
            account_id: node.account_id,
            kind: if input.system { "system" } else { "person" }.into(),
            email: email.as_ref().map(|e| e.as_str().to_string()),
            email_verified: false,
            email_pending: None,
            login: login.clone(),
            first_name: String::new(),
            last_name: String::new(),
            friendly_name,
            sort_name: String::new(),
            phone: None,
            country_code: String::new(),
            language: String::new(),
            user_type: String::new(),
            status: if input.disabled {
                "disabled"
            } else if invited {
                "invited"
            } else {
                "active"
            }
            .into(),
            password_hash: hash,
            password_must_change: set_now.is_some(),
            notes: String::new(),
            receive_invoices: false,
            notifications_enabled: false,
            notify_email: false,
            notify_sms: false,
            mfa_required: false,
            invite_message: if invited { message } else { String::new() },
            version: 1,
            created_at: now.millis(),
            updated_at: now.millis(),
        };
        profile.apply(&mut row);
        let result = store::user::insert_user(tx.ex(), &row, input.provider_named).await;
        if let Err(Error::Conflict(_)) = result {
            // The unique index refuses an address or login another user has.
            return Err(if input.system {
                Error::field("login", "error-login-taken")
            } else {
                crate::domain::email::address_taken(actor)
            });
        }
        result?;
        if user_type == UserType::Administrator {
            store::grant::insert_node_grant(
                tx.ex(),
                id,
                "administrator",
                tenant.id,
                actor.audit_id(),
                now.millis(),
            )
            .await?;
        }
        let configured = ctx.settings.catalog.ids();
        let services: Vec<String> = configured
            .iter()
            .filter(|s| input.services.contains(s))
            .cloned()
            .collect();
        if !services.is_empty() {
            store::user::set_services(tx.ex(), id, &services, &configured).await?;
        }
        // A new user has no terms yet: one insert of them all.
        let terms: Vec<(Uuid, String)> = search_terms(&row).into_iter().map(|t| (id, t)).collect();
        store::user::insert_terms_bulk(tx.ex(), row.account_id, &terms).await?;
        if invited {
            let signature = match &self.signature {
                Some(s) => s.clone(),
                None => actor.signature(tx.ex()).await?,
            };
            self.signature = Some(signature.clone());
            let invitation = Message::Invitation {
                inviter: actor.display_name.clone(),
                signature,
            };
            message::enqueue(
                tx.ex(),
                &invitation,
                row.email.as_deref().unwrap_or(""),
                id,
                node.id,
                now,
            )
            .await?;
        }
        let mut after = user_json(&row);
        after["services"] = json!(services);
        audit::Event::new(actor, "user.create")
            .target("user", id, Some(node.id))
            .after(after)
            .write(tx.ex(), now)
            .await?;
        self.added += 1;
        Ok(Created {
            id: UserId(id),
            secret: system_secret,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_passwords_are_readable_and_distinct() {
        let a = super::generate_password().unwrap();
        let b = super::generate_password().unwrap();
        assert_eq!(a.len(), 19);
        assert_eq!(a.matches('-').count(), 3);
        assert_ne!(a, b);
        assert!(crate::password::check_new("password", &a, None).is_ok());
    }
}
