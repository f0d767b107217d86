//! The test harness: a `TestServer` per test, clients with their own cookie jars, and helpers.

pub mod browser;
pub mod client;
pub mod database;
pub mod json;
pub mod org;
pub mod server;
pub mod sms;
pub mod smtp;

pub use client::Client;
pub use database::Engine;
pub use server::TestServer;

/// Expands one async test body into a test on SQLite and a test on PostgreSQL:
/// `both_engines!(name, |engine| async move { … })`.
macro_rules! both_engines {
    ($name:ident, |$engine:ident| $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $engine = $crate::support::Engine::Sqlite;
                $body.await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $engine = $crate::support::Engine::Postgres;
                $body.await
            }
        }
    };
}
pub(crate) use both_engines;

/// The value of `<input … name="NAME" value="…">` in a page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}
