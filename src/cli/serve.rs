use std::time::Duration;

use roster_core::domain::{auth, schedule, setup};
use roster_core::outbox::{Transport, worker};
use roster_core::password::HashCost;
use roster_core::{Clock, Ctx, Db, Settings};
use roster_web::AppState;
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, MfaDefault, ServeArgs, SmsDriver};
use roster_core::domain::mfa::Require;

/// `roster serve`: migrate, print the set-up link on first run, serve until SIGTERM/Ctrl-C.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    init_logs(args.log_format);
    let db = Db::connect(&args.storage.database_url()?).await?;
    db.migrate().await?;
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    let local = listener.local_addr()?;
    let public_url = args.public_url.clone().unwrap_or_else(|| {
        let host = if local.ip().is_unspecified() {
            "localhost".to_string()
        } else {
            local.ip().to_string()
        };
        format!("http://{host}:{}", local.port())
    });
    let cost = HashCost {
        memory_kib: args.hash.password_hash_memory_kib,
        iterations: args.hash.password_hash_iterations,
    };
    let mut settings = Settings::new(&public_url, cost);
    if let Some(path) = &args.services_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("services file {}: {e}", path.display()))?;
        let catalog = roster_core::services::Catalog::from_toml(&text)
            .map_err(|e| anyhow::anyhow!("services file {}, {e}", path.display()))?;
        settings = settings.with_catalog(catalog);
    }
    settings.session_idle_secs = args.session_idle_minutes * 60;
    settings.secret_key = args.storage.secret_key()?;
    settings.api_rate_per_minute = args.api_rate_limit;
    settings.lookup_rate_per_minute = args.lookup_rate_limit;
    settings.audit_retention_days = args.audit_retention_days;
    settings.stats_interval_secs = args.stats_interval;
    settings.mfa_default = match args.mfa_default {
        MfaDefault::Administrators => Require::Administrators,
        MfaDefault::Everyone => Require::Everyone,
        MfaDefault::Users => Require::Users,
    };
    settings.session_absolute_secs = args.session_max_hours * 3600;
    let ctx = Ctx::new(db.clone(), Clock::System, settings);

    if let Some(link) = setup::prepare_first_run(&ctx).await? {
        println!(
            "Roster has no administrator yet. Open this one-time link to create one (valid until {}): {}",
            link.expires_at.to_utc_string(),
            link.url
        );
    }
    tracing::info!(engine = db.engine().name(), address = %local, public_url = %public_url, "listening");
    println!("Roster is listening on http://{local}");

    let mut transport = Transport::none();
    match &args.smtp_url {
        Some(url) => {
            transport = transport
                .with_smtp(url, &args.mail_from)
                .map_err(|e| anyhow::anyhow!("--smtp-url or --mail-from: {e}"))?
        }
        None => tracing::warn!(
            "no SMTP server configured (--smtp-url): email stays in the outbox, see Management › Deliveries"
        ),
    }
    // Without a gateway, the embedded database (trying Roster out) writes SMS to the log; a
    // PostgreSQL deployment keeps them in the outbox rather than log sign-in codes.
    let driver = args
        .sms_driver
        .unwrap_or(match (&args.sms_gateway_url, db.engine()) {
            (Some(_), _) => SmsDriver::Http,
            (None, roster_core::Engine::Sqlite) => SmsDriver::Log,
            (None, _) => SmsDriver::None,
        });
    match (driver, &args.sms_gateway_url) {
        (SmsDriver::Http, Some(url)) => {
            transport = transport
                .with_sms_gateway(url, args.sms_gateway_auth.as_deref())
                .map_err(|e| anyhow::anyhow!("--sms-gateway-url: {e}"))?
        }
        (SmsDriver::Http, None) => anyhow::bail!("--sms-driver http needs --sms-gateway-url"),
        (SmsDriver::Log, _) => {
            tracing::warn!(
                "SMS are written to this log, not sent (--sms-driver log); set --sms-gateway-url to send them"
            );
            transport = transport.with_sms_log();
        }
        (SmsDriver::None, _) => {
            tracing::warn!("SMS stay in the outbox (--sms-driver none)")
        }
    }
    let mail_configured = transport.sends_email();
    let mut proxies = vec![];
    for p in args.trusted_proxies.iter().filter(|p| !p.trim().is_empty()) {
        proxies.push(roster_web::Network::parse(p).ok_or_else(|| {
            anyhow::anyhow!("--trusted-proxies: {p:?} is not an address or network")
        })?);
    }
    let (stop_worker, worker_stopped) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(worker::run(
        ctx.clone(),
        transport,
        Duration::from_millis(args.outbox_poll_ms),
        worker_stopped,
    ));
    let sweeper = tokio::spawn(maintain(ctx.clone()));
    let flush_ctx = ctx.clone();
    roster_web::serve(
        listener,
        AppState::new(ctx)
            .with_mail(mail_configured)
            .with_trusted_proxies(proxies),
        shutdown_signal(),
    )
    .await?;
    sweeper.abort();
    if let Err(e) = auth::flush_failures(&flush_ctx, true).await {
        tracing::warn!(error = %e, "failed authentications not written");
    }
    if let Err(e) = roster_core::domain::lookup::flush_counts(&flush_ctx, true).await {
        tracing::warn!(error = %e, "lookup counts not written");
    }
    let _ = stop_worker.send(true);
    let _ = worker.await;
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

fn init_logs(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

/// Completes at SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Housekeeping: every ten seconds the failed authentications of past minutes go into the
/// audit trail (one event per address and minute), and the services' lookups (one event per
/// token and minute, with the count); then the scheduler runs whatever job is due and no other
/// node has run (sweeps, invitation expiry, audit retention).
async fn maintain(ctx: Ctx) {
    let node = schedule::node_name();
    let mut every = tokio::time::interval(Duration::from_secs(10));
    loop {
        every.tick().await;
        if let Err(e) = auth::flush_failures(&ctx, false).await {
            tracing::warn!(error = %e, "failed authentications not written");
        }
        if let Err(e) = roster_core::domain::lookup::flush_counts(&ctx, false).await {
            tracing::warn!(error = %e, "lookup counts not written");
        }
        if let Err(e) = schedule::run_due(&ctx, &node).await {
            tracing::warn!(error = %e, "scheduler pass failed");
        }
    }
}
