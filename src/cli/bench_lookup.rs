//! `roster bench lookup`: the services' lookup at scale, measured from outside. The account
//! (`--users` users from `roster bench seed`, or `--account`) gets a standard SMS sender id, a
//! unit's override, and a sample of users with the SMS service, a setting of their own and a
//! number each. Then the built binary serves it as a separate process pinned to core 0, this
//! process pinned to core 1 sends lookups over real HTTP with a lookup token, and the report
//! gives the latency (p50/p99, one at a time), the throughput with several connections, and
//! the server's CPU per lookup and memory before, during and after; beside it, in the same
//! run, the domain's lookup called in-process (no HTTP, no token) as the floor.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use roster_core::Db;
use roster_core::domain::lookup::{self, Query};
use roster_core::domain::{api_token, node, service, user};
use roster_core::model::NodeId;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::cli::account::{command_line_actor, context};
use crate::cli::bench::{Picker, percentile};
use crate::config::BenchLookupArgs;

/// The path of the i-th lookup of a kind.
type PathOf<'a> = Box<dyn Fn(usize) -> String + 'a>;

/// One keep-alive HTTP/1.1 connection.
pub(crate) struct Conn(BufReader<TcpStream>);

impl Conn {
    pub(crate) async fn open(port: u16) -> anyhow::Result<Conn> {
        let s = TcpStream::connect(("127.0.0.1", port)).await?;
        s.set_nodelay(true)?;
        Ok(Conn(BufReader::new(s)))
    }

    /// GET `path`; the status.
    pub(crate) async fn get(&mut self, path: &str, token: &str) -> anyhow::Result<u16> {
        let req = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
        );
        self.0.get_mut().write_all(req.as_bytes()).await?;
        self.answer().await.map(|(status, _)| status)
    }

    /// POST a JSON `body` to `path`; the status and the answer's body.
    pub(crate) async fn post(
        &mut self,
        path: &str,
        token: &str,
        body: &str,
    ) -> anyhow::Result<(u16, Vec<u8>)> {
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let w = self.0.get_mut();
        w.write_all(req.as_bytes()).await?;
        w.write_all(body.as_bytes()).await?;
        self.answer().await
    }

    async fn answer(&mut self) -> anyhow::Result<(u16, Vec<u8>)> {
        let mut line = String::new();
        self.0.read_line(&mut line).await?;
        let status: u16 = line.split(' ').nth(1).unwrap_or("0").parse()?;
        let mut length = 0usize;
        loop {
            line.clear();
            self.0.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse()?;
            }
        }
        let mut body = vec![0; length];
        self.0.read_exact(&mut body).await?;
        Ok((status, body))
    }
}

/// The server's CPU time so far (user + system, seconds) and resident memory (MiB).
pub(crate) fn usage(pid: u32, ticks: f64) -> (f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command's closing parenthesis; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let cpu = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    ((cpu(11) + cpu(12)) / ticks, rss_kb / 1024.0)
}

