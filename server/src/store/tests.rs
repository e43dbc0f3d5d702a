//! The SQLite backend against a real database file.

use super::{AuthFailure, Sqlite, StoreError, effective_role};
use crate::model::{NewRun, Role, RunOptions, RunStatus};
use serde_json::json;

async fn db() -> (tempfile::TempDir, Sqlite) {
    let d = tempfile::tempdir().unwrap();
    let s = Sqlite::open(&d.path().join("state/hoist.db"))
        .await
        .unwrap();
    (d, s)
}

#[tokio::test]
async fn migrations_are_versioned_idempotent_and_refuse_a_newer_database() {
    let (d, s) = db().await;
    assert_eq!(s.schema_version().await.unwrap(), 1);
    drop(s);
    let path = d.path().join("state/hoist.db");
    let again = Sqlite::open(&path).await.unwrap();
    assert_eq!(
        again.schema_version().await.unwrap(),
        1,
        "reopening applies nothing twice"
    );
    drop(again);
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute(
        "INSERT INTO schema_migrations VALUES (99, 'future', 'x')",
        [],
    )
    .unwrap();
    drop(c);
    let e = Sqlite::open(&path).await.err().unwrap();
    assert!(
        matches!(
            e,
            StoreError::TooNew {
                found: 99,
                known: 1
            }
        ),
        "{e}"
    );
}

#[tokio::test]
async fn users_passwords_and_roles() {
    let (_d, s) = db().await;
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

#[tokio::test]
async fn tokens_are_hashed_scoped_expiring_and_revocable() {
    let (d, s) = db().await;
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
    let secret = text
        .rsplit_once('_')
        .map(|(_, s)| s.to_string())
        .unwrap_or_default();
    let raw = std::fs::read(d.path().join("state/hoist.db")).unwrap();
    assert!(!raw.windows(secret.len()).any(|w| w == secret.as_bytes()));
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

#[tokio::test]
async fn project_permissions_override_the_global_role_but_not_admin() {
    let (_d, s) = db().await;
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

#[tokio::test]
async fn the_queue_hands_each_run_to_one_claimer_and_keeps_its_history() {
    let (_d, s) = db().await;
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

#[tokio::test]
async fn runs_of_a_dead_instance_are_marked_lost_with_their_events_kept() {
    let (_d, s) = db().await;
    let p = s.create_project("ha", "/srv/ha").await.unwrap();
    let r = s
        .enqueue(NewRun {
            project_id: p.id,
            playbook: "site.yml".into(),
            inventory: "inv.yml".into(),
            options: RunOptions::default(),
            created_by: "alice".into(),
            schedule_id: None,
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
        s.reap_lost(60).await.unwrap().is_empty(),
        "a fresh heartbeat is alive"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(s.reap_lost(1).await.unwrap(), vec![r.id]);
    assert_eq!(s.run(r.id).await.unwrap().status, RunStatus::Lost);
    assert_eq!(s.events(r.id, 0, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_audit_log_keeps_every_entry_newest_first() {
    let (_d, s) = db().await;
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

#[tokio::test]
async fn a_due_schedule_yields_exactly_one_run_however_many_fire_it() {
    let (_d, s) = db().await;
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
    let off = s.set_schedule_enabled(sch.id, false).await.unwrap();
    assert!(!off.enabled);
    s.delete_schedule(sch.id).await.unwrap();
    assert!(s.schedules().await.unwrap().is_empty());
}
