//! Holes 2, 3 and 9 against a real `hoist serve` (SQLite): API-supplied extra vars are data,
//! a `read` token cannot take over its user, sessions end server-side, logins are throttled and
//! audited and cost the same whether the user exists or not, a flood of bad logins keeps memory
//! bounded, and the database files are private.

use crate::marker;
use crate::serve_support::{Serve, project};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub const ADMIN_PW: &str = "admin-password-1";

pub struct Server {
    serve: Serve,
    dir: tempfile::TempDir,
}

pub fn serve(books: &[(&str, &str)], extra: &[&str]) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    project(&dir.path().join("p"), books);
    let db = dir.path().join("state/db/hoist.db");
    let spec = format!("demo={}", dir.path().join("p").display());
    let serve = Serve::start(&spec, db.to_str().unwrap_or_default(), ADMIN_PW, extra);
    Server { serve, dir }
}

pub fn call(
    s: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    s.serve.call(method, path, token, body)
}

pub fn login(s: &Server, name: &str, pw: &str) -> String {
    s.serve.login(name, pw)
}

pub fn wait_final(s: &Server, token: &str, id: i64) -> Value {
    s.serve.wait_final(token, id)
}

/// Every event of run `id`, as text.
fn events(s: &Server, token: &str, id: i64) -> String {
    let (st, v) = call(
        s,
        "GET",
        &format!("/api/v1/runs/{id}/events?after=0"),
        Some(token),
        None,
    );
    assert_eq!(st, 200, "{v}");
    v.to_string()
}

pub const SHOW: &str = "    - name: show\n      debug:\n        msg: \"{{ version }}\"\n";

