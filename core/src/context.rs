//! What every domain command receives besides the actor: the database, the clock, settings.

use std::sync::Arc;

use tokio::sync::Semaphore;

use webauthn_rs::Webauthn;

use crate::clock::Clock;
use crate::model::Require;
use crate::password::HashCost;
use crate::seal::SecretKey;
use crate::store::Db;

/// Days audit events are kept unless configured otherwise.
pub const DEFAULT_RETENTION_DAYS: i64 = 400;

/// The settings the domain needs, taken from the one configuration struct of the binary.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Absolute base address used in every link Roster sends or prints.
    pub public_url: String,
    pub hash_cost: HashCost,
    /// A session ends after this long without a request.
    pub session_idle_secs: i64,
    /// A session ends this long after sign-in, however active.
    pub session_absolute_secs: i64,
    /// How long the first-run set-up link stays valid.
    pub setup_link_secs: i64,
    /// The services and their settings, from the services file (built-in `sms` and `fax`
    /// without one).
    pub catalog: std::sync::Arc<crate::services::Catalog>,
    /// Tries per message before it is marked failed.
    pub outbox_max_attempts: i64,
    /// The wait before the second try; it doubles with every further try (at most an hour).
    pub outbox_retry_base_secs: i64,
    /// Seals secrets kept at rest (TOTP seeds); shared by every node of an installation.
    pub secret_key: SecretKey,
    /// Who must use a second factor in an account that has not chosen (the default: administrators).
    pub mfa_default: Require,
    /// API requests a credential (or an address without one) may make per minute, per node.
    pub api_rate_per_minute: u32,
    /// Lookups a lookup token may make per minute, per node (the services ask for every
    /// message they carry).
    pub lookup_rate_per_minute: u32,
    /// Days an account's audit events are kept where the operator set nothing else.
    pub audit_retention_days: i64,
    /// Seconds between statistics roll-ups.
    pub stats_interval_secs: i64,
}

impl Settings {
    pub fn new(public_url: &str, hash_cost: HashCost) -> Settings {
        Settings {
            public_url: public_url.trim_end_matches('/').to_string(),
            hash_cost,
            session_idle_secs: 30 * 60,
            session_absolute_secs: 12 * 60 * 60,
            setup_link_secs: 24 * 60 * 60,
            catalog: std::sync::Arc::new(crate::services::Catalog::builtin()),
            outbox_max_attempts: 8,
            outbox_retry_base_secs: 30,
            secret_key: SecretKey::from_bytes([0; 32]),
            mfa_default: Require::Administrators,
            audit_retention_days: DEFAULT_RETENTION_DAYS,
            stats_interval_secs: crate::domain::statistics::DEFAULT_INTERVAL_SECS,
            api_rate_per_minute: 1200,
            lookup_rate_per_minute: 120_000,
        }
    }

    /// Uses this catalog of services (from a services file).
    pub fn with_catalog(mut self, catalog: crate::services::Catalog) -> Settings {
        self.catalog = std::sync::Arc::new(catalog);
        self
    }

    /// True when links are served over TLS, so cookies must be `Secure`.
    pub fn is_tls(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    pub fn link(&self, path_and_query: &str) -> String {
        format!("{}{}", self.public_url, path_and_query)
    }
}

#[derive(Clone)]
pub struct Ctx {
    pub db: Db,
    pub clock: Clock,
    pub settings: Settings,
    /// Password hashes computed at once (argon2id takes 19 MiB and a core's tens of
    /// milliseconds each): a flood of sign-ins waits here instead of starving the node.
    pub(crate) hashing: Arc<Semaphore>,
    /// How long a password check waits for its turn before the request is refused as busy.
    pub(crate) hash_queue: std::time::Duration,
    /// Requests with a wrong credential, counted per address and minute (bounded).
    pub(crate) auth_failures: Arc<crate::failures::AuthFailures>,
    /// The services' lookups, counted per token and minute for the audit trail.
    pub(crate) lookups: Arc<crate::failures::AuthFailures>,
    /// Photo decodes at once: a decoded picture may take up to `photo::MAX_ALLOC` bytes, so
    /// they run one at a time and a queue of uploads waits here.
    pub(crate) decoding: Arc<Semaphore>,
    /// Passkey ceremonies for the public address; None when that address has no domain name
    /// (browsers refuse passkeys for a bare IP address).
    pub(crate) webauthn: Option<Arc<Webauthn>>,
}

impl Ctx {
    pub fn new(db: Db, clock: Clock, settings: Settings) -> Ctx {
        let permits = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
            * 2;
        let webauthn = relying_party(&settings.public_url).map(Arc::new);
        Ctx {
            db,
            clock,
            settings,
            hashing: Arc::new(Semaphore::new(permits)),
            hash_queue: std::time::Duration::from_secs(5),
            decoding: Arc::new(Semaphore::new(1)),
            auth_failures: Arc::default(),
            lookups: Arc::default(),
            webauthn,
        }
    }

    /// Runs `f` in one write transaction: committed when it returns Ok, rolled back (nothing
    /// written) when it returns an error. Every command is `ctx.write(|tx| command_in(tx, …))`,
    /// so that a caller with a transaction of its own can run several commands as one change.
    pub(crate) async fn write<T>(
        &self,
        f: impl AsyncFnOnce(&mut crate::store::Tx) -> crate::Result<T>,
    ) -> crate::Result<T> {
        let mut tx = self.db.begin().await?;
        let out = f(&mut tx).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Addresses with failed authentications told apart this minute (for tests of the bound).
    pub fn auth_failure_addresses(&self) -> usize {
        self.auth_failures.addresses(self.clock.now())
    }

    /// The same context with `permits` hashes at once and `queue` as the longest wait.
    pub fn with_hash_limit(mut self, permits: usize, queue: std::time::Duration) -> Ctx {
        self.hashing = Arc::new(Semaphore::new(permits));
        self.hash_queue = queue;
        self
    }
}

/// The WebAuthn relying party: the public address's host name and origin.
fn relying_party(public_url: &str) -> Option<Webauthn> {
    let url = webauthn_rs::prelude::Url::parse(public_url).ok()?;
    let host = url.domain()?.to_string();
    webauthn_rs::WebauthnBuilder::new(&host, &url)
        .ok()?
        .rp_name("Roster")
        .build()
        .ok()
}
