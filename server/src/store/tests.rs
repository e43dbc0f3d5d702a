//! Both backends against real databases: SQLite in a temporary file, PostgreSQL in a fresh
//! database on the server named by `HOIST_TEST_POSTGRES` (tests/run.sh starts one). Each
//! operation's test runs on both.

use super::{AuthFailure, Sqlite, Store, StoreError, effective_role};
use crate::model::{NewRun, Role, RunOptions, RunStatus};
use serde_json::json;

/// A store and what keeps its database alive.
struct Fixture {
    store: Store,
    _dir: Option<tempfile::TempDir>,
    sqlite_path: Option<std::path::PathBuf>,
    pg_url: Option<String>,
}

impl Fixture {
    /// Everything stored for tokens, as text straight from the database.
    async fn raw_tokens(&self) -> String {
        match (&self.sqlite_path, &self.pg_url) {
            // The database file and its write-ahead log.
            (Some(path), _) => ["", "-wal"]
                .iter()
                .filter_map(|ext| std::fs::read(format!("{}{ext}", path.display())).ok())
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .collect(),
            (None, Some(url)) => {
                let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                c.query_one("SELECT string_agg(t::text, ' ') FROM tokens t", &[])
                    .await
                    .unwrap()
                    .get::<_, Option<String>>(0)
                    .unwrap_or_default()
            }
            (None, None) => unreachable!("a fixture has a database"),
        }
    }
}

async fn sqlite() -> Fixture {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("state/hoist.db");
    let s = Sqlite::open(&path).await.unwrap();
    Fixture {
        store: Store::Sqlite(s),
        _dir: Some(d),
        sqlite_path: Some(path),
        pg_url: None,
    }
}

/// A fresh, empty PostgreSQL database on the server at `HOIST_TEST_POSTGRES`
/// (postgres://user:password@host:port, a role that may create databases); returns its URL.
pub(crate) async fn pg_database() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let base = std::env::var("HOIST_TEST_POSTGRES").expect(
        "HOIST_TEST_POSTGRES is not set: run the tests with tests/run.sh, which starts PostgreSQL",
    );
    let name = format!(
        "hoist_t_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        chrono::Utc::now().timestamp_micros()
    );
    let (c, conn) = tokio_postgres::connect(&format!("{base}/postgres"), tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL answers at HOIST_TEST_POSTGRES");
    tokio::spawn(conn);
    c.batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    format!("{base}/{name}")
}

async fn postgres() -> Fixture {
    let url = pg_database().await;
    Fixture {
        store: Store::open(&url).await.unwrap(),
        _dir: None,
        sqlite_path: None,
        pg_url: Some(url),
    }
}

/// Runs each named test body on SQLite and on PostgreSQL.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => { $(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(&super::sqlite().await).await;
            }
            #[tokio::test]
            async fn postgres() {
                super::$name(&super::postgres().await).await;
            }
        }
    )* };
}

on_both!(
    users_passwords_and_roles,
    tokens_are_hashed_scoped_expiring_and_revocable,
    project_permissions_override_the_global_role_but_not_admin,
    the_queue_hands_each_run_to_one_claimer_and_keeps_its_history,
    runs_of_a_dead_instance_are_marked_lost_and_queued_again,
    the_audit_log_keeps_every_entry_newest_first,
    a_due_schedule_yields_exactly_one_run_however_many_fire_it,
    migrations_are_versioned_and_recorded,
);

async fn users_passwords_and_roles(f: &Fixture) {
    let s = &f.store;
    let u = s
        .create_user("alice", Some("correct horse battery"), Role::Operator)
        .await
        .unwrap();
    assert_eq!(u.role, Role::Operator);
    let e = s
        .create_user("alice", None, Role::Viewer)
        .await
        .err()
        .unwrap();
    assert_eq!(e.to_string(), "user `alice` already exists");
    assert!(s.create_user("bad name", None, Role::Viewer).await.is_err());
    assert!(
        s.login("alice", "correct horse battery")
            .await
            .unwrap()
            .is_ok()
    );
    assert_eq!(
        s.login("alice", "wrong one!!").await.unwrap(),
        Err(AuthFailure::BadPassword)
    );
    assert_eq!(
        s.login("nobody", "whatever123").await.unwrap(),
        Err(AuthFailure::BadPassword)
    );
    s.set_disabled("alice", true).await.unwrap();
    assert_eq!(
        s.login("alice", "correct horse battery").await.unwrap(),
        Err(AuthFailure::Disabled)
    );
    assert_eq!(
        s.set_role("alice", Role::Admin).await.unwrap().role,
        Role::Admin
    );
    assert!(matches!(
        s.set_role("bob", Role::Admin).await,
        Err(StoreError::NotFound(_))
    ));
}

