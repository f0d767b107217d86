//! "Email Alias" and "Add number" through the API: an alias counts once the link sent to it
//! is confirmed, and is one user's in the deployment; numbers are E.164 and one user's; a unit
//! administrator reaches their subtree only, and a refusal changes nothing.

use reqwest::Method;
use serde_json::json;

use super::{bearer, call, get, lookup_bearer};
use crate::support::json::Answer;
use crate::support::org::Org;
use crate::support::{TestServer, both_engines};

both_engines!(
    an_alias_counts_once_its_link_is_confirmed,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        let org = Org::build(&server).await;
        let acct = bearer(&server, org.account_admin, None, false, None).await;
        let lookup = lookup_bearer(&server, org.a, "smsgateway").await;
        let path = format!("/api/v1/users/{}/aliases", org.target);

        let res = call(
            &server,
            Method::POST,
            &path,
            &acct,
            Some(json!({"address": " Nina@Home.Example "})),
            &[],
        )
        .await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        assert_eq!(res.body["address"], "nina@home.example");
        assert_eq!(res.body["confirmed"], false);
        let alias_id = res.body["id"].as_str().unwrap().to_string();
        // Waiting, it reaches nobody.
        let asked = get(&server, "/api/v1/lookup?email=nina@home.example", &lookup).await;
        assert_eq!(asked.status, 404, "{:?}", asked.body);

        // The link goes to the alias; its page names the address and uses nothing.
        let mails = server.mails(1).await;
        let mail = mails
            .iter()
            .find(|m| m.to == ["nina@home.example"])
            .expect("to the alias");
        assert!(mail.part("text/plain").contains("nina@home.example"));
        let link = mail
            .link(&format!("{}/alias/confirm?token=", server.url))
            .expect("a confirmation link");
        let owner = server.client();
        let shown = owner.get_url(&link).await;
        assert_eq!(shown.status, 200);
        assert!(shown.body.contains("nina@home.example"));
        let token = link.rsplit('=').next().unwrap();
        let done = owner
            .post_form("/alias/confirm", &shown.body, &[("token", token)])
            .await;
        assert_eq!(done.status, 303, "{}", done.body);
        assert_eq!(
            server.client().get_url(&link).await.status,
            410,
            "a link works once"
        );
        let listed = get(&server, &path, &acct).await;
        assert_eq!(listed.body["items"][0]["confirmed"], true);
        let asked = get(&server, "/api/v1/lookup?email=nina@home.example", &lookup).await;
        assert_eq!(asked.status, 200, "{:?}", asked.body);
        assert_eq!(asked.body["matched"], "alias");
        assert_eq!(asked.body["user"]["id"], org.target.0.to_string());
        assert_eq!(
            server
                .count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.alias.confirm'")
                .await,
            1
        );

        // A confirmed alias is one user's: another user cannot claim it, nor sign in with it.
        let before = server.fingerprint().await;
        let other = call(
            &server,
            Method::POST,
            &format!("/api/v1/users/{}/aliases", org.plain),
            &acct,
            Some(json!({"address": "nina@home.example"})),
            &[],
        )
        .await;
        assert_eq!(
            other.status, 409,
            "a clash with stored data: {:?}",
            other.body
        );
        assert_eq!(other.body["error"]["fields"][0]["field"], "address");
        let sign_in_address = call(
            &server,
            Method::POST,
            &format!("/api/v1/users/{}/aliases", org.plain),
            &acct,
            Some(json!({"address": "target@a.test"})),
            &[],
        )
        .await;
        assert_eq!(sign_in_address.status, 409);
        assert_eq!(
            sign_in_address.body["error"]["fields"][0]["code"], "alias-unavailable",
            "an account administrator is not told whose address it is"
        );
        let own = call(
            &server,
            Method::POST,
            &path,
            &acct,
            Some(json!({"address": "target@a.test"})),
            &[],
        )
        .await;
        assert_eq!(own.body["error"]["fields"][0]["code"], "alias-is-sign-in");
        let new_user = call(
            &server,
            Method::POST,
            "/api/v1/users",
            &acct,
            Some(json!({"email": "nina@home.example", "node_id": org.u.0, "first_name": "N"})),
            &[],
        )
        .await;
        assert_eq!(new_user.status, 409, "{:?}", new_user.body);
        assert_eq!(new_user.body["error"]["fields"][0]["field"], "email");
        assert_eq!(
            before,
            server.fingerprint().await,
            "refusals change nothing"
        );

        // Removed, it reaches nobody again.
        let res = call(
            &server,
            Method::DELETE,
            &format!("{path}/{alias_id}"),
            &acct,
            None,
            &[],
        )
        .await;
        assert_eq!(res.status, 204);
        let asked = get(&server, "/api/v1/lookup?email=nina@home.example", &lookup).await;
        assert_eq!(asked.status, 404);
    }
);

