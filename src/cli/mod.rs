pub mod admin;
pub mod migrate;
pub mod serve;
