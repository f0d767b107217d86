//! Abuse without a key and work without bounds: floods of wrong credentials, slow clients,
//! guesses sent at once. The server stays bounded and keeps answering everyone else.

use std::time::{Duration, Instant};

use reqwest::Method;
use roster_core::domain::api_token;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::sign_in::add_totp;
use crate::support::json::send;
use crate::support::org::{Org, PW, root_actor, signed_in};
use crate::support::server::Options;
use crate::support::{TestServer, both_engines};

/// The flood touches the database only for the first few lookups, so it runs on one engine
/// (it is 50,000 requests).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_bogus_tokens_stays_bounded_and_real_callers_are_served() {
    {
        let server = TestServer::builder(crate::support::Engine::Sqlite)
            .admin()
            .start()
            .await;
        let org = Org::build(&server).await;
        let real = api_token::create_token(
            &server.ctx,
            &root_actor(&server),
            &api_token::NewToken {
                user: org.account_admin,
                name: "real".into(),
                node: None,
                read_only: true,
                scope: api_token::TokenScope::Admin,
                expires_days: None,
            },
        )
        .await
        .unwrap();
        let real = format!("Bearer {}", real.token);
        let audit_before = server.count("SELECT COUNT(*) FROM audit_events").await;

        // 50,000 distinct wrong tokens from one address, 16 at a time.
        let http = reqwest::Client::new();
        let url = format!("{}/api/v1/me", server.url);
        let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
        let started = Instant::now();
        for batch in 0..(50_000 / 500) {
            let mut calls = tokio::task::JoinSet::new();
            for lane in 0..16 {
                let (http, url) = (http.clone(), url.clone());
                calls.spawn(async move {
                    let mut seen = vec![];
                    let mut i = lane;
                    while i < 500 {
                        let res = http
                            .get(&url)
                            .header("authorization", format!("Bearer rst_bogus{batch}x{i}"))
                            .send()
                            .await
                            .expect("call");
                        seen.push(res.status().as_u16());
                        i += 16;
                    }
                    seen
                });
            }
            while let Some(seen) = calls.join_next().await {
                for s in seen.unwrap() {
                    *statuses.entry(s).or_default() += 1;
                }
            }
        }
        let flood = started.elapsed();
        assert_eq!(statuses.values().sum::<usize>(), 50_000);
        // The address's budget of wrong credentials (give or take the requests in flight),
        // then refusals without a lookup.
        assert!(statuses[&401] <= 60 + 16, "{statuses:?}");
        assert!(statuses[&429] >= 49_900, "{statuses:?}");
        // Memory stays bounded: one address, one window key.
        assert_eq!(server.ctx.auth_failure_addresses(), 1);
        assert!(
            server.api_limits.keys() <= 2,
            "{}",
            server.api_limits.keys()
        );
        // A real token from elsewhere is answered at once.
        let other = crate::support::Client::from_address(&server.url, "127.0.0.2");
        let t = Instant::now();
        let res = other
            .http
            .get(&url)
            .header("authorization", &real)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
        // The audit trail has one event for the address and minute, with its count.
        roster_core::domain::auth::flush_failures(&server.ctx, true)
            .await
            .unwrap();
        let events = server.count("SELECT COUNT(*) FROM audit_events").await - audit_before;
        assert_eq!(events, 1, "flood of {flood:?}");
        assert!(
            server
                .text("SELECT after_data FROM audit_events WHERE action = 'api.auth.failed'")
                .await
                .contains("\"count\":")
        );
        // No throttle row was written for them either.
        assert_eq!(server.count("SELECT COUNT(*) FROM throttle").await, 0);
    }
}

both_engines!(
    guesses_sent_at_once_are_checked_at_most_as_often_as_allowed,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let admin = server.admin_client().await;
        add_totp(&server, &admin, "/toolbox").await;
        let client = server.client();
        let res = client
            .sign_in(crate::support::server::ADMIN_EMAIL, PW)
            .await;
        assert!(res.location().starts_with("/signin/verify"));
        let page = client.get("/signin/verify").await;
        let csrf = crate::support::input_value(&page.body, "csrf").unwrap();
        let mut calls = tokio::task::JoinSet::new();
        for i in 0..50 {
            let (http, url, csrf) = (
                client.http.clone(),
                format!("{}/signin/verify", server.url),
                csrf.clone(),
            );
            calls.spawn(async move {
                let code = format!("{:06}", 100_000 + i);
                let res = http
                    .post(url)
                    .form(&[
                        ("csrf", csrf.as_str()),
                        ("method", "totp"),
                        ("code", code.as_str()),
                        ("next", "/users"),
                    ])
                    .send()
                    .await
                    .expect("post");
                let location = res
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
                (res.status().as_u16(), location)
            });
        }
        let mut statuses = vec![];
        while let Some(s) = calls.join_next().await {
            statuses.push(s.unwrap());
        }
        let checked = server
            .count("SELECT COUNT(*) FROM audit_events WHERE action = 'sign-in.mfa.failed'")
            .await;
        assert!(checked <= 5, "{checked} answers were checked: {statuses:?}");
        // None got in (a right answer would be sent on to /users).
        assert!(
            statuses
                .iter()
                .all(|(s, to)| *s != 200 && !to.starts_with("/users")),
            "{statuses:?}"
        );
        // The half-signed-in session is over.
        assert_eq!(
            client.get("/signin/verify").await.location(),
            "/signin?next=%2Fsignin%2Fverify"
        );
    }
);

