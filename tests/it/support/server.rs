//! `TestServer`: the real app on 127.0.0.1:0 with a fresh database and a clock the test moves.

use roster_core::domain::mfa::Require;
use roster_core::domain::setup;
use roster_core::model::Timestamp;
use roster_core::password::HashCost;
use roster_core::seal::SecretKey;
use roster_core::{Clock, Ctx, Db, Settings};
use roster_web::AppState;
use tokio::sync::oneshot;

use super::client::Client;
use super::database::{Engine, fresh_database};

/// Cheap argon2id parameters: the same code path as production, fast enough for tests.
pub const TEST_HASH_COST: HashCost = HashCost {
    memory_kib: 256,
    iterations: 1,
};

pub const ADMIN_EMAIL: &str = "ops@roster.test";
pub const ADMIN_PASSWORD: &str = "correct horse battery staple";

/// Runs `body` with `c`, a fresh connection of the server's engine to its database.
macro_rules! on_test_db {
    ($server:expr, $c:ident => $body:expr) => {
        match $server.engine {
            Engine::Sqlite => {
                let mut $c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&$server.db_url)
                    .await
                    .expect("connect");
                $body
            }
            Engine::Postgres => {
                let mut $c = <sqlx::PgConnection as sqlx::Connection>::connect(&$server.db_url)
                    .await
                    .expect("connect");
                $body
            }
        }
    };
}

/// How a test server differs from the default one.
#[derive(Clone, Copy)]
pub struct Options {
    /// Who must use a second factor where no account chose. Tests that are not about
    /// multifactor sign-in run with `Users` (nobody is forced), the product's default is
    /// `Administrators`.
    pub mfa_default: Require,
    /// Public address `http://localhost:PORT` instead of `http://127.0.0.1:PORT` (passkeys
    /// need a host name).
    pub localhost: bool,
    /// API requests per credential per minute (high by default: conformance suites are fast).
    pub api_rate_per_minute: u32,
    /// How long the server waits for a slow client (the product's defaults when None).
    pub timeouts: Option<roster_web::Timeouts>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            mfa_default: Require::Users,
            localhost: false,
            api_rate_per_minute: 100_000,
            timeouts: None,
        }
    }
}

pub struct TestServer {
    pub url: String,
    /// The address links and the browser use (`url`, or the localhost form).
    pub public_url: String,
    pub db_url: String,
    pub engine: Engine,
    pub clock: Clock,
    pub ctx: Ctx,
    /// The set-up link printed at first start, when there was no administrator.
    pub setup_link: Option<String>,
    /// The operator root (id and path), for actors of fixtures.
    pub root: Option<(roster_core::model::NodeId, String)>,
    /// The SMTP sink the outbox worker delivers to (servers started with mail).
    pub smtp: Option<super::smtp::SmtpSink>,
    /// The SMS gateway stand-in the worker posts to (servers started with mail).
    pub sms: Option<super::sms::SmsGateway>,
    /// The API's request windows, to check that they stay bounded.
    pub api_limits: std::sync::Arc<roster_web::rate_limit::RateLimiter>,
    stop_worker: Option<tokio::sync::watch::Sender<bool>>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestServer {
    /// A server on a new, empty database.
    pub async fn start(engine: Engine) -> TestServer {
        let db_url = fresh_database(engine).await;
        TestServer::start_on(
            engine,
            &db_url,
            Clock::manual(Timestamp::from_millis(1_795_000_000_000)),
        )
        .await
    }

    /// A server on an existing database (a second node of a deployment).
    pub async fn start_on(engine: Engine, db_url: &str, clock: Clock) -> TestServer {
        TestServer::start_full(engine, db_url, clock, &[], Options::default()).await
    }

    /// A server with options, an empty database and the first administrator.
    pub async fn with_options(engine: Engine, options: Options) -> TestServer {
        let db_url = fresh_database(engine).await;
        let server = TestServer::start_full(
            engine,
            &db_url,
            Clock::manual(Timestamp::from_millis(1_795_000_000_000)),
            &[],
            options,
        )
        .await;
        server.create_first_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        server
    }

    /// A server with an administrator, behind reverse proxies at these addresses.
    pub async fn with_admin_behind(engine: Engine, proxies: &[&str]) -> TestServer {
        let db_url = fresh_database(engine).await;
        let server = TestServer::start_full(
            engine,
            &db_url,
            Clock::manual(Timestamp::from_millis(1_795_000_000_000)),
            proxies,
            Options::default(),
        )
        .await;
        server.create_first_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        server
    }

    async fn start_full(
        engine: Engine,
        db_url: &str,
        clock: Clock,
        proxies: &[&str],
        options: Options,
    ) -> TestServer {
        let db = Db::connect(db_url).await.expect("connect");
        db.migrate().await.expect("migrate");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let url = format!("http://{addr}");
        let public_url = if options.localhost {
            format!("http://localhost:{}", addr.port())
        } else {
            url.clone()
        };
        let mut settings = Settings::new(&public_url, TEST_HASH_COST);
        settings.mfa_default = options.mfa_default;
        settings.api_rate_per_minute = options.api_rate_per_minute;
        settings.secret_key = SecretKey::generate().expect("key");
        let ctx = Ctx::new(db, clock.clone(), settings);
        let setup_link = setup::prepare_first_run(&ctx)
            .await
            .expect("first run")
            .map(|l| l.url);
        let root = setup::operator_root(&ctx).await.expect("root");
        let (tx, rx) = oneshot::channel::<()>();
        let proxies = proxies
            .iter()
            .map(|p| roster_web::Network::parse(p).expect("proxy"))
            .collect();
        let mut state = AppState::new(ctx.clone()).with_trusted_proxies(proxies);
        if let Some(t) = options.timeouts {
            state = state.with_timeouts(t);
        }
        let api_limits = state.api_limits.clone();
        tokio::spawn(async move {
            roster_web::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .expect("serve");
        });
        TestServer {
            url,
            public_url,
            db_url: db_url.to_string(),
            engine,
            clock,
            ctx,
            setup_link,
            root: Some(root),
            smtp: None,
            sms: None,
            api_limits,
            stop_worker: None,
            shutdown: Some(tx),
        }
    }

    /// A server with an administrator whose outbox worker delivers to a fresh SMTP sink and SMS
    /// gateway stand-in (polling every 50 ms; three tries, 30 s back-off on the test clock).
    pub async fn with_mail(engine: Engine) -> TestServer {
        TestServer::with_mail_and(engine, Options::default()).await
    }

    /// `with_mail` with options.
    pub async fn with_mail_and(engine: Engine, options: Options) -> TestServer {
        let mut server = TestServer::with_options(engine, options).await;
        let sink = super::smtp::SmtpSink::start().await;
        let gateway = super::sms::SmsGateway::start().await;
        let mut ctx = server.ctx.clone();
        ctx.settings.outbox_max_attempts = 3;
        let transport = roster_core::outbox::Transport::none()
            .with_smtp(&sink.url(), "Roster <roster@roster.test>")
            .and_then(|t| t.with_sms_gateway(&gateway.url(), Some("Bearer gateway-secret")))
            .expect("transport");
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(roster_core::outbox::worker::run(
            ctx,
            transport,
            std::time::Duration::from_millis(50),
            stopped,
        ));
        server.smtp = Some(sink);
        server.sms = Some(gateway);
        server.stop_worker = Some(stop);
        server
    }

    pub fn gateway(&self) -> &super::sms::SmsGateway {
        self.sms.as_ref().expect("a server started with_mail")
    }

    pub fn sink(&self) -> &super::smtp::SmtpSink {
        self.smtp.as_ref().expect("a server started with_mail")
    }

    /// A server whose first operator administrator (`ADMIN_EMAIL`) exists already.
    pub async fn with_admin(engine: Engine) -> TestServer {
        let server = TestServer::start(engine).await;
        server.create_first_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        server
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url)
    }