async fn tokens_are_hashed_scoped_expiring_and_revocable(f: &Fixture) {
    let s = &f.store;
    let u = s.create_user("ci", None, Role::Operator).await.unwrap();
    let (t, text) = s
        .create_token(u.id, "deploy", &["run".into()], Some(3600))
        .await
        .unwrap();
    assert!(text.starts_with("hst_"));
    let (who, tok) = s.authenticate(&text).await.unwrap().unwrap();
    assert_eq!(
        (who.name.as_str(), tok.scopes.clone()),
        ("ci", vec!["run".to_string()])
    );
    // Only a digest is stored.
    // Split the way the server does: base64url secrets may themselves contain `_`.
    let (_, secret) = crate::auth::token::split(&text).expect("a token of ours");
    assert_eq!(secret.len(), 43, "32 random bytes in base64url");
    let raw = f.raw_tokens().await;
    assert!(raw.contains(&tok.public_id), "the dump holds the tokens");
    assert!(
        !raw.contains(secret),
        "only a digest of the secret is stored"
    );
    let mut forged = text.clone();
    forged.pop();
    forged.push(if text.ends_with('A') { 'B' } else { 'A' });
    assert_eq!(
        s.authenticate(&forged).await.unwrap().err(),
        Some(AuthFailure::BadToken)
    );
    let (_, expired) = s
        .create_token(u.id, "old", &["read".into()], Some(-1))
        .await
        .unwrap();
    assert_eq!(
        s.authenticate(&expired).await.unwrap().err(),
        Some(AuthFailure::Expired)
    );
    s.revoke_token(t.id).await.unwrap();
    assert_eq!(
        s.authenticate(&text).await.unwrap().err(),
        Some(AuthFailure::Revoked)
    );
    assert!(
        s.create_token(u.id, "x", &["root".into()], None)
            .await
            .is_err()
    );
    assert_eq!(s.tokens(u.id).await.unwrap().len(), 2);
}

async fn project_permissions_override_the_global_role_but_not_admin(f: &Fixture) {
    let s = &f.store;
    let u = s.create_user("v", None, Role::Viewer).await.unwrap();
    let p = s.create_project("ha", "/srv/ha").await.unwrap();
    assert_eq!(s.permission(u.id, p.id).await.unwrap(), None);
    s.set_permission(u.id, p.id, Some(Role::Operator))
        .await
        .unwrap();
    let r = s.permission(u.id, p.id).await.unwrap();
    assert_eq!(effective_role(u.role, r), Role::Operator);
    s.set_permission(u.id, p.id, None).await.unwrap();
    assert_eq!(
        effective_role(u.role, s.permission(u.id, p.id).await.unwrap()),
        Role::Viewer
    );
    assert_eq!(effective_role(Role::Admin, Some(Role::Viewer)), Role::Admin);
}

