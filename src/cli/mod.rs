pub mod account;
pub mod admin;
pub mod bench;
pub mod bench_settings;
pub mod migrate;
pub mod serve;
pub mod token;
pub mod user;