    /// A client whose connections come from another loopback address (throttling tests).
    pub fn client_from(&self, ip: &str) -> Client {
        Client::from_address(&self.url, ip)
    }

    /// Uses the set-up link through the pages, as a person would.
    pub async fn create_first_admin(&self, email: &str, password: &str) {
        // The same server, reached the way this client reaches it.
        let link = self
            .setup_link
            .clone()
            .expect("a set-up link")
            .replace(&self.public_url, &self.url);
        let client = self.client();
        let page = client.get_url(&link).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let token = super::input_value(&page.body, "token").expect("token field");
        let res = client
            .post_form(
                "/setup",
                &page.body,
                &[
                    ("token", token.as_str()),
                    ("first_name", "Olga"),
                    ("last_name", "Operator"),
                    ("email", email),
                    ("password", password),
                    ("password_repeat", password),
                ],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);
    }

    /// A client signed in as the first administrator.
    pub async fn admin_client(&self) -> Client {
        let client = self.client();
        let res = client.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        assert_eq!(res.status, 303, "{}", res.body);
        client
    }

    /// Waits up to ten seconds until `sql` counts `n` (for work the outbox worker does).
    pub async fn wait_count(&self, sql: &'static str, n: i64) {
        for _ in 0..500 {
            if self.count(sql).await == n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("{sql} never counted {n}");
    }

    /// One number from the database, for "nothing changed" checks.
    pub async fn count(&self, sql: &'static str) -> i64 {
        on_test_db!(self, c => sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await.expect(sql))
    }

    /// A fingerprint of everything people change (not sessions): equal before and after
    /// means nothing changed.
    pub async fn fingerprint(&self) -> String {
        const SQL: &str = "SELECT CAST((SELECT COUNT(*) FROM users) AS TEXT) || ',' || \
            CAST((SELECT COALESCE(SUM(version), 0) FROM users) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM nodes) AS TEXT) || ',' || \
            CAST((SELECT COALESCE(SUM(version), 0) FROM nodes) AS TEXT) || ',' || \
            CAST((SELECT COALESCE(SUM(user_count), 0) FROM nodes) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM grants) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM user_services) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM user_photos) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM outbox) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM factors) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM recovery_codes) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM api_tokens) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NOT NULL) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM scim_users) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM audit_events WHERE action NOT LIKE 'sign-%') AS TEXT)";
        self.text(SQL).await
    }

    /// Runs one statement directly on the database (fixtures only).
    pub async fn exec(&self, sql: &'static str) {
        on_test_db!(self, c => { sqlx::query(sql).execute(&mut c).await.expect(sql); })
    }

    /// One text from the database.
    pub async fn text(&self, sql: &'static str) -> String {
        on_test_db!(self, c => sqlx::query_scalar::<_, String>(sql).fetch_one(&mut c).await.expect(sql))
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop_worker.take() {
            let _ = stop.send(true);
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
