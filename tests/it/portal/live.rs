//! Live Logs: new entries reach an open page over Server-Sent Events, from any node; a
//! reconnect with `Last-Event-ID` replays what it missed; a stream ends with its session and
//! with a graceful shutdown, and is refused to whoever may not read the log.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::api::{bearer, call};
use crate::support::org::{Org, signed_in};
use crate::support::{Client, Engine, TestServer, both_engines};

/// An open event stream and what has come so far.
struct Stream {
    res: reqwest::Response,
    buf: String,
}

impl Stream {
    /// Opens the live view of a log page, as its `sse-connect` says.
    async fn open(client: &Client, base: &str, page: &str, last_id: Option<&str>) -> Stream {
        let html = client.get(page).await.body;
        let at = html.find("sse-connect=\"").expect("a live view") + 13;
        let path = html[at..at + html[at..].find('"').unwrap()]
            .replace("&#38;", "&")
            .replace("&amp;", "&");
        let mut req = client.http.get(format!("{base}{path}"));
        if let Some(id) = last_id {
            req = req.header("last-event-id", id);
        }
        let res = req.send().await.expect("stream");
        assert_eq!(res.status(), 200);
        assert_eq!(
            res.headers()["content-type"].to_str().unwrap(),
            "text/event-stream"
        );
        Stream {
            res,
            buf: String::new(),
        }
    }

    /// The next `entry` event (id, data) within `wait`; None when the stream ended or nothing
    /// came.
    async fn next(&mut self, wait: Duration) -> Option<(String, String)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                if !block.lines().any(|l| l == "event: entry") {
                    continue;
                }
                let id = block
                    .lines()
                    .find_map(|l| l.strip_prefix("id: "))
                    .unwrap_or("")
                    .to_string();
                let data: Vec<&str> = block
                    .lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .collect();
                return Some((id, data.join("\n")));
            }
            let chunk = tokio::time::timeout_at(deadline, self.res.chunk())
                .await
                .ok()?;
            match chunk {
                Ok(Some(bytes)) => self.buf.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// Whether the server closed the stream within `wait`.
    async fn ended(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.res.chunk()).await {
                Err(_) => return false,
                Ok(Ok(Some(bytes))) => {
                    let text = String::from_utf8_lossy(&bytes);
                    assert!(
                        !text.contains("event: entry"),
                        "nothing more is sent: {text}"
                    );
                }
                Ok(_) => return true,
            }
        }
    }
}

/// Changes the target's friendly name through the API of `server`.
async fn rename(server: &TestServer, token: &str, user: &str, name: &str) {
    let path = format!("/api/v1/users/{user}");
    let tag = call(server, Method::GET, &path, token, None, &[])
        .await
        .header("etag");
    let res = call(
        server,
        Method::PATCH,
        &path,
        token,
        Some(json!({ "friendly_name": name })),
        &[("if-match", &tag)],
    )
    .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_on_one_node_reaches_a_stream_on_another() {
    let a = TestServer::builder(Engine::Postgres).admin().start().await;
    let org = Org::build(&a).await;
    let b = TestServer::builder(Engine::Postgres)
        .on(&a.db_url, a.clock.clone())
        .start()
        .await;
    let target = org.target.0.to_string();
    let reader = signed_in(&b, "acct@a.test").await;
    let mut live = Stream::open(&reader, &b.url, &format!("/users/{target}/logs"), None).await;
    let token = bearer(&a, org.account_admin, None, false, None).await;
    rename(&a, &token, &target, "Made on node A").await;
    let (id, html) = live
        .next(Duration::from_secs(1))
        .await
        .expect("the change reaches node B's stream within a second");
    assert!(html.contains("<ins>Made on node A</ins>"), "{html}");
    assert!(
        html.contains("<li class=\"entry"),
        "the entry as the page shows it"
    );
    assert!(id.contains('_'), "its cursor is the event id: {id}");
}

both_engines!(
    a_reconnect_replays_what_it_missed_and_a_stream_ends_with_its_session,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let target = org.target.0.to_string();
        let page = format!("/users/{target}/logs");
        let token = bearer(&server, org.account_admin, None, false, None).await;
        let reader = signed_in(&server, "acct@a.test").await;

        let mut live = Stream::open(&reader, &server.url, &page, None).await;
        rename(&server, &token, &target, "First").await;
        let (first, html) = live.next(Duration::from_secs(5)).await.expect("live");
        assert!(html.contains("<ins>First</ins>"));
        drop(live);
        // Two changes while nobody listens; the reconnect names the last event it had.
        rename(&server, &token, &target, "Second").await;
        rename(&server, &token, &target, "Third").await;
        let mut again = Stream::open(&reader, &server.url, &page, Some(&first)).await;
        let (_, one) = again.next(Duration::from_secs(5)).await.expect("replayed");
        let (_, two) = again.next(Duration::from_secs(5)).await.expect("replayed");
        assert!(one.contains("<ins>Second</ins>"), "oldest first: {one}");
        assert!(two.contains("<ins>Third</ins>"), "{two}");
        assert!(
            again.next(Duration::from_millis(300)).await.is_none(),
            "nothing twice"
        );

        // Signed out elsewhere: the next change is not sent, the stream ends.
        let other = reader.get("/devices").await;
        assert_eq!(
            reader.post_form("/signout", &other.body, &[]).await.status,
            303
        );
        rename(&server, &token, &target, "After sign-out").await;
        assert!(
            again.ended(Duration::from_secs(5)).await,
            "the stream ends with the session"
        );

        // Who may not read the log may not stream it either.
        let delegate = signed_in(&server, "delegate@a.test").await;
        let res = delegate.get(&format!("{page}/stream")).await;
        assert_eq!(res.status, 404);
        assert_eq!(
            server.client().get(&format!("{page}/stream")).await.status,
            303
        );
    }
);

both_engines!(
    open_streams_do_not_hold_up_a_graceful_shutdown,
    |engine| async move {
        let mut server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let reader = signed_in(&server, "acct@a.test").await;
        let own = signed_in(&server, "target@a.test").await;
        let page = format!("/users/{}/logs", org.target.0);
        let mut live = Stream::open(&reader, &server.url, &page, None).await;
        let mut mine = Stream::open(&own, &server.url, "/toolbox/logs", None).await;
        let started = std::time::Instant::now();
        server.stop().await;
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "stopped in {:?}, not after the drain wait",
            started.elapsed()
        );
        assert!(live.ended(Duration::from_secs(1)).await);
        assert!(mine.ended(Duration::from_secs(1)).await);
    }
);

both_engines!(
    a_live_log_is_streamed_only_to_its_readers,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let stream = format!("{}/users/{}/logs/stream", server.url, org.target.0);
        // Each actor of the matrix: who reads the target's log streams it, nobody else.
        for (who, expect) in [
            ("acct@a.test", 200),
            ("unit@a.test", 200),
            ("delegate@a.test", 404),
            ("plain@a.test", 404),
            ("badmin@b.test", 404),
            ("target@a.test", 200),
        ] {
            let client = signed_in(&server, who).await;
            let res = client.http.get(&stream).send().await.unwrap();
            assert_eq!(res.status().as_u16(), expect, "{who}");
        }
        let own = format!("{}/toolbox/logs/stream", server.url);
        let plain = signed_in(&server, "plain@a.test").await;
        assert_eq!(
            plain.http.get(&own).send().await.unwrap().status().as_u16(),
            200
        );
        let anonymous = server.client();
        assert_eq!(
            anonymous
                .http
                .get(&stream)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            303
        );
        assert_eq!(
            anonymous
                .http
                .get(&own)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            303
        );
    }
);
