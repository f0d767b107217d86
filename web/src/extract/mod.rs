//! Extractors: who is asking (actor, address, language), the request's id, and checked form
//! input (CSRF).

mod actor;
pub mod cookies;
mod csrf;
mod ip;
mod lang;
mod path;
mod request_id;

pub use actor::{CurrentActor, MaybeActor};
pub use csrf::{AnonCsrfForm, CsrfForm, anon_csrf_token, csrf_matches};
pub use ip::{ClientIp, Network, client_ip};
pub use lang::PageLang;
pub use path::UserPath;
pub use request_id::RequestId;
