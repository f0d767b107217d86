//! "Resources" through the API: books shared down the tree and a user's own, contacts one by
//! one and by CSV (all or nothing, the bad line named; exported with formulas neutralised),
//! public addresses with the users who may use them, and who may see what.

use reqwest::Method;
use serde_json::{Value, json};

use super::{bearer, call, get, lookup_bearer};
use crate::support::json::send;
use crate::support::org::{Org, person, root_actor};
use crate::support::{TestServer, both_engines};

async fn post(
    server: &TestServer,
    path: &str,
    auth: &str,
    body: Value,
) -> crate::support::json::Answer {
    call(server, Method::POST, path, auth, Some(body), &[]).await
}

both_engines!(books_are_shared_down_the_tree, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let acct = bearer(&server, org.account_admin, None, false, None).await;
    let unit_admin = server.user("unit@a.test").await.id;
    let unit = bearer(&server, unit_admin, None, false, None).await;

    let shared = post(
        &server,
        &format!("/api/v1/nodes/{}/address-books", org.a),
        &acct,
        json!({"name": "Customers"}),
    )
    .await;
    assert_eq!(shared.status, 201, "{:?}", shared.body);
    let account_book = shared.body["id"].as_str().unwrap().to_string();
    let nordic = post(
        &server,
        &format!("/api/v1/nodes/{}/address-books", org.u1),
        &unit,
        json!({"name": "Nordic partners"}),
    )
    .await;
    assert_eq!(nordic.status, 201, "{:?}", nordic.body);
    let own = post(
        &server,
        &format!("/api/v1/users/{}/address-books", org.target),
        &unit,
        json!({"name": "My fax list"}),
    )
    .await;
    assert_eq!(own.status, 201, "{:?}", own.body);

    // The target in U2 can use all three; the plain user in U only the account's.
    let res = get(
        &server,
        &format!("/api/v1/users/{}/resources", org.target),
        &acct,
    )
    .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
    let names: Vec<&str> = res.body["address_books"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Customers", "Nordic partners", "My fax list"]);
    let res = get(
        &server,
        &format!("/api/v1/users/{}/resources", org.plain),
        &acct,
    )
    .await;
    let names: Vec<&str> = res.body["address_books"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Customers"]);

    // A user in the unit administrator's subtree who administers more than they do.
    let op = root_actor(&server);
    let boss = person(&server, &op, org.u2, "boss@a.test", false).await;
    roster_core::domain::user::add_node_admin(&server.ctx, &op, org.u, "boss@a.test")
        .await
        .unwrap();
    let b_admin = bearer(
        &server,
        server.user("badmin@b.test").await.id,
        None,
        false,
        None,
    )
    .await;
    // A unit administrator does not see the account's book, nor another account's anything.
    let before = server.fingerprint().await;
    assert_eq!(
        get(
            &server,
            &format!("/api/v1/address-books/{account_book}"),
            &unit
        )
        .await
        .status,
        404
    );
    let res = call(
        &server,
        Method::DELETE,
        &format!("/api/v1/address-books/{account_book}"),
        &unit,
        None,
        &[],
    )
    .await;
    assert_eq!(res.status, 404);
    let res = post(
        &server,
        &format!("/api/v1/address-books/{account_book}/contacts"),
        &unit,
        json!({"name": "Mallory"}),
    )
    .await;
    assert_eq!(res.status, 404);
    let res = post(
        &server,
        &format!("/api/v1/nodes/{}/address-books", org.u),
        &unit,
        json!({"name": "Above"}),
    )
    .await;
    assert_eq!(res.status, 404);
    assert_eq!(
        get(
            &server,
            &format!("/api/v1/address-books/{account_book}"),
            &b_admin
        )
        .await
        .status,
        404
    );
    // Nor a book of a user who outranks them.
    let res = post(
        &server,
        &format!("/api/v1/users/{boss}/address-books"),
        &unit,
        json!({"name": "Boss's"}),
    )
    .await;
    assert_eq!(res.status, 403, "{:?}", res.body);
    let res = post(
        &server,
        &format!("/api/v1/nodes/{}/address-books", org.a),
        &acct,
        json!({"name": "  "}),
    )
    .await;
    assert_eq!(res.status, 422);
    assert_eq!(res.body["error"]["fields"][0]["field"], "name");
    assert_eq!(
        before,
        server.fingerprint().await,
        "refusals change nothing"
    );
});

both_engines!(
    contacts_come_in_by_csv_all_or_nothing,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let acct = bearer(&server, org.account_admin, None, false, None).await;
        let book = post(
            &server,
            &format!("/api/v1/nodes/{}/address-books", org.a),
            &acct,
            json!({"name": "Customers"}),
        )
        .await;
        let id = book.body["id"].as_str().unwrap().to_string();
        let csv_path = format!("/api/v1/address-books/{id}/contacts.csv");

        let res = post(
            &server,
            &format!("/api/v1/address-books/{id}/contacts"),
            &acct,
            json!({"name": "Anna", "mobile": "070-111 22 33"}),
        )
        .await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        assert_eq!(
            res.body["mobile"], "+46701112233",
            "national numbers in the account's country"
        );
        let res = post(
            &server,
            &format!("/api/v1/address-books/{id}/contacts"),
            &acct,
            json!({"name": "Bad", "fax": "12", "email": "nope"}),
        )
        .await;
        assert_eq!(res.status, 422);
        let fields: Vec<&str> = res.body["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["fax", "email"]);

        // One bad line refuses the whole file, and is named.
        let before = server.fingerprint().await;
        let bad = "name,mobile,email\nBo,+46702223344,bo@x.test\nCe,not a number,ce@x.test\n";
        let res = send(
            &server,
            Method::POST,
            &csv_path,
            &acct,
            None,
            &[("content-type", "text/csv")],
        )
        .await;
        assert_eq!(res.status, 422, "an empty file: {:?}", res.body);
        assert_eq!(res.body["error"]["fields"][0]["code"], "csv-empty");
        let res = raw(&server, &csv_path, &acct, bad).await;
        assert_eq!(res.status, 422, "{:?}", res.body);
        assert_eq!(res.body["error"]["code"], "csv-bad-line");
        assert_eq!(
            res.body["error"]["message"],
            "Line 3 is not valid; nothing was imported."
        );
        assert_eq!(res.body["error"]["fields"][0]["field"], "mobile");
        let res = raw(&server, &csv_path, &acct, "nom,mobile\nBo,1\n").await;
        assert_eq!(res.body["error"]["fields"][0]["code"], "csv-header");
        assert_eq!(before, server.fingerprint().await, "nothing was imported");

        let good = "Name;Mobile;Notes\n\"Doe; Jane\";+46702223344;\"=HYPERLINK(\"\"x\"\")\"\nBo;0703334455;\n";
        let res = raw(&server, &csv_path, &acct, good).await;
        assert_eq!(res.status, 201, "{:?}", res.body);
        assert_eq!(res.body["imported"], 2);
        let detail = get(&server, &format!("/api/v1/address-books/{id}"), &acct).await;
        assert_eq!(detail.body["contacts"], 3);
        let exported = reqwest::Client::new()
            .get(format!("{}{csv_path}", server.url))
            .header("authorization", &acct)
            .send()
            .await
            .unwrap();
        assert_eq!(
            exported.headers()["content-type"],
            "text/csv; charset=utf-8"
        );
        let text = exported.text().await.unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], "name,mobile,fax,email,notes");
        assert_eq!(lines[1], "Anna,+46701112233,,,");
        assert_eq!(lines[2], "Bo,+46703334455,,,");
        assert_eq!(
            lines[3], "\"Doe; Jane\",+46702223344,,,\"'=HYPERLINK(\"\"x\"\")\"",
            "a formula is neutralised"
        );
    }
);

