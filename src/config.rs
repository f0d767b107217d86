//! The one configuration struct: every option a flag with a `ROSTER_*` environment variable.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "roster",
    version,
    about = "Roster: the customer administration portal"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start the portal (runs pending migrations first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(MigrateArgs),
    /// Manage administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Manage customer accounts.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Look at users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// SCIM tokens for identity providers.
    ScimToken {
        #[command(subcommand)]
        command: ScimTokenCommand,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Benchmarks: a data generator and load measurements (see BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum BenchCommand {
    /// Create an account with units and many users (fast batches; no password hashing).
    Seed(BenchSeedArgs),
    /// Measure the Users tab, search and user page of an account: p50 and p99 per page.
    Users(BenchUsersArgs),
    /// Measure sign-ins per second under concurrent load against the raw argon2id rate.
    Signin(BenchSigninArgs),
    /// Measure SCIM provisioning (users per second through /Users and /Bulk) and lookups
    /// (`userName eq` and `sw`: p50/p99).
    Scim(BenchScimArgs),
    /// Measure how long resolving a user's service settings takes at the top of a tree and at
    /// its bottom (p50/p99).
    Settings(BenchSettingsArgs),
    /// Measure the services' lookup over HTTP against a separate server process (p50/p99,
    /// throughput, the server's CPU per lookup and memory).
    Lookup(BenchLookupArgs),
    /// Measure usage ingestion over HTTP against a separate server process, the statistics
    /// roll-up of many events, and a user's timeline in a long history.
    Usage(BenchUsageArgs),
}

#[derive(Args, Debug, Clone)]
pub struct BenchUsageArgs {
    /// Users in a new account.
    #[arg(long, default_value_t = 10_000)]
    pub users: usize,

    /// Events posted over HTTP, and per batch.
    #[arg(long, default_value_t = 200_000)]
    pub events: usize,
    #[arg(long, default_value_t = 1000)]
    pub batch: usize,

    /// Connections posting at once.
    #[arg(long, default_value_t = 2)]
    pub connections: usize,

    /// Usage events generated for the roll-up (0: skip it).
    #[arg(long, default_value_t = 0)]
    pub rollup_events: usize,

    /// Audit events generated in the account for the timeline reads (0: skip them), and reads
    /// per view.
    #[arg(long, default_value_t = 0)]
    pub audit_events: usize,
    #[arg(long, default_value_t = 500)]
    pub reads: usize,

    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Args, Debug, Clone)]
pub struct BenchLookupArgs {
    /// Users in a new account (or, with --account, how many `roster bench seed` made there).
    #[arg(long, default_value_t = 10_000)]
    pub users: usize,

    /// Measure in this account (one `roster bench seed` made) instead of a new one.
    #[arg(long)]
    pub account: Option<String>,

    /// Users looked up (each given the SMS service, a setting and a number).
    #[arg(long, default_value_t = 1000)]
    pub sample: usize,

    /// Lookups of each kind, one at a time.
    #[arg(long, default_value_t = 2000)]
    pub lookups: usize,

    /// Connections at once for the throughput run, and its seconds.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,

    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Args, Debug, Clone)]
pub struct BenchSettingsArgs {
    /// Units nested one in another below a new account; one user at the top, one at the bottom.
    #[arg(long, default_value_t = 20)]
    pub depth: usize,

    /// Resolutions per user (one at a time).
    #[arg(long, default_value_t = 2000)]
    pub lookups: usize,

    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Args, Debug, Clone)]
pub struct BenchScimArgs {
    /// Users to create through /Users, and as many again through /Bulk, in a new account.
    #[arg(long, default_value_t = 10_000)]
    pub users: usize,

    /// Operations per /Bulk request.
    #[arg(long, default_value_t = 100)]
    pub bulk: usize,

    /// Requests in flight at once while provisioning.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,

    /// Lookups per filter kind (one at a time).
    #[arg(long, default_value_t = 1000)]
    pub lookups: usize,

    /// Measure the lookups in this account (e.g. one `roster bench seed` made) instead of the
    /// new one; with --skip-provisioning, nothing is created.
    #[arg(long)]
    pub account: Option<String>,

    /// Give the account's users a provider's userName first (as if a provider had
    /// provisioned them), so the lookups use the provider's index.
    #[arg(long)]
    pub adopt: bool,