async fn the_queue_hands_each_run_to_one_claimer_and_keeps_its_history(f: &Fixture) {
    let s = &f.store;
    let p = s.create_project("ha", "/srv/ha").await.unwrap();
    let mk = |book: &str| NewRun {
        project_id: p.id,
        playbook: book.into(),
        inventory: "inventory/lab.yml".into(),
        options: RunOptions {
            check: true,
            ..RunOptions::default()
        },
        created_by: "alice".into(),
        schedule_id: None,
        revision: None,
    };
    for i in 0..20 {
        s.enqueue(mk(&format!("b{i}.yml"))).await.unwrap();
    }
    // Four claimers race for twenty runs: every run is claimed exactly once.
    let mut handles = Vec::new();
    for w in 0..4 {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(r) = s.claim(&format!("w{w}")).await.unwrap() {
                got.push(r.id);
            }
            got
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    all.sort();
    assert_eq!(all, (1..=20).collect::<Vec<i64>>());
    let run = s.run(1).await.unwrap();
    assert_eq!(run.status, RunStatus::Running);
    assert!(run.options.check);
    s.append_events(
        1,
        1,
        vec![
            json!({"event": "playbook_start"}).to_string(),
            json!({"event": "recap"}).to_string(),
        ],
    )
    .await
    .unwrap();
    let ev = s.events(1, 1, 10).await.unwrap();
    assert_eq!(ev, vec![(2, json!({"event": "recap"}))]);
    s.finish(
        1,
        RunStatus::Ok,
        Some(0),
        vec![("lab1".into(), json!({"ok": 3}))],
    )
    .await
    .unwrap();
    assert_eq!(s.run(1).await.unwrap().status, RunStatus::Ok);
    assert_eq!(
        s.run_hosts(1).await.unwrap(),
        vec![("lab1".into(), json!({"ok": 3}))]
    );
    assert!(
        s.request_cancel(1).await.is_err(),
        "a finished run cannot be cancelled"
    );
    assert!(
        !s.heartbeat(2, "w0").await.unwrap(),
        "no cancel requested yet"
    );
    s.request_cancel(2).await.unwrap();
    assert!(
        s.heartbeat(2, "any").await.unwrap(),
        "the worker sees the cancel"
    );
    let queued = s.enqueue(mk("late.yml")).await.unwrap();
    assert_eq!(
        s.request_cancel(queued.id).await.unwrap().status,
        RunStatus::Cancelled
    );
    assert_eq!(
        s.runs(5, None).await.unwrap()[0].id,
        queued.id,
        "newest first"
    );
    assert_eq!(
        s.runs(5, Some(3))
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        vec![2, 1]
    );
}

async fn runs_of_a_dead_instance_are_marked_lost_and_queued_again(f: &Fixture) {
    let s = &f.store;
    let p = s.create_project("ha", "/srv/ha").await.unwrap();
    let r = s
        .enqueue(NewRun {
            project_id: p.id,
            playbook: "site.yml".into(),
            inventory: "inv.yml".into(),
            options: RunOptions {
                limit: Some("db*".into()),
                ..RunOptions::default()
            },
            created_by: "alice".into(),
            schedule_id: None,
            revision: None,
        })
        .await
        .unwrap();
    s.claim("dead").await.unwrap();
    s.append_events(
        r.id,
        1,
        vec![json!({"event": "playbook_start"}).to_string()],
    )
    .await
    .unwrap();
    assert!(
        s.reap_lost(60, 2).await.unwrap().is_empty(),
        "a fresh heartbeat is alive"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let reaped = s.reap_lost(1, 2).await.unwrap();
    let retry = match reaped.as_slice() {
        [(lost, Some(retry))] if *lost == r.id => *retry,
        other => panic!("expected run {} lost and queued again: {other:?}", r.id),
    };
    assert_eq!(s.run(r.id).await.unwrap().status, RunStatus::Lost);
    assert_eq!(
        s.events(r.id, 0, 10).await.unwrap().len(),
        1,
        "its events stay"
    );
    let again = s.run(retry).await.unwrap();
    assert_eq!(
        (
            again.status,
            again.attempt,
            again.retry_of,
            again.options.limit.as_deref()
        ),
        (RunStatus::Queued, 2, Some(r.id), Some("db*"))
    );
    let audit = s.audit_log(1).await.unwrap();
    assert_eq!(
        (audit[0].action.as_str(), &audit[0].detail["retry"]),
        ("run.lost", &json!(retry))
    );
    // The second attempt dies too: no attempts left.
    assert_eq!(
        s.claim("also-dead").await.unwrap().map(|r| r.id),
        Some(retry)
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(s.reap_lost(1, 2).await.unwrap(), vec![(retry, None)]);
    assert!(s.claim("x").await.unwrap().is_none());
}

async fn the_audit_log_keeps_every_entry_newest_first(f: &Fixture) {
    let s = &f.store;
    s.audit("alice", "user.create", "bob", json!({"role": "viewer"}))
        .await
        .unwrap();
    s.audit("alice", "run.start", "run 1", json!({}))
        .await
        .unwrap();
    let log = s.audit_log(10).await.unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!(log[0].action, "run.start");
    assert_eq!(log[1].detail, json!({"role": "viewer"}));
}

async fn a_due_schedule_yields_exactly_one_run_however_many_fire_it(f: &Fixture) {
    let s = &f.store;
    let p = s.create_project("ha", "/srv/ha").await.unwrap();
    let sch = s
        .create_schedule(
            p.id,
            "nightly-backup",
            "@daily",
            "backup.yml",
            "inv.yml",
            &RunOptions::default(),
        )
        .await
        .unwrap();
    // Without an owner a schedule never fires; it runs on behalf of one who may start runs.
    s.make_all_schedules_due_for_tests().await;
    assert!(s.fire_due("a").await.unwrap().is_empty(), "no owner");
    let olga = s.create_user("olga", None, Role::Operator).await.unwrap();
    let sch = s.set_schedule_owner(sch.id, olga.id).await.unwrap();
    assert_eq!(sch.owner_id, Some(olga.id));
    assert!(sch.next_run_at > super::now());
    assert!(s.fire_due("a").await.unwrap().is_empty(), "not due yet");
    assert!(matches!(
        s.create_schedule(p.id, "bad", "61 * * * *", "b.yml", "i.yml", &RunOptions::default()).await,
        Err(StoreError::Invalid(m)) if m.contains("cron `61 * * * *`")
    ));
    assert!(matches!(
        s.create_schedule(
            p.id,
            "nightly-backup",
            "@daily",
            "b.yml",
            "i.yml",
            &RunOptions::default()
        )
        .await,
        Err(StoreError::Exists(_))
    ));
    // Make it due, then let eight firers race.
    s.make_all_schedules_due_for_tests().await;
    let mut handles = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        handles.push(tokio::spawn(async move {
            s.fire_due(&format!("i{i}")).await.unwrap().len()
        }));
    }
    let mut total = 0;
    for h in handles {
        total += h.await.unwrap();
    }
    assert_eq!(total, 1);
    let runs = s.runs(10, None).await.unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].schedule_id, Some(sch.id));
    assert_eq!(runs[0].created_by, "schedule:nightly-backup");
    let after = s.schedule(sch.id).await.unwrap();
    assert_eq!(after.last_run_id, Some(runs[0].id));
    assert!(after.next_run_at > super::now(), "moved to its next time");
    // Its owner disabled, or demoted to viewer on the project: it starts no run (and says so in
    // the audit log); an admin owner is fine everywhere.
    s.set_disabled("olga", true).await.unwrap();
    s.make_all_schedules_due_for_tests().await;
    assert!(s.fire_due("a").await.unwrap().is_empty(), "disabled owner");
    s.set_disabled("olga", false).await.unwrap();
    s.set_permission(olga.id, p.id, Some(Role::Viewer))
        .await
        .unwrap();
    s.make_all_schedules_due_for_tests().await;
    assert!(s.fire_due("a").await.unwrap().is_empty(), "viewer owner");
    let skipped = s
        .audit_log(50)
        .await
        .unwrap()
        .iter()
        .filter(|a| a.action == "schedule.skipped")
        .count();
    assert_eq!(skipped, 3, "each skipped firing is audited");
    let root = s.create_user("root2", None, Role::Admin).await.unwrap();
    s.set_schedule_owner(sch.id, root.id).await.unwrap();
    s.make_all_schedules_due_for_tests().await;
    assert_eq!(s.fire_due("a").await.unwrap().len(), 1, "admin owner");
    let off = s.set_schedule_enabled(sch.id, false).await.unwrap();
    assert!(!off.enabled);
    s.delete_schedule(sch.id).await.unwrap();
    assert!(s.schedules().await.unwrap().is_empty());
}

