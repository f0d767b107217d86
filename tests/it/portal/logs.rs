//! "Logs": a user's timeline shows sign-ins and failed attempts, changes with before → after,
//! and the messages sent to them with their delivery state; filters are in the address and a
//! bad one names its field; pages follow by key; the user reads their own from the toolbox;
//! only administrators of the user's unit read it, and what the user did elsewhere is shown
//! only to readers who administer where it happened.

use reqwest::Method;
use serde_json::json;

use crate::api::{bearer, call};
use crate::support::org::{Org, PW, person, root_actor, signed_in};
use crate::support::{TestServer, both_engines};

/// Changes a user's friendly name through the API, as `who`; the new version's tag.
async fn set_notes(server: &TestServer, who: &str, user: &str, notes: &str) {
    let path = format!("/api/v1/users/{user}");
    let got = call(server, Method::GET, &path, who, None, &[]).await;
    assert_eq!(got.status, 200, "{:?}", got.body);
    let tag = got.header("etag");
    let res = call(
        server,
        Method::PATCH,
        &path,
        who,
        Some(json!({ "friendly_name": notes })),
        &[("if-match", &tag)],
    )
    .await;
    assert_eq!(res.status, 200, "{:?}", res.body);
}

both_engines!(
    a_users_timeline_shows_sign_ins_changes_and_messages,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        let org = Org::build(&server).await;
        let target = org.target.0.to_string();
        // A failed attempt, then a sign-in, from the user's browser.
        let user = server.client();
        assert_eq!(
            user.sign_in("target@a.test", "wrong password").await.status,
            401
        );
        assert_eq!(user.sign_in("target@a.test", PW).await.status, 303);
        // The account administrator changes the notes twice, with a token, and adds an alias
        // (a confirmation mail goes out).
        let acct = bearer(&server, org.account_admin, None, false, None).await;
        set_notes(&server, &acct, &target, "Prefers fax").await;
        set_notes(&server, &acct, &target, "Prefers SMS").await;
        let alias = call(
            &server,
            Method::POST,
            &format!("/api/v1/users/{target}/aliases"),
            &acct,
            Some(json!({ "address": "nina@home.example" })),
            &[],
        )
        .await;
        assert_eq!(alias.status, 201);
        server.mails(1).await;

        let admin = signed_in(&server, "acct@a.test").await;
        let path = format!("/users/{target}/logs");
        let page = admin.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        let body = &page.body;
        for action in [
            "sign-in.failed",
            "<code>sign-in</code>",
            "user.update",
            "user.alias.add",
        ] {
            assert!(body.contains(action), "{action} is in the timeline");
        }
        assert!(
            body.contains("<del>Prefers fax</del> → <ins>Prefers SMS</ins>"),
            "before → after for the field"
        );
        assert!(body.contains("by acct@a.test"));
        assert!(body.contains("with the token"), "the token is named");
        assert!(
            body.contains("to nina@home.example"),
            "the message and its recipient"
        );
        assert!(body.contains("delivery-sent"), "its delivery state");
        let newest = body.find("user.alias.add").unwrap();
        let oldest = body.find("sign-in.failed").unwrap();
        assert!(newest < oldest, "newest first");

        // Narrowed by kind, by who acted, by time; the filters stay in the address.
        let changes = admin.get(&format!("{path}?kind=changes")).await.body;
        assert!(changes.contains("user.update") && !changes.contains("sign-in.failed"));
        assert!(
            !changes.contains("to nina@home.example"),
            "no messages among changes"
        );
        let messages = admin.get(&format!("{path}?kind=messages")).await.body;
        assert!(messages.contains("to nina@home.example") && !messages.contains("user.update"));
        let by_user = admin
            .get(&format!("{path}?actor=target%40a.test"))
            .await
            .body;
        assert!(by_user.contains("sign-in.failed") && !by_user.contains("user.update"));
        let tomorrow = server.clock.now().plus_secs(86_400).to_date_string();
        let later = admin.get(&format!("{path}?from={tomorrow}")).await.body;
        assert!(
            later.contains("id=\"logs-none\""),
            "nothing from tomorrow on"
        );
        let today = server.clock.now().to_date_string();
        let now = admin
            .get(&format!("{path}?from={today}&to={today}"))
            .await
            .body;
        assert!(now.contains("user.update"));

        // A bad filter names its field, in the user's language.
        let bad = admin
            .get(&format!("{path}?from=03.12.2026&kind=nope"))
            .await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("Write the date as YYYY-MM-DD."));
        assert!(bad.body.contains("Choose a kind from the list."));

        // The user reads their own, from the toolbox.
        let own = user.get("/toolbox/logs").await;
        assert_eq!(own.status, 200, "{}", own.body);
        assert!(own.body.contains("sign-in.failed"));
        assert!(own.body.contains("<ins>Prefers SMS</ins>"));
        assert!(
            user.get("/toolbox")
                .await
                .body
                .contains("href=\"/toolbox/logs\"")
        );
        assert!(
            admin
                .get(&format!("/users/{target}"))
                .await
                .body
                .contains(&path)
        );
    }
);

