//! Who is acting, and over what: the signed-in user with the scopes their grants give.

use crate::error::Result;
use crate::model::{Lang, NodeId, NodeKind, Timestamp, UserId};
use crate::store::{self, Ex};

/// A node subtree the actor administers.
#[derive(Clone, Debug)]
pub struct Scope {
    pub node_id: NodeId,
    pub kind: NodeKind,
    pub name: String,
    pub(crate) path: String,
}

/// How far a session's sign-in has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Signed in.
    Full,
    /// The password was right; a second factor is still to be given.
    Mfa,
    /// The password was right; the policy requires a second factor the user has yet to set up.
    Enrol,
}

impl Stage {
    pub fn parse(s: &str) -> Stage {
        match s {
            "full" => Stage::Full,
            "enrol" => Stage::Enrol,
            _ => Stage::Mfa,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Full => "full",
            Stage::Mfa => "mfa",
            Stage::Enrol => "enrol",
        }
    }
}

/// How the actor proved who they are for this request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// A sign-in session of the portal.
    Session,
    /// An API token: its limits bind every token it creates.
    ApiToken(TokenLimits),
    /// HTTP Basic with a system user's login and secret.
    Basic,
    /// An identity provider's SCIM token, named by the administrator who made it.
    Scim { token_id: uuid::Uuid, name: String },
    /// `roster` commands on the server itself.
    CommandLine,
}

/// What an API token may do, as it was made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenLimits {
    pub id: uuid::Uuid,
    pub node: Option<NodeId>,
    pub read_only: bool,
    /// A token for the services' lookup only.
    pub lookup: bool,
    /// A token for the services' usage reports only.
    pub usage: bool,
    /// For a service's token, the path of the subtree it answers for (empty: nothing).
    pub reach: String,
    pub expires_at: Option<Timestamp>,
}

impl Credential {
    /// The id of the token behind the request, for the audit trail.
    pub fn token_id(&self) -> Option<uuid::Uuid> {
        match self {
            Credential::ApiToken(t) => Some(t.id),
            Credential::Scim { token_id, .. } => Some(*token_id),
            _ => None,
        }
    }
}

/// The signed-in user behind a request, built from their session on every request.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: UserId,
    pub email: String,
    pub display_name: String,
    pub lang: Lang,
    pub node_id: NodeId,
    /// The actor's tenant: their account, or the operator root for operator staff.
    pub account_id: NodeId,
    /// Node subtrees administered, shallowest first.
    pub scopes: Vec<Scope>,
    /// Single users administered through "Access".
    pub user_grants: Vec<UserId>,
    /// The token every state-changing request of this session must carry.
    pub csrf_token: String,
    pub signed_in_at: Timestamp,
    /// When the user last proved who they are in this session (sign-in or re-authentication).
    pub authenticated_at: Timestamp,
    /// The client address of the current request (for the audit trail).
    pub ip: String,
    /// The password was set by someone else (generated, or by an administrator): the user must
    /// choose their own before anything else.
    pub must_change_password: bool,
    /// Anything but `Full` opens only the rest of sign-in.
    pub stage: Stage,
    /// How this request was authenticated.
    pub credential: Credential,
    /// The public handle of the session (binds sign-in codes to this attempt).
    pub(crate) session_ref: uuid::Uuid,
    pub(crate) session_hash: Vec<u8>,
}

impl Actor {
    /// Operator staff: administrators of the operator root.
    pub fn is_operator(&self) -> bool {
        self.scopes.iter().any(|s| s.kind == NodeKind::Operator)
    }

    /// Administers at least one node or user.
    pub fn is_administrator(&self) -> bool {
        !self.scopes.is_empty() || !self.user_grants.is_empty()
    }

    /// The widest subtree this actor administers, if any.
    pub fn primary_scope(&self) -> Option<&Scope> {
        self.scopes.first()
    }

    /// Whether the node at `path` lies in a subtree this actor administers.
    pub(crate) fn administers_path(&self, path: &str) -> bool {
        self.scopes.iter().any(|s| path.starts_with(&s.path))
    }

    /// How the actor signs the messages they send: their friendly name ("" for none, and for the
    /// command line and the directory).
    pub(crate) async fn signature(&self, ex: Ex<'_>) -> Result<String> {
        if self.user_id.0.is_nil() {
            return Ok(String::new());
        }
        Ok(store::user::find_user(ex, self.user_id.0)
            .await?
            .map(|u| u.friendly_name)
            .unwrap_or_default())
    }

    /// The actor of `roster` commands run on the server itself: operator powers, no user.
    pub fn command_line(root: NodeId, root_path: String) -> Actor {
        Actor {
            user_id: UserId(uuid::Uuid::nil()),
            email: "command line".into(),
            display_name: "command line".into(),
            lang: Lang::En,
            node_id: root,
            account_id: root,
            scopes: vec![Scope {
                node_id: root,
                kind: NodeKind::Operator,
                name: "Operator".into(),
                path: root_path,
            }],
            user_grants: vec![],
            csrf_token: String::new(),
            signed_in_at: Timestamp::from_millis(0),
            authenticated_at: Timestamp::from_millis(i64::MAX / 2),
            ip: String::new(),
            must_change_password: false,
            stage: Stage::Full,
            credential: Credential::CommandLine,
            session_ref: uuid::Uuid::nil(),
            session_hash: vec![],
        }
    }

    /// The user id to write in the audit trail (none for the command line).
    pub(crate) fn audit_id(&self) -> Option<uuid::Uuid> {
        (!self.user_id.0.is_nil()).then_some(self.user_id.0)
    }
}