async fn migrations_are_versioned_and_recorded(f: &Fixture) {
    assert_eq!(f.store.schema_version().await.unwrap(), 5);
    let target = match (&f.sqlite_path, &f.pg_url) {
        (Some(p), _) => p.display().to_string(),
        (None, Some(u)) => u.clone(),
        (None, None) => unreachable!(),
    };
    let again = Store::open(&target).await.unwrap();
    assert_eq!(
        again.schema_version().await.unwrap(),
        5,
        "reopening applies nothing twice"
    );
    drop(again);
    let future = "INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', '2099-01-01T00:00:00Z')";
    match &f.pg_url {
        Some(url) => {
            let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            c.batch_execute(future).await.unwrap();
        }
        None => {
            rusqlite::Connection::open(&target)
                .unwrap()
                .execute(future, [])
                .unwrap();
        }
    }
    let e = Store::open(&target).await.err().unwrap();
    assert!(
        matches!(
            e,
            StoreError::TooNew {
                found: 99,
                known: 5
            }
        ),
        "{e}"
    );
}

/// A plain run of `site.yml` in project `project_id`.
fn a_run(project_id: i64) -> NewRun {
    NewRun {
        project_id,
        playbook: "site.yml".into(),
        inventory: "inventory.yml".into(),
        options: RunOptions::default(),
        created_by: "alice".into(),
        schedule_id: None,
        revision: None,
    }
}

/// The next change `rx` hears, other than the test's own `-1` probes (at most 20 s).
async fn heard(rx: &mut tokio::sync::broadcast::Receiver<i64>) -> i64 {
    loop {
        let id = tokio::time::timeout(std::time::Duration::from_secs(20), rx.recv())
            .await
            .expect("a change is heard within 20 s")
            .expect("the channel is open");
        if id != -1 {
            return id;
        }
    }
}

