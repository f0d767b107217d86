//! Usage the services report, and the statistics rolled up from it: a usage token reports and
//! does nothing else; an event is kept once by its id; users the token does not reach are
//! counted and named, never kept; one bad event refuses the batch and changes nothing; the
//! roll-up's figures equal the raw events, per user, unit and account, with late events
//! folded into their day; each reader sees only what they administer.

use reqwest::Method;
use roster_core::domain::api_token::TokenScope;
use roster_core::domain::statistics;
use roster_core::domain::timeline::{self, Filter, Kind};
use serde_json::{Value, json};

use super::{bearer, call, get};
use crate::support::org::{Org, root_actor, service_token, signed_in};
use crate::support::{TestServer, both_engines};

/// The test clock's day (2026-11-18) and the one before.
const TODAY: &str = "2026-11-18";
const YESTERDAY: &str = "2026-11-17";

fn event(user: Value, kind: &str, count: i64, at: &str, id: &str) -> Value {
    json!({ "user": user, "service": "sms", "kind": kind, "count": count, "at": at, "id": id })
}

async fn report(
    server: &TestServer,
    token: &str,
    events: Vec<Value>,
) -> crate::support::json::Answer {
    call(
        server,
        Method::POST,
        "/api/v1/usage",
        token,
        Some(json!({ "events": events })),
        &[],
    )
    .await
}

both_engines!(
    usage_is_kept_once_and_unknown_users_are_named,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let usage = service_token(&server, org.a, "smsgw", TokenScope::Usage).await;
        let t = org.target.to_string();
        let batch = vec![
            event(
                json!({ "email": "Target@A.test" }),
                "sms-sent",
                3,
                &format!("{TODAY}T08:00:00Z"),
                "e1",
            ),
            event(
                json!({ "id": t }),
                "sms-parts",
                5,
                &format!("{TODAY}T08:00:01Z"),
                "e2",
            ),
            event(
                json!({ "email": "buser@b.test" }),
                "sms-sent",
                1,
                &format!("{TODAY}T08:00:02Z"),
                "e3",
            ),
            event(
                json!({ "email": "nobody@a.test" }),
                "sms-sent",
                1,
                &format!("{TODAY}T08:00:03Z"),
                "e4",
            ),
            event(
                json!({ "login": "SMSGW" }),
                "sms-sent",
                2,
                &format!("{YESTERDAY}T23:59:59+00:00"),
                "e5",
            ),
            event(
                json!({ "email": "target@a.test" }),
                "sms-sent",
                3,
                &format!("{TODAY}T08:00:00Z"),
                "e1",
            ),
        ];
        let res = report(&server, &usage, batch.clone()).await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["received"], 6);
        assert_eq!(res.body["accepted"], 3);
        assert_eq!(
            res.body["duplicates"], 1,
            "the same id twice in a batch is kept once"
        );
        assert_eq!(res.body["unknown_users"], 2);
        // Another account's user is as unknown to this token as nobody at all.
        assert_eq!(res.body["unknown"], json!(["e3", "e4"]));
        assert_eq!(server.count("SELECT COUNT(*) FROM usage_events").await, 3);

        // Sent again: nothing new.
        let res = report(&server, &usage, batch).await;
        assert_eq!(res.status, 200);
        assert_eq!(
            (
                res.body["accepted"].as_i64(),
                res.body["duplicates"].as_i64()
            ),
            (Some(0), Some(4))
        );
        assert_eq!(server.count("SELECT COUNT(*) FROM usage_events").await, 3);

        // One bad event refuses the batch, naming the event and its field; nothing is kept.
        let before = server.fingerprint().await;
        let good = event(
            json!({ "email": "target@a.test" }),
            "sms-sent",
            1,
            &format!("{TODAY}T09:00:00Z"),
            "n1",
        );
        for (bad, field) in [
            (
                event(
                    json!({ "email": "target@a.test" }),
                    "SMS Sent",
                    1,
                    &format!("{TODAY}T09:00:00Z"),
                    "n2",
                ),
                "kind",
            ),
            (
                event(
                    json!({ "email": "target@a.test", "login": "x" }),
                    "sms-sent",
                    1,
                    &format!("{TODAY}T09:00:00Z"),
                    "n2",
                ),
                "user",
            ),
            (
                event(
                    json!({ "email": "target@a.test" }),
                    "sms-sent",
                    0,
                    &format!("{TODAY}T09:00:00Z"),
                    "n2",
                ),
                "count",
            ),
            (
                event(
                    json!({ "email": "target@a.test" }),
                    "sms-sent",
                    1,
                    "2027-01-01T00:00:00Z",
                    "n2",
                ),
                "at",
            ),
            (
                event(
                    json!({ "email": "target@a.test" }),
                    "sms-sent",
                    1,
                    "yesterday",
                    "n2",
                ),
                "at",
            ),
            (
                event(
                    json!({ "email": "target@a.test" }),
                    "sms-sent",
                    1,
                    &format!("{TODAY}T09:00:00Z"),
                    "",
                ),
                "id",
            ),
        ] {
            let res = report(&server, &usage, vec![good.clone(), bad]).await;
            assert_eq!(res.status, 422, "{field}: {:?}", res.body);
            assert_eq!(res.code(), "usage-event-invalid");
            assert!(
                res.body["error"]["message"].as_str().unwrap().contains('2'),
                "{:?}",
                res.body
            );
            assert_eq!(res.body["error"]["fields"][0]["field"], field);
        }
        let mut wrong_service = good.clone();
        wrong_service["service"] = json!("telex");
        let res = report(&server, &usage, vec![wrong_service]).await;
        assert_eq!(res.body["error"]["fields"][0]["field"], "service");
        let res = report(&server, &usage, vec![]).await;
        assert_eq!(res.status, 422);
        assert_eq!(
            server.fingerprint().await,
            before,
            "refused batches change nothing"
        );

        // A usage token reports and does nothing else; no other credential reports.
        let lookup = service_token(&server, org.a, "lookupgw", TokenScope::Lookup).await;
        let admin = bearer(&server, org.account_admin, None, false, None).await;
        let before = server.fingerprint().await;
        for token in [&lookup, &admin] {
            let res = report(&server, token, vec![good.clone()]).await;
            assert_eq!(res.status, 403, "{:?}", res.body);
            assert_eq!(res.code(), "api-usage-scope");
        }
        assert_eq!(report(&server, "", vec![good.clone()]).await.status, 401);
        let res = get(&server, "/api/v1/me", &usage).await;
        assert_eq!((res.status, res.code()), (403, "api-usage-only"));
        let res = get(&server, "/api/v1/lookup?email=target@a.test", &usage).await;
        assert_eq!(res.status, 403);
        assert_eq!(server.fingerprint().await, before);

        // The user's Logs show what was reported, and by whom.
        let line = timeline::user_timeline(
            &server.ctx,
            &root_actor(&server),
            org.target,
            &Filter {
                kind: Some(Kind::Usage),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let shown: Vec<_> = line
            .entries
            .iter()
            .map(|e| {
                let u = e.usage.as_ref().unwrap();
                (
                    u.kind.as_str(),
                    u.count,
                    u.event_id.as_str(),
                    e.actor.as_str(),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("sms-parts", 5, "e2", "smsgw"),
                ("sms-sent", 3, "e1", "smsgw")
            ]
        );
        let page = signed_in(&server, "acct@a.test")
            .await
            .get(&format!("/users/{}/logs?kind=usage", org.target))
            .await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("sms-parts"), "{}", page.body);
        assert!(page.body.contains("× 5"));
    }
);

