//! `roster bench`: the data generator and the Users-tab benchmark. Pages are measured through
//! the whole application (routing, session, domain, SQL, template) in this process, without
//! the network, one request at a time.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, header};
use roster_core::domain::setup::{self, FirstAdmin};
use roster_core::domain::user::{self, ListFilter};
use roster_core::domain::{Actor, auth};
use roster_core::model::NodeId;
use roster_core::{Db, bench};
use roster_web::AppState;
use tower::ServiceExt as _;

use crate::cli::account::{command_line_actor, context};
use crate::config::{BenchSeedArgs, BenchUsersArgs};

pub async fn seed(args: BenchSeedArgs) -> anyhow::Result<()> {
    let db = Db::connect(&args.storage.database_url()?).await?;
    db.migrate().await?;
    let ctx = context(db.clone());
    let actor = command_line_actor(&ctx).await?;
    let seeded = bench::seed(&ctx, &actor, &args.name, args.units, args.users).await?;
    db.close().await;
    println!(
        "account {} with {} units and {} users on {} in {:.1} s ({:.0} users/s)",
        seeded.account,
        seeded.units.len() - 1,
        seeded.users,
        db.engine().name(),
        seeded.seconds,
        seeded.users as f64 / seeded.seconds
    );
    Ok(())
}