#[test]
fn api_extra_vars_are_data_unless_the_project_opts_in() {
    let mark = marker("extra-vars");
    let _ = std::fs::remove_file(&mark);
    let attack = format!(
        "{{{{ lookup('pipe', 'touch {}') }}}}{{{{ lookup('env', 'HOIST_ADMIN_PASSWORD') }}}}",
        mark.display()
    );
    let s = serve(&[("show.yml", SHOW)], &[]);
    let t = login(&s, "admin", ADMIN_PW);
    let body = json!({"project": "demo", "playbook": "show.yml", "inventory": "inventory.yml",
                      "extra_vars": {"version": attack}});
    for path in ["/api/v1/runs", "/api/v1/hooks/demo"] {
        let (st, run) = call(&s, "POST", path, Some(&t), Some(&body));
        assert_eq!(st, 201, "{path}: {run}");
        let id = run["id"].as_i64().expect("id");
        let done = wait_final(&s, &t, id);
        assert_eq!(done["run"]["status"], "ok", "{done}");
        let ev = events(&s, &t, id);
        assert!(
            !mark.exists(),
            "{path}: an API caller ran a command on the server"
        );
        assert!(
            !ev.contains(ADMIN_PW),
            "{path}: the server's environment leaked: {ev}"
        );
        // The text arrived as it was sent (JSON-escaped in the event).
        let sent = serde_json::to_string(&attack).unwrap_or_default();
        assert!(ev.contains(sent.trim_matches('"')), "{path}: {ev}");
    }
    // A project that opts in renders templates in extra vars (operators own that choice).
    drop(s);
    let s = serve(&[("show.yml", SHOW)], &["--templated-extra-vars", "demo"]);
    let t = login(&s, "admin", ADMIN_PW);
    let body = json!({"project": "demo", "playbook": "show.yml", "inventory": "inventory.yml",
                      "extra_vars": {"version": "{{ 6 * 7 }}"}});
    let (st, run) = call(&s, "POST", "/api/v1/runs", Some(&t), Some(&body));
    assert_eq!(st, 201, "{run}");
    let id = run["id"].as_i64().expect("id");
    wait_final(&s, &t, id);
    let ev = events(&s, &t, id);
    assert!(
        ev.contains(r#""msg":"42""#) || ev.contains(r#""msg":42"#),
        "{ev}"
    );
    // And naming a project that is not served is refused at start.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hoist"))
        .args(["serve", "--listen", "127.0.0.1:0", "--db"])
        .arg(s.dir.path().join("other.db"))
        .args([
            "--project",
            &format!("demo={}", s.dir.path().join("p").display()),
        ])
        .args(["--templated-extra-vars", "nope"])
        .env("HOIST_ADMIN_PASSWORD", ADMIN_PW)
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--templated-extra-vars nope"));
}

#[test]
fn a_read_token_cannot_change_its_users_password_and_sessions_end_server_side() {
    let s = serve(&[("show.yml", SHOW)], &[]);
    let session = login(&s, "admin", ADMIN_PW);
    let other_session = login(&s, "admin", ADMIN_PW);
    let (st, tok) = call(
        &s,
        "POST",
        "/api/v1/tokens",
        Some(&session),
        Some(&json!({"name": "ci", "scopes": ["read"]})),
    );
    assert_eq!(st, 201, "{tok}");
    let read = tok["token"].as_str().expect("token").to_string();
    // The attack: a read token changes the password without the current one.
    let (st, v) = call(
        &s,
        "PATCH",
        "/api/v1/users/admin",
        Some(&read),
        Some(&json!({"password": "taken-over-pw-1"})),
    );
    assert_eq!(st, 403, "{v}");
    let (st, v) = call(
        &s,
        "PATCH",
        "/api/v1/users/admin",
        Some(&read),
        Some(&json!({"password": "taken-over-pw-1", "current_password": ADMIN_PW})),
    );
    assert_eq!(
        st, 403,
        "even with the current password an API token may not: {v}"
    );
    // Nor may it raise its own role.
    let (st, _) = call(
        &s,
        "PATCH",
        "/api/v1/users/admin",
        Some(&read),
        Some(&json!({"role": "admin"})),
    );
    assert_eq!(st, 403);
    let (st, _) = call(
        &s,
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({"name": "admin", "password": "taken-over-pw-1"})),
    );
    assert_eq!(st, 401, "the password did not change");
    // A session needs the current password, and the right one.
    let (st, v) = call(
        &s,
        "PATCH",
        "/api/v1/users/admin",
        Some(&session),
        Some(&json!({"password": "new-admin-pw-1"})),
    );
    assert_eq!(st, 400, "{v}");
    let (st, v) = call(
        &s,
        "PATCH",
        "/api/v1/users/admin",
        Some(&session),
        Some(&json!({"password": "new-admin-pw-1", "current_password": "wrong-password"})),
    );
    assert_eq!(st, 401, "{v}");
    let (st, v) = call(
        &s,
        "PATCH",
        "/api/v1/users/admin",
        Some(&session),
        Some(&json!({"password": "new-admin-pw-1", "current_password": ADMIN_PW})),
    );
    assert_eq!(st, 200, "{v}");
    // Every other session and token ended with the old password; this one goes on.
    for (what, t) in [("other session", &other_session), ("read token", &read)] {
        let (st, _) = call(&s, "GET", "/api/v1/me", Some(t), None);
        assert_eq!(st, 401, "{what} still works after the password change");
    }
    let (st, _) = call(&s, "GET", "/api/v1/me", Some(&session), None);
    assert_eq!(st, 200);
    // Sign-out ends the session on the server: the same token is refused afterwards.
    let (st, _) = call(&s, "POST", "/api/v1/logout", Some(&session), None);
    assert_eq!(st, 204);
    let (st, _) = call(&s, "GET", "/api/v1/me", Some(&session), None);
    assert_eq!(st, 401);
    let fresh = login(&s, "admin", "new-admin-pw-1");
    let (st, audit) = call(&s, "GET", "/api/v1/audit", Some(&fresh), None);
    assert_eq!(st, 200);
    assert!(audit.to_string().contains("\"logout\""), "{audit}");
}

