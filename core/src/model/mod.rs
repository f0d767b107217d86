//! Typed values, parsed once at the edge.

pub mod country;
pub mod csv;
mod email;
mod ids;
mod lang;
mod log;
mod login;
mod net;
pub mod phone;
mod time;

pub use email::Email;
pub use ids::{FactorId, MessageId, NodeId, SessionId, TokenId, UserId};
pub use lang::Lang;
pub use log::log_safe;
pub use login::{parse_line, parse_login, parse_text};
pub use net::address_bucket;
pub use time::Timestamp;

/// Where a node sits in the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeKind {
    Operator,
    Account,
    Unit,
}

impl NodeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Operator => "operator",
            NodeKind::Account => "account",
            NodeKind::Unit => "unit",
        }
    }

    pub fn parse(s: &str) -> Option<NodeKind> {
        match s {
            "operator" => Some(NodeKind::Operator),
            "account" => Some(NodeKind::Account),
            "unit" => Some(NodeKind::Unit),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserStatus {
    Invited,
    Active,
    Disabled,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Invited => "invited",
            UserStatus::Active => "active",
            UserStatus::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<UserStatus> {
        match s {
            "invited" => Some(UserStatus::Invited),
            "active" => Some(UserStatus::Active),
            "disabled" => Some(UserStatus::Disabled),
            _ => None,
        }
    }
}

/// A user's "Role": an Administrator holds an administrator grant on their own account.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserType {
    Administrator,
    User,
}

impl UserType {
    pub fn as_str(self) -> &'static str {
        match self {
            UserType::Administrator => "administrator",
            UserType::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<UserType> {
        match s {
            "administrator" => Some(UserType::Administrator),
            "user" => Some(UserType::User),
            _ => None,
        }
    }
}

/// Who must use a second factor, from the least to the most demanding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Require {
    /// Only the users an administrator switched on one by one (an operator-wide choice).
    Users,
    /// Administrators, and the users switched on one by one.
    Administrators,
    Everyone,
}

impl Require {
    pub fn parse(s: &str) -> Option<Require> {
        match s {
            "users" => Some(Require::Users),
            "administrators" => Some(Require::Administrators),
            "everyone" => Some(Require::Everyone),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Require::Users => "users",
            Require::Administrators => "administrators",
            Require::Everyone => "everyone",
        }
    }
}

/// Text made safe to put in HTML or SVG, as content or as a quoted attribute.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}
