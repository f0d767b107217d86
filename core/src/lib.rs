//! Roster's engine: typed values, the domain rules, storage and translations.
//! Nothing here speaks HTTP; the web crate and the command line call the domain.

pub mod bench;
pub mod clock;
pub mod context;
pub mod domain;
pub mod error;
pub mod failures;
pub mod i18n;
pub mod model;
pub mod outbox;
pub mod password;
pub mod scim;
pub mod seal;
pub mod secret;
pub mod services;
mod store;

pub use clock::Clock;
pub use context::{Ctx, Settings};
pub use error::{Error, FieldError, Result};
pub use store::{Db, Engine};