both_engines!(
    a_long_timeline_pages_by_key_without_gaps_or_repeats,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let target = org.target.0.to_string();
        let acct = bearer(&server, org.account_admin, None, false, None).await;
        for i in 0..60 {
            set_notes(&server, &acct, &target, &format!("note {i:02}")).await;
        }
        let admin = signed_in(&server, "acct@a.test").await;
        let first = admin
            .get(&format!("/users/{target}/logs?kind=changes"))
            .await
            .body;
        let shown = |body: &str| -> Vec<String> {
            (0..60)
                .map(|i| format!("<ins>note {i:02}</ins>"))
                .filter(|n| body.contains(n.as_str()))
                .collect()
        };
        let one = shown(&first);
        assert_eq!(one.len(), 50, "a page holds fifty");
        assert!(
            one.contains(&"<ins>note 59</ins>".to_string()),
            "the newest first"
        );
        let link = first.find("id=\"logs-older\"").expect("an older page");
        let start = first[..link].rfind("href=\"").unwrap() + 6;
        let end = start + first[start..].find('"').unwrap();
        let href = first[start..end]
            .replace("&#38;", "&")
            .replace("&amp;", "&");
        assert!(href.contains("kind=changes"), "the filter stays: {href}");
        let second = admin.get(&href).await.body;
        let two = shown(&second);
        assert_eq!(one.len() + two.len(), 60, "every change once: {two:?}");
        assert!(two.iter().all(|n| !one.contains(n)), "no repeats");
        assert!(two.contains(&"<ins>note 00</ins>".to_string()));
        let bad = admin
            .get(&format!("/users/{target}/logs?before=garbage"))
            .await;
        assert_eq!(bad.status, 422);
    }
);

both_engines!(
    only_the_users_administrators_read_their_log_and_only_where_they_administer,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let op = root_actor(&server);
        // East sits beside Sales; its user has Access to the target (in Stockholm, under Sales).
        let east = roster_core::domain::node::create_unit(&server.ctx, &op, org.a, "East")
            .await
            .unwrap();
        let helper = person(&server, &op, east, "helper@a.test", false).await;
        person(&server, &op, east, "eastadmin@a.test", false).await;
        roster_core::domain::user::add_node_admin(&server.ctx, &op, east, "eastadmin@a.test")
            .await
            .unwrap();
        roster_core::domain::user::add_access(&server.ctx, &op, org.target, "helper@a.test")
            .await
            .unwrap();
        server
            .exec("UPDATE users SET password_must_change = FALSE")
            .await;
        let token = bearer(&server, helper, None, false, None).await;
        set_notes(&server, &token, &org.target.0.to_string(), "Seen to").await;
        let helper_log = format!("/users/{}/logs", helper.0);

        // East's administrator reads the helper's log, without what the helper did in Sales.
        let east_admin = signed_in(&server, "eastadmin@a.test").await;
        let page = east_admin.get(&helper_log).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            !page.body.contains("Seen to"),
            "the target's change is not East's to read"
        );
        // The account's administrator reads both.
        let acct = signed_in(&server, "acct@a.test").await;
        assert!(
            acct.get(&helper_log)
                .await
                .body
                .contains("<ins>Seen to</ins>")
        );

        // Nobody else reads a log: not the unit administrator of Nordics (the helper is not
        // theirs), not the delegate (Access is for settings), not another account, not a
        // plain user; all hear 404, and the target's own log stays theirs and their admins'.
        let target_log = format!("/users/{}/logs", org.target.0);
        for who in [
            "unit@a.test",
            "delegate@a.test",
            "badmin@b.test",
            "plain@a.test",
        ] {
            let c = signed_in(&server, who).await;
            assert_eq!(
                c.get(&helper_log).await.status,
                404,
                "{who} on the helper's log"
            );
        }
        for who in [
            "delegate@a.test",
            "badmin@b.test",
            "plain@a.test",
            "eastadmin@a.test",
        ] {
            let c = signed_in(&server, who).await;
            assert_eq!(
                c.get(&target_log).await.status,
                404,
                "{who} on the target's log"
            );
        }
        let unit = signed_in(&server, "unit@a.test").await;
        assert_eq!(
            unit.get(&target_log).await.status,
            200,
            "Nordics administers Stockholm"
        );
        assert_eq!(
            server.client().get(&target_log).await.status,
            303,
            "anonymous goes to sign in"
        );
    }
);

