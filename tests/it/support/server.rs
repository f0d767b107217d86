//! `TestServer`: the real app on 127.0.0.1:0 with a fresh database and a clock the test moves.

use roster_core::domain::api_token;
use roster_core::domain::mfa::{self, Overview, Require};
use roster_core::domain::setup;
use roster_core::domain::user::{self, UserDetail};
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
    /// The SMTP sink the outbox delivers to (servers built with `mail()`).
    pub smtp: Option<super::smtp::SmtpSink>,
    /// The SMS gateway stand-in the outbox posts to (servers built with `mail()`).
    pub sms: Option<super::sms::SmsGateway>,
    /// The API's request windows, to check that they stay bounded.
    pub api_limits: std::sync::Arc<roster_web::rate_limit::RateLimiter>,
    /// How the outbox is delivered (servers built with `mail()`): by `deliver_outbox`.
    outbox: Option<(Ctx, roster_core::outbox::Transport)>,
    stop_worker: Option<tokio::sync::watch::Sender<bool>>,
    shutdown: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
}

/// How a test server is made: `TestServer::builder(engine).admin().mail().start().await`.
pub struct Builder {
    engine: Engine,
    admin: bool,
    mail: bool,
    worker: bool,
    options: Options,
    proxies: Vec<String>,
    on: Option<(String, Clock)>,
}

impl Builder {
    /// The first operator administrator (`ADMIN_EMAIL`) is created through the set-up link.
    pub fn admin(mut self) -> Builder {
        self.admin = true;
        self
    }

    /// An SMTP sink and an SMS gateway stand-in on loopback: the outbox delivers to them when
    /// the test says so (`deliver_outbox`), three tries, 30 s back-off on the test clock.
    pub fn mail(mut self) -> Builder {
        self.mail = true;
        self
    }

    /// With `mail()`: a worker also delivers in the background, as in `roster serve` (for tests
    /// of several nodes sharing the outbox).
    pub fn worker(mut self) -> Builder {
        self.worker = true;
        self
    }

    pub fn options(mut self, options: Options) -> Builder {
        self.options = options;
        self
    }

    /// Behind reverse proxies at these addresses (their `X-Forwarded-For` is believed).
    pub fn behind(mut self, proxies: &[&str]) -> Builder {
        self.proxies = proxies.iter().map(|p| p.to_string()).collect();
        self
    }

    /// On an existing database, with its clock (a second node of a deployment).
    pub fn on(mut self, db_url: &str, clock: Clock) -> Builder {
        self.on = Some((db_url.to_string(), clock));
        self
    }

