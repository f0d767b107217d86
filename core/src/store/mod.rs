//! All of Roster's SQL. One module per aggregate; the same SQL text runs on SQLite and on
//! PostgreSQL (`$1` placeholders work on both); where the engines really differ, the query says so beside
//! the `match` on the engine.

pub(crate) mod account_domain;
pub(crate) mod address;
pub(crate) mod api_token;
pub(crate) mod audit;
pub(crate) mod changes;
pub(crate) mod code;
pub(crate) mod device;
pub(crate) mod factor;
pub(crate) mod grant;
pub(crate) mod idempotency;
pub(crate) mod job;
pub(crate) mod link;
pub(crate) mod node;
pub(crate) mod outbox;
pub(crate) mod resource;
pub(crate) mod scim;
pub(crate) mod session;
pub(crate) mod setting;
pub(crate) mod stats;
pub(crate) mod throttle;
pub(crate) mod timeline;
pub(crate) mod usage;
pub(crate) mod user;
pub(crate) mod user_list;

use std::str::FromStr;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};

use crate::error::{Error, Result};

/// Runs one body against whichever engine a handle holds. The body is compiled once per engine.
macro_rules! on {
    ($ex:expr, $c:ident => $body:expr) => {
        match $ex {
            $crate::store::Ex::Sqlite($c) => $body,
            $crate::store::Ex::Postgres($c) => $body,
        }
    };
}
pub(crate) use on;

/// `$1, $2, …, $n`: the placeholders of an `IN (…)` list of n values (built from a count, never
/// from input).
pub(crate) fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "SQLite",
            Engine::Postgres => "PostgreSQL",
        }
    }
}

/// The database: a SQLite file (one writer connection, several readers) or a PostgreSQL pool.
#[derive(Clone, Debug)]
pub struct Db {
    pools: Pools,
    changes: changes::Changes,
}

#[derive(Clone, Debug)]
enum Pools {
    Sqlite {
        writer: SqlitePool,
        readers: SqlitePool,
    },
    Postgres(PgPool),
}

/// A transaction on either engine; its commit tells whoever waits for changes.
pub(crate) struct Tx {
    inner: TxInner,
    changes: changes::Changes,
}

enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// A pooled connection on either engine, for reads outside a transaction.
pub(crate) enum Conn {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

/// What every store function takes: a borrowed connection of either engine.
pub(crate) enum Ex<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Ex<'_> {
    /// The same connection, borrowed again (for statements in a loop).
    pub(crate) fn re(&mut self) -> Ex<'_> {
        match self {
            Ex::Sqlite(c) => Ex::Sqlite(c),
            Ex::Postgres(c) => Ex::Postgres(c),
        }
    }
}

/// Either a transaction or a plain connection: reads that check scope take whichever the
/// caller holds, so read-only pages never take SQLite's single writer.
pub(crate) trait Handle {
    fn ex(&mut self) -> Ex<'_>;
}

impl Handle for Tx {
    fn ex(&mut self) -> Ex<'_> {
        Tx::ex(self)
    }
}

impl Handle for Conn {
    fn ex(&mut self) -> Ex<'_> {
        Conn::ex(self)
    }
}

impl Tx {
    pub(crate) fn ex(&mut self) -> Ex<'_> {
        match &mut self.inner {
            TxInner::Sqlite(t) => Ex::Sqlite(t),
            TxInner::Postgres(t) => Ex::Postgres(t),
        }
    }

    pub(crate) async fn commit(self) -> Result<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        self.changes.bump();
        Ok(())
    }
}

impl Conn {
    pub(crate) fn ex(&mut self) -> Ex<'_> {
        match self {
            Conn::Sqlite(c) => Ex::Sqlite(c),
            Conn::Postgres(c) => Ex::Postgres(c),
        }
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Db {
    /// Opens `sqlite://path` (created when missing; WAL; foreign keys on) or `postgres://…`.
    pub async fn connect(url: &str) -> Result<Db> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url).map_err(Error::internal)?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            return Ok(Db {
                pools: Pools::Postgres(pool),
                changes: Default::default(),
            });
        }
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(Error::internal)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            // SQLite allows one writer at a time: all transactions go through one connection,
            // so writers queue in the pool instead of failing with SQLITE_BUSY.
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await?;
            let readers = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options.read_only(true))
                .await?;
            return Ok(Db {
                pools: Pools::Sqlite { writer, readers },
                changes: Default::default(),
            });
        }
        Err(Error::field("database_url", "database-url-invalid"))
    }

    pub fn engine(&self) -> Engine {
        match self.pools {
            Pools::Sqlite { .. } => Engine::Sqlite,
            Pools::Postgres(_) => Engine::Postgres,
        }
    }

    /// Applies every pending migration; safe to run from several nodes at once on PostgreSQL.
    pub async fn migrate(&self) -> Result<()> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => SQLITE_MIGRATIONS.run(writer).await?,
            Pools::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// The newest migration applied, for the system status page.
    pub fn schema_version(&self) -> i64 {
        let migrator = match self.pools {
            Pools::Sqlite { .. } => &SQLITE_MIGRATIONS,
            Pools::Postgres(_) => &POSTGRES_MIGRATIONS,
        };
        migrator.iter().map(|m| m.version).max().unwrap_or(0)
    }

    /// Answers when the database answers a query (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.conn().await?;
        on!(conn.ex(), c => sqlx::query("SELECT 1").execute(&mut *c).await.map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { writer, readers } => {
                writer.close().await;
                readers.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }

    pub(crate) async fn begin(&self) -> Result<Tx> {
        let inner = match &self.pools {
            Pools::Sqlite { writer, .. } => TxInner::Sqlite(writer.begin().await?),
            Pools::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx {
            inner,
            changes: self.changes.clone(),
        })
    }

    pub(crate) async fn conn(&self) -> Result<Conn> {
        Ok(match &self.pools {
            Pools::Sqlite { readers, .. } => Conn::Sqlite(readers.acquire().await?),
            Pools::Postgres(pool) => Conn::Postgres(pool.acquire().await?),
        })
    }

    /// A receiver that changes whenever a transaction commits here, or (PostgreSQL) an audit
    /// event commits on any node: wait on it, then read what is new.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        if let Pools::Postgres(pool) = &self.pools {
            self.changes.listen(pool);
        }
        self.changes.receiver()
    }
}
