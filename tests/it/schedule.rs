//! The scheduler: three nodes on one database run each job's slot exactly once; a run left by a
//! node that died is finished by another; invitation expiry and audit retention do their work
//! once, and Management › System status shows each job's last run.

use roster_core::domain::schedule::{self, Job, LEASE_SECS};
use sqlx::Connection;

use crate::support::org::Org;
use crate::support::{Engine, TestServer, both_engines};

/// A run a node claimed and never finished, as a node that died leaves it.
async fn abandoned_run(server: &TestServer, job: &str, slot: i64, lease_until: i64) {
    let sql = "INSERT INTO job_runs (job, slot, node, started_at, lease_until) \
               VALUES ($1, $2, 'dead-node', $3, $4)";
    let started = lease_until - LEASE_SECS * 1000;
    let binds = [
        Bind::Text(job),
        Bind::Int(slot),
        Bind::Int(started),
        Bind::Int(lease_until),
    ];
    Conn::open(server).await.exec(sql, &binds).await;
}

fn job(server: &TestServer, name: &str) -> Job {
    schedule::jobs(&server.ctx)
        .into_iter()
        .find(|j| j.name == name)
        .expect("a job of that name")
}

both_engines!(three_nodes_run_each_slot_once, |engine| async move {
    let a = TestServer::builder(engine).admin().start().await;
    let b = TestServer::builder(engine)
        .on(&a.db_url, a.clock.clone())
        .start()
        .await;
    let c = TestServer::builder(engine)
        .on(&a.db_url, a.clock.clone())
        .start()
        .await;
    let jobs = schedule::jobs(&a.ctx);
    let mut slots = std::collections::HashSet::new();
    for round in 0..3 {
        let (x, y, z) = tokio::join!(
            schedule::run_due(&a.ctx, "node-a"),
            schedule::run_due(&b.ctx, "node-b"),
            schedule::run_due(&c.ctx, "node-c"),
        );
        let mut ran: Vec<_> = [x.unwrap(), y.unwrap(), z.unwrap()].concat();
        ran.sort_by_key(|r| (r.job, r.slot));
        let now = a.clock.now();
        let due: Vec<_> = jobs
            .iter()
            .filter(|j| slots.insert((j.name, schedule::slot_of(j, now))))
            .map(|j| (j.name, schedule::slot_of(j, now)))
            .collect();
        let mut expected = due.clone();
        expected.sort();
        let got: Vec<_> = ran.iter().map(|r| (r.job, r.slot)).collect();
        assert_eq!(
            got, expected,
            "round {round}: each due slot once, by one node"
        );
        assert!(ran.iter().all(|r| r.outcome.is_ok()), "{ran:?}");
        a.clock.advance(10 * 60);
    }
    assert_eq!(
        a.count("SELECT COUNT(*) FROM job_runs").await as usize,
        slots.len()
    );
    assert_eq!(
        a.count("SELECT COUNT(*) FROM job_runs WHERE finished_at IS NULL OR attempts <> 1")
            .await,
        0
    );
});

both_engines!(
    a_run_left_by_a_dead_node_is_finished_by_another,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let sweep = job(&server, "sessions.sweep");
        let now = server.clock.now();
        let slot = schedule::slot_of(&sweep, now);
        // The dead node's lease still holds: nobody else runs the slot yet.
        abandoned_run(&server, sweep.name, slot, now.millis() + 30_000).await;
        let ran = schedule::run_due(&server.ctx, "node-b").await.unwrap();
        assert!(!ran.iter().any(|r| r.job == sweep.name), "{ran:?}");
        let op = crate::support::org::root_actor(&server);
        let shown = schedule::job_status(&server.ctx, &op).await.unwrap();
        let row = shown.iter().find(|j| j.name == sweep.name).unwrap();
        assert!(row.running, "a held lease shows as running: {row:?}");

        // Once the lease ran out (still in the same slot), the next node takes the run over.
        let in_slot = (slot + 1) * sweep.every_secs * 1000 - now.millis();
        assert!(in_slot > 31_000, "the test starts early enough in the slot");
        server.clock.advance(31);
        let ran = schedule::run_due(&server.ctx, "node-b").await.unwrap();
        let taken: Vec<_> = ran.iter().filter(|r| r.job == sweep.name).collect();
        assert_eq!(taken.len(), 1, "{ran:?}");
        assert_eq!(taken[0].slot, slot);
        let shown = schedule::job_status(&server.ctx, &op).await.unwrap();
        let row = shown.iter().find(|j| j.name == sweep.name).unwrap();
        assert_eq!(row.node, "node-b");
        assert_eq!(row.attempts, 2);
        assert!(!row.running && row.finished.is_some(), "{row:?}");
        // And it is done: nobody runs that slot again.
        let ran = schedule::run_due(&server.ctx, "node-c").await.unwrap();
        assert!(ran.is_empty(), "{ran:?}");
    }
);

