//! The API contract: the OpenAPI document is the committed one, and schemathesis finds no
//! answer outside it.

use roster_core::domain::api_token::{self};

use crate::support::TestServer;
use crate::support::org::Org;

use super::{bearer, get};

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
    let out = tokio::process::Command::new(&st)
        .args(["run", &url, "-H", &format!("Authorization: {auth}")])
        .args(["--exclude-operation-id", "tokens_revoke"])
        // One worker: with two, hypothesis sometimes trips over its own lambda parsing in
        // threads ("AST constructor recursion depth mismatch", an error of the tool, not of Roster).
        .args(["--max-examples", "25", "--seed", "1", "--workers", "1"])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_headers_conformance,response_schema_conformance",
        ])
        .env("NO_COLOR", "1")
        // Its cache and reports go to a scratch folder, not the working tree.
        .current_dir(crate::support::database::temp_dir("roster-schemathesis"))
        .output()
        .await
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report.contains("passed"), "{report}");
}