async fn raw(
    server: &TestServer,
    path: &str,
    auth: &str,
    body: &str,
) -> crate::support::json::Answer {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", server.url))
        .header("authorization", auth)
        .header("content-type", "text/csv")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    crate::support::json::Answer {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    }
}

both_engines!(public_addresses_are_shared_inboxes, |engine| async move {
    let server = TestServer::builder(engine).admin().start().await;
    let org = Org::build(&server).await;
    let acct = bearer(&server, org.account_admin, None, false, None).await;
    let unit_admin = server.user("unit@a.test").await.id;
    let unit = bearer(&server, unit_admin, None, false, None).await;
    let lookup = lookup_bearer(&server, org.a, "smsgateway").await;
    let path = format!("/api/v1/nodes/{}/public-addresses", org.u1);
    crate::support::org::give_domain(&server, org.a, "acme.example").await;

    let res = post(
        &server,
        &path,
        &unit,
        json!({"address": "Support@Acme.example", "label": "Support"}),
    )
    .await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    assert_eq!(res.body["kind"], "email");
    assert_eq!(res.body["address"], "support@acme.example");
    let public = res.body["id"].as_str().unwrap().to_string();
    let res = post(&server, &path, &unit, json!({"address": "08-123 456 78"})).await;
    assert_eq!(res.status, 201, "{:?}", res.body);
    assert_eq!(res.body["kind"], "number");

    // Only users below the unit may use it.
    let users = format!("/api/v1/public-addresses/{public}/users");
    let before = server.fingerprint().await;
    let res = post(&server, &users, &unit, json!({"user": "plain@a.test"})).await;
    assert_eq!(
        res.status, 409,
        "the plain user is not below Nordics: {:?}",
        res.body
    );
    let res = post(
        &server,
        &path,
        &unit,
        json!({"address": "support@acme.example"}),
    )
    .await;
    assert_eq!(res.status, 409, "one in the deployment");
    let res = post(&server, &path, &unit, json!({"address": "ceo@b.test"})).await;
    assert_eq!(
        res.status, 409,
        "not an address of the account's own domains"
    );
    assert_eq!(
        res.body["error"]["fields"][0]["code"],
        "public-domain-not-yours"
    );
    let res = post(
        &server,
        &format!("/api/v1/users/{}/aliases", org.target),
        &acct,
        json!({"address": "support@acme.example"}),
    )
    .await;
    assert_eq!(res.status, 409, "not an alias either");
    let res = post(
        &server,
        &format!("/api/v1/users/{}/numbers", org.target),
        &acct,
        json!({"number": "+46812345678"}),
    )
    .await;
    assert_eq!(res.status, 409, "nor a user's number");
    let res = post(
        &server,
        &format!("/api/v1/nodes/{}/public-addresses", org.u),
        &unit,
        json!({"address": "x@acme.example"}),
    )
    .await;
    assert_eq!(res.status, 404, "a unit above is not theirs");
    assert_eq!(before, server.fingerprint().await);
    let res = post(&server, &users, &unit, json!({"user": "target@a.test"})).await;
    assert_eq!(res.status, 204, "{:?}", res.body);

    let asked = get(
        &server,
        "/api/v1/lookup?email=support@acme.example",
        &lookup,
    )
    .await;
    assert_eq!(asked.status, 200, "{:?}", asked.body);
    assert_eq!(asked.body["kind"], "public");
    assert_eq!(
        asked.body["public"]["users"],
        json!([org.target.0.to_string()])
    );
    let asked = get(&server, "/api/v1/lookup?number=%2B46812345678", &lookup).await;
    assert_eq!(asked.body["kind"], "public");
    let res = get(
        &server,
        &format!("/api/v1/users/{}/resources", org.target),
        &acct,
    )
    .await;
    assert_eq!(
        res.body["public_addresses"][0]["address"],
        "support@acme.example"
    );

    let target = org.target.0.to_string();
    let res = call(
        &server,
        Method::DELETE,
        &format!("{users}/{target}"),
        &unit,
        None,
        &[],
    )
    .await;
    assert_eq!(res.status, 204);
    let res = call(
        &server,
        Method::DELETE,
        &format!("/api/v1/public-addresses/{public}"),
        &unit,
        None,
        &[],
    )
    .await;
    assert_eq!(res.status, 204);
    assert_eq!(
        get(
            &server,
            "/api/v1/lookup?email=support@acme.example",
            &lookup
        )
        .await
        .status,
        404
    );
});