both_engines!(a_user_has_at_most_twenty_aliases, |engine| async move {
    let server = TestServer::builder(engine).admin().mail().start().await;
    let org = Org::build(&server).await;
    let acct = bearer(&server, org.account_admin, None, false, None).await;
    let path = format!("/api/v1/users/{}/aliases", org.target);
    for i in 0..20 {
        let res = call(
            &server,
            Method::POST,
            &path,
            &acct,
            Some(json!({"address": format!("a{i}@home.example")})),
            &[],
        )
        .await;
        assert_eq!(res.status, 201, "{i}: {:?}", res.body);
    }
    let before = server.fingerprint().await;
    let res = call(
        &server,
        Method::POST,
        &path,
        &acct,
        Some(json!({"address": "a20@home.example"})),
        &[],
    )
    .await;
    assert_eq!(res.status, 409);
    assert_eq!(res.body["error"]["fields"][0]["code"], "alias-too-many");
    let bad = call(
        &server,
        Method::POST,
        &path,
        &acct,
        Some(json!({"address": "not an address"})),
        &[],
    )
    .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["error"]["fields"][0]["field"], "address");
    assert_eq!(before, server.fingerprint().await);
    // Every waiting alias has a link of its own: confirming the first leaves the others live.
    let mails = server.mails(20).await;
    assert_eq!(mails.len(), 20);
    let live = server
        .count(
            "SELECT COUNT(*) FROM link_tokens WHERE purpose = 'alias-verify' AND used_at IS NULL",
        )
        .await;
    assert_eq!(live, 20);
});

both_engines!(numbers_are_e164_and_one_users, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let acct = bearer(&server, org.account_admin, None, false, None).await;
    let lookup = lookup_bearer(&server, org.a, "faxgateway").await;
    let path = format!("/api/v1/users/{}/numbers", org.target);
    let res = call(
        &server,
        Method::POST,
        &path,
        &acct,
        Some(json!({"number": "070-123 45 67", "country": "SE", "label": "Desk", "services": ["fax"]})),
        &[],
    )
    .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    assert_eq!(res.body["number"], "+46701234567");
    assert_eq!(res.body["services"], json!(["fax"]));
    let asked = get(&server, "/api/v1/lookup?number=%2B46701234567", &lookup).await;
    assert_eq!(asked.status, 200, "{:?}", asked.body);
    assert_eq!(asked.body["matched"], "number");
    assert_eq!(asked.body["user"]["id"], org.target.0.to_string());

    let before = server.fingerprint().await;
    for (body, status, field, code) in [
        (
            json!({"number": "+46701234567"}),
            409,
            "number",
            "number-unavailable",
        ),
        (
            json!({"number": "12"}),
            422,
            "number",
            "field-phone-invalid",
        ),
        (json!({"number": ""}), 422, "number", "field-required"),
        (
            json!({"number": "+46701234568", "services": ["telex"]}),
            422,
            "services",
            "number-service-unknown",
        ),
    ] {
        let res = call(
            &server,
            Method::POST,
            &format!("/api/v1/users/{}/numbers", org.plain),
            &acct,
            Some(body.clone()),
            &[],
        )
        .await;
        assert_eq!(res.status, status, "{body}: {:?}", res.body);
        assert_eq!(res.body["error"]["fields"][0]["field"], field, "{body}");
        assert_eq!(res.body["error"]["fields"][0]["code"], code, "{body}");
    }
    assert_eq!(
        before,
        server.fingerprint().await,
        "refusals change nothing"
    );

    let id = res.body["id"].as_str().unwrap().to_string();
    let res = call(
        &server,
        Method::DELETE,
        &format!("{path}/{id}"),
        &acct,
        None,
        &[],
    )
    .await;
    assert_eq!(res.status, 204);
    assert_eq!(get(&server, &path, &acct).await.body["items"], json!([]));
});

both_engines!(
    a_unit_administrator_reaches_their_subtree_only,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let unit_admin = server.user("unit@a.test").await.id;
        let unit = bearer(&server, unit_admin, None, false, None).await;
        // A user in the unit administrator's subtree who administers the unit above it.
        let op = crate::support::org::root_actor(&server);
        let boss = crate::support::org::person(&server, &op, org.u2, "boss@a.test", false).await;
        roster_core::domain::user::add_node_admin(&server.ctx, &op, org.u, "boss@a.test")
            .await
            .unwrap();
        let read_only = bearer(&server, org.account_admin, None, true, None).await;
        let before = server.fingerprint().await;
        for (who, path, status) in [
            // Above their rank: a user in their subtree who administers more.
            (&unit, format!("/api/v1/users/{}/numbers", boss), 403),
            (&unit, format!("/api/v1/users/{}/aliases", boss), 403),
            (
                &unit,
                format!("/api/v1/users/{}/aliases", org.account_admin),
                404,
            ),
            // Outside their subtree, and in another account.
            (&unit, format!("/api/v1/users/{}/numbers", org.plain), 404),
            (&unit, format!("/api/v1/users/{}/aliases", org.b_user), 404),
            (
                &read_only,
                format!("/api/v1/users/{}/aliases", org.target),
                403,
            ),
        ] {
            let body = if path.ends_with("numbers") {
                json!({"number": "+46701234569"})
            } else {
                json!({"address": "x@home.example"})
            };
            let res = call(&server, Method::POST, &path, who, Some(body), &[]).await;
            assert_eq!(res.status, status, "{path}: {:?}", res.body);
        }
        assert_eq!(before, server.fingerprint().await);
        // Their own subtree: yes.
        let res = call(
            &server,
            Method::POST,
            &format!("/api/v1/users/{}/numbers", org.target),
            &unit,
            Some(json!({"number": "+46701234569", "label": "Mobile 2"})),
            &[],
        )
        .await;
        assert_eq!(res.status, 201, "{:?}", res.body);
    }
);

