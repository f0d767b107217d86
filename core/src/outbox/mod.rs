//! Messages: every email is an outbox row written in the transaction of the change that causes
//! it; the worker renders and delivers it, retries with back-off, and marks it failed after the
//! last try. See `docs/ARCHITECTURE.md` ("Messages") for exactly what is guaranteed.

pub mod mail;
pub(crate) mod message;
pub mod worker;

pub use worker::{Transport, deliver_due};

/// Installs the process's one TLS provider (ring, as lettre and the SMS client use); call it
/// first thing. Later calls do nothing.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
