use crate::support::{TestServer, both_engines};

both_engines!(health_and_readiness, |engine| async move {
    let server = TestServer::builder(engine).start().await;
    let client = server.client();
    let health = client.get("/healthz").await;
    assert_eq!((health.status, health.body.as_str()), (200, "ok\n"));
    let ready = client.get("/readyz").await;
    assert_eq!((ready.status, ready.body.as_str()), (200, "ready\n"));
    server.ctx.db.close().await;
    let down = client.get("/readyz").await;
    assert_eq!(down.status, 503);
    assert_eq!(
        client.get("/healthz").await.status,
        200,
        "alive even when the database is not"
    );
});

both_engines!(
    security_headers_on_every_kind_of_response,
    |engine| async move {
        let server = TestServer::builder(engine).start().await;
        let client = server.client();
        for path in [
            "/signin",
            "/no-such-page",
            "/static/roster.css",
            "/static/htmx.min.js",
            "/favicon.ico",
            "/healthz",
            "/setup?token=x",
        ] {
            let res = client.get(path).await;
            let csp = res.header("content-security-policy");
            assert!(
                csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
                "{path}: {csp}"
            );
            assert!(
                !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
                "{path}"
            );
            assert_eq!(res.header("x-content-type-options"), "nosniff", "{path}");
            assert_eq!(res.header("referrer-policy"), "no-referrer", "{path}");
            assert!(!res.header("x-request-id").is_empty(), "{path}");
        }
        let css = client.get("/static/roster.css").await;
        assert!(css.header("content-type").starts_with("text/css"));
        let html = client.get("/signin").await;
        assert_eq!(html.header("content-type"), "text/html; charset=utf-8");
        // No inline script or style anywhere in a page.
        assert!(
            !html.body.contains("<script>") && !html.body.contains("style="),
            "inline code in a page"
        );
        // No TRACE.
        let trace = client
            .http
            .request(reqwest::Method::TRACE, format!("{}/signin", server.url))
            .send()
            .await
            .unwrap();
        assert_eq!(trace.status().as_u16(), 405);
    }
);

both_engines!(
    vendored_htmx_and_the_icon_are_served_locally,
    |engine| async move {
        let server = TestServer::builder(engine).start().await;
        let page = server.client().get("/signin").await;
        assert!(page.body.contains("src=\"/static/htmx.min.js\""));
        assert!(
            !page.body.contains("https://"),
            "no resource from another site"
        );
        let js = server.client().get("/static/htmx.min.js").await;
        assert_eq!(js.status, 200);
        assert!(js.body.contains("htmx"));
        // The icon a browser asks for whatever the page says, and the one the page names.
        assert!(page.body.contains("href=\"/static/favicon.svg\""));
        let ico = server.client().get("/favicon.ico").await;
        assert_eq!(
            (ico.status, ico.header("content-type")),
            (200, "image/x-icon".into())
        );
        let svg = server.client().get("/static/favicon.svg").await;
        assert_eq!(svg.header("content-type"), "image/svg+xml");
    }
);