/// A series' values by metric from an API answer.
fn series(body: &Value, metric: &str) -> Vec<i64> {
    body["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["metric"] == metric)
        .map(|s| {
            s["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect()
        })
        .unwrap_or_default()
}

both_engines!(
    the_roll_up_matches_the_raw_events_and_folds_late_ones_in,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let usage = service_token(&server, org.a, "smsgw", TokenScope::Usage).await;
        let target = json!({ "email": "target@a.test" });
        let plain = json!({ "email": "plain@a.test" });
        let res = report(
            &server,
            &usage,
            vec![
                event(
                    target.clone(),
                    "sms-sent",
                    4,
                    &format!("{YESTERDAY}T10:00:00Z"),
                    "a1",
                ),
                event(
                    target.clone(),
                    "sms-sent",
                    6,
                    &format!("{TODAY}T07:00:00Z"),
                    "a2",
                ),
                event(
                    target.clone(),
                    "sms-parts",
                    9,
                    &format!("{TODAY}T07:00:00Z"),
                    "a3",
                ),
                event(
                    plain.clone(),
                    "sms-sent",
                    1,
                    &format!("{TODAY}T09:00:00Z"),
                    "a4",
                ),
            ],
        )
        .await;
        assert_eq!(res.body["accepted"], 4, "{:?}", res.body);
        // A sign-in of the target today.
        signed_in(&server, "target@a.test").await;
        let done = statistics::roll_up(&server.ctx).await.unwrap();
        assert!(done.contains("days"), "{done}");

        let admin = bearer(&server, org.account_admin, None, false, None).await;
        let range = format!("from={YESTERDAY}&to={TODAY}");
        let res = get(
            &server,
            &format!("/api/v1/users/{}/statistics?{range}", org.target),
            &admin,
        )
        .await;
        assert_eq!(res.status, 200, "{:?}", res.body);
        assert_eq!(res.body["days"], json!([YESTERDAY, TODAY]));
        assert_eq!(series(&res.body, "sms:sms-sent"), [4, 6]);
        assert_eq!(series(&res.body, "sms:sms-parts"), [0, 9]);
        assert_eq!(series(&res.body, "sign-ins"), [0, 1]);
        assert!(res.body["updated_at"].is_string());

        // A unit counts everything under it; the account counts both users.
        let res = get(
            &server,
            &format!("/api/v1/nodes/{}/statistics?{range}", org.u2),
            &admin,
        )
        .await;
        assert_eq!(series(&res.body, "sms:sms-sent"), [4, 6]);
        assert_eq!(series(&res.body, "active-users"), [1, 1]);
        let res = get(
            &server,
            &format!("/api/v1/nodes/{}/statistics?{range}", org.a),
            &admin,
        )
        .await;
        assert_eq!(series(&res.body, "sms:sms-sent"), [4, 7]);
        assert_eq!(series(&res.body, "active-users"), [1, 2]);
        // The same sums as the raw events.
        let raw = server
            .count("SELECT CAST(SUM(count) AS BIGINT) FROM usage_events WHERE kind = 'sms-sent'")
            .await;
        assert_eq!(series(&res.body, "sms:sms-sent").iter().sum::<i64>(), raw);

        // A late event for yesterday, received a day later, is folded into its day.
        server.clock.advance(86_400);
        report(
            &server,
            &usage,
            vec![event(
                target.clone(),
                "sms-sent",
                5,
                &format!("{YESTERDAY}T22:00:00Z"),
                "a5",
            )],
        )
        .await;
        statistics::roll_up(&server.ctx).await.unwrap();
        let res = get(
            &server,
            &format!("/api/v1/users/{}/statistics?{range}", org.target),
            &admin,
        )
        .await;
        assert_eq!(series(&res.body, "sms:sms-sent"), [9, 6]);
        // Run again: the same figures (a repeated run does no harm).
        statistics::roll_up(&server.ctx).await.unwrap();
        let again = get(
            &server,
            &format!("/api/v1/users/{}/statistics?{range}", org.target),
            &admin,
        )
        .await;
        assert_eq!(again.body["series"], res.body["series"]);

        // Readers: the unit's administrators and the user; no one else, not even a delegate.
        let other = bearer(&server, org.b_user, None, false, None).await;
        for path in [
            format!("/api/v1/users/{}/statistics", org.target),
            format!("/api/v1/nodes/{}/statistics", org.a),
        ] {
            assert_eq!(get(&server, &path, &other).await.status, 404, "{path}");
        }
        let res = get(
            &server,
            "/api/v1/users/{t}/statistics?from=2026-02-30"
                .replace("{t}", &org.target.to_string())
                .as_str(),
            &admin,
        )
        .await;
        assert_eq!(res.status, 422);
        assert_eq!(res.body["error"]["fields"][0]["field"], "from");

        // The pages: a chart per figure with its numbers beside it, and the same as CSV.
        let acct = signed_in(&server, "acct@a.test").await;
        let page = acct
            .get(&format!("/users/{}/statistics?{range}", org.target))
            .await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("<svg class=\"chart\""), "{}", page.body);
        assert!(page.body.contains("role=\"img\""));
        assert!(
            page.body
                .contains("<td>2026-11-17</td><td class=\"num\">9</td>"),
            "{}",
            page.body
        );
        let csv = acct
            .get(&format!("/users/{}/statistics.csv?{range}", org.target))
            .await;
        assert_eq!(csv.status, 200);
        assert!(
            csv.body
                .starts_with("day,sign-ins,sms:sms-parts,sms:sms-sent\r\n2026-11-17,0,0,9\r\n"),
            "{}",
            csv.body
        );
        let page = acct
            .get(&format!("/nodes/{}/statistics?{range}", org.a))
            .await;
        assert!(page.body.contains("Active users"), "{}", page.body);
        let bad = acct
            .get(&format!(
                "/nodes/{}/statistics?from=2026-11-18&to=2026-11-01",
                org.a
            ))
            .await;
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("aria-invalid=\"true\""));
        let own = signed_in(&server, "target@a.test")
            .await
            .get("/toolbox/statistics")
            .await;
        assert_eq!(own.status, 200);
        assert!(own.body.contains("<svg class=\"chart\""));
    }
);
