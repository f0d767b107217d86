//! Who is acting, and over what: the signed-in user with the scopes their grants give.

use crate::model::{Lang, NodeId, NodeKind, Timestamp, UserId};

/// A node subtree the actor administers.
#[derive(Clone, Debug)]
pub struct Scope {
    pub node_id: NodeId,
    pub kind: NodeKind,
    pub name: String,
    pub(crate) path: String,
}

/// The signed-in user behind a request, built from their session on every request.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: UserId,
    pub email: String,
    pub display_name: String,
    pub lang: Lang,
    pub node_id: NodeId,
    pub account_id: Option<NodeId>,
    /// Node subtrees administered, shallowest first.
    pub scopes: Vec<Scope>,
    /// The token every state-changing request of this session must carry.
    pub csrf_token: String,
    pub signed_in_at: Timestamp,
    pub(crate) session_hash: Vec<u8>,
}

impl Actor {
    /// Operator staff: administrators of the operator root.
    pub fn is_operator(&self) -> bool {
        self.scopes.iter().any(|s| s.kind == NodeKind::Operator)
    }

    /// Administers at least one node (account, unit or the operator root).
    pub fn is_administrator(&self) -> bool {
        !self.scopes.is_empty()
    }

    /// The widest subtree this actor administers, if any.
    pub fn primary_scope(&self) -> Option<&Scope> {
        self.scopes.first()
    }
}
