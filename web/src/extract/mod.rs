//! Extractors: who is asking (actor, address, language) and checked form input (CSRF).

mod actor;
pub mod cookies;
mod csrf;
mod ip;
mod lang;
mod path;

pub use actor::{CurrentActor, MaybeActor};
pub use csrf::{AnonCsrfForm, CsrfForm, anon_csrf_token, csrf_matches};
pub use ip::{ClientIp, Network, client_ip};
pub use lang::PageLang;
pub use path::UserPath;
