//! Fresh databases for tests: a SQLite file in a new folder, or a new PostgreSQL database in
//! the throwaway cluster the test command starts (`ROSTER_TEST_DATABASE_URL`).

use std::path::PathBuf;

use sqlx::Connection as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A new, empty folder under the system's temporary folder.
pub fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// The PostgreSQL server the test command started.
pub fn postgres_admin_url() -> String {
    std::env::var("ROSTER_TEST_DATABASE_URL").expect(
        "ROSTER_TEST_DATABASE_URL is not set: run the tests with scripts/test, which starts a \
         throwaway PostgreSQL server",
    )
}

/// The address of a new, empty database on `engine`.
pub async fn fresh_database(engine: Engine) -> String {
    match engine {
        Engine::Sqlite => format!(
            "sqlite://{}",
            temp_dir("roster-test").join("roster.db").display()
        ),
        Engine::Postgres => {
            let admin = postgres_admin_url();
            let name = format!("roster_{}", uuid::Uuid::now_v7().simple());
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to test PostgreSQL");
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            conn.close().await.ok();
            let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
            format!("{base}/{name}")
        }
    }
}
