//! Credentials that outlive the reason they were trusted: tokens after a password reset, an
//! administrator's new password, a second-factor reset or "sign out everywhere"; replayed
//! answers for a revoked token; tokens made in the portal without a fresh sign-in; and the
//! audit trail naming the token that acted.

use reqwest::Method;
use roster_core::domain::{api_token, scim};
use roster_core::model::UserId;
use serde_json::json;

use crate::support::json::{Answer, send};
use crate::support::org::{Org, PW, root_actor, signed_in};
use crate::support::{TestServer, both_engines, input_value};

async fn personal_token(server: &TestServer, user: UserId) -> String {
    let t = api_token::create_token(
        &server.ctx,
        &root_actor(server),
        &api_token::NewToken {
            user,
            name: "laptop".into(),
            node: None,
            read_only: false,
            scope: api_token::TokenScope::Admin,
            expires_days: None,
        },
    )
    .await
    .unwrap();
    format!("Bearer {}", t.token)
}

async fn me(server: &TestServer, auth: &str) -> u16 {
    send(server, Method::GET, "/api/v1/me", auth, None, &[])
        .await
        .status
}

async fn api(
    server: &TestServer,
    method: Method,
    path: &str,
    auth: &str,
    body: serde_json::Value,
    headers: &[(&str, &str)],
) -> Answer {
    send(
        server,
        method,
        path,
        auth,
        Some((body, "application/json")),
        headers,
    )
    .await
}

both_engines!(
    an_administrators_new_password_and_a_factor_reset_end_sessions_and_tokens,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let admin = signed_in(&server, "acct@a.test").await;
        let path = format!("/users/{}", org.target);

        // A new password from the administrator.
        let target = signed_in(&server, "target@a.test").await;
        let auth = personal_token(&server, org.target).await;
        assert_eq!(me(&server, &auth).await, 200);
        let page = admin.get(&path).await;
        let v = input_value(&page.body, "version").unwrap();
        let res = admin
            .post_form(
                &format!("{path}/password"),
                &page.body,
                &[("password", "a brand new passphrase"), ("version", &v)],
            )
            .await;
        assert_eq!(res.status, 303, "{}", res.body);
        let shown = admin.get(&res.location()).await;
        assert!(
            shown
                .body
                .contains("Their sessions have ended and their API tokens have been revoked."),
            "the page says so"
        );
        assert_eq!(target.get("/toolbox").await.status, 303, "signed out");
        assert_eq!(me(&server, &auth).await, 401, "the token is revoked");

        // A reset of the second factors.
        server
            .exec("UPDATE users SET password_must_change = FALSE")
            .await;
        let target = server.client();
        let res = target
            .sign_in("target@a.test", "a brand new passphrase")
            .await;
        assert_eq!(res.status, 303);
        let auth = personal_token(&server, org.target).await;
        let page = admin.get(&path).await;
        let res = admin
            .post_form(&format!("{path}/mfa/reset"), &page.body, &[])
            .await;
        assert_eq!(res.status, 303);
        assert_eq!(me(&server, &auth).await, 401);
        let shown = admin.get(&res.location()).await;
        assert!(shown.body.contains("their API tokens have been revoked"));
    }
);

both_engines!(
    signing_out_everywhere_revokes_personal_tokens_and_says_so,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let here = signed_in(&server, "plain@a.test").await;
        let there = signed_in(&server, "plain@a.test").await;
        let auth = personal_token(&server, org.plain).await;
        let page = here.get("/toolbox").await;
        assert!(page.body.contains("your API tokens stop working"));
        let res = here
            .post_form("/toolbox/sessions/end-others", &page.body, &[])
            .await;
        assert_eq!(res.status, 303);
        let shown = here.get(&res.location()).await;
        assert!(
            shown
                .body
                .contains("Every other session has ended, and your API tokens have been revoked.")
        );
        assert_eq!(there.get("/toolbox").await.status, 303);
        assert_eq!(here.get("/toolbox").await.status, 200);
        assert_eq!(me(&server, &auth).await, 401);
    }
);

both_engines!(
    a_password_reset_revokes_personal_tokens,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        let org = Org::build(&server).await;
        let auth = personal_token(&server, org.plain).await;
        let client = server.client();
        let form = client.get("/reset").await;
        client
            .post_form("/reset", &form.body, &[("email", "plain@a.test")])
            .await;
        let mails = server.mails(1).await;
        let link = mails[0]
            .link(&format!("{}/reset/confirm?token=", server.url))
            .unwrap();
        let token = link.rsplit('=').next().unwrap().to_string();
        let page = client.get_url(&link).await;
        let new = "the harbour at noon";
        let done = client
            .post_form(
                "/reset/confirm",
                &page.body,
                &[
                    ("token", &token),
                    ("password", new),
                    ("password_repeat", new),
                ],
            )
            .await;
        assert_eq!(done.status, 303);
        assert_eq!(me(&server, &auth).await, 401);
        let signin = client.get(&done.location()).await;
        assert!(signin.body.contains("your API tokens have been revoked"));
    }
);

