//! Server tests: the real app over HTTP, on SQLite and on PostgreSQL.

mod csrf;
mod operations;
mod setup;
mod shell;
