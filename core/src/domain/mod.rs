//! Roster's rules. Every command takes the context and the actor, checks scope first, then
//! writes the change and its audit event in one transaction. No HTTP, no SQL here.

pub mod actor;
pub mod address;
pub mod administered;
pub mod api_token;
mod audit;
pub mod audit_chain;
pub mod auth;
pub mod email;
pub(crate) mod hasher;
pub mod idempotency;
pub mod invitation;
pub(crate) mod link;
pub mod lookup;
pub mod me;
pub mod mfa;
pub mod node;
pub mod node_log;
pub mod outbox;
pub mod phone;
pub mod public_address;
pub(crate) mod rank;
pub mod reauth;
pub mod reset;
pub mod resource;
pub mod schedule;
pub mod scim;
pub mod service;
pub mod session;
pub mod setup;
pub mod statistics;
pub mod status;
pub mod throttle;
pub mod timeline;
pub mod usage;
pub mod user;

pub use actor::{Actor, Credential, Scope, Stage, TokenLimits};
