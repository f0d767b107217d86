//! `roster bench usage`: the services' usage reports and what is built from them, at scale.
//!
//! 1. Ingestion, measured from outside: the built binary serves a seeded account as a separate
//!    process pinned to core 0; this process, on core 1, posts batches of `--batch` events over
//!    real HTTP with a usage token. Reported: events per second, the server's CPU per thousand
//!    events (so events per second of one core), its memory before, during and after; beside
//!    it, in the same run, the domain's ingest called in-process (no HTTP) as the floor.
//! 2. The roll-up of `--rollup-events` generated events over 30 days, on one core.
//! 3. A user's timeline (newest page, a filtered page, an older page) with `--audit-events`
//!    generated events in the account: p50/p99 of the domain's read.

use std::time::{Duration, Instant};

use roster_core::Db;
use roster_core::domain::timeline::{self, Filter, Kind};
use roster_core::domain::usage::{self, Reported, Who};
use roster_core::domain::{api_token, statistics};
use roster_core::model::UserId;
use serde_json::json;

use crate::cli::account::{command_line_actor, context, explain};
use crate::cli::bench::percentile;
use crate::cli::bench_lookup::{
    Conn, clock_ticks, ms, ready, service_token, start_server, usage as cpu_of,
};
use crate::config::BenchUsageArgs;

/// One batch's events as JSON, users named by email, ids unique to the run.
fn batch_json(run: &str, n: usize, size: usize, users: usize, domain: &str, now: i64) -> String {
    let events: Vec<serde_json::Value> = (0..size)
        .map(|i| {
            let k = n * size + i;
            let at = roster_core::model::Timestamp::from_millis(now - (k as i64 % 86_400) * 1000);
            json!({
                "user": { "email": format!("user{}@{domain}", (k * 7919) % users) },
                "service": "sms",
                "kind": if k.is_multiple_of(3) { "sms-parts" } else { "sms-sent" },
                "count": 1 + k % 5,
                "at": at.to_rfc3339(),
                "id": format!("{run}-{k}"),
            })
        })
        .collect();
    json!({ "events": events }).to_string()
}

