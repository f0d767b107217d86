//! The API contract: the OpenAPI document is the committed one, schemathesis finds no answer
//! outside it, and each refusal's status says whose it is (the request's: 400/422; the stored
//! data's: 409/412).

use reqwest::Method;
use roster_core::domain::api_token::{self};
use serde_json::{Value, json};

use crate::support::org::Org;
use crate::support::{TestServer, both_engines};

use super::{bearer, call, get};

/// The contract changes only on purpose: the document is compared with the committed one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_the_committed_one() {
    let server = TestServer::builder(crate::support::Engine::Sqlite)
        .start()
        .await;
    let doc = get(&server, "/api/v1/openapi.json", "").await;
    assert_eq!(doc.status, 200);
    assert!(doc.body["openapi"].as_str().unwrap().starts_with("3.1"));
    let text = serde_json::to_string_pretty(&doc.body).unwrap() + "\n";
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots/openapi.json");
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    match std::fs::read_to_string(&path) {
        Ok(committed) => assert!(
            committed == text,
            "the OpenAPI document changed; if on purpose, delete {} and run the tests again",
            path.display()
        ),
        Err(_) if !ci => std::fs::write(&path, &text).unwrap(),
        Err(e) => panic!("{}: {e}", path.display()),
    }
    let page = reqwest::get(format!("{}/api/v1/docs", server.url))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("GET /api/v1/users") && html.contains("UserCreate"));
    // A body of several kinds lists each kind with its own required fields.
    assert!(html.contains("<h4>A system user</h4>"), "{html}");
    assert!(html.contains("<code>login</code> <strong>required</strong>"));
}

/// schemathesis (pinned by `scripts/test`) generates requests from the OpenAPI document against
/// the real server: no server error, and every answer within the documented statuses, content
/// types, headers and schemas. (Revoking tokens is left out: it would revoke the run's own.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error_and_no_answer_outside_the_schema() {
    let st = std::env::var("ROSTER_TEST_SCHEMATHESIS")
        .unwrap_or_else(|_| "/opt/roster-test-venv/bin/st".into());
    assert!(
        std::path::Path::new(&st).exists(),
        "{st} is missing: scripts/test installs schemathesis"
    );
    let server = TestServer::builder(crate::support::Engine::Sqlite)
        .admin()
        .start()
        .await;
    Org::build(&server).await;
    let admin = api_token::find_user(&server.ctx, crate::support::server::ADMIN_EMAIL)
        .await
        .unwrap();
    let auth = bearer(&server, admin, None, false, None).await;
    let url = format!("{}/api/v1/openapi.json", server.url);
    // schemathesis sends wrong credentials to every operation to see them refused, all from one
    // address; after five wrong secrets Roster makes that address wait (429, tested in
    // authz::abuse). An hour passes on the server's clock every 50 ms of the run, so the wait is
    // over by the next probe and the contract is what is checked here.
    let clock = server.clock.clone();
    let ticking = tokio::spawn(async move {
        loop {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            clock.advance(3600);
        }
    });
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/schemathesis");
    // A fixed run by default; ROSTER_TEST_SCHEMATHESIS_SEED and _EXAMPLES explore further.
    let seed = std::env::var("ROSTER_TEST_SCHEMATHESIS_SEED").unwrap_or_else(|_| "1".into());
    let examples =
        std::env::var("ROSTER_TEST_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "25".into());
    let out = tokio::process::Command::new(&st)
        .arg("--config-file")
        .arg(here.join("schemathesis.toml"))
        .args(["run", &url, "-H", &format!("Authorization: {auth}")])
        .args(["--exclude-operation-id", "tokens_revoke"])
        // One worker: with two, hypothesis sometimes trips over its own lambda parsing in
        // threads ("AST constructor recursion depth mismatch", an error of the tool, not of Roster).
        .args([
            "--max-examples",
            &examples,
            "--seed",
            &seed,
            "--workers",
            "1",
        ])
        // Values for the document's own formats (phone numbers, cursors).
        .env("SCHEMATHESIS_HOOKS", "hooks")
        .env("PYTHONPATH", &here)
        .env("NO_COLOR", "1")
        // Its cache and reports go to a scratch folder, not the working tree.
        .current_dir(crate::support::database::temp_dir("roster-schemathesis"))
        .output()
        .await
        .expect("run schemathesis");
    ticking.abort();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("passed"), "{report}");
}

both_engines!(
    the_status_says_whether_the_request_or_the_stored_data_is_at_odds,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let auth = bearer(&server, org.account_admin, None, false, None).await;
        let post = |path: &'static str, body: Value| {
            let (server, auth) = (&server, auth.clone());
            async move { call(server, Method::POST, path, &auth, Some(body), &[]).await }
        };
        let before = server.fingerprint().await;
        // Every body is an object: an array is no user, though serde would read one.
        let array = post("/api/v1/tokens", json!(["a name", null])).await;
        assert_eq!(array.status, 400, "{}", array.body);
        // A whole number may be written 30.0 (JSON Schema's integer); a fraction may not.
        let fraction = post("/api/v1/tokens", json!({"name": "t", "expires_days": 2.5})).await;
        assert_eq!(fraction.status, 400);
        // Orders and services are named exactly.
        for query in ["sort=largest", "service=telex"] {
            let res = get(&server, &format!("/api/v1/users?{query}"), &auth).await;
            assert_eq!(res.status, 422, "{query}");
            let field = query.split('=').next().unwrap();
            assert_eq!(res.body["error"]["fields"][0]["field"], field);
        }
        // A taken address clashes with what is stored: 409, naming the field.
        let taken = post(
            "/api/v1/users",
            json!({"node_id": org.u.to_string(), "email": "plain@a.test"}),
        )
        .await;
        assert_eq!(taken.status, 409, "{}", taken.body);
        assert_eq!(taken.body["error"]["fields"][0]["field"], "email");
        assert_eq!(server.fingerprint().await, before, "nothing changed");
        let whole = post("/api/v1/tokens", json!({"name": "t", "expires_days": 30.0})).await;
        assert_eq!(whole.status, 201, "{}", whole.body);

        // Under a stale ETag, a bad field is still named (422); a good change answers 412.
        let path = format!("/api/v1/users/{}", org.plain);
        let stale = [("if-match", "\"v999\"")];
        let before = server.fingerprint().await;
        let bad = call(
            &server,
            Method::PATCH,
            &path,
            &auth,
            Some(json!({"language": "de"})),
            &stale,
        )
        .await;
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert_eq!(bad.body["error"]["fields"][0]["field"], "language");
        let good = call(
            &server,
            Method::PATCH,
            &path,
            &auth,
            Some(json!({"language": "nl"})),
            &stale,
        )
        .await;
        assert_eq!(good.status, 412, "{}", good.body);
        let unit = format!("/api/v1/nodes/{}", org.u2);
        let idle = call(
            &server,
            Method::PATCH,
            &unit,
            &auth,
            Some(json!({})),
            &stale,
        )
        .await;
        assert_eq!(
            idle.status, 412,
            "an empty change under a stale ETag: {}",
            idle.body
        );
        // A method the path does not have: 405 in the API's error body, saying which it has.
        let put = call(&server, Method::PUT, &path, &auth, Some(json!({})), &[]).await;
        assert_eq!(put.status, 405);
        assert_eq!(put.body["error"]["code"], "api-method-not-allowed");
        assert!(
            put.header("allow").contains("PATCH"),
            "{}",
            put.header("allow")
        );
        assert_eq!(server.fingerprint().await, before, "nothing changed");
    }
);