/// On PostgreSQL an instance hears at once what any other does to a run (migration 4's
/// triggers, notify.rs); SQLite's one instance has no one to hear.
#[tokio::test]
async fn instances_hear_each_others_changes_to_runs() {
    assert!(sqlite().await.store.changes().is_none());
    let url = pg_database().await;
    let a = Store::open(&url).await.unwrap();
    let b = Store::open(&url).await.unwrap();
    let mut rx = b.changes().expect("PostgreSQL announces changes");
    // Until b's listener is listening, probe with `-1` (a change nobody makes).
    let (c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let t0 = std::time::Instant::now();
    loop {
        c.batch_execute("SELECT pg_notify('hoist_runs', '-1')")
            .await
            .unwrap();
        match tokio::time::timeout(std::time::Duration::from_millis(100), rx.recv()).await {
            Ok(Ok(-1)) => break,
            _ => assert!(t0.elapsed().as_secs() < 20, "b's listener never listened"),
        }
    }
    while rx.try_recv().is_ok() {}
    let p = a.create_project("ha", "/srv/ha").await.unwrap();
    let run = a.enqueue(a_run(p.id)).await.unwrap();
    // A new run: its id, and `0` for the queue.
    assert_eq!((heard(&mut rx).await, heard(&mut rx).await), (run.id, 0));
    a.claim("a").await.unwrap().expect("the run");
    assert_eq!(heard(&mut rx).await, run.id, "claimed");
    a.append_events(run.id, 1, vec!["{}".into(), "{}".into()])
        .await
        .unwrap();
    assert_eq!(heard(&mut rx).await, run.id, "events, once per batch");
    a.request_cancel(run.id).await.unwrap();
    assert_eq!(heard(&mut rx).await, run.id, "cancel asked");
    a.finish(run.id, RunStatus::Cancelled, None, vec![])
        .await
        .unwrap();
    assert_eq!(heard(&mut rx).await, run.id, "ended");
    // Nothing else was announced (a batch of two events is one notification).
    c.batch_execute("SELECT pg_notify('hoist_runs', '-1')")
        .await
        .unwrap();
    let rest = tokio::time::timeout(std::time::Duration::from_secs(20), rx.recv())
        .await
        .expect("the probe is heard")
        .unwrap();
    assert_eq!(rest, -1, "no stray announcement before the probe");
}

/// SQLite: a write waiting for the database (here another process's write lock) does not hold
/// up reads, which have connections of their own.
#[tokio::test]
async fn sqlite_reads_do_not_wait_behind_a_write() {
    let f = sqlite().await;
    let s = f.store.clone();
    let p = s.create_project("ha", "/srv/ha").await.unwrap();
    let path = f.sqlite_path.clone().unwrap();
    let other = rusqlite::Connection::open(&path).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let writer = tokio::spawn({
        let s = s.clone();
        async move { s.enqueue(a_run(p.id)).await }
    });
    // The write holds the writing connection while it waits for the lock…
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        !writer.is_finished(),
        "the write waits for the other writer"
    );
    // …and reads still answer (bounded: a read stuck behind it would take the full wait).
    let read = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        (s.runs(10, None).await, s.projects().await, s.users().await)
    })
    .await
    .expect("reads answer while a write waits");
    assert!(read.0.unwrap().is_empty() && read.1.unwrap().len() == 1 && read.2.is_ok());
    other.execute_batch("COMMIT").unwrap();
    let run = writer.await.unwrap().unwrap();
    assert_eq!(s.run(run.id).await.unwrap().playbook, "site.yml");
}

/// PostgreSQL prepares each statement once per connection; another instance changing the
/// schema under them (a newer hoist migrating the database) costs no failed operation.
#[tokio::test]
async fn prepared_statements_survive_a_schema_change_by_another_instance() {
    let url = pg_database().await;
    let s = Store::open(&url).await.unwrap();
    s.create_user("alice", None, Role::Viewer).await.unwrap();
    for _ in 0..4 {
        assert_eq!(s.users().await.unwrap().len(), 1);
    }
    let (c, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    c.batch_execute("ALTER TABLE users ADD COLUMN nickname TEXT")
        .await
        .unwrap();
    for _ in 0..4 {
        assert_eq!(s.users().await.unwrap().len(), 1);
    }
    assert_eq!(s.user("alice").await.unwrap().name, "alice");
}