#[test]
fn logins_are_throttled_audited_equal_cost_and_bounded_in_memory() {
    let s = serve(&[("show.yml", SHOW)], &[]);
    let admin = login(&s, "admin", ADMIN_PW);
    for (name, pw) in [("alice", Some("alice-password-1")), ("robot", None)] {
        let mut body = json!({"name": name, "role": "viewer"});
        if let Some(p) = pw {
            body["password"] = json!(p);
        }
        let (st, v) = call(&s, "POST", "/api/v1/users", Some(&admin), Some(&body));
        assert_eq!(st, 201, "{v}");
    }
    // A token-only user answers a login as slowly as a wrong password (no enumeration): both
    // pay for one argon2 check. Medians of 4; the bound is loose (a check costs ~30-70 ms, a
    // refusal without one well under 1 ms).
    let time = |name: &str| {
        let mut v: Vec<Duration> = (0..4)
            .map(|_| {
                let t0 = Instant::now();
                let (st, _) = call(
                    &s,
                    "POST",
                    "/api/v1/login",
                    None,
                    Some(&json!({"name": name, "password": "not-the-password"})),
                );
                assert_eq!(st, 401);
                t0.elapsed()
            })
            .collect();
        v.sort();
        v[2]
    };
    let (real, robot, nobody) = (time("alice"), time("robot"), time("nobody-at-all"));
    eprintln!(
        "login refusal times: wrong password {real:?}, token-only user {robot:?}, unknown user {nobody:?}"
    );
    assert!(
        robot * 3 >= real && nobody * 3 >= real,
        "{real:?} {robot:?} {nobody:?}"
    );
    // The fifth failure in a minute locks the name: refused before any check, with a wait.
    let (st, v) = call(
        &s,
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({"name": "alice", "password": "still-wrong"})),
    );
    assert_eq!(st, 401, "{v}");
    let (st, v) = call(
        &s,
        "POST",
        "/api/v1/login",
        None,
        Some(&json!({"name": "alice", "password": "alice-password-1"})),
    );
    assert_eq!(st, 429, "locked out even with the right password: {v}");
    assert!(
        v["message"].as_str().unwrap_or("").contains("try again in"),
        "{v}"
    );
    let (_, audit) = call(&s, "GET", "/api/v1/audit?limit=1000", Some(&admin), None);
    let failed = audit
        .as_array()
        .map(|a| a.iter().filter(|e| e["action"] == "login.failed").count())
        .unwrap_or(0);
    assert!(failed >= 10, "failed logins are audited: {failed}");
    // 100 wrong logins at once: password checks run a few at a time, so memory stays bounded
    // (each argon2 check holds 19 MiB). Distinct names; the address lockout answers the rest.
    let (rss0, _) = s.serve.memory();
    let t0 = Instant::now();
    let codes: Vec<u16> =
        std::thread::scope(|sc| {
            let hs: Vec<_> =
                (0..100)
                    .map(|i| {
                        let s = &s;
                        sc.spawn(move || {
                            call(s, "POST", "/api/v1/login", None,
                        Some(&json!({"name": format!("flood{i}"), "password": "wrong-password"}))).0
                        })
                    })
                    .collect();
            hs.into_iter().map(|h| h.join().unwrap_or(0)).collect()
        });
    let took = t0.elapsed();
    let (rss1, peak) = s.serve.memory();
    eprintln!(
        "100 concurrent bad logins: {took:?}, RSS {} -> {} MiB (peak {} MiB), answers {:?}",
        rss0 / 1024,
        rss1 / 1024,
        peak / 1024,
        codes
            .iter()
            .fold(std::collections::BTreeMap::new(), |mut m, c| {
                *m.entry(*c).or_insert(0) += 1;
                m
            })
    );
    assert!(
        codes.iter().all(|c| [401, 429, 503].contains(c)),
        "{codes:?}"
    );
    assert!(
        peak < rss0 + 200 * 1024,
        "memory grew from {rss0} KiB to a peak of {peak} KiB"
    );
    // The server still answers at once afterwards.
    let (st, _) = call(&s, "GET", "/api/v1/me", Some(&admin), None);
    assert_eq!(st, 200);
}

