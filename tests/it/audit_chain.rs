//! Tamper evidence: every account's audit events form a hash chain, and the check names the
//! first event that was altered, removed or cut from the end; retention cuts a chain only from
//! its start, so what is left still checks out; `roster audit verify` says so and fails when
//! a link is broken.

use roster_core::domain::audit_chain::{self, Broken};
use roster_core::domain::schedule;

use crate::support::org::Org;
use crate::support::{TestServer, both_engines};

/// The chain with the most events (the first account's, after `Org::build`); the SQL below
/// names it as `(SELECT chain_key FROM audit_chains ORDER BY seq DESC LIMIT 1)`.
async fn busiest(server: &TestServer) -> audit_chain::ChainReport {
    let reports = audit_chain::verify(&server.ctx).await.unwrap();
    let most = reports.iter().map(|r| r.events).max().unwrap();
    reports
        .into_iter()
        .find(|r| r.events == most || r.broken.is_some())
        .unwrap()
}

both_engines!(
    the_chain_names_an_altered_a_removed_and_a_cut_off_event,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        Org::build(&server).await;
        let reports = audit_chain::verify(&server.ctx).await.unwrap();
        assert!(
            reports.len() >= 2,
            "an account's chain and the operator's: {reports:?}"
        );
        assert!(reports.iter().all(|r| r.broken.is_none()), "{reports:?}");
        let chain = busiest(&server).await;
        assert!(chain.events >= 5, "{chain:?}");
        assert_eq!(chain.first, Some(1));

        // Altered: a change's "after" rewritten in the database.
        server
            .exec(
                "UPDATE audit_events SET after_data = '{\"user_type\":\"user\"}' \
                 WHERE seq = 3 AND chain_key = \
                 (SELECT chain_key FROM audit_chains ORDER BY seq DESC LIMIT 1)",
            )
            .await;
        let broken = busiest(&server).await;
        assert_eq!(
            broken.broken.map(|b| (b.0, b.2)),
            Some((3, Broken::Altered))
        );
        assert!(broken.broken.unwrap().1.is_some(), "the event is named");
        assert_eq!(broken.events, 2, "the links before it hold");
    }
);

both_engines!(
    a_removed_event_and_a_cut_off_end_are_found,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        Org::build(&server).await;
        server
            .exec(
                "DELETE FROM audit_events WHERE seq = 4 AND chain_key = \
             (SELECT chain_key FROM audit_chains ORDER BY seq DESC LIMIT 1)",
            )
            .await;
        let chain = busiest(&server).await;
        assert_eq!(chain.broken.map(|b| (b.0, b.2)), Some((5, Broken::Missing)));

        let server = TestServer::builder(engine).admin().start().await;
        Org::build(&server).await;
        server
            .exec(
                "DELETE FROM audit_events WHERE chain_key = \
             (SELECT chain_key FROM audit_chains ORDER BY seq DESC LIMIT 1) \
             AND seq = (SELECT MAX(seq) FROM audit_chains)",
            )
            .await;
        let chain = busiest(&server).await;
        assert_eq!(
            chain.broken.map(|b| b.2),
            Some(Broken::Truncated),
            "{chain:?}"
        );
    }
);

both_engines!(
    retention_cuts_a_chain_from_its_start_and_it_still_checks_out,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        let before = busiest(&server).await;
        // A year and more later, the account keeps 400 days: everything so far goes, then one
        // new event starts what is kept.
        server.clock.advance(401 * 86_400);
        let op = crate::support::org::root_actor(&server);
        let version = roster_core::domain::node::get_node(&server.ctx, &op, org.u)
            .await
            .unwrap()
            .version;
        roster_core::domain::node::rename_unit(&server.ctx, &op, org.u, version, "Sales EMEA")
            .await
            .unwrap();
        schedule::run_due(&server.ctx, "n").await.unwrap();
        let reports = audit_chain::verify(&server.ctx).await.unwrap();
        assert!(reports.iter().all(|r| r.broken.is_none()), "{reports:?}");
        let kept: u64 = reports.iter().map(|r| r.events).sum();
        assert!(kept < before.events, "the old events went: {reports:?}");
        assert!(
            reports.iter().all(|r| r.first.is_none_or(|f| f > 1)),
            "what is left starts after the cut: {reports:?}"
        );
    }
);
