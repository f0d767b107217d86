//! Storage tests: both engines' schemas agree, and migrations are repeatable.

use std::collections::BTreeMap;

use sqlx::Connection as _;

use crate::support::Engine;
use crate::support::database::fresh_database;

/// table → column → (type family, nullable), plus the index names.
type Schema = (
    BTreeMap<String, BTreeMap<String, (String, bool)>>,
    Vec<String>,
);

fn family(engine: Engine, declared: &str) -> String {
    let d = declared.to_ascii_lowercase();
    let f = match (engine, d.as_str()) {
        (Engine::Sqlite, "blob") => "bytes-or-uuid",
        (Engine::Postgres, "uuid" | "bytea") => "bytes-or-uuid",
        (Engine::Sqlite, "integer") | (Engine::Postgres, "bigint") => "integer",
        (Engine::Sqlite, "text") | (Engine::Postgres, "text") => "text",
        (Engine::Sqlite, "boolean") | (Engine::Postgres, "boolean") => "boolean",
        _ => return format!("unexpected:{d}"),
    };
    f.to_string()
}

async fn schema(engine: Engine) -> Schema {
    let url = fresh_database(engine).await;
    let db = roster_core::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    db.migrate().await.unwrap();
    db.close().await;
    let mut tables: BTreeMap<String, BTreeMap<String, (String, bool)>> = BTreeMap::new();
    let mut indexes = vec![];
    match engine {
        Engine::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            let names: Vec<String> = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            for t in names {
                let cols: Vec<(String, String, bool, i64)> =
                    sqlx::query_as("SELECT name, type, \"notnull\", pk FROM pragma_table_info($1)")
                        .bind(&t)
                        .fetch_all(&mut c)
                        .await
                        .unwrap();
                let entry = tables.entry(t).or_default();
                for (name, ty, notnull, pk) in cols {
                    entry.insert(name, (family(engine, &ty), !(notnull || pk > 0)));
                }
            }
            indexes = sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
        }
        Engine::Postgres => {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            let cols: Vec<(String, String, String, String)> = sqlx::query_as(
                "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
                 FROM information_schema.columns WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
            for (t, name, ty, nullable) in cols {
                tables
                    .entry(t)
                    .or_default()
                    .insert(name, (family(engine, &ty), nullable == "YES"));
            }
            indexes = sqlx::query_scalar(
                "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public' AND indexname NOT LIKE '%_pkey'",
            )
            .fetch_all(&mut c)
            .await
            .unwrap();
        }
    }
    indexes.sort();
    (tables, indexes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_schemas_agree() {
    let (lite_tables, lite_indexes) = schema(Engine::Sqlite).await;
    let (pg_tables, pg_indexes) = schema(Engine::Postgres).await;
    for tables in [&lite_tables, &pg_tables] {
        for table in [
            "nodes",
            "users",
            "grants",
            "sessions",
            "outbox",
            "audit_events",
            "link_tokens",
        ] {
            assert!(tables.contains_key(table), "{table} missing");
        }
        for (t, cols) in tables.iter() {
            for (c, (family, _)) in cols {
                assert!(!family.starts_with("unexpected"), "{t}.{c}: {family}");
            }
        }
    }
    assert_eq!(lite_tables, pg_tables);
    assert_eq!(lite_indexes, pg_indexes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_is_created_in_wal_mode() {
    let url = fresh_database(Engine::Sqlite).await;
    let db = roster_core::Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    db.close().await;
    let path = url.trim_start_matches("sqlite://");
    assert!(
        std::path::Path::new(path).exists(),
        "the file is created on first start"
    );
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}