/// A signed-in session of an operator made for the benchmark.
async fn operator_session(ctx: &roster_core::Ctx) -> anyhow::Result<String> {
    let password = roster_core::secret::new_token()?;
    let email = format!(
        "bench-{}@roster.invalid",
        &password[..8].to_lowercase().replace(['-', '_'], "x")
    );
    let input = FirstAdmin {
        first_name: "Bench".into(),
        last_name: "Operator".into(),
        email: email.clone(),
        password: password.clone(),
        password_repeat: password.clone(),
        lang: Default::default(),
    };
    setup::create_operator_admin(ctx, &input).await?;
    let signed = auth::sign_in(
        ctx,
        auth::SignIn {
            email: &email,
            password: &password,
            ip: "127.0.0.1",
            user_agent: "roster bench",
            device_token: None,
        },
    )
    .await?;
    Ok(signed.session_token)
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

pub async fn users(args: BenchUsersArgs) -> anyhow::Result<()> {
    let db = Db::connect(&args.storage.database_url()?).await?;
    db.migrate().await?;
    let mut ctx = context(db.clone());
    // The benchmark's operator reads pages with a password session (no second factor).
    ctx.settings.mfa_default = roster_core::domain::mfa::Require::Users;
    let account =
        NodeId::parse(&args.account).ok_or_else(|| anyhow::anyhow!("--account must be an id"))?;
    let session = operator_session(&ctx).await?;
    let actor: Actor = command_line_actor(&ctx).await?;
    let first = user::list_users(
        &ctx,
        &actor,
        &ListFilter {
            node: Some(account),
            ..Default::default()
        },
    )
    .await?;
    let next = first.next.clone().unwrap_or_default();
    let some_user = first
        .users
        .first()
        .map(|u| u.id.to_string())
        .unwrap_or_default();
    let tree = roster_core::domain::node::tree(&ctx, &actor, Some(account)).await?;
    let unit = tree
        .last()
        .map(|t| t.node.id.to_string())
        .unwrap_or_default();
    let users = tree.first().map(|t| t.total_users).unwrap_or(0);
    let one = format!("user{}@", users / 2);
    let pages: Vec<(&str, String)> = vec![
        (
            "Users tab, first page of the account",
            format!("/users?node={account}"),
        ),
        (
            "Users tab, next page (keyset)",
            format!("/users?node={account}&after={next}"),
        ),
        ("Users tab, one unit", format!("/users?node={unit}")),
        (
            "Users tab, newest first",
            format!("/users?node={account}&sort=newest"),
        ),
        (
            "Search, one match (email prefix)",
            format!("/users?node={account}&q={}", one.replace('@', "%40")),
        ),
        (
            "Search, many matches (first name)",
            format!("/users?node={account}&q=anna"),
        ),
        (
            "Filter, status invited",
            format!("/users?node={account}&status=invited"),
        ),
        ("User page", format!("/users/{some_user}")),
    ];
    let router = roster_web::router(AppState::new(ctx.clone()));
    println!(
        "{} users in the account, {} requests per page, {}",
        users,
        args.requests,
        db.engine().name()
    );
    println!("| page | p50 ms | p99 ms | max ms |");
    println!("| --- | ---: | ---: | ---: |");
    for (name, path) in pages {
        let mut times = Vec::with_capacity(args.requests);
        for i in 0..args.requests + 5 {
            let req = Request::get(&path)
                .header(header::COOKIE, format!("roster={session}"))
                .body(Body::empty())?;
            let started = Instant::now();
            let res = router.clone().oneshot(req).await?;
            let status = res.status();
            let _ = axum::body::to_bytes(res.into_body(), usize::MAX).await?;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            anyhow::ensure!(status.is_success(), "{path} answered {status}");
            if i >= 5 {
                times.push(ms);
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} |",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times[times.len() - 1]
        );
    }
    db.close().await;
    Ok(())
}

pub async fn signin(args: crate::config::BenchSigninArgs) -> anyhow::Result<()> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let db = Db::connect(&args.storage.database_url()?).await?;
    db.migrate().await?;
    let mut ctx = context(db.clone());
    ctx.settings.hash_cost = roster_core::password::HashCost {
        memory_kib: args.hash.password_hash_memory_kib,
        iterations: args.hash.password_hash_iterations,
    };
    let actor = command_line_actor(&ctx).await?;
    let name = format!(
        "Signin{}",
        &roster_core::secret::new_token()?[..6].replace(['-', '_'], "x")
    );
    let seeded = bench::seed(&ctx, &actor, &name, 4, args.users).await?;
    let password = "correct horse battery staple";
    let hash = roster_core::password::hash(ctx.settings.hash_cost, password)?;
    let emails = Arc::new(bench::set_all_passwords(&ctx, seeded.account, &hash).await?);
    let seconds = Duration::from_secs(args.seconds);
    println!(
        "{} users, {} in flight, {} s per measurement, argon2id m={} KiB t={}, {}",
        emails.len(),
        args.concurrency,
        args.seconds,
        ctx.settings.hash_cost.memory_kib,
        ctx.settings.hash_cost.iterations,
        db.engine().name()
    );

    // The raw rate: verifications on the blocking pool, as sign-in runs them.
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = vec![];
    for _ in 0..args.concurrency {
        let (done, hash) = (done.clone(), hash.clone());
        tasks.push(tokio::spawn(async move {
            while started.elapsed() < seconds {
                let h = hash.clone();
                let ok = tokio::task::spawn_blocking(move || {
                    roster_core::password::verify(password, &h)
                })
                .await
                .unwrap_or(false);
                if ok {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let raw = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();

    // Sign-ins through the whole application: CSRF, throttle, hash, session, device, audit.
    let router = roster_web::router(AppState::new(ctx.clone()));
    let done = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = vec![];
    for worker in 0..args.concurrency {
        let (router, emails, done, failed) =
            (router.clone(), emails.clone(), done.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = worker;
            while started.elapsed() < seconds {
                let email = &emails[i % emails.len()];
                i += 8;
                let csrf = "bench-csrf-token-0000000000000000000000000000";
                let form = format!(
                    "csrf={csrf}&email={}&password=correct+horse+battery+staple",
                    email.replace('@', "%40")
                );
                let Ok(req) = Request::post("/signin")
                    .header(header::COOKIE, format!("roster_csrf={csrf}"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(form))
                else {
                    continue;
                };
                match router.clone().oneshot(req).await {
                    Ok(res) if res.status().as_u16() == 303 => done.fetch_add(1, Ordering::Relaxed),
                    _ => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    let failures = failed.load(Ordering::Relaxed);
    anyhow::ensure!(failures == 0, "{failures} sign-ins failed");

    // Sign-ins with password and authenticator app: the password step, the second step's
    // page (its CSRF token), then the code. A code is accepted once per time step, so each
    // user signs in at most once: the measurement ends when every user has.
    let secrets = Arc::new(bench::give_totp(&ctx, &emails).await?);
    let next_user = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = vec![];
    for _ in 0..args.concurrency {
        let (router, emails, secrets, next_user, done, failed, clock) = (
            router.clone(),
            emails.clone(),
            secrets.clone(),
            next_user.clone(),
            done.clone(),
            failed.clone(),
            ctx.clock.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while started.elapsed() < seconds {
                let i = next_user.fetch_add(1, Ordering::Relaxed);
                let (Some(email), Some(secret)) = (emails.get(i), secrets.get(i)) else {
                    break;
                };
                match two_step_sign_in(&router, email, secret, &clock).await {
                    Some(()) => done.fetch_add(1, Ordering::Relaxed),
                    None => failed.fetch_add(1, Ordering::Relaxed),
                };
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let totp_rate = done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64();
    println!("| measurement | per second | ratio to raw |");
    println!("| --- | ---: | ---: |");
    println!("| raw argon2id verifications | {raw:.1} | 1.000 |");
    println!(
        "| sign-ins (password only) | {rate:.1} | {:.3} |",
        rate / raw
    );
    println!(
        "| sign-ins (password + authenticator app) | {totp_rate:.1} | {:.3} |",
        totp_rate / raw
    );
    let failures = failed.load(Ordering::Relaxed);
    anyhow::ensure!(failures == 0, "{failures} two-step sign-ins failed");
    db.close().await;
    Ok(())
}

/// One sign-in with password and TOTP code through the router, as a browser does it.
async fn two_step_sign_in(
    router: &axum::Router,
    email: &str,
    secret: &str,
    clock: &roster_core::Clock,
) -> Option<()> {
    use axum::body::Body;
    use axum::http::{Request, header};
    use tower::ServiceExt as _;
    let csrf = "bench-csrf-token-0000000000000000000000000000";
    let form = format!(
        "csrf={csrf}&email={}&password=correct+horse+battery+staple",
        email.replace('@', "%40")
    );
    let req = Request::post("/signin")
        .header(header::COOKIE, format!("roster_csrf={csrf}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .ok()?;
    let res = router.clone().oneshot(req).await.ok()?;
    let session = res
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("roster="))?
        .split(';')
        .next()?
        .to_string();
    let cookie = format!("roster={session}");
    let req = Request::get("/signin/verify")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .ok()?;
    let page = router.clone().oneshot(req).await.ok()?;
    let html = axum::body::to_bytes(page.into_body(), 1 << 20).await.ok()?;
    let html = String::from_utf8_lossy(&html);
    let token = html
        .split("name=\"csrf\" value=\"")
        .nth(1)?
        .split('"')
        .next()?
        .to_string();
    let code = bench::totp_code(secret, clock.now())?;
    let req = Request::post("/signin/verify")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "csrf={token}&method=totp&code={code}&next=%2F"
        )))
        .ok()?;
    let res = router.clone().oneshot(req).await.ok()?;
    (res.status().as_u16() == 303 && res.headers().get(header::SET_COOKIE).is_some()).then_some(())
}

/// A small deterministic generator for picking users (no dependency for a benchmark).
pub(crate) struct Picker(pub(crate) u64);

impl Picker {
    pub(crate) fn next(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

/// One SCIM request through the router; its status and body.
async fn scim_call(
    router: &axum::Router,
    token: &str,
    method: axum::http::Method,
    path: &str,
    body: Option<&serde_json::Value>,
) -> anyhow::Result<(u16, serde_json::Value)> {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/scim+json")
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))?;
    let res = router.clone().oneshot(req).await?;
    let status = res.status().as_u16();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or_default()))
}

fn scim_user(i: usize, tag: &str, domain: &str) -> serde_json::Value {
    let (first, last) = (
        ["Anna", "Erik", "Maria", "Lars"][i % 4],
        ["Berg", "Ek", "Lund"][i % 3],
    );
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": format!("{tag}{i}@{domain}"),
        "externalId": format!("{tag}-{i}"),
        "name": {"givenName": first, "familyName": last},
        "displayName": format!("{first} {last}"),
        "emails": [{"value": format!("{tag}{i}@{domain}"), "type": "work", "primary": true}],
        "active": true
    })
}

pub async fn scim(args: crate::config::BenchScimArgs) -> anyhow::Result<()> {
    // RUST_LOG=sqlx::query=debug shows every statement the measured requests run.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let db = Db::connect(&args.storage.database_url()?).await?;
    db.migrate().await?;
    let ctx = context(db.clone());
    let actor = command_line_actor(&ctx).await?;
    let router = roster_web::router(AppState::new(ctx.clone()));
    let tag = roster_core::secret::new_token()?[..6]
        .to_lowercase()
        .replace(['-', '_'], "x");
    println!("SCIM benchmark on {}", db.engine().name());

    let mut fresh = None;
    if !args.skip_provisioning {
        // A new account as an operator makes it (no statistics refresh: a running server
        // has none either).
        let account = roster_core::domain::node::create_account(
            &ctx,
            &actor,
            &roster_core::domain::node::AccountInput {
                name: format!("Scim{tag}"),
                default_language: "en".into(),
                default_country: "SE".into(),
                ..Default::default()
            },
        )
        .await?;
        let token = roster_core::domain::scim::create_token(&ctx, &actor, account, "bench").await?;
        let domain = format!("scim{tag}.test");
        println!("| provisioning | users | seconds | users per second |");
        println!("| --- | ---: | ---: | ---: |");

        // POST /Users, `concurrency` requests in flight.
        let next = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = vec![];
        for _ in 0..args.concurrency {
            let (router, token, next, failed, domain) = (
                router.clone(),
                token.clone(),
                next.clone(),
                failed.clone(),
                domain.clone(),
            );
            let users = args.users;
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= users {
                        break;
                    }
                    let body = scim_user(i, "p", &domain);
                    let ok = matches!(
                        scim_call(
                            &router,
                            &token,
                            axum::http::Method::POST,
                            "/scim/v2/Users",
                            Some(&body)
                        )
                        .await,
                        Ok((201, _))
                    );
                    if !ok {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        for t in tasks {
            t.await?;
        }
        let secs = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            failed.load(Ordering::Relaxed) == 0,
            "{} creates failed",
            failed.load(Ordering::Relaxed)
        );
        println!(
            "| POST /Users ({} in flight) | {} | {secs:.1} | {:.0} |",
            args.concurrency,
            args.users,
            args.users as f64 / secs
        );

        // POST /Bulk, `bulk` creates a request, `concurrency` requests in flight.
        let batches: Vec<Vec<usize>> = (0..args.users)
            .collect::<Vec<_>>()
            .chunks(args.bulk.max(1))
            .map(|c| c.to_vec())
            .collect();
        let batches = Arc::new(batches);
        let next = Arc::new(AtomicUsize::new(0));
        let started = Instant::now();
        let mut tasks = vec![];
        for _ in 0..args.concurrency {
            let (router, token, next, failed, domain, batches) = (
                router.clone(),
                token.clone(),
                next.clone(),
                failed.clone(),
                domain.clone(),
                batches.clone(),
            );
            tasks.push(tokio::spawn(async move {
                loop {
                    let b = next.fetch_add(1, Ordering::Relaxed);
                    let Some(batch) = batches.get(b) else {
                        break;
                    };
                    let ops: Vec<serde_json::Value> = batch
                        .iter()
                        .map(|i| {
                            serde_json::json!({"method": "POST", "path": "/Users",
                                "bulkId": format!("b{i}"), "data": scim_user(*i, "b", &domain)})
                        })
                        .collect();
                    let body = serde_json::json!({
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                        "Operations": ops});
                    match scim_call(
                        &router,
                        &token,
                        axum::http::Method::POST,
                        "/scim/v2/Bulk",
                        Some(&body),
                    )
                    .await
                    {
                        Ok((200, answer)) => {
                            let bad = answer["Operations"]
                                .as_array()
                                .map(|o| o.iter().filter(|op| op["status"] != "201").count())
                                .unwrap_or(batch.len());
                            failed.fetch_add(bad, Ordering::Relaxed);
                        }
                        _ => {
                            failed.fetch_add(batch.len(), Ordering::Relaxed);
                        }
                    }
                }
            }));
        }
        for t in tasks {
            t.await?;
        }
        let secs = started.elapsed().as_secs_f64();
        anyhow::ensure!(
            failed.load(Ordering::Relaxed) == 0,
            "{} bulk creates failed",
            failed.load(Ordering::Relaxed)
        );
        println!(
            "| POST /Bulk ({} operations a request, {} in flight) | {} | {secs:.1} | {:.0} |",
            args.bulk,
            args.concurrency,
            args.users,
            args.users as f64 / secs
        );
        fresh = Some((account, token));
    }

    // Lookups, one at a time.
    let (account, token) = match (&args.account, fresh) {
        (Some(a), _) => {
            let account =
                NodeId::parse(a).ok_or_else(|| anyhow::anyhow!("--account must be an id"))?;
            let token =
                roster_core::domain::scim::create_token(&ctx, &actor, account, "bench").await?;
            (account, token)
        }
        (None, Some(f)) => f,
        (None, None) => anyhow::bail!("--skip-provisioning needs --account"),
    };
    if args.adopt {
        let n = bench::adopt_for_scim(&ctx, account).await?;
        println!("{n} users given a provider's userName");
    }
    let names = bench::user_names(&ctx, account).await?;
    anyhow::ensure!(!names.is_empty(), "the account has no users");
    println!(
        "{} users in the account, {} lookups per filter",
        names.len(),
        args.lookups
    );
    println!("| filter | matches (last) | p50 ms | p99 ms | max ms |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let mut pick = Picker(0x9E37_79B9_7F4A_7C15);
    let enc = |f: &str| {
        f.replace('%', "%25")
            .replace(' ', "%20")
            .replace('"', "%22")
            .replace('@', "%40")
            .replace('+', "%2B")
    };
    type Make = Box<dyn Fn(&str) -> String>;
    let kinds: Vec<(&str, Make)> = vec![
        (
            "userName eq (a random user)",
            Box::new(|n: &str| format!("userName eq \"{n}\"")),
        ),
        (
            "userName sw (the name less its last 12 characters)",
            Box::new(|n: &str| {
                let cut = n.chars().count().saturating_sub(12).max(1);
                format!(
                    "userName sw \"{}\"",
                    n.chars().take(cut).collect::<String>()
                )
            }),
        ),
        (
            "userName sw (up to its first digit: 1 in 9 users)",
            Box::new(|n: &str| {
                let cut = n.find(|c: char| c.is_ascii_digit()).map_or(1, |i| i + 1);
                format!("userName sw \"{}\"", &n[..cut])
            }),
        ),
    ];
    for (label, make) in kinds {
        let mut times = Vec::with_capacity(args.lookups);
        let mut matches = 0;
        for i in 0..args.lookups + 5 {
            let name = &names[pick.next(names.len())];
            let path = format!("/scim/v2/Users?filter={}&count=20", enc(&make(name)));
            let started = Instant::now();
            let (status, body) =
                scim_call(&router, &token, axum::http::Method::GET, &path, None).await?;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            anyhow::ensure!(status == 200, "{path} answered {status}");
            matches = body["totalResults"].as_u64().unwrap_or(0);
            anyhow::ensure!(matches >= 1, "{path} found nothing");
            if i >= 5 {
                times.push(ms);
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "| {label} | {matches} | {:.2} | {:.2} | {:.2} |",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times[times.len() - 1]
        );
    }
    db.close().await;
    Ok(())
}
