use crate::support::server::{ADMIN_EMAIL, ADMIN_PASSWORD};
use crate::support::{Engine, TestServer, both_engines};

both_engines!(
    forged_session_cookies_sign_out_and_never_fail,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let client = server.client();
        for forged in ["x", "%00%ff", &"A".repeat(43), &"é".repeat(300)] {
            let res = client
                .get_with("/users", &[("cookie", &format!("roster={forged}"))])
                .await;
            assert_eq!(res.status, 303, "{forged}");
            assert!(res.location().starts_with("/signin"));
        }
    }
);

both_engines!(
    idle_and_absolute_timeouts_end_sessions,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let client = server.admin_client().await;
        server.clock.advance(29 * 60);
        assert_eq!(
            client.get("/devices").await.status,
            200,
            "activity keeps the session"
        );
        server.clock.advance(29 * 60);
        assert_eq!(client.get("/devices").await.status, 200);
        server.clock.advance(31 * 60);
        let idle = client.get("/devices").await;
        assert_eq!(idle.status, 303, "idle for more than 30 minutes");
        // htmx requests get a redirect header instead of a sign-in page inside a fragment.
        let hx = client.get_with("/devices", &[("hx-request", "true")]).await;
        assert_eq!(hx.status, 401);
        assert!(hx.header("hx-redirect").starts_with("/signin"));

        // Steady activity does not outlive the absolute limit (12 hours).
        let busy = server.admin_client().await;
        for _ in 0..25 {
            server.clock.advance(29 * 60);
            if busy.get("/devices").await.status != 200 {
                break;
            }
        }
        assert_eq!(busy.get("/devices").await.status, 303);
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_from_one_node_is_valid_on_another() {
    let first = TestServer::builder(Engine::Postgres).admin().start().await;
    let second = TestServer::builder(Engine::Postgres)
        .on(&first.db_url, first.clock.clone())
        .start()
        .await;
    assert!(
        second.setup_link.is_none(),
        "the second node sees the administrator"
    );
    let client = first.client();
    let res = client.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookie = res
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("roster="))
        .unwrap();
    let pair = cookie.split(';').next().unwrap().to_string();

    let on_second = second.client();
    let page = on_second.get_with("/users", &[("cookie", &pair)]).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(ADMIN_EMAIL));

    // Logout on the second node ends the session on the first too.
    let csrf = crate::support::input_value(&page.body, "csrf").unwrap();
    let out = on_second
        .post_raw("/signout", &[("csrf", &csrf)], &[("cookie", &pair)])
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(client.get("/users").await.status, 303);
}
