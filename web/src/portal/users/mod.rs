//! The Users tab: the unit tree and the list, Add user, and the user page with its sections.

pub mod add;
pub mod addresses;
pub mod list;
pub mod page;
pub mod photo;
pub mod sections;

use roster_core::model::{UserStatus, UserType};

/// Message ids for a role and a status.
pub fn type_key(t: UserType) -> &'static str {
    match t {
        UserType::Administrator => "user-type-administrator",
        UserType::User => "user-type-user",
    }
}

pub fn status_key(s: UserStatus) -> &'static str {
    match s {
        UserStatus::Invited => "status-invited",
        UserStatus::Active => "status-active",
        UserStatus::Disabled => "status-disabled",
    }
}