    /// Only the lookups.
    #[arg(long)]
    pub skip_provisioning: bool,

    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Args, Debug, Clone)]
pub struct BenchSigninArgs {
    /// Users to sign in (round robin; with an authenticator app, each once).
    #[arg(long, default_value_t = 1000)]
    pub users: usize,

    /// Sign-ins in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,

    /// Seconds each measurement runs.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,

    #[command(flatten)]
    pub storage: StorageArgs,

    #[command(flatten)]
    pub hash: HashArgs,
}

#[derive(Args, Debug, Clone)]
pub struct BenchSeedArgs {
    /// How many users.
    #[arg(long)]
    pub users: usize,

    /// How many units (in two levels).
    #[arg(long, default_value_t = 100)]
    pub units: usize,

    /// The account's name (its users get addresses userN@<name>.test).
    #[arg(long, default_value = "Bench")]
    pub name: String,

    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Args, Debug, Clone)]
pub struct BenchUsersArgs {
    /// The account to measure (as `roster bench seed` printed it).
    #[arg(long)]
    pub account: String,

    /// Requests per page kind.
    #[arg(long, default_value_t = 200)]
    pub requests: usize,

    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Create a customer account; prints its id.
    Create(AccountCreateArgs),
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// List the users of an account, one per line, tab-separated.
    List(UserListArgs),
}

#[derive(Args, Debug, Clone)]
pub struct AccountCreateArgs {
    /// The account's name.
    #[arg(long)]
    pub name: String,

    /// Default language of the account's users: en, nl or sv.
    #[arg(long, default_value = "en")]
    pub language: String,

    /// Default country code (ISO 3166, e.g. SE).
    #[arg(long, default_value = "")]
    pub country: String,

    #[arg(long, default_value = "")]
    pub contact_name: String,

    #[arg(long, default_value = "")]
    pub contact_email: String,

    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Args, Debug, Clone)]
pub struct UserListArgs {
    /// The account's id (as `roster account create` printed it).
    #[arg(long)]
    pub account: String,

    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Subcommand, Debug)]
pub enum ScimTokenCommand {
    /// Print a new SCIM token that provisions users into an account (or a unit). Shown once.
    Create(ScimTokenCreateArgs),
}

#[derive(Args, Debug)]
pub struct ScimTokenCreateArgs {
    /// The account's (or unit's) id.
    #[arg(long)]
    pub account: String,

    /// A name to recognise the token by (the identity provider's).
    #[arg(long, default_value = "SCIM")]
    pub name: String,

    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Print a new API token acting as a user (person by email, system user by login). It is
    /// shown once; only its hash is kept.
    Create(TokenCreateArgs),
}

#[derive(Args, Debug)]
pub struct TokenCreateArgs {
    /// The user's email address or login.
    #[arg(long)]
    pub user: String,

    /// A name to recognise the token by.
    #[arg(long, default_value = "command line")]
    pub name: String,

    /// Limit the token to this account or unit (its id).
    #[arg(long)]
    pub node: Option<String>,

    /// The token may only read.
    #[arg(long)]
    pub read_only: bool,

    /// The token is for the services' lookup only (`GET /api/v1/lookup`).
    #[arg(long, conflicts_with = "usage")]
    pub lookup: bool,

    /// The token is for the services' usage reports only (`POST /api/v1/usage`).
    #[arg(long)]
    pub usage: bool,

    /// Days until the token stops working (default: until revoked).
    #[arg(long)]
    pub expires: Option<i64>,

    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Subcommand, Debug)]
pub enum AdminCommand {
    /// Create an administrator: of the operator, or with --account of that customer account
    /// (password from a prompt or --password-file; it must be changed at first sign-in when
    /// the administrator is not the one who chose it).
    Create(AdminCreateArgs),
}

/// Where the data lives.
#[derive(Args, Debug, Clone)]
pub struct StorageArgs {
    /// Folder for Roster's own files (the embedded SQLite database); created when missing.
    #[arg(long, env = "ROSTER_DATA_DIR", default_value = "./roster-data")]
    pub data_dir: PathBuf,

