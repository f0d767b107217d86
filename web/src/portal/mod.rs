//! The portal's pages, one module per area.

pub mod account;
pub mod auth;
pub mod deliveries;
pub mod devices;
pub mod home;
pub mod language;
pub mod log_export;
pub mod logs;
pub mod management;
pub mod mfa;
pub mod resources;
pub mod settings;
pub mod statistics;
pub mod tokens;
pub mod toolbox;
pub mod units;
pub mod users;