both_engines!(
    alias_mails_are_bounded_per_address_and_per_actor,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let acct = bearer(&server, org.account_admin, None, false, None).await;
        let path = format!("/api/v1/users/{}/aliases", org.target);
        let add = async |address: &str| {
            call(
                &server,
                Method::POST,
                &path,
                &acct,
                Some(json!({ "address": address })),
                &[],
            )
            .await
        };
        let remove = async |res: &Answer| {
            let id = res.body["id"].as_str().expect("an id");
            let gone = call(
                &server,
                Method::DELETE,
                &format!("{path}/{id}"),
                &acct,
                None,
                &[],
            )
            .await;
            assert_eq!(gone.status, 204);
        };
        // Adding and removing the same address mails it three times, then it must wait.
        for _ in 0..3 {
            let res = add("victim@home.example").await;
            assert_eq!(res.status, 201, "{:?}", res.body);
            remove(&res).await;
        }
        let before = server.fingerprint().await;
        let refused = add("victim@home.example").await;
        assert_eq!(refused.status, 429, "{:?}", refused.body);
        assert_eq!(
            before,
            server.fingerprint().await,
            "a refusal changes nothing"
        );
        let mails = "SELECT COUNT(*) FROM outbox WHERE kind = 'alias-verify'";
        assert_eq!(server.count(mails).await, 3);
        server.clock.advance(2);
        let later = add("victim@home.example").await;
        assert_eq!(later.status, 201, "a delay, not a ban: {:?}", later.body);
        remove(&later).await;

        // One actor mails at most thirty addresses in the window before each further one waits.
        for i in 0..26 {
            let res = add(&format!("n{i}@home.example")).await;
            assert_eq!(res.status, 201, "{i}: {:?}", res.body);
            remove(&res).await;
        }
        let refused = add("fresh@home.example").await;
        assert_eq!(refused.status, 429, "{:?}", refused.body);
        assert_eq!(server.count(mails).await, 30);
    }
);

/// On PostgreSQL (READ COMMITTED, several nodes) a claim of an address waits while another
/// transaction holds it, and then sees that one's claim: a public address made while another
/// node is confirming the same address as an alias is refused, never both. (SQLite has one
/// writer: claims are one after the other by construction.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_waits_for_another_nodes_claim_of_the_address() {
    use sqlx::Connection;
    let server = TestServer::builder(crate::support::Engine::Postgres)
        .admin()
        .start()
        .await;
    let org = Org::build(&server).await;
    crate::support::org::give_domain(&server, org.a, "acme.example").await;
    let acct = bearer(&server, org.account_admin, None, false, None).await;
    let address = "held@acme.example";

    // Another node is in the middle of confirming the address as an alias.
    let mut other = sqlx::PgConnection::connect(&server.db_url).await.unwrap();
    let mut tx = other.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 5317))")
        .bind(address)
        .execute(&mut *tx)
        .await
        .unwrap();
    let path = format!("/api/v1/nodes/{}/public-addresses", org.a);
    let body = json!({ "address": address });
    let claim = call(&server, Method::POST, &path, &acct, Some(body), &[]);
    tokio::pin!(claim);
    let early = tokio::time::timeout(std::time::Duration::from_millis(500), &mut claim).await;
    assert!(
        early.is_err(),
        "the claim waits: {:?}",
        early.map(|a| a.status)
    );
    sqlx::query(
        "INSERT INTO user_aliases (id, user_id, address, confirmed_at, created_at) \
         VALUES ($1, $2, $3, 1, 1)",
    )
    .bind(uuid::Uuid::now_v7())
    .bind(org.plain.0)
    .bind(address)
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let res = claim.await;
    assert_eq!(res.status, 409, "the alias came first: {:?}", res.body);
    assert_eq!(res.body["error"]["fields"][0]["field"], "address");
    assert_eq!(
        server
            .count("SELECT COUNT(*) FROM public_addresses WHERE address = 'held@acme.example'")
            .await,
        0
    );
}
