//! Delivery: a refusing mail server means retries, then failed, then resend; a failing SMS
//! gateway is retried; two nodes deliver each message once.

use crate::support::org::{Org, signed_in};
use crate::support::{TestServer, both_engines};

use super::add_invited;

both_engines!(
    a_refusing_mail_server_means_retries_then_failed_then_resend,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        server.sink().refuse(true);
        assert_eq!(
            add_invited(&admin, &org.u.to_string(), "nina@a.test", "en", "").await,
            201
        );
        // Each run of the outbox is one try; a failed try waits 30 s, then 60 s.
        let attempts = || server.count("SELECT COALESCE(MAX(attempts), 0) FROM outbox");
        assert_eq!(server.deliver_outbox().await, 0);
        assert_eq!(attempts().await, 1);
        assert_eq!(server.text("SELECT state FROM outbox").await, "queued");
        server.deliver_outbox().await;
        assert_eq!(attempts().await, 1, "not due again yet");
        server.clock.advance(30);
        server.deliver_outbox().await;
        assert_eq!(attempts().await, 2);
        server.clock.advance(60);
        server.deliver_outbox().await;
        assert_eq!(attempts().await, 3);
        assert_eq!(server.text("SELECT state FROM outbox").await, "failed");
        assert!(
            server
                .text("SELECT last_error FROM outbox")
                .await
                .contains("try again later")
        );
        let op = server.admin_client().await;
        let deliveries = op.get("/management/deliveries?state=failed").await;
        assert!(
            deliveries.body.contains("nina@a.test") && deliveries.body.contains("Failed"),
            "{}",
            deliveries.body
        );
        // Another account's administrator sees none of it.
        let other = signed_in(&server, "badmin@b.test").await;
        assert!(
            !other
                .get("/management/deliveries")
                .await
                .body
                .contains("nina@a.test")
        );
        let other_page = other.get("/devices").await;
        let foreign_id = deliveries
            .body
            .split("/management/deliveries/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string();
        assert_eq!(
            other
                .post_form(
                    &format!("/management/deliveries/{foreign_id}/resend"),
                    &other_page.body,
                    &[]
                )
                .await
                .status,
            404
        );
        server.sink().refuse(false);
        let id = deliveries
            .body
            .split("/management/deliveries/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_string();
        let resend = op
            .post_form(
                &format!("/management/deliveries/{id}/resend"),
                &deliveries.body,
                &[],
            )
            .await;
        assert_eq!(resend.status, 303);
        let mails = server.mails(1).await;
        assert_eq!(mails.len(), 1);
        assert!(mails[0].link(&server.url).is_some());
        assert_eq!(server.text("SELECT state FROM outbox").await, "sent");
    }
);

/// Two nodes on one PostgreSQL database share the outbox: every message goes out once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_deliver_each_message_once() {
    use crate::support::Engine;
    use roster_core::domain::user;
    let server = TestServer::builder(Engine::Postgres)
        .admin()
        .mail()
        .worker()
        .start()
        .await;
    let org = Org::build(&server).await;
    // A second node: its own pool and worker, the same database and mail server.
    let db = roster_core::Db::connect(&server.db_url).await.unwrap();
    let mut ctx = server.ctx.clone();
    ctx.db = db;
    let transport =
        roster_core::outbox::Transport::smtp(&server.sink().url(), "Roster <roster@roster.test>")
            .unwrap();
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(roster_core::outbox::worker::run(
        ctx,
        transport,
        std::time::Duration::from_millis(10),
        stopped,
    ));
    let op = crate::support::org::root_actor(&server);
    for i in 0..30 {
        let new = user::NewUser {
            profile: user::ProfileInput {
                first_name: format!("n{i}"),
                user_type: "user".into(),
                language: "en".into(),
                ..Default::default()
            },
            email: format!("n{i}@a.test"),
            ..Default::default()
        };
        user::create_user(&server.ctx, &op, org.u, &new)
            .await
            .unwrap();
    }
    server
        .wait_count("SELECT COUNT(*) FROM outbox WHERE state = 'sent'", 30)
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let mut to: Vec<String> = server
        .sink()
        .received()
        .iter()
        .map(|m| m.to[0].clone())
        .collect();
    assert_eq!(to.len(), 30, "one message per user");
    to.sort();
    to.dedup();
    assert_eq!(to.len(), 30, "nobody got two");
}