    /// Database address: `sqlite://FILE` or `postgres://USER:PASSWORD@HOST/DB`.
    /// Default: the SQLite file `roster.db` in the data folder.
    #[arg(long, env = "ROSTER_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    /// File holding the key that seals secrets at rest (authenticator app seeds): 64 hex
    /// digits, created with a new random key when missing. Every node of one installation
    /// must read the same key. Default: `secret.key` in the data folder.
    #[arg(long, env = "ROSTER_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
}

impl StorageArgs {
    /// The key that seals secrets at rest; a new one is written (mode 0600) on first start.
    pub fn secret_key(&self) -> anyhow::Result<roster_core::seal::SecretKey> {
        use roster_core::seal::SecretKey;
        let path = self
            .secret_key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("secret.key"));
        match std::fs::read_to_string(&path) {
            Ok(text) => SecretKey::from_text(&text).ok_or_else(|| {
                anyhow::anyhow!("--secret-key-file {}: not 64 hex digits", path.display())
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                let key = SecretKey::generate()?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                use std::io::Write as _;
                options
                    .open(&path)?
                    .write_all(format!("{}\n", key.to_text()).as_bytes())?;
                tracing::info!(file = %path.display(), "created a new secret key");
                Ok(key)
            }
            Err(e) => Err(anyhow::anyhow!("--secret-key-file {}: {e}", path.display())),
        }
    }

    /// The database address to open, creating the data folder for the default SQLite file.
    pub fn database_url(&self) -> anyhow::Result<String> {
        if let Some(url) = &self.database_url {
            return Ok(url.clone());
        }
        std::fs::create_dir_all(&self.data_dir)?;
        Ok(format!(
            "sqlite://{}",
            self.data_dir.join("roster.db").display()
        ))
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum SmsDriver {
    Http,
    Log,
    None,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum MfaDefault {
    Administrators,
    Everyone,
    Users,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// How much work each password hash costs (argon2id). Defaults are OWASP's.
#[derive(Args, Debug, Clone)]
pub struct HashArgs {
    /// argon2id memory in KiB.
    #[arg(
        long,
        env = "ROSTER_PASSWORD_HASH_MEMORY_KIB",
        default_value_t = 19_456
    )]
    pub password_hash_memory_kib: u32,

    /// argon2id iterations.
    #[arg(long, env = "ROSTER_PASSWORD_HASH_ITERATIONS", default_value_t = 2)]
    pub password_hash_iterations: u32,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "ROSTER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The address people use to reach Roster, used in every link it prints or sends
    /// (e.g. `https://portal.example.com`). Default: `http://` and the listen address.
    #[arg(long, env = "ROSTER_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Log format.
    #[arg(long, env = "ROSTER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Minutes without a request after which a session ends.
    #[arg(long, env = "ROSTER_SESSION_IDLE_MINUTES", default_value_t = 30)]
    pub session_idle_minutes: i64,

    /// Hours after sign-in after which a session ends, however active.
    #[arg(long, env = "ROSTER_SESSION_MAX_HOURS", default_value_t = 12)]
    pub session_max_hours: i64,

    /// SMTP server for email: `smtp://user:pass@host:587?tls=required`, `smtps://…`, or
    /// `smtp://127.0.0.1:2525`. Without it, messages wait in the outbox (see Management).
    #[arg(long, env = "ROSTER_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of every email, e.g. `Roster <roster@example.com>`.
    #[arg(
        long,
        env = "ROSTER_MAIL_FROM",
        default_value = "Roster <roster@localhost>"
    )]
    pub mail_from: String,

    /// SMS gateway: each SMS is POSTed there as JSON `{"id", "to", "text"}` (`to` in E.164);
    /// any 2xx is accepted, anything else tried again later. Without it, SMS wait in the outbox.
    #[arg(long, env = "ROSTER_SMS_GATEWAY_URL")]
    pub sms_gateway_url: Option<String>,

    /// How SMS leave: `http` (the gateway of --sms-gateway-url), `log` (written to the server's
    /// log, for trying Roster out), or `none` (kept in the outbox). Default: `http` when a
    /// gateway is set, `log` otherwise.
    #[arg(long, env = "ROSTER_SMS_DRIVER", value_enum)]
    pub sms_driver: Option<SmsDriver>,

    /// API requests one credential (or one address without credentials) may make per minute
    /// on this node; over it, 429 with Retry-After.
    #[arg(long, env = "ROSTER_API_RATE_LIMIT", default_value_t = 1200)]
    pub api_rate_limit: u32,

