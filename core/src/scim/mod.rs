//! SCIM 2.0 (RFC 7643/7644): the pieces that are not HTTP.

pub mod filter;