    pub async fn start(self) -> TestServer {
        let (db_url, clock) = match self.on {
            Some(on) => on,
            None => (
                fresh_database(self.engine).await,
                Clock::manual(Timestamp::from_millis(1_795_000_000_000)),
            ),
        };
        let proxies: Vec<&str> = self.proxies.iter().map(String::as_str).collect();
        let mut server =
            TestServer::start_full(self.engine, &db_url, clock, &proxies, self.options).await;
        if self.admin {
            server.create_first_admin(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        }
        if self.mail {
            server.attach_mail(self.worker).await;
        }
        server
    }
}

impl TestServer {
    pub fn builder(engine: Engine) -> Builder {
        Builder {
            engine,
            admin: false,
            mail: false,
            worker: false,
            options: Options::default(),
            proxies: vec![],
            on: None,
        }
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
        let served = tokio::spawn(async move {
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
            outbox: None,
            stop_worker: None,
            shutdown: Some(tx),
            served: Some(served),
        }
    }

    /// Gives the server an SMTP sink and an SMS gateway stand-in to deliver to.
    async fn attach_mail(&mut self, worker: bool) {
        let sink = super::smtp::SmtpSink::start().await;
        let gateway = super::sms::SmsGateway::start().await;
        let mut ctx = self.ctx.clone();
        ctx.settings.outbox_max_attempts = 3;
        let transport = || {
            roster_core::outbox::Transport::none()
                .with_smtp(&sink.url(), "Roster <roster@roster.test>")
                .and_then(|t| t.with_sms_gateway(&gateway.url(), Some("Bearer gateway-secret")))
                .expect("transport")
        };
        if worker {
            let (stop, stopped) = tokio::sync::watch::channel(false);
            tokio::spawn(roster_core::outbox::worker::run(
                ctx.clone(),
                transport(),
                std::time::Duration::from_millis(50),
                stopped,
            ));
            self.stop_worker = Some(stop);
        }
        self.outbox = Some((ctx, transport()));
        self.smtp = Some(sink);
        self.sms = Some(gateway);
    }

    /// Runs the outbox once, as a node's worker does: every message that is due is sent (or
    /// fails its try); how many went out.
    pub async fn deliver_outbox(&self) -> usize {
        let (ctx, transport) = self.outbox.as_ref().expect("a server built with mail()");
        let mut sent = 0;
        loop {
            let n = roster_core::outbox::deliver_due(ctx, transport, "test-node")
                .await
                .expect("outbox pass");
            if n == 0 {
                return sent;
            }
            sent += n;
        }
    }

    /// Delivers the outbox, then the mail the sink holds (at least `n`).
    pub async fn mails(&self, n: usize) -> Vec<super::smtp::Received> {
        self.deliver_outbox().await;
        self.sink().wait_for(n).await
    }

    /// Delivers the outbox, then the SMS the gateway holds (at least `n`).
    pub async fn texts(&self, n: usize) -> Vec<super::sms::Sms> {
        self.deliver_outbox().await;
        self.gateway().wait_for(n).await
    }

    pub fn gateway(&self) -> &super::sms::SmsGateway {
        self.sms.as_ref().expect("a server started with_mail")
    }

    pub fn sink(&self) -> &super::smtp::SmtpSink {
        self.smtp.as_ref().expect("a server started with_mail")
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
        if self.outbox.is_some() && self.stop_worker.is_none() {
            self.deliver_outbox().await;
        }
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
            CAST((SELECT COUNT(*) FROM user_aliases) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM user_aliases WHERE confirmed_at IS NOT NULL) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM user_numbers) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM address_books) AS TEXT) || ',' || \
            CAST((SELECT COALESCE(SUM(version), 0) FROM address_books) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM contacts) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM public_addresses) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM public_address_users) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM usage_events) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM stats_daily) AS TEXT) || ',' || \
            CAST((SELECT COUNT(*) FROM audit_events WHERE action NOT LIKE 'sign-%') AS TEXT)";
        self.text(SQL).await
    }

    /// A user as the operator reads them through the domain, by email address or login.
    pub async fn user(&self, email_or_login: &str) -> UserDetail {
        let id = api_token::find_user(&self.ctx, email_or_login)
            .await
            .expect("a user with that address");
        user::get_user(&self.ctx, &super::org::root_actor(self), id)
            .await
            .expect("the operator reads every user")
    }

    /// A user's second factors and phone, as the operator reads them through the domain.
    pub async fn factors(&self, email_or_login: &str) -> Overview {
        let id = self.user(email_or_login).await.id;
        mfa::overview(&self.ctx, &super::org::root_actor(self), id)
            .await
            .expect("the operator reads every user's factors")
    }

    /// Runs one statement directly on the database (fixtures only).
    pub async fn exec(&self, sql: &'static str) {
        on_test_db!(self, c => { sqlx::query(sql).execute(&mut c).await.expect(sql); })
    }

    /// How many messages wait untried in the outbox, counted on a connection of its own (for
    /// `drop`).
    fn untried_now(&self) -> i64 {
        let (engine, url) = (self.engine, self.db_url.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let sql = "SELECT COUNT(*) FROM outbox WHERE state = 'queued' AND attempts = 0";
                match engine {
                    Engine::Sqlite => {
                        let mut c = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
                            .await
                            .expect("connect");
                        sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await
                    }
                    Engine::Postgres => {
                        let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
                            .await
                            .expect("connect");
                        sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await
                    }
                }
                .expect("count")
            })
        })
        .join()
        .expect("count thread")
    }

    /// One text from the database.
    pub async fn text(&self, sql: &'static str) -> String {
        on_test_db!(self, c => sqlx::query_scalar::<_, String>(sql).fetch_one(&mut c).await.expect(sql))
    }
}

impl TestServer {
    /// Shuts the server down gracefully, as SIGTERM does, and waits until it has stopped.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(served) = self.served.take() {
            served.await.expect("serve ended");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // A server with an outbox and no worker fails when messages wait that the test never
        // tried to deliver (they would have gone out unnoticed).
        if self.outbox.is_some() && self.stop_worker.is_none() && !std::thread::panicking() {
            assert_eq!(
                self.untried_now(),
                0,
                "messages left in the outbox that the test never delivered"
            );
        }
        if let Some(stop) = self.stop_worker.take() {
            let _ = stop.send(true);
        }
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