#[test]
fn the_database_and_its_directory_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let s = serve(&[("show.yml", SHOW)], &[]);
    let t = login(&s, "admin", ADMIN_PW);
    let (st, _) = call(
        &s,
        "POST",
        "/api/v1/runs",
        Some(&t),
        Some(
            &json!({"project": "demo", "playbook": "show.yml", "inventory": "inventory.yml",
                     "extra_vars": {"version": "1", "db_password": "hunter2-hunter2"}}),
        ),
    );
    assert_eq!(st, 201);
    let db = s.dir.path().join("state/db");
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0)
    };
    assert_eq!(mode(&db), 0o700, "database directory");
    for f in ["hoist.db", "hoist.db-wal", "hoist.db-shm"] {
        let p = db.join(f);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{f}");
        }
    }
    assert!(db.join("hoist.db").exists());
    // Secret extra vars are masked in run history (the run itself got them).
    let (_, runs) = call(&s, "GET", "/api/v1/runs", Some(&t), None);
    assert!(!runs.to_string().contains("hunter2-hunter2"), "{runs}");
    assert!(runs.to_string().contains("\"version\":\"1\""), "{runs}");
}

#[test]
fn runs_blocked_in_lookups_do_not_freeze_the_api_and_cancel_stops_them() {
    let mark = marker("sleeper");
    let book = format!(
        "    - name: slow\n      debug:\n        msg: \"{{{{ lookup('pipe', 'sleep 30; touch {}') }}}}\"\n",
        mark.display()
    );
    let s = serve(&[("slow.yml", &book)], &[]);
    let t = login(&s, "admin", ADMIN_PW);
    let body = json!({"project": "demo", "playbook": "slow.yml", "inventory": "inventory.yml"});
    let ids: Vec<i64> = (0..2)
        .map(|_| {
            let (st, run) = call(&s, "POST", "/api/v1/runs", Some(&t), Some(&body));
            assert_eq!(st, 201, "{run}");
            run["id"].as_i64().expect("id")
        })
        .collect();
    // Both runs are inside their lookup.
    let t0 = Instant::now();
    loop {
        let (_, runs) = call(&s, "GET", "/api/v1/runs", Some(&t), None);
        let running = runs
            .as_array()
            .map(|a| a.iter().filter(|r| r["status"] == "running").count())
            .unwrap_or(0);
        if running == 2 {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(20), "{runs}");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let mut worst = Duration::ZERO;
    for _ in 0..10 {
        let t1 = Instant::now();
        let (st, _) = call(&s, "GET", "/api/v1/me", Some(&t), None);
        assert_eq!(st, 200);
        worst = worst.max(t1.elapsed());
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("API latency while two runs block in lookups: worst of 10 = {worst:?}");
    assert!(
        worst < Duration::from_secs(2),
        "the API froze for {worst:?}"
    );
    // Cancel both: they end long before their 30 s commands would, and the commands are gone.
    let t2 = Instant::now();
    for id in &ids {
        let (st, v) = call(
            &s,
            "POST",
            &format!("/api/v1/runs/{id}/cancel"),
            Some(&t),
            None,
        );
        assert_eq!(st, 200, "{v}");
    }
    for id in &ids {
        let done = wait_final(&s, &t, *id);
        assert_eq!(done["run"]["status"], "cancelled", "{done}");
    }
    eprintln!("both runs cancelled in {:?}", t2.elapsed());
    assert!(t2.elapsed() < Duration::from_secs(20));
    std::thread::sleep(Duration::from_millis(500));
    let left = std::process::Command::new("pgrep")
        .args(["-f", &format!("touch {}", mark.display())])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    assert!(left.is_empty(), "lookup commands still running: {left}");
    assert!(!mark.exists());
}

#[test]
fn a_schedule_stops_when_its_owner_is_disabled() {
    let s = serve(&[("show.yml", SHOW)], &[]);
    let admin = login(&s, "admin", ADMIN_PW);
    let (st, v) = call(
        &s,
        "POST",
        "/api/v1/users",
        Some(&admin),
        Some(&json!({"name": "olga", "password": "olga-password-1", "role": "operator"})),
    );
    assert_eq!(st, 201, "{v}");
    let olga = login(&s, "olga", "olga-password-1");
    let (st, sch) = call(
        &s,
        "POST",
        "/api/v1/schedules",
        Some(&olga),
        Some(
            &json!({"project": "demo", "name": "every-second", "cron": "* * * * * *",
                     "playbook": "show.yml", "inventory": "inventory.yml",
                     "options": {"extra_vars": {"version": "1"}}}),
        ),
    );
    assert_eq!(st, 201, "{sch}");
    let from_schedule = || {
        let (_, runs) = call(&s, "GET", "/api/v1/runs?limit=500", Some(&admin), None);
        runs.as_array()
            .map(|a| a.iter().filter(|r| r["schedule_id"] == sch["id"]).count())
            .unwrap_or(0)
    };
    let t0 = Instant::now();
    while from_schedule() < 2 {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the schedule never fired"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let (st, v) = call(
        &s,
        "PATCH",
        "/api/v1/users/olga",
        Some(&admin),
        Some(&json!({"disabled": true})),
    );
    assert_eq!(st, 200, "{v}");
    std::thread::sleep(Duration::from_millis(1500));
    let before = from_schedule();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        from_schedule(),
        before,
        "the schedule kept firing for a disabled user"
    );
    let (_, audit) = call(&s, "GET", "/api/v1/audit?limit=1000", Some(&admin), None);
    assert!(audit.to_string().contains("schedule.skipped"), "{audit}");
    // The disabled user's session ended with the account.
    let (st, _) = call(&s, "GET", "/api/v1/me", Some(&olga), None);
    assert_eq!(st, 401);
}

#[test]
fn half_sent_requests_time_out_and_connections_are_capped() {
    use std::io::{Read, Write};
    let s = serve(&[("show.yml", SHOW)], &["--max-connections", "4"]);
    let addr = s.serve.base.trim_start_matches("http://").to_string();
    // A request whose headers never end is closed after the header time limit (10 s).
    let mut slow = std::net::TcpStream::connect(&addr).expect("connect");
    slow.write_all(b"GET /api/v1/me HTTP/1.1\r\nHost: x\r\n")
        .expect("write");
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let t0 = Instant::now();
    let mut buf = [0u8; 512];
    let n = slow.read(&mut buf).unwrap_or(0);
    let waited = t0.elapsed();
    eprintln!(
        "half-sent request closed after {waited:?} ({n} bytes: {:?})",
        String::from_utf8_lossy(&buf[..n])
    );
    assert!(
        waited < Duration::from_secs(20),
        "a half-sent request held its connection {waited:?}"
    );
    drop(slow);
    // Four connections fill the server; a fifth is closed at once, unanswered.
    let held: Vec<std::net::TcpStream> = (0..4)
        .map(|_| std::net::TcpStream::connect(&addr).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut extra = std::net::TcpStream::connect(&addr).expect("connect");
    let _ = extra.write_all(b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n");
    extra
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let n = extra.read(&mut buf).unwrap_or(0);
    assert_eq!(
        n,
        0,
        "a fifth connection was served: {:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    drop(held);
    std::thread::sleep(Duration::from_millis(300));
    let (st, _) = call(&s, "GET", "/api/v1/openapi.json", None, None);
    assert_eq!(st, 200, "served again once connections closed");
}