both_engines!(
    a_units_log_holds_what_happened_under_it_and_downloads_as_csv_and_json_lines,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let acct = bearer(&server, org.account_admin, None, false, None).await;
        // A change under U1 (the target sits in U2), one in U beside it, one in account B.
        set_notes(
            &server,
            &acct,
            &org.target.to_string(),
            "=HYPERLINK(\"http://x.test\")",
        )
        .await;
        set_notes(&server, &acct, &org.plain.to_string(), "Plain's note").await;
        let op = crate::support::org::root_actor(&server);
        let operator = server.user(crate::support::server::ADMIN_EMAIL).await.id;
        let b_admin = bearer(&server, operator, None, false, None).await;
        set_notes(&server, &b_admin, &org.b_user.to_string(), "B's note").await;
        // A failed sign-in of an address nobody has: no unit's, only the deployment's.
        let stranger = server.client();
        assert_eq!(
            stranger.sign_in("ghost@nowhere.test", "nope").await.status,
            401
        );

        let unit = signed_in(&server, "unit@a.test").await;
        let page = unit.get(&format!("/nodes/{}/logs", org.u1)).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("HYPERLINK"), "{}", page.body);
        assert!(
            page.body
                .contains(&format!("href=\"/users/{}\"", org.target)),
            "names whom it was about"
        );
        assert!(!page.body.contains("Plain&#39;s note") && !page.body.contains("Plain's note"));
        assert!(!page.body.contains("B&#39;s note") && !page.body.contains("B's note"));
        assert!(!page.body.contains("ghost@nowhere.test"));
        // Messages and usage are a user's, not offered here.
        assert!(!page.body.contains("value=\"messages\""));
        // Filters as on a user's log; a bad one names its field.
        let page = unit
            .get(&format!("/nodes/{}/logs?kind=sign-in", org.u1))
            .await;
        assert!(!page.body.contains("HYPERLINK"));
        let page = unit
            .get(&format!(
                "/nodes/{}/logs?actor=acct@a.test&kind=changes",
                org.u1
            ))
            .await;
        assert!(page.body.contains("HYPERLINK"));
        let bad = unit
            .get(&format!("/nodes/{}/logs?from=someday", org.u1))
            .await;
        assert_eq!(bad.status, 422);

        // The same view downloaded: a formula is neutralised in CSV; JSON Lines parse.
        let csv = unit
            .get(&format!("/nodes/{}/logs.csv?kind=changes", org.u1))
            .await;
        assert_eq!(csv.status, 200);
        assert!(csv.header("content-type").starts_with("text/csv"));
        assert!(
            csv.body.starts_with(
                "at,kind,action,actor,target,address,token,outcome,changes,message,count\r\n"
            ),
            "{}",
            csv.body
        );
        assert!(
            csv.body.contains("friendly_name: — → =HYPERLINK")
                || csv.body.contains("'=HYPERLINK")
                || csv.body.contains("\"friendly_name: — → =HYPERLINK"),
            "{}",
            csv.body
        );
        assert!(
            !csv.body.contains("\n=HYPERLINK") && !csv.body.contains(",=HYPERLINK"),
            "{}",
            csv.body
        );
        assert!(!csv.body.contains("Plain's note"));
        let lines = unit.get(&format!("/nodes/{}/logs.jsonl", org.u1)).await;
        assert_eq!(lines.header("content-type"), "application/x-ndjson");
        let parsed: Vec<serde_json::Value> = lines
            .body
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        assert!(
            parsed.iter().any(
                |v| v["action"] == "user.update" && v["target"]["id"] == org.target.to_string()
            )
        );
        // A user's log downloads too, for the same readers as its page.
        let own = unit.get(&format!("/users/{}/logs.jsonl", org.target)).await;
        assert_eq!(own.status, 200);
        assert!(own.body.contains("user.update"));
        let plain = signed_in(&server, "plain@a.test").await;
        assert_eq!(
            plain
                .get(&format!("/nodes/{}/logs.csv", org.u1))
                .await
                .status,
            404
        );
        assert_eq!(
            plain
                .get(&format!("/users/{}/logs.csv", org.target))
                .await
                .status,
            404
        );

        // The deployment's audit, on the operator's root, holds everything.
        let root = op.primary_scope().unwrap().node_id;
        let admin = server.admin_client().await;
        let page = admin.get(&format!("/nodes/{root}/logs")).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("ghost@nowhere.test"), "{}", page.body);
        assert!(page.body.contains("B&#39;s note") || page.body.contains("B's note"));
        assert_eq!(unit.get(&format!("/nodes/{root}/logs")).await.status, 404);
    }
);