both_engines!(
    an_expired_invitation_is_written_into_the_audit_trail_once,
    |engine| async move {
        let server = TestServer::builder(engine).admin().mail().start().await;
        let org = Org::build(&server).await;
        let acct = crate::api::bearer(&server, org.account_admin, None, false, None).await;
        let created = crate::api::call(
            &server,
            reqwest::Method::POST,
            "/api/v1/users",
            &acct,
            Some(serde_json::json!({"node_id": org.u1.0, "email": "late@a.test", "first_name": "Late"})),
            &[],
        )
        .await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        server.mails(1).await;
        let expired = "SELECT COUNT(*) FROM audit_events WHERE action = 'user.invitation.expired'";
        schedule::run_due(&server.ctx, "n").await.unwrap();
        assert_eq!(server.count(expired).await, 0, "the link is still good");
        server
            .clock
            .advance(roster_core::outbox::worker::INVITATION_SECS + 1);
        schedule::run_due(&server.ctx, "n").await.unwrap();
        assert_eq!(server.count(expired).await, 1);
        server.clock.advance(60 * 60);
        schedule::run_due(&server.ctx, "n").await.unwrap();
        assert_eq!(server.count(expired).await, 1, "noted once");
    }
);

both_engines!(
    audit_events_are_kept_as_long_as_the_account_says,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        let org = Org::build(&server).await;
        // Org A keeps its events 30 days; everyone else the default 400.
        let mut conn = Conn::open(&server).await;
        conn.exec(
            "UPDATE nodes SET audit_retention_days = 30 WHERE id = $1",
            &[Bind::Id(org.a.0)],
        )
        .await;
        let day = 86_400_000_i64;
        let now = server.clock.now().millis();
        let insert = "INSERT INTO audit_events (id, at, action, node_id) \
                      VALUES ($1, $2, 'test.old', $3)";
        for (node, age_days) in [(org.u1, 31), (org.u1, 29), (org.b, 31), (org.b, 401)] {
            let binds = [
                Bind::Id(uuid::Uuid::now_v7()),
                Bind::Int(now - age_days * day),
                Bind::Id(node.0),
            ];
            conn.exec(insert, &binds).await;
        }
        schedule::run_due(&server.ctx, "n").await.unwrap();
        let left = "SELECT COUNT(*) FROM audit_events WHERE action = 'test.old'";
        assert_eq!(
            server.count(left).await,
            2,
            "A's 31-day-old event went, its 29-day-old stayed; B's 31-day-old stayed, its 401-day-old went"
        );
    }
);

both_engines!(
    system_status_shows_each_jobs_last_run,
    |engine| async move {
        let server = TestServer::builder(engine).admin().start().await;
        schedule::run_due(&server.ctx, "node-a").await.unwrap();
        let admin = server.admin_client().await;
        let page = admin.get("/management").await;
        assert_eq!(page.status, 200);
        for job in schedule::jobs(&server.ctx) {
            assert!(page.body.contains(job.name), "{} is listed", job.name);
        }
        assert!(page.body.contains("node-a"));
        assert!(page.body.contains("Scheduled jobs"));
        assert!(page.body.contains("removed 0"));
    }
);

/// A connection of the test's own to the server's database.
enum Conn {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

/// A value bound to a statement.
enum Bind<'a> {
    Id(uuid::Uuid),
    Int(i64),
    Text(&'a str),
}

impl Conn {
    async fn open(server: &TestServer) -> Conn {
        match server.engine {
            Engine::Sqlite => Conn::Sqlite(
                sqlx::SqliteConnection::connect(&server.db_url)
                    .await
                    .unwrap(),
            ),
            Engine::Postgres => {
                Conn::Postgres(sqlx::PgConnection::connect(&server.db_url).await.unwrap())
            }
        }
    }

    async fn exec(&mut self, sql: &'static str, binds: &[Bind<'_>]) {
        macro_rules! bound {
            ($q:expr) => {{
                let mut q = $q;
                for b in binds {
                    q = match b {
                        Bind::Id(v) => q.bind(*v),
                        Bind::Int(v) => q.bind(*v),
                        Bind::Text(v) => q.bind(v.to_string()),
                    };
                }
                q
            }};
        }
        match self {
            Conn::Sqlite(c) => {
                bound!(sqlx::query(sql)).execute(c).await.expect(sql);
            }
            Conn::Postgres(c) => {
                bound!(sqlx::query(sql)).execute(c).await.expect(sql);
            }
        }
    }
}