/// Sends the start of a request and one more header line every 300 ms; how long until the
/// server closes the connection (None: still open after `limit`).
async fn trickle(addr: &str, limit: Duration) -> Option<Duration> {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 256];
    while started.elapsed() < limit {
        if s.write_all(b"X-Slow: 1\r\n").await.is_err() {
            return Some(started.elapsed());
        }
        match tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Some(started.elapsed()),
            Ok(Ok(_)) => {
                // An error answer (408) counts as the end too, once the socket closes.
            }
            Err(_) => {}
        }
    }
    None
}

both_engines!(
    a_slow_client_is_cut_off_and_others_are_served,
    |engine| async move {
        let options = Options {
            timeouts: Some(roster_web::Timeouts {
                header_read: Duration::from_secs(1),
                request: Duration::from_secs(2),
                drain: Duration::from_secs(2),
            }),
            ..Default::default()
        };
        let server = TestServer::builder(engine)
            .admin()
            .options(options)
            .start()
            .await;
        let addr = server.url.trim_start_matches("http://").to_string();
        // Headers that never end.
        let closed = trickle(&addr, Duration::from_secs(10)).await;
        assert!(
            closed.is_some_and(|d| d < Duration::from_secs(4)),
            "{closed:?}"
        );
        // A kept-alive connection that goes quiet is closed too.
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).await.unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        let idle = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
        assert!(matches!(idle, Ok(Ok(0)) | Ok(Err(_))), "{idle:?}");
        // A form body that trickles in is cut off by the request timeout (408).
        let mut s = tokio::net::TcpStream::connect(&addr).await.unwrap();
        s.write_all(
            b"POST /signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
              Content-Length: 1000\r\n\r\nemail=",
        )
        .await
        .unwrap();
        let started = Instant::now();
        let mut answer = String::new();
        while started.elapsed() < Duration::from_secs(6) && answer.is_empty() {
            let _ = s.write_all(b"a").await;
            if let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_millis(300), s.read(&mut buf)).await
            {
                if n == 0 {
                    break;
                }
                answer.push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        }
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(4));
        // Meanwhile everyone else is served.
        let res = send(&server, Method::GET, "/healthz", "", None, &[]).await;
        assert_eq!(res.status, 200);
    }
);

both_engines!(
    a_unit_policy_only_tightens_its_parents,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let op = root_actor(&server);
        let unit = signed_in(&server, "unit@a.test").await;
        // The account requires an authenticator app of everyone.
        roster_core::domain::mfa::set_policy(
            &server.ctx,
            &op,
            org.a,
            Some("everyone"),
            Some(&["totp".to_string()]),
        )
        .await
        .unwrap();
        // A unit's own policy is set from above: the unit's administrator cannot undo it.
        let page = unit.get(&format!("/units/{}", org.u1)).await;
        assert_eq!(page.status, 200);
        let before = server.fingerprint().await;
        let own = unit
            .post_form(
                &format!("/nodes/{}/mfa", org.u1),
                &page.body,
                &[
                    ("mfa_policy", "inherit"),
                    ("mfa_factors", "totp"),
                    ("back", "/units"),
                ],
            )
            .await;
        assert_eq!(own.status, 403);
        assert_eq!(server.fingerprint().await, before);
        // Below it, a unit may only tighten what it inherits.
        for (policy, factors, what) in [
            ("administrators", vec!["totp"], "less required"),
            ("everyone", vec!["sms"], "another factor"),
            ("everyone", vec!["totp", "passkey"], "more factors"),
        ] {
            let before = server.fingerprint().await;
            let mut fields = vec![("mfa_policy", policy), ("back", "/units")];
            fields.extend(factors.iter().map(|f| ("mfa_factors", *f)));
            let res = unit
                .post_form(&format!("/nodes/{}/mfa", org.u2), &page.body, &fields)
                .await;
            assert_eq!(res.status, 422, "{what}: {}", res.body);
            assert_eq!(server.fingerprint().await, before, "{what}");
        }
        // Tightening is fine, and inheriting changes nothing of what is required.
        let res = unit
            .post_form(
                &format!("/nodes/{}/mfa", org.u2),
                &page.body,
                &[
                    ("mfa_policy", "inherit"),
                    ("mfa_factors", "totp"),
                    ("back", "/units"),
                ],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);
        // A plain user below the unit still needs an authenticator app.
        let next = server
            .client()
            .sign_in("target@a.test", PW)
            .await
            .location();
        assert_eq!(
            next, "/mfa/enrol",
            "the account's policy holds below the unit"
        );
        // Even a weaker setting written straight into the database does not weaken it.
        server
        .exec("UPDATE nodes SET mfa_policy = 'administrators', mfa_factors = 'sms' WHERE kind = 'unit'")
        .await;
        let c = server.client();
        assert_eq!(c.sign_in("plain@a.test", PW).await.location(), "/mfa/enrol");
        let policy = roster_core::domain::mfa::node_policy(&server.ctx, &op, org.u2)
            .await
            .unwrap();
        assert_eq!(policy.require.as_str(), "everyone");
        assert!(policy.allows_named("totp") && !policy.allows_named("sms"));
    }
);
