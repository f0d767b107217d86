//! Process tests: the built `roster` binary itself.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::database::temp_dir;

const BIN: &str = env!("CARGO_BIN_EXE_roster");

/// A running `roster serve` and the lines it printed.
struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Served {
    fn start(data_dir: &std::path::Path) -> Served {
        Served::start_with(data_dir, &[])
    }

    fn start_with(data_dir: &std::path::Path, extra: &[&str]) -> Served {
        let mut child = Command::new(BIN)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--password-hash-memory-kib",
                "256",
                "--password-hash-iterations",
                "1",
            ])
            .args(extra)
            .env("ROSTER_DATA_DIR", data_dir)
            .env_remove("ROSTER_DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start roster serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Served {
            child,
            lines: rx,
            seen: vec![],
        }
    }

    /// Waits for a printed line containing `needle`.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return l.clone();
        }
        while Instant::now() < deadline {
            if let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
                self.seen.push(line.clone());
                if line.contains(needle) {
                    return line;
                }
            }
        }
        panic!(
            "roster never printed {needle:?}; it printed {:?}",
            self.seen
        );
    }

    fn base_url(&mut self) -> String {
        let line = self.wait_for("listening on");
        line.rsplit(' ').next().unwrap().to_string()
    }

    /// Sends SIGTERM and returns the exit code.
    fn terminate(mut self) -> Option<i32> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Some(s) = self.child.try_wait().expect("wait") {
                return s.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("roster did not stop within 15 s of SIGTERM");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_an_empty_folder_prints_the_setup_link_answers_and_stops_on_sigterm() {
    let dir = temp_dir("roster-process").join("data");
    let started = Instant::now();
    let mut served = Served::start(&dir);
    let base = served.base_url();
    roster_core::outbox::install_tls_provider();
    let http = reqwest::Client::new();
    let health = http
        .get(format!("{base}/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answers soon after start"
    );
    let link_line = served.wait_for("one-time link");
    let link = link_line.rsplit(' ').next().unwrap().to_string();
    assert!(link.starts_with(&format!("{base}/setup?token=")), "{link}");
    assert!(
        dir.join("roster.db").exists(),
        "the SQLite file is in the data folder"
    );

    let ready = http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    let form = http.get(&link).send().await.expect("setup page");
    assert_eq!(form.status(), 200);

    assert_eq!(served.terminate(), Some(0), "SIGTERM exits 0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_create_from_the_command_line_then_serve_prints_no_link() {
    let dir = temp_dir("roster-process").join("data");
    let password_file = dir.with_file_name("password.txt");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(&password_file, "a long and unguessable passphrase\n").unwrap();

    let migrate = Command::new(BIN)
        .args(["migrate"])
        .env("ROSTER_DATA_DIR", &dir)
        .env_remove("ROSTER_DATABASE_URL")
        .output()
        .unwrap();
    assert!(migrate.status.success());
    assert!(String::from_utf8_lossy(&migrate.stdout).contains("schema version 14"));

    let weak = dir.with_file_name("weak.txt");
    std::fs::write(&weak, "short\n").unwrap();
    let refused = Command::new(BIN)
        .args([
            "admin",
            "create",
            "--email",
            "root@roster.test",
            "--password-file",
        ])
        .arg(&weak)
        .args([
            "--password-hash-memory-kib",
            "256",
            "--password-hash-iterations",
            "1",
        ])
        .env("ROSTER_DATA_DIR", &dir)
        .env_remove("ROSTER_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("password: Use at least 8 characters")
    );

    let created = Command::new(BIN)
        .args([
            "admin",
            "create",
            "--email",
            "Root@Roster.test",
            "--password-file",
        ])
        .arg(&password_file)
        .args([
            "--password-hash-memory-kib",
            "256",
            "--password-hash-iterations",
            "1",
        ])
        .env("ROSTER_DATA_DIR", &dir)
        .env_remove("ROSTER_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(
        String::from_utf8_lossy(&created.stdout)
            .contains("Created operator administrator root@roster.test")
    );

    // An API token from the command line, printed once.
    let token = Command::new(BIN)
        .args([
            "token",
            "create",
            "--user",
            "root@roster.test",
            "--read-only",
        ])
        .env("ROSTER_DATA_DIR", &dir)
        .env_remove("ROSTER_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8_lossy(&token.stdout).trim().to_string();
    assert!(token.starts_with("rst_") && token.len() > 40, "{token}");
    let unknown = Command::new(BIN)
        .args(["token", "create", "--user", "nobody@roster.test"])
        .env("ROSTER_DATA_DIR", &dir)
        .env_remove("ROSTER_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!unknown.status.success());

    // The audit trail's chains check out; an event altered in the database is named.
    let verify = || {
        Command::new(BIN)
            .args(["audit", "verify"])
            .env("ROSTER_DATA_DIR", &dir)
            .env_remove("ROSTER_DATABASE_URL")
            .output()
            .unwrap()
    };
    let intact = verify();
    let said = String::from_utf8_lossy(&intact.stdout).to_string();
    assert!(intact.status.success(), "{said}");
    assert!(said.contains(": intact, events 1–"), "{said}");
    {
        use sqlx::Connection;
        let url = format!("sqlite://{}", dir.join("roster.db").display());
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("UPDATE audit_events SET ip = '203.0.113.9' WHERE seq = 1")
            .execute(&mut c)
            .await
            .unwrap();
    }
    let broken = verify();
    let said = String::from_utf8_lossy(&broken.stdout).to_string();
    assert!(!broken.status.success(), "{said}");
    assert!(said.contains("BROKEN at event number 1 (event "), "{said}");
    assert!(said.contains("altered"), "{said}");

    let mut served = Served::start(&dir);
    let base = served.base_url();
    // The key that seals secrets at rest was created, readable by its owner only.
    let key = std::fs::metadata(dir.join("secret.key")).expect("secret.key");
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&key.permissions()) & 0o777,
        0o600
    );
    roster_core::outbox::install_tls_provider();
    let me = reqwest::Client::new()
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);
    assert!(
        !served.seen.iter().any(|l| l.contains("one-time link")),
        "{:?}",
        served.seen
    );
    let client = crate::support::Client::new(&base);
    let res = client
        .sign_in("root@roster.test", "a long and unguessable passphrase")
        .await;
    assert_eq!(res.status, 303);
    assert_eq!(served.terminate(), Some(0));
}

#[test]
fn serve_help_documents_every_option_with_its_variable() {
    let out = Command::new(BIN)
        .args(["serve", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for (flag, env) in [
        ("--listen", "ROSTER_LISTEN"),
        ("--data-dir", "ROSTER_DATA_DIR"),
        ("--database-url", "ROSTER_DATABASE_URL"),
        ("--public-url", "ROSTER_PUBLIC_URL"),
        ("--log-format", "ROSTER_LOG_FORMAT"),
        (
            "--password-hash-memory-kib",
            "ROSTER_PASSWORD_HASH_MEMORY_KIB",
        ),
        ("--session-idle-minutes", "ROSTER_SESSION_IDLE_MINUTES"),
        ("--services-file", "ROSTER_SERVICES_FILE"),
    ] {
        assert!(
            help.contains(flag) && help.contains(env),
            "{flag} / {env} missing from:\n{help}"
        );
    }
    assert!(help.contains("127.0.0.1:8080"));
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = temp_dir("roster-process").join("data");
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("ROSTER_DATA_DIR", &dir)
        .env_remove("ROSTER_DATABASE_URL")
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let first = BufReader::new(stderr)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("listening"))
        .expect("a log line");
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    let parsed: serde_json::Value = serde_json::from_str(&first).expect("JSON log line");
    assert_eq!(parsed["level"], "INFO");
    assert!(
        parsed["public_url"]
            .as_str()
            .unwrap()
            .starts_with("http://127.0.0.1:")
    );
}

#[test]
fn account_admin_and_user_list_from_the_command_line() {
    let dir = temp_dir("roster-process").join("data");
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .args(["--data-dir", dir.to_str().unwrap()])
            .env_remove("ROSTER_DATABASE_URL")
            .output()
            .unwrap()
    };
    let created = run(&["account", "create", "--name", "Acme AB", "--country", "SE"]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let id = String::from_utf8_lossy(&created.stdout).trim().to_string();
    assert_eq!(id.len(), 36, "prints the new account's id: {id}");
    let pw = dir.with_file_name("pw.txt");
    std::fs::write(&pw, "a long and unguessable passphrase\n").unwrap();
    let admin = run(&[
        "admin",
        "create",
        "--email",
        "boss@acme.test",
        "--account",
        &id,
        "--password-file",
        pw.to_str().unwrap(),
        "--first-name",
        "Bo",
        "--password-hash-memory-kib",
        "256",
        "--password-hash-iterations",
        "1",
    ]);
    assert!(
        admin.status.success(),
        "{}",
        String::from_utf8_lossy(&admin.stderr)
    );
    assert!(
        String::from_utf8_lossy(&admin.stdout)
            .contains("Created account administrator boss@acme.test")
    );
    let list = run(&["user", "list", "--account", &id]);
    let out = String::from_utf8_lossy(&list.stdout);
    assert!(
        out.lines()
            .any(|l| l.contains("boss@acme.test\tBo\tadministrator\tactive\tAcme AB")),
        "{out}"
    );
    let empty_name = run(&["account", "create", "--name", " "]);
    assert!(!empty_name.status.success());
    assert!(String::from_utf8_lossy(&empty_name.stderr).contains("name: Fill in this field."));
    let unknown = run(&["user", "list", "--account", "not-an-id"]);
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no such account"));
}

#[test]
fn bench_seed_and_users_run_on_a_small_account() {
    let dir = temp_dir("roster-process").join("data");
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .args(["--data-dir", dir.to_str().unwrap()])
            .env_remove("ROSTER_DATABASE_URL")
            .output()
            .unwrap()
    };
    let seeded = run(&["bench", "seed", "--users", "120", "--units", "4"]);
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let line = String::from_utf8_lossy(&seeded.stdout).to_string();
    assert!(
        line.contains("with 4 units and 120 users on SQLite"),
        "{line}"
    );
    let account = line.split_whitespace().nth(1).unwrap().to_string();
    let bench = run(&["bench", "users", "--account", &account, "--requests", "3"]);
    assert!(
        bench.status.success(),
        "{}",
        String::from_utf8_lossy(&bench.stderr)
    );
    let table = String::from_utf8_lossy(&bench.stdout);
    assert!(table.contains("120 users in the account"), "{table}");
    assert_eq!(
        table
            .lines()
            .filter(|l| l.starts_with("| ") && !l.starts_with("| page") && !l.starts_with("| ---"))
            .count(),
        8,
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_the_change_and_its_email_loses_nothing_and_sends_once() {
    let dir = temp_dir("roster-process").join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let pw = dir.with_file_name("pw.txt");
    std::fs::write(&pw, "a long and unguessable passphrase\n").unwrap();
    let created = Command::new(BIN)
        .args([
            "admin",
            "create",
            "--email",
            "ops@roster.test",
            "--password-file",
            pw.to_str().unwrap(),
        ])
        .args([
            "--password-hash-memory-kib",
            "256",
            "--password-hash-iterations",
            "1",
        ])
        .env("ROSTER_DATA_DIR", &dir)
        .env_remove("ROSTER_DATABASE_URL")
        .output()
        .unwrap();
    assert!(created.status.success());

    // No mail server: the user is committed with its invitation queued, then the node dies.
    // (Second factors are not this test's subject: nobody is required to use one.)
    let mut first = Served::start_with(&dir, &["--mfa-default", "users"]);
    let base = first.base_url();
    let client = crate::support::Client::new(&base);
    assert_eq!(
        client
            .sign_in("ops@roster.test", "a long and unguessable passphrase")
            .await
            .status,
        303
    );
    let form = client.get("/users/add").await;
    // The operator root, the first choice of the unit list.
    let node = form
        .body
        .split("name=\"node\">")
        .nth(1)
        .unwrap()
        .split("<option value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let added = client
        .post_form(
            "/users/add",
            &form.body,
            &[
                ("node", &node),
                ("kind", "person"),
                ("email", "nina@roster.test"),
                ("first_name", "Nina"),
                ("user_type", "user"),
                ("language", "en"),
                ("access", "invite"),
            ],
        )
        .await;
    assert_eq!(added.status, 201, "{}", added.body);
    let _ = Command::new("kill")
        .args(["-KILL", &first.child.id().to_string()])
        .status();
    let _ = first.child.wait();

    // The next start delivers it, once.
    let sink = crate::support::smtp::SmtpSink::start().await;
    let second = Served::start_with(
        &dir,
        &[
            "--smtp-url",
            &sink.url(),
            "--mail-from",
            "Roster <roster@roster.test>",
            "--outbox-poll-ms",
            "50",
        ],
    );
    let mails = sink.wait_for(1).await;
    assert_eq!(mails[0].to, vec!["nina@roster.test".to_string()]);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.received().len(), 1, "exactly once");
    assert_eq!(second.terminate(), Some(0));
}

#[test]
fn bench_signin_runs_and_reports_the_ratio() {
    let dir = temp_dir("roster-process").join("data");
    let out = Command::new(BIN)
        .args([
            "bench",
            "signin",
            "--users",
            "5",
            "--concurrency",
            "2",
            "--seconds",
            "1",
        ])
        .args([
            "--password-hash-memory-kib",
            "256",
            "--password-hash-iterations",
            "1",
        ])
        .args(["--data-dir", dir.to_str().unwrap()])
        .env_remove("ROSTER_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("| raw argon2id verifications |")
            && table.contains("| sign-ins (password only) |")
            && table.contains("| sign-ins (password + authenticator app) |"),
        "{table}"
    );
}

#[test]
fn a_services_file_with_a_mistake_stops_the_start_and_names_its_line() {
    let dir = temp_dir("services");
    let file = dir.join("services.toml");
    std::fs::write(
        &file,
        "[[service]]\nid = \"sms\"\n\n[[service.setting]]\nid = \"parts\"\ntype = \"integer\"\nmin = 1\nmax = 3\ndefault = 9\nlabel = { en = \"Parts\" }\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--services-file"])
        .arg(&file)
        .env("ROSTER_DATA_DIR", &dir)
        .env_remove("ROSTER_DATABASE_URL")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("services.toml") && err.contains("line 5") && err.contains("default"),
        "{err}"
    );
}