both_engines!(
    tokens_made_in_the_portal_need_a_fresh_sign_in,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        Org::build(&server).await;
        let plain = signed_in(&server, "plain@a.test").await;
        // Twenty minutes later (within the idle limit, past the re-authentication window).
        for _ in 0..2 {
            server.clock.advance(10 * 60);
            assert_eq!(plain.get("/toolbox").await.status, 200);
        }
        let page = plain.get("/toolbox").await;
        let before = server.count("SELECT COUNT(*) FROM api_tokens").await;
        let res = plain
            .post_form("/toolbox/tokens", &page.body, &[("name", "script")])
            .await;
        assert_eq!(res.status, 303);
        assert!(
            res.location().starts_with("/reauth?next="),
            "{}",
            res.location()
        );
        assert_eq!(
            server.count("SELECT COUNT(*) FROM api_tokens").await,
            before
        );
        // After the password again, it is made.
        let reauth = plain.get(&res.location()).await;
        let again = plain
            .post_form(
                "/reauth",
                &reauth.body,
                &[("password", PW), ("next", "/toolbox#tokens")],
            )
            .await;
        assert_eq!(again.status, 303, "{}", again.body);
        let page = plain.get("/toolbox").await;
        let made = plain
            .post_form("/toolbox/tokens", &page.body, &[("name", "script")])
            .await;
        assert_eq!(made.status, 200, "{}", made.body);
        assert_eq!(
            server.count("SELECT COUNT(*) FROM api_tokens").await,
            before + 1
        );
    }
);

both_engines!(
    read_only_tokens_make_nothing_and_revoked_tokens_get_no_replays,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let ro = api_token::create_token(
            &server.ctx,
            &root_actor(&server),
            &api_token::NewToken {
                user: org.account_admin,
                name: "reader".into(),
                node: None,
                read_only: true,
                scope: api_token::TokenScope::Admin,
                expires_days: None,
            },
        )
        .await
        .unwrap();
        let before = server.fingerprint().await;
        let res = api(
            &server,
            Method::POST,
            "/api/v1/tokens",
            &format!("Bearer {}", ro.token),
            json!({"name": "writer"}),
            &[],
        )
        .await;
        assert_eq!(res.status, 403, "{}", res.body);
        assert_eq!(server.fingerprint().await, before);

        // An idempotent create, then the token is revoked: the retry is refused, not replayed.
        let created = api_token::create_token(
            &server.ctx,
            &root_actor(&server),
            &api_token::NewToken {
                user: org.account_admin,
                name: "writer".into(),
                node: None,
                read_only: false,
                scope: api_token::TokenScope::Admin,
                expires_days: None,
            },
        )
        .await
        .unwrap();
        let auth = format!("Bearer {}", created.token);
        let body = json!({"node_id": org.u2.to_string(), "email": "idem@a.test", "invite": false});
        let key = [("idempotency-key", "create-once")];
        let first = api(
            &server,
            Method::POST,
            "/api/v1/users",
            &auth,
            body.clone(),
            &key,
        )
        .await;
        assert_eq!(first.status, 201, "{}", first.body);
        api_token::revoke_token(&server.ctx, &root_actor(&server), created.id)
            .await
            .unwrap();
        let replay = api(&server, Method::POST, "/api/v1/users", &auth, body, &key).await;
        assert_eq!(replay.status, 401, "{}", replay.body);
        assert!(replay.header("idempotent-replayed").is_empty());
    }
);

both_engines!(scim_changes_name_their_token, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let secret = scim::create_token(&server.ctx, &root_actor(&server), org.a, "Okta")
        .await
        .unwrap();
    let res = send(
        &server,
        Method::POST,
        "/scim/v2/Users",
        &format!("Bearer {secret}"),
        Some((
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                   "userName": "ida@a.test"}),
            "application/scim+json",
        )),
        &[],
    )
    .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let label = server
        .text("SELECT actor_label FROM audit_events WHERE action = 'user.create' AND actor_user_id IS NULL AND actor_label LIKE 'SCIM%'")
        .await;
    assert_eq!(label, "SCIM: Okta");
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM audit_events a JOIN scim_tokens t ON t.id = a.credential_id WHERE a.action = 'user.create'")
            .await,
        1,
        "the event names the token"
    );
});
