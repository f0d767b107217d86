//! Who may change whom. Reading follows where a user sits: their node lies in a subtree the
//! actor administers, or the actor was given "Access" to them. Changing needs rank as well: the
//! actor's authority must cover everything the target holds.
//!
//! - Through a node scope, every node the target administers (and the node of every user the
//!   target has Access to) must lie within a node the actor administers. An account
//!   Administrator holds their account, so only the account's administrators and operator staff
//!   outrank them; operator staff hold the operator root, so only operator staff outrank them.
//! - Through Access alone, the target must hold nothing: a delegate never covers a user who
//!   administers anything, is an Administrator, or is a system user with live API tokens.
//!
//! A target the actor may read but not change answers 403 and nothing changes; a target the
//! actor cannot read answers 404, like one that does not exist.

use uuid::Uuid;

use super::Actor;
use super::user::user_in_scope;
use crate::error::{Error, Result};
use crate::store::{self, Handle, node::NodeRow, user::UserRow};

/// What a change needs besides rank.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Need {
    /// A node scope or "Access" to the user (settings, services, password, notes, photo, …).
    Any,
    /// A node scope over the user's unit (status, delete, move, rights, tokens, sessions).
    Scope,
}

/// The user at `id` when the actor may change them: in reach as `need` says (else 404 when
/// out of sight, 403 when only Access reaches them where a scope is needed), and outranked
/// (else 403).
pub(crate) async fn user_to_change(
    h: &mut impl Handle,
    actor: &Actor,
    id: Uuid,
    need: Need,
    now: i64,
) -> Result<(UserRow, NodeRow)> {
    let (user, node) = user_in_scope(h, actor, id).await?;
    let by_scope = actor.administers_path(&node.path);
    if need == Need::Scope && !by_scope {
        return Err(Error::Forbidden);
    }
    if !outranks(h, actor, &user, by_scope, now).await? {
        return Err(Error::Forbidden);
    }
    Ok((user, node))
}

/// Whether the actor's authority covers everything `user` holds. `by_scope`: the actor reaches
/// the user through a node scope (else through Access alone).
pub(crate) async fn outranks(
    h: &mut impl Handle,
    actor: &Actor,
    user: &UserRow,
    by_scope: bool,
    now: i64,
) -> Result<bool> {
    let reach = store::grant::list_reach_of(h.ex(), user.id).await?;
    if !by_scope {
        let tokens = user.kind == "system"
            && store::api_token::has_live_tokens(h.ex(), user.id, now).await?;
        return Ok(reach.is_empty() && user.user_type != "administrator" && !tokens);
    }
    let covered = reach.iter().all(|r| {
        r.node_path
            .as_deref()
            .or(r.user_node_path.as_deref())
            .is_some_and(|p| actor.administers_path(p))
    });
    if !covered {
        return Ok(false);
    }
    // The user type Administrator is a grant on the account; it counts even if that grant
    // were missing.
    if user.user_type == "administrator" {
        let account = store::node::get_node(h.ex(), user.account_id).await?;
        return Ok(actor.administers_path(&account.path));
    }
    Ok(true)
}

/// Refuses (403) a change to `user`'s rights unless the actor covers everything they hold,
/// whether or not the user sits in the actor's sight (the administrators of a node are listed
/// on the node's page).
pub(crate) async fn require_outranks(
    h: &mut impl Handle,
    actor: &Actor,
    user: &UserRow,
    now: i64,
) -> Result<()> {
    if outranks(h, actor, user, true, now).await? {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}