    /// Lookups a lookup token may make per minute on this node.
    #[arg(long, env = "ROSTER_LOOKUP_RATE_LIMIT", default_value_t = 120_000)]
    pub lookup_rate_limit: u32,

    /// Days audit events are kept, for every account whose operator set no retention of its
    /// own (1–3650); older ones are removed by the scheduler.
    #[arg(long, env = "ROSTER_AUDIT_RETENTION_DAYS", default_value_t = 400,
          value_parser = clap::value_parser!(i64).range(1..=3650))]
    pub audit_retention_days: i64,

    /// How often the statistics are rolled up (`6h`, `30m`, `1d`; at least one minute).
    #[arg(long, env = "ROSTER_STATS_INTERVAL", default_value = "6h", value_parser = interval_secs)]
    pub stats_interval: i64,

    /// A TOML file declaring the services users may be given and their settings (each with a
    /// type, a default, and a label and help per language). Without one: the built-in `sms`
    /// and `fax`. A mistake in the file stops the start and names its line.
    #[arg(long, env = "ROSTER_SERVICES_FILE")]
    pub services_file: Option<std::path::PathBuf>,

    /// Who must use a second factor in accounts that have not chosen: `administrators`
    /// , `everyone`, or `users` (only users switched on one by one).
    #[arg(long, env = "ROSTER_MFA_DEFAULT", value_enum, default_value_t = MfaDefault::Administrators)]
    pub mfa_default: MfaDefault,

    /// The `Authorization` header sent to the SMS gateway, e.g. `Bearer <token>`.
    #[arg(long, env = "ROSTER_SMS_GATEWAY_AUTH", hide_env_values = true)]
    pub sms_gateway_auth: Option<String>,

    /// Reverse proxies whose `X-Forwarded-For` is believed, comma-separated addresses or
    /// networks (`10.0.0.0/8,::1`). From anyone else the connection's peer is the client.
    #[arg(long, env = "ROSTER_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,

    /// How often the outbox worker looks for messages to send, in milliseconds.
    #[arg(long, env = "ROSTER_OUTBOX_POLL_MS", default_value_t = 1000)]
    pub outbox_poll_ms: u64,

    #[command(flatten)]
    pub storage: StorageArgs,

    #[command(flatten)]
    pub hash: HashArgs,
}

#[derive(Args, Debug, Clone)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub storage: StorageArgs,
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check every account's hash chain of audit events; report the first broken link and
    /// exit with 1 when there is one.
    Verify(MigrateArgs),
}

#[derive(Args, Debug, Clone)]
pub struct AdminCreateArgs {
    /// The administrator's email address (their sign-in name).
    #[arg(long)]
    pub email: String,

    /// Make an administrator of this customer account instead of the operator.
    #[arg(long)]
    pub account: Option<String>,

    /// Read the password from this file (first line) instead of prompting.
    #[arg(long)]
    pub password_file: Option<PathBuf>,

    #[arg(long, default_value = "")]
    pub first_name: String,

    #[arg(long, default_value = "")]
    pub last_name: String,

    /// Language of the administrator's pages: en, nl or sv.
    #[arg(long, default_value = "en")]
    pub language: String,

    #[command(flatten)]
    pub storage: StorageArgs,

    #[command(flatten)]
    pub hash: HashArgs,
}

/// A time span written as a number and a unit (`90s`, `30m`, `6h`, `1d`), in seconds.
fn interval_secs(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let (n, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: i64 = n
        .parse()
        .map_err(|_| format!("`{t}` is not a number and a unit such as 6h"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" | "" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("`{unit}` is not one of s, m, h, d")),
    };
    if !(60..=7 * 86_400).contains(&secs) {
        return Err("choose from one minute to seven days".into());
    }
    Ok(secs)
}

#[cfg(test)]
mod interval_tests {
    #[test]
    fn intervals_read_their_unit() {
        assert_eq!(super::interval_secs("6h"), Ok(21_600));
        assert_eq!(super::interval_secs("30m"), Ok(1_800));
        assert_eq!(super::interval_secs("1d"), Ok(86_400));
        assert!(super::interval_secs("5s").is_err());
        assert!(super::interval_secs("6 weeks").is_err());
    }
}