pub(crate) fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The server as a separate process on core 0 (when `taskset` is there).
pub(crate) fn start_server(
    storage: &crate::config::StorageArgs,
    url: &str,
    port: u16,
) -> anyhow::Result<Child> {
    let exe = std::env::current_exe()?;
    let pinned = Command::new("taskset").arg("-V").output().is_ok();
    let mut cmd = if pinned {
        let mut c = Command::new("taskset");
        c.args(["-c", "0"]).arg(&exe);
        c
    } else {
        Command::new(&exe)
    };
    cmd.arg("serve")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["--database-url", url])
        .arg("--data-dir")
        .arg(&storage.data_dir)
        .args(["--lookup-rate-limit", "100000000"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if pinned {
        let _ = Command::new("taskset")
            .args(["-a", "-p", "-c", "1", &std::process::id().to_string()])
            .stdout(Stdio::null())
            .status();
    }
    Ok(cmd.spawn()?)
}

/// A system user of `node` for the services, with a token of `scope`: its id and the token.
pub(crate) async fn service_token(
    ctx: &roster_core::Ctx,
    actor: &roster_core::domain::Actor,
    node: NodeId,
    login: &str,
    scope: api_token::TokenScope,
) -> anyhow::Result<(roster_core::model::UserId, String)> {
    let sys = user::create_user(
        ctx,
        actor,
        node,
        &user::NewUser {
            system: true,
            login: login.into(),
            profile: user::ProfileInput {
                user_type: "user".into(),
                language: "en".into(),
                ..Default::default()
            },
            ..Default::default()
        },
    )
    .await
    .map_err(crate::cli::account::explain)?
    .id;
    let token = api_token::create_token(
        ctx,
        actor,
        &api_token::NewToken {
            user: sys,
            name: "bench".into(),
            node: None,
            read_only: false,
            scope,
            expires_days: None,
        },
    )
    .await
    .map_err(crate::cli::account::explain)?
    .token;
    Ok((sys, token))
}

pub(crate) async fn ready(port: u16) -> anyhow::Result<()> {
    for _ in 0..600 {
        if let Ok(mut c) = Conn::open(port).await
            && c.get("/readyz", "").await.ok() == Some(200)
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the server never became ready")
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub async fn lookup(args: BenchLookupArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.sample >= 1 && args.lookups >= 1,
        "--sample and --lookups: at least 1"
    );
    let url = args.storage.database_url()?;
    let db = Db::connect(&url).await?;
    db.migrate().await?;
    let ctx = context(db.clone());
    let actor = command_line_actor(&ctx).await?;
    let tag = roster_core::secret::new_token()?[..6]
        .to_lowercase()
        .replace(['-', '_'], "x");
    let (account, name, units) = match &args.account {
        Some(id) => {
            let id = NodeId::parse(id).ok_or_else(|| anyhow::anyhow!("--account: not an id"))?;
            let n = node::get_node(&ctx, &actor, id)
                .await
                .map_err(crate::cli::account::explain)?;
            let tree = node::tree(&ctx, &actor, Some(id))
                .await
                .map_err(crate::cli::account::explain)?;
            let units = tree.iter().map(|t| t.node.id).collect::<Vec<_>>();
            (id, n.name, units)
        }
        None => {
            let name = format!("Lookup{tag}");
            let seeded = roster_core::bench::seed(&ctx, &actor, &name, 20, args.users).await?;
            println!("seeded {} users in {:.0} s", seeded.users, seeded.seconds);
            (seeded.account, name, seeded.units)
        }
    };
    let domain = format!(
        "{}.test",
        name.to_lowercase()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "")
    );
    // Standard settings on the account, an override on a unit.
    let set = |node: NodeId, v: serde_json::Value| {
        let (ctx, actor) = (ctx.clone(), actor.clone());
        async move {
            let changes = v.as_object().cloned().unwrap_or_default();
            service::set_node_settings(&ctx, &actor, node, "sms", None, &changes).await
        }
    };
    set(account, json!({"sender_id": "ACME", "max_parts": 5}))
        .await
        .map_err(crate::cli::account::explain)?;
    if let Some(unit) = units.get(1) {
        set(*unit, json!({"sender_id": "NORDIC"}))
            .await
            .map_err(crate::cli::account::explain)?;
    }
    let mut pick = Picker(0x9E37_79B9_7F4A_7C15);
    let emails: Vec<String> = (0..args.sample)
        .map(|_| format!("user{}@{domain}", pick.next(args.users)))
        .collect();
    let mut unique = emails.clone();
    unique.sort();
    unique.dedup();
    let numbers =
        roster_core::bench::give_services(&ctx, &unique, "sms", ("signature", json!("Bench")))
            .await?;
    // The services' system user in the account, with a lookup token.
    let (_, token) = service_token(
        &ctx,
        &actor,
        account,
        &format!("lookup{tag}"),
        api_token::TokenScope::Lookup,
    )
    .await?;

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut server = start_server(&args.storage, &url, port)?;
    let result = measure(&args, &ctx, &token, port, server.id(), &emails, &numbers).await;
    let _ = server.kill();
    let _ = server.wait();
    result
}

async fn measure(
    args: &BenchLookupArgs,
    ctx: &roster_core::Ctx,
    token: &str,
    port: u16,
    pid: u32,
    emails: &[String],
    numbers: &[String],
) -> anyhow::Result<()> {
    ready(port).await?;
    let ticks = clock_ticks();
    println!(
        "Lookups on {}, {} users, {} lookups each, server pid {pid}",
        ctx.db.engine().name(),
        args.users,
        args.lookups
    );
    let (_, rss_idle) = usage(pid, ticks);
    let mut conn = Conn::open(port).await?;
    for e in emails.iter().take(200) {
        conn.get(&format!("/api/v1/lookup?email={e}"), token)
            .await?;
    }
    let (_, rss_before) = usage(pid, ticks);
    println!("| lookup | p50 ms | p99 ms | server CPU ms per lookup | server MiB during |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let kinds: [(&str, PathOf); 3] = [
        (
            "by email",
            Box::new(|i| format!("/api/v1/lookup?email={}", emails[i % emails.len()])),
        ),
        (
            "by number",
            Box::new(|i| {
                format!(
                    "/api/v1/lookup?number=%2B{}",
                    &numbers[i % numbers.len()][1..]
                )
            }),
        ),
        (
            "unknown address (404)",
            Box::new(|i| format!("/api/v1/lookup?email=nobody{i}@nowhere.test")),
        ),
    ];
    let mut rss_during = rss_before;
    for (label, path) in &kinds {
        let (cpu0, _) = usage(pid, ticks);
        let mut times = Vec::with_capacity(args.lookups);
        for i in 0..args.lookups {
            let p = path(i);
            let t = Instant::now();
            let status = conn.get(&p, token).await?;
            times.push(ms(t.elapsed()));
            anyhow::ensure!(matches!(status, 200 | 404), "{label}: {status}");
            if i == args.lookups / 2 {
                rss_during = rss_during.max(usage(pid, ticks).1);
            }
        }
        let (cpu1, _) = usage(pid, ticks);
        times.sort_by(f64::total_cmp);
        println!(
            "| {label} | {:.2} | {:.2} | {:.3} | {:.0} |",
            percentile(&times, 0.50),
            percentile(&times, 0.99),
            (cpu1 - cpu0) * 1000.0 / args.lookups as f64,
            rss_during
        );
    }
    // Throughput: several connections at once for a few seconds.
    let (cpu0, _) = usage(pid, ticks);
    let started = Instant::now();
    let secs = args.seconds;
    let mut tasks = vec![];
    for c in 0..args.connections {
        let (token, emails) = (token.to_string(), emails.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(port).await?;
            let mut n = 0usize;
            while started.elapsed() < Duration::from_secs(secs) {
                conn.get(
                    &format!(
                        "/api/v1/lookup?email={}",
                        emails[(c * 7919 + n) % emails.len()]
                    ),
                    &token,
                )
                .await?;
                n += 1;
            }
            anyhow::Ok(n)
        }));
    }
    let mut done = 0;
    for t in tasks {
        done += t.await??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (cpu1, rss_load) = usage(pid, ticks);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, rss_after) = usage(pid, ticks);
    println!();
    println!(
        "{} connections for {secs} s: {:.0} lookups/s, server CPU {:.3} ms per lookup ({:.0} % of its core)",
        args.connections,
        done as f64 / elapsed,
        (cpu1 - cpu0) * 1000.0 / done as f64,
        (cpu1 - cpu0) / elapsed * 100.0
    );
    println!(
        "server memory: {rss_idle:.0} MiB idle, {rss_before:.0} after warm-up, {rss_during:.0} during the timed lookups, {rss_load:.0} under load, {rss_after:.0} after"
    );
    // The floor: the domain's lookup in this process, no HTTP, no token check.
    let caller = api_token::authenticate_bearer(ctx, token, "127.0.0.1")
        .await
        .map_err(crate::cli::account::explain)?;
    let mut times = Vec::with_capacity(args.lookups);
    for i in 0..args.lookups {
        let q = Query::Email(emails[i % emails.len()].clone());
        let t = Instant::now();
        lookup::lookup(ctx, &caller.actor, &q)
            .await
            .map_err(crate::cli::account::explain)?;
        times.push(ms(t.elapsed()));
    }
    times.sort_by(f64::total_cmp);
    println!(
        "in-process domain lookup by email (same run): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&times, 0.50),
        percentile(&times, 0.99)
    );
    Ok(())
}
