//! SCIM 2.0 (RFC 7643/7644): the pieces that are plain JSON work, with no HTTP and no database
//! — filters, PATCH, projection and sorting — each with its unit tests. The rules (who may
//! provision whom) are in `domain::scim`.

pub mod filter;
pub mod patch;
pub mod project;

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Roster's own extension: whether a new user gets an invitation email (default true).
pub const ROSTER_EXT: &str = "urn:roster:params:scim:schemas:extension:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