pub async fn usage_bench(args: BenchUsageArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.batch >= 1 && args.batch <= usage::MAX_BATCH,
        "--batch: 1 to 5000"
    );
    let url = args.storage.database_url()?;
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    let ctx = context(db.clone());
    let actor = command_line_actor(&ctx).await?;
    let tag = roster_core::secret::new_token()?[..6]
        .to_lowercase()
        .replace(['-', '_'], "x");
    let name = format!("Usage{tag}");
    let seeded = roster_core::bench::seed(&ctx, &actor, &name, 20, args.users).await?;
    println!("seeded {} users in {:.0} s", seeded.users, seeded.seconds);
    let domain = format!("usage{tag}.test");
    let (sys, token) = service_token(
        &ctx,
        &actor,
        seeded.account,
        &format!("usage{tag}"),
        api_token::TokenScope::Usage,
    )
    .await?;
    let now = ctx.clock.now().millis();

    // 1. Ingestion over HTTP, the server a process of its own.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut server = start_server(&args.storage, &url, port)?;
    let measured = async {
        ready(port).await?;
        let ticks = clock_ticks();
        let pid = server.id();
        let batches = args.events.div_ceil(args.batch);
        // Bodies are made before the clock starts: the load generator's JSON is not the server's.
        let bodies: Vec<String> = (0..batches)
            .map(|n| batch_json(&format!("h{tag}"), n, args.batch, args.users, &domain, now))
            .collect();
        let (cpu0, mem0) = cpu_of(pid, ticks);
        let started = Instant::now();
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let bodies = std::sync::Arc::new(bodies);
        let mut tasks = vec![];
        for _ in 0..args.connections {
            let (next, bodies, token) = (next.clone(), bodies.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                let mut conn = Conn::open(port).await?;
                let mut peak = 0f64;
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(body) = bodies.get(i) else { break };
                    let (status, answer) = conn.post("/api/v1/usage", &token, body).await?;
                    anyhow::ensure!(
                        status == 200,
                        "status {status}: {}",
                        String::from_utf8_lossy(&answer)
                    );
                    peak = peak.max(cpu_of(pid, clock_ticks()).1);
                }
                Ok::<_, anyhow::Error>(peak)
            }));
        }
        let mut peak_mem = 0f64;
        for t in tasks {
            peak_mem = peak_mem.max(t.await??);
        }
        let wall = started.elapsed().as_secs_f64();
        let (cpu1, _) = cpu_of(pid, ticks);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (_, mem_after) = cpu_of(pid, ticks);
        let sent = batches * args.batch;
        let cpu = cpu1 - cpu0;
        println!(
            "ingestion over HTTP: {sent} events in batches of {}, {} connections: {:.0} events/s \
             (wall); server CPU {:.3} s = {:.2} ms per 1,000 events = {:.0} events per CPU-second; \
             server memory {:.0} MiB before, {:.0} peak, {:.0} after",
            args.batch,
            args.connections,
            sent as f64 / wall,
            cpu,
            cpu * 1000.0 * 1000.0 / sent as f64,
            sent as f64 / cpu.max(1e-9),
            mem0,
            peak_mem,
            mem_after
        );
        Ok::<_, anyhow::Error>(())
    }
    .await;
    let _ = server.kill();
    let _ = server.wait();
    measured?;

    // The floor: the domain's ingest in-process, same batch size, fresh ids.
    let caller = api_token::authenticate_bearer(&ctx, &token, "127.0.0.1")
        .await
        .map_err(explain)?;
    let rounds = (args.events / args.batch).clamp(1, 50);
    let mut times = vec![];
    for n in 0..rounds {
        let events: Vec<Reported> = (0..args.batch)
            .map(|i| {
                let k = n * args.batch + i;
                Reported {
                    who: Some(Who::Email(format!(
                        "user{}@{domain}",
                        (k * 7919) % args.users
                    ))),
                    service: "sms".into(),
                    kind: "sms-sent".into(),
                    count: 1,
                    at: roster_core::model::Timestamp::from_millis(now - k as i64 * 1000)
                        .to_rfc3339(),
                    id: format!("p{tag}-{k}"),
                }
            })
            .collect();
        let t = Instant::now();
        usage::ingest(&ctx, &caller.actor, &events)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        times.push(ms(t.elapsed()));
    }
    times.sort_by(f64::total_cmp);
    let median = percentile(&times, 0.5);
    println!(
        "ingestion in-process (floor): median {median:.2} ms per batch of {} = {:.0} events/s",
        args.batch,
        args.batch as f64 * 1000.0 / median
    );

    // 2. The roll-up of many events on one core.
    let people = roster_core::bench::people_of(&ctx, seeded.account).await?;
    if args.rollup_events > 0 {
        let secs =
            roster_core::bench::usage_events(&ctx, &people, sys.0, args.rollup_events, 30).await?;
        println!(
            "generated {} usage events in {secs:.0} s",
            args.rollup_events
        );
        roster_core::bench::analyze(&ctx).await?;
        let t = Instant::now();
        let done = statistics::roll_up(&ctx).await.map_err(explain)?;
        println!(
            "roll-up of {} usage events (first run, every day): {:.1} s ({done})",
            args.rollup_events + args.events,
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let done = statistics::roll_up(&ctx).await.map_err(explain)?;
        println!(
            "roll-up again, nothing new: {:.2} s ({done})",
            t.elapsed().as_secs_f64()
        );
    }

    // 3. A user's timeline in an account with a long history.
    if args.audit_events > 0 {
        let me = people[people.len() / 2];
        let secs =
            roster_core::bench::audit_history(&ctx, &people, me, args.audit_events, 1).await?;
        println!(
            "generated {} audit events in {secs:.0} s",
            args.audit_events
        );
        roster_core::bench::analyze(&ctx).await?;
        let reader = command_line_actor(&ctx).await?;
        let user = UserId(me.0);
        let first = timeline::user_timeline(&ctx, &reader, user, &Filter::default())
            .await
            .map_err(explain)?;
        let older = first.next.as_deref().and_then(timeline::cursor);
        let views: [(&str, Filter); 3] = [
            ("newest page", Filter::default()),
            (
                "changes only",
                Filter {
                    kind: Some(Kind::Changes),
                    ..Default::default()
                },
            ),
            (
                "an older page",
                Filter {
                    before: older,
                    ..Default::default()
                },
            ),
        ];
        for (what, filter) in views {
            let mut times = vec![];
            for _ in 0..args.reads {
                let t = Instant::now();
                timeline::user_timeline(&ctx, &reader, user, &filter)
                    .await
                    .map_err(explain)?;
                times.push(ms(t.elapsed()));
            }
            times.sort_by(f64::total_cmp);
            println!(
                "timeline, {what}: p50 {:.2} ms, p99 {:.2} ms ({} reads)",
                percentile(&times, 0.5),
                percentile(&times, 0.99),
                args.reads
            );
        }
    }
    Ok(())
}
