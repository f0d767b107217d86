//! The one integration-test binary: real servers on 127.0.0.1:0, real SQLite and PostgreSQL,
//! the real `roster` binary, and a real headless Chromium.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod support;

mod api;
mod audit_chain;
mod authz;
mod browser;
mod browser_services;
mod outbox;
mod portal;
mod process;
mod schedule;
mod scim;
mod server;
mod services;
mod sign_in;
mod store;
