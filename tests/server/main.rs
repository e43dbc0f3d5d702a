//! `hoist serve` as a real process on loopback, each scenario on the embedded SQLite database
//! and on PostgreSQL (a fresh database on the server tests/run.sh starts, `HOIST_TEST_POSTGRES`):
//! runs from start to history with live events, the authorization matrix, bad input,
//! cancelling, an instance killed mid-run, schedules; and two instances sharing one PostgreSQL
//! database and its queue. Playbooks run against the controller (localhost), no lab needed.

use serde_json::{Value, json};
use std::path::Path;
use std::time::{Duration, Instant};

const ADMIN_PW: &str = "admin-password-1";

#[path = "../support/serve.rs"]
mod support;
use support::{Serve, agent};

/// A server and the directory it works in.
struct Server {
    serve: Serve,
    _dir: Option<tempfile::TempDir>,
}

impl std::ops::Deref for Server {
    type Target = Serve;
    fn deref(&self) -> &Serve {
        &self.serve
    }
}

impl std::ops::DerefMut for Server {
    fn deref_mut(&mut self) -> &mut Serve {
        &mut self.serve
    }
}

/// Where a scenario's server keeps its state.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// The `--db` for a scenario in `dir`: a SQLite file there, or a fresh PostgreSQL database.
fn database(dir: &Path, backend: Backend) -> String {
    match backend {
        Backend::Sqlite => dir.join("db/hoist.db").display().to_string(),
        Backend::Postgres => {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let base = std::env::var("HOIST_TEST_POSTGRES").expect(
                "HOIST_TEST_POSTGRES is not set: run the tests with tests/run.sh, which starts PostgreSQL",
            );
            let name = format!(
                "hoist_t_{}_{}_{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_micros()
            );
            let mut c = postgres::Client::connect(&format!("{base}/postgres"), postgres::NoTls)
                .expect("PostgreSQL answers at HOIST_TEST_POSTGRES");
            c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
            format!("{base}/{name}")
        }
    }
}

/// Runs each named scenario (a `fn(Backend)`) on SQLite and on PostgreSQL.
macro_rules! on_both {
    ($($name:ident),* $(,)?) => { $(
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(super::Backend::Sqlite);
            }
            #[test]
            fn postgres() {
                super::$name(super::Backend::Postgres);
            }
        }
    )* };
}

on_both!(
    a_run_goes_from_the_queue_to_history_with_live_events,
    authorization_matrix,
    bad_input_gets_a_clear_4xx_and_writes_nothing,
    a_running_run_is_cancelled,
    a_run_of_a_killed_instance_is_marked_lost_and_taken_up_again,
    a_schedule_starts_runs_on_its_own,
);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn project(dir: &Path) {
    std::fs::create_dir_all(dir.join("proj/secret")).unwrap();
    std::fs::write(dir.join("proj/inventory.yml"), "all: {}\n").unwrap();
    std::fs::write(
        dir.join("proj/site.yml"),
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - command: echo hello\n    - debug: msg=done\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("proj/slow.yml"),
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - command: echo started\n    - pause: { seconds: 60 }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("proj/broken.yml"),
        // An unknown module: ansible-core refuses that before running too (a wrong argument
        // is a run-time failure in both).
        "- hosts: localhost\n  tasks:\n    - cpoy: { dest: /x, content: y }\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("proj/count.yml"),
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - shell: echo {{ n }} >> {{ log }}\n",
    )
    .unwrap();
    std::fs::write(dir.join("outside.yml"), "- hosts: localhost\n  tasks: []\n").unwrap();
}

/// Starts `hoist serve` with the project in `dir` and the database `db`.
fn serve_at(dir: &Path, db: &str, extra: &[&str]) -> Server {
    let proj = format!("demo={}", dir.join("proj").display());
    Server {
        serve: Serve::start(&proj, db, ADMIN_PW, extra),
        _dir: None,
    }
}

fn serve(backend: Backend) -> Server {
    let d = tempfile::tempdir().unwrap();
    project(d.path());
    let db = database(d.path(), backend);
    let mut s = serve_at(d.path(), &db, &[]);
    s._dir = Some(d);
    s
}

/// (status, JSON body) of a request.
fn call(
    s: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, Value) {
    s.serve.call(method, path, token, body)
}

/// Sends only the head of a POST declaring `len` bytes with `Expect: 100-continue`, and reads
/// the answer: (status, JSON body).
fn declared_only(s: &Server, path: &str, token: &str, len: usize) -> (u16, Value) {
    use std::io::{Read, Write};
    let addr = s.base.trim_start_matches("http://");
    let mut c = std::net::TcpStream::connect(addr).expect("connect");
    c.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        c,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {len}\r\n\
         Expect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    .expect("send head");
    let mut answer = String::new();
    let _ = c.read_to_string(&mut answer);
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn login(s: &Server, name: &str, pw: &str) -> String {
    s.serve.login(name, pw)
}

fn wait_final(s: &Server, token: &str, id: i64) -> Value {
    s.serve.wait_final(token, id)
}

/// Polls `ok` every 50 ms for up to 20 s.
fn wait_for(what: &str, mut ok: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !ok() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn start(s: &Server, token: &str, book: &str) -> (u16, Value) {
    call(
        s,
        "POST",
        "/api/v1/runs",
        Some(token),
        Some(&json!({"project": "demo", "playbook": book, "inventory": "inventory.yml"})),
    )
}

fn a_run_goes_from_the_queue_to_history_with_live_events(backend: Backend) {
    let s = serve(backend);
    let t = login(&s, "admin", ADMIN_PW);
    let (st, files) = call(&s, "GET", "/api/v1/projects/demo/files", Some(&t), None);
    assert_eq!(st, 200);
    assert_eq!(
        files["playbooks"],
        json!(["broken.yml", "count.yml", "site.yml", "slow.yml"]),
        "{files}"
    );
    let (st, run) = start(&s, &t, "site.yml");
    assert_eq!(st, 201, "{run}");
    let id = run["id"].as_i64().unwrap();
    // The live stream: history then live events, closed by an `end` event.
    let mut resp = agent()
        .get(format!("{}/api/v1/runs/{id}/stream", s.base))
        .header("authorization", format!("Bearer {t}"))
        .call()
        .unwrap();
    assert_eq!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    let text = resp.body_mut().read_to_string().unwrap();
    let data: Vec<Value> = text
        .lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str(d).ok())
        .collect();
    let kinds: Vec<&str> = data.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(kinds.first(), Some(&"playbook_start"), "{text}");
    assert!(kinds.contains(&"recap"), "{text}");
    assert!(
        text.contains("event: end\ndata: {\"status\":\"ok\"}"),
        "{text}"
    );
    let done = wait_final(&s, &t, id);
    assert_eq!(done["run"]["status"], "ok");
    assert_eq!(done["run"]["exit_code"], 0);
    assert_eq!(done["hosts"]["localhost"]["changed"], 1, "{done}");
    let (_, ev) = call(
        &s,
        "GET",
        &format!("/api/v1/runs/{id}/events?after=2"),
        Some(&t),
        None,
    );
    assert_eq!(ev[0]["seq"], 3, "{ev}");
    let hello = ev
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["event"] == "host_result")
        .unwrap();
    assert_eq!(hello["event"]["result"]["stdout"], "hello");
    let (_, list) = call(&s, "GET", "/api/v1/runs", Some(&t), None);
    assert_eq!(list[0]["id"], id);
    let (_, audit) = call(&s, "GET", "/api/v1/audit", Some(&t), None);
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "run.start" && a["target"] == format!("run {id}")),
        "{audit}"
    );
}

fn authorization_matrix(backend: Backend) {
    let s = serve(backend);
    let admin = login(&s, "admin", ADMIN_PW);
    for (name, role) in [("olga", "operator"), ("vic", "viewer")] {
        let (st, v) = call(
            &s,
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(&json!({"name": name, "password": "long-enough-pw", "role": role})),
        );
        assert_eq!(st, 201, "{v}");
    }
    let op = login(&s, "olga", "long-enough-pw");
    let viewer = login(&s, "vic", "long-enough-pw");
    let (_, run) = start(&s, &admin, "site.yml");
    let id = run["id"].as_i64().unwrap();
    wait_final(&s, &admin, id);
    let run_body = json!({"project": "demo", "playbook": "site.yml", "inventory": "inventory.yml"});
    let user_body = json!({"name": "x1", "password": "long-enough-pw", "role": "viewer"});
    let token_body = json!({"name": "t", "scopes": ["read"]});
    // What the per-role cases below act on: a token of the viewer, a schedule to change, and
    // one schedule per role to delete (`{del}` in a path is the acting role's).
    let (_, vic_token) = call(
        &s,
        "POST",
        "/api/v1/tokens",
        Some(&viewer),
        Some(&json!({"name": "mine", "scopes": ["read"]})),
    );
    let vic_token = vic_token["info"]["id"].as_i64().unwrap();
    let schedule = |name: &str| {
        let body = json!({"project": "demo", "name": name, "cron": "@daily", "playbook": "site.yml", "inventory": "inventory.yml"});
        let (st, v) = call(&s, "POST", "/api/v1/schedules", Some(&admin), Some(&body));
        assert_eq!(st, 201, "{v}");
        v["id"].as_i64().unwrap()
    };
    let nightly = schedule("nightly");
    let doomed = [schedule("del-0"), schedule("del-1"), schedule("del-2")];
    let sched_body = json!({"project": "demo", "name": "by-{who}", "cron": "@hourly", "playbook": "site.yml", "inventory": "inventory.yml"});
    let cases: Vec<(&str, String, Option<Value>, [u16; 3])> = vec![
        (
            "GET",
            format!("/api/v1/runs/{id}/stream"),
            None,
            [200, 200, 200],
        ),
        ("GET", "/api/v1/tokens".into(), None, [200, 200, 200]),
        // Anyone may revoke their own token; only an admin someone else's.
        (
            "DELETE",
            format!("/api/v1/tokens/{vic_token}"),
            None,
            [204, 403, 204],
        ),
        ("GET", "/api/v1/schedules".into(), None, [200, 200, 200]),
        (
            "POST",
            "/api/v1/schedules".into(),
            Some(sched_body),
            [201, 201, 403],
        ),
        (
            "PATCH",
            format!("/api/v1/schedules/{nightly}"),
            Some(json!({"enabled": false})),
            [200, 200, 403],
        ),
        (
            "DELETE",
            "/api/v1/schedules/{del}".into(),
            None,
            [204, 204, 403],
        ),
        // A directory project has nothing to sync: the operator gets that answer, not a 403.
        (
            "POST",
            "/api/v1/projects/demo/sync".into(),
            None,
            [422, 422, 403],
        ),
        // method, path, body, expected status for [admin, operator, viewer]
        ("GET", "/api/v1/runs".into(), None, [200, 200, 200]),
        ("GET", format!("/api/v1/runs/{id}"), None, [200, 200, 200]),
        (
            "GET",
            format!("/api/v1/runs/{id}/events"),
            None,
            [200, 200, 200],
        ),
        ("GET", "/api/v1/projects".into(), None, [200, 200, 200]),
        (
            "GET",
            "/api/v1/projects/demo/files".into(),
            None,
            [200, 200, 200],
        ),
        ("GET", "/api/v1/me".into(), None, [200, 200, 200]),
        (
            "POST",
            "/api/v1/tokens".into(),
            Some(token_body),
            [201, 201, 201],
        ),
        (
            "POST",
            "/api/v1/runs".into(),
            Some(run_body.clone()),
            [201, 201, 403],
        ),
        (
            "POST",
            "/api/v1/hooks/demo".into(),
            Some(run_body.clone()),
            [201, 201, 403],
        ),
        (
            "POST",
            format!("/api/v1/runs/{id}/cancel"),
            None,
            [422, 422, 403],
        ),
        ("GET", "/api/v1/users".into(), None, [200, 403, 403]),
        (
            "POST",
            "/api/v1/users".into(),
            Some(user_body),
            [201, 403, 403],
        ),
        (
            "PATCH",
            "/api/v1/users/vic".into(),
            Some(json!({"role": "viewer"})),
            [200, 403, 403],
        ),
        ("GET", "/api/v1/audit".into(), None, [200, 403, 403]),
    ];
    for (method, path, body, want) in &cases {
        for (who, tok) in [(0, &admin), (1, &op), (2, &viewer)] {
            let path = path.replace("{del}", &doomed[who].to_string());
            let body = body.as_ref().map(|b| {
                serde_json::from_str::<Value>(&b.to_string().replace("{who}", &who.to_string()))
                    .unwrap()
            });
            let (st, v) = call(&s, method, &path, Some(tok), body.as_ref());
            assert_eq!(
                st,
                want[who],
                "{method} {path} as {}: {v}",
                ["admin", "operator", "viewer"][who]
            );
            if st == 403 {
                assert_eq!(v["error"], "forbidden", "{v}");
            }
        }
        // No token, a malformed one, a forged one: 401 everywhere.
        for bad in [None, Some("nonsense"), Some("hst_AAAAAAAAAAAA_forged")] {
            let (st, v) = call(&s, method, path, bad, body.as_ref());
            assert_eq!(st, 401, "{method} {path} with {bad:?}: {v}");
        }
    }
    // An expired token and a revoked one: 401; a read-only token of an admin cannot start runs.
    let (_, made) = call(
        &s,
        "POST",
        "/api/v1/tokens",
        Some(&admin),
        Some(&json!({"name": "ro", "scopes": ["read"]})),
    );
    let ro = made["token"].as_str().unwrap().to_string();
    assert_eq!(call(&s, "GET", "/api/v1/runs", Some(&ro), None).0, 200);
    assert_eq!(start(&s, &ro, "site.yml").0, 403);
    let (_, made) = call(
        &s,
        "POST",
        "/api/v1/tokens",
        Some(&viewer),
        Some(&json!({"name": "up", "scopes": ["run"]})),
    );
    assert_eq!(
        made["error"], "forbidden",
        "a viewer cannot mint a run token: {made}"
    );
    let tid = call(&s, "GET", "/api/v1/tokens", Some(&admin), None)
        .1
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "ro")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        call(
            &s,
            "DELETE",
            &format!("/api/v1/tokens/{tid}"),
            Some(&admin),
            None
        )
        .0,
        204
    );
    let (st, v) = call(&s, "GET", "/api/v1/runs", Some(&ro), None);
    assert_eq!(
        (st, v["message"].as_str()),
        (401, Some("the token was revoked"))
    );
    // Per-project roles: the viewer becomes an operator on `demo`.
    let (st, _) = call(
        &s,
        "PATCH",
        "/api/v1/users/vic",
        Some(&admin),
        Some(&json!({"project_role": {"project": "demo", "role": "operator"}})),
    );
    assert_eq!(st, 200);
    let viewer = login(&s, "vic", "long-enough-pw");
    assert_eq!(start(&s, &viewer, "site.yml").0, 201);
    assert_eq!(
        call(
            &s,
            "POST",
            "/api/v1/login",
            None,
            Some(&json!({"name": "vic", "password": "wrong-password"}))
        )
        .0,
        401
    );
}

fn bad_input_gets_a_clear_4xx_and_writes_nothing(backend: Backend) {
    let s = serve(backend);
    let t = login(&s, "admin", ADMIN_PW);
    let audit_before = call(&s, "GET", "/api/v1/audit", Some(&t), None)
        .1
        .as_array()
        .unwrap()
        .len();
    let raw = |body: &str, ctype: &str| {
        let req = ureq::http::Request::builder()
            .method("POST")
            .uri(format!("{}/api/v1/runs", s.base))
            .header("authorization", format!("Bearer {t}"))
            .header("content-type", ctype)
            .body(body.as_bytes().to_vec())
            .unwrap();
        let mut r = agent().run(req).unwrap();
        let st = r.status().as_u16();
        (
            st,
            serde_json::from_str::<Value>(&r.body_mut().read_to_string().unwrap_or_default())
                .unwrap_or(Value::Null),
        )
    };
    let (st, v) = raw("{\"project\": \"demo\",", "application/json");
    assert_eq!(st, 400, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .contains("malformed JSON"),
        "{v}"
    );
    assert_eq!(raw("{}", "text/plain").0, 415);
    // An oversized body is refused from its declared length, before any of it is sent: the
    // client waits for `100 Continue` and gets the 413 instead.
    let (st, v) = declared_only(&s, "/api/v1/runs", &t, 2 << 20);
    assert_eq!(st, 413, "{v}");
    assert!(
        v["message"].as_str().unwrap_or("").contains("too large"),
        "{v}"
    );
    let (st, v) = raw(
        "{\"project\":\"demo\",\"playbook\":\"site.yml\",\"inventory\":\"inventory.yml\",\"bogus\":1}",
        "application/json",
    );
    assert_eq!(st, 400, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .contains("unknown field `bogus`"),
        "{v}"
    );
    for (book, needle) in [
        ("nope.yml", "does not exist in project `demo`"),
        ("../outside.yml", "without `..`"),
        ("/etc/passwd", "expected a relative path"),
        ("secret", "is not a file"),
    ] {
        let (st, v) = start(&s, &t, book);
        assert_eq!(st, 422, "{book}: {v}");
        assert!(
            v["message"].as_str().unwrap_or("").contains(needle),
            "{book}: {v}"
        );
    }
    let (st, v) = start(&s, &t, "broken.yml");
    assert_eq!(
        (st, v["error"].as_str()),
        (422, Some("invalid_playbook")),
        "{v}"
    );
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .contains("broken.yml:3:"),
        "{v}"
    );
    let (st, _) = call(
        &s,
        "POST",
        "/api/v1/runs",
        Some(&t),
        Some(&json!({"project": "nope", "playbook": "site.yml", "inventory": "inventory.yml"})),
    );
    assert_eq!(st, 404);
    assert_eq!(call(&s, "GET", "/api/v1/runs/999", Some(&t), None).0, 404);
    assert_eq!(call(&s, "GET", "/api/v1/nothing", Some(&t), None).0, 404);
    let (st, _) = call(
        &s,
        "GET",
        "/api/v1/projects/demo%2F..%2F..%2Fetc/files",
        Some(&t),
        None,
    );
    assert_eq!(st, 404);
    // Nothing was written: no run, no audit entry.
    assert_eq!(call(&s, "GET", "/api/v1/runs", Some(&t), None).1, json!([]));
    assert_eq!(
        call(&s, "GET", "/api/v1/audit", Some(&t), None)
            .1
            .as_array()
            .unwrap()
            .len(),
        audit_before
    );
}

fn a_running_run_is_cancelled(backend: Backend) {
    let s = serve(backend);
    let t = login(&s, "admin", ADMIN_PW);
    let (_, run) = start(&s, &t, "slow.yml");
    let id = run["id"].as_i64().unwrap();
    let t0 = Instant::now();
    wait_for("the run to start", || {
        call(&s, "GET", &format!("/api/v1/runs/{id}"), Some(&t), None).1["run"]["status"]
            == "running"
    });
    let (st, v) = call(
        &s,
        "POST",
        &format!("/api/v1/runs/{id}/cancel"),
        Some(&t),
        None,
    );
    assert_eq!(st, 200, "{v}");
    let done = wait_final(&s, &t, id);
    assert_eq!(done["run"]["status"], "cancelled");
    assert!(
        t0.elapsed() < Duration::from_secs(30),
        "cancelled long before the 60 s pause ended"
    );
    let (_, ev) = call(
        &s,
        "GET",
        &format!("/api/v1/runs/{id}/events"),
        Some(&t),
        None,
    );
    assert!(
        ev.as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"]["event"] == "cancelled"),
        "{ev}"
    );
}

fn a_run_of_a_killed_instance_is_marked_lost_and_taken_up_again(backend: Backend) {
    let d = tempfile::tempdir().unwrap();
    project(d.path());
    let db = database(d.path(), backend);
    let mut first = serve_at(d.path(), &db, &["--stale-secs", "3", "--instance", "first"]);
    let t = login(&first, "admin", ADMIN_PW);
    let (_, run) = start(&first, &t, "slow.yml");
    let id = run["id"].as_i64().unwrap();
    wait_for("the run's first events", || {
        let (_, ev) = call(
            &first,
            "GET",
            &format!("/api/v1/runs/{id}/events"),
            Some(&t),
            None,
        );
        ev.as_array().is_some_and(|a| a.len() >= 4)
    });
    // A power cut: SIGKILL, no chance to clean up.
    first.child.kill().unwrap();
    first.child.wait().unwrap();
    let second = serve_at(
        d.path(),
        &db,
        &["--stale-secs", "3", "--instance", "second"],
    );
    let done = wait_final(&second, &t, id);
    assert_eq!(done["run"]["status"], "lost", "{done}");
    assert_eq!(done["run"]["instance"], "first");
    let (_, ev) = call(
        &second,
        "GET",
        &format!("/api/v1/runs/{id}/events"),
        Some(&t),
        None,
    );
    assert!(
        ev.as_array()
            .unwrap()
            .iter()
            .any(|e| e["event"]["result"]["stdout"] == "started"),
        "the lost run keeps its events: {ev}"
    );
    // Its second attempt is queued and taken by the surviving instance.
    let (_, runs) = call(&second, "GET", "/api/v1/runs", Some(&t), None);
    let retry = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["retry_of"] == id)
        .unwrap_or_else(|| panic!("no retry of run {id}: {runs}"))
        .clone();
    assert_eq!(retry["attempt"], 2, "{retry}");
    assert_eq!(retry["playbook"], "slow.yml");
    let rid = retry["id"].as_i64().unwrap();
    wait_for("the retry to run on the second instance", || {
        let (_, v) = call(
            &second,
            "GET",
            &format!("/api/v1/runs/{rid}"),
            Some(&t),
            None,
        );
        v["run"]["status"] == "running" && v["run"]["instance"] == "second"
    });
    let (st, _) = call(
        &second,
        "POST",
        &format!("/api/v1/runs/{rid}/cancel"),
        Some(&t),
        None,
    );
    assert_eq!(st, 200);
    assert_eq!(wait_final(&second, &t, rid)["run"]["status"], "cancelled");
    // The new instance takes new work.
    let (_, again) = start(&second, &t, "site.yml");
    assert_eq!(
        wait_final(&second, &t, again["id"].as_i64().unwrap())["run"]["status"],
        "ok"
    );
}

fn a_schedule_starts_runs_on_its_own(backend: Backend) {
    let s = serve(backend);
    let t = login(&s, "admin", ADMIN_PW);
    let body = json!({"project": "demo", "name": "every-second", "cron": "* * * * * *", "playbook": "site.yml", "inventory": "inventory.yml"});
    let (st, sch) = call(&s, "POST", "/api/v1/schedules", Some(&t), Some(&body));
    assert_eq!(st, 201, "{sch}");
    let id = sch["id"].as_i64().unwrap();
    wait_for("a scheduled run", || {
        let (_, runs) = call(&s, "GET", "/api/v1/runs", Some(&t), None);
        runs.as_array().is_some_and(|r| {
            r.iter()
                .any(|r| r["schedule_id"] == id && r["status"] == "ok")
        })
    });
    let (st, off) = call(
        &s,
        "PATCH",
        &format!("/api/v1/schedules/{id}"),
        Some(&t),
        Some(&json!({"enabled": false})),
    );
    assert_eq!((st, off["enabled"].as_bool()), (200, Some(false)));
    let bad = json!({"project": "demo", "name": "x", "cron": "every day", "playbook": "site.yml", "inventory": "inventory.yml"});
    let (st, v) = call(&s, "POST", "/api/v1/schedules", Some(&t), Some(&bad));
    assert_eq!(st, 422, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap_or("")
            .contains("cron `every day`"),
        "{v}"
    );
    assert_eq!(
        call(
            &s,
            "DELETE",
            &format!("/api/v1/schedules/{id}"),
            Some(&t),
            None
        )
        .0,
        204
    );
    let (_, audit) = call(&s, "GET", "/api/v1/audit", Some(&t), None);
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "run.start" && a["detail"]["via"] == "schedule"),
        "{audit}"
    );
}

#[test]
fn the_openapi_document_lists_every_route_and_each_route_answers() {
    let s = serve(Backend::Sqlite);
    let (st, doc) = call(&s, "GET", "/api/v1/openapi.json", None, None);
    assert_eq!(st, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    // Every route the server has is documented (this list mirrors api::router).
    let routes = [
        ("GET", "/api/v1/openapi.json"),
        ("POST", "/api/v1/login"),
        ("POST", "/api/v1/logout"),
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/users"),
        ("PATCH", "/api/v1/users/{name}"),
        ("GET", "/api/v1/tokens"),
        ("POST", "/api/v1/tokens"),
        ("DELETE", "/api/v1/tokens/{id}"),
        ("GET", "/api/v1/audit"),
        ("GET", "/api/v1/projects"),
        ("GET", "/api/v1/projects/{project}/files"),
        ("POST", "/api/v1/projects/{project}/sync"),
        ("GET", "/api/v1/runs"),
        ("POST", "/api/v1/runs"),
        ("GET", "/api/v1/runs/{id}"),
        ("GET", "/api/v1/runs/{id}/events"),
        ("GET", "/api/v1/runs/{id}/stream"),
        ("POST", "/api/v1/runs/{id}/cancel"),
        ("POST", "/api/v1/hooks/{project}"),
        ("GET", "/api/v1/schedules"),
        ("POST", "/api/v1/schedules"),
        ("PATCH", "/api/v1/schedules/{id}"),
        ("DELETE", "/api/v1/schedules/{id}"),
    ];
    let documented: usize = paths.values().map(|m| m.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        routes.len(),
        "documented operations: {documented}"
    );
    for (method, path) in routes {
        let op = &paths[path][method.to_lowercase()];
        assert!(op.is_object(), "{method} {path} is not documented");
        // And the documented operation exists: without credentials it answers 401 (or 200 for
        // the open ones, 400 for a login without a body), never 404/405.
        let concrete = path
            .replace("{name}", "admin")
            .replace("{id}", "1")
            .replace("{project}", "demo");
        let (st, v) = call(&s, method, &concrete, None, None);
        assert!(![404, 405].contains(&st), "{method} {path}: {st} {v}");
    }
}

#[test]
fn tls_with_a_self_signed_certificate_kept_across_restarts() {
    let d = tempfile::tempdir().unwrap();
    project(d.path());
    let db = database(d.path(), Backend::Sqlite);
    let s = serve_at(d.path(), &db, &["--tls-self-signed"]);
    assert!(s.base.starts_with("https://127.0.0.1:"), "{}", s.base);
    let pem = std::fs::read(d.path().join("db/server-cert.pem"))
        .expect("certificate kept beside the database");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.path().join("db/server-key.pem"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let cert = ureq::tls::Certificate::from_pem(&pem).unwrap().to_owned();
    let tls = ureq::tls::TlsConfig::builder()
        .root_certs(ureq::tls::RootCerts::new_with_certs(&[cert]))
        .build();
    let pinned: ureq::Agent = ureq::Agent::config_builder()
        .tls_config(tls)
        .http_status_as_error(false)
        .build()
        .into();
    let mut r = pinned
        .get(format!("{}/api/v1/openapi.json", s.base))
        .call()
        .expect("https with the pinned certificate");
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.body_mut()
            .read_to_string()
            .unwrap()
            .contains("\"openapi\"")
    );
    // Without trusting it, the handshake fails; plain HTTP gets no answer.
    assert!(
        agent()
            .get(format!("{}/api/v1/openapi.json", s.base))
            .call()
            .is_err()
    );
    let plain = s.base.replace("https://", "http://");
    assert!(
        agent()
            .get(format!("{plain}/api/v1/openapi.json"))
            .call()
            .map(|r| r.status().as_u16() != 200)
            .unwrap_or(true)
    );
    drop(s);
    // A restart reuses the same certificate.
    let again = serve_at(d.path(), &db, &["--tls-self-signed"]);
    assert_eq!(
        std::fs::read(d.path().join("db/server-cert.pem")).unwrap(),
        pem
    );
    let mut r = pinned
        .get(format!("{}/api/v1/openapi.json", again.base))
        .call()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let _ = r.body_mut().read_to_string();
}

#[test]
fn two_instances_sharing_postgres_never_run_a_job_twice() {
    let d = tempfile::tempdir().unwrap();
    project(d.path());
    let db = database(d.path(), Backend::Postgres);
    let a = serve_at(d.path(), &db, &["--instance", "a"]);
    let b = serve_at(d.path(), &db, &["--instance", "b"]);
    let t = login(&a, "admin", ADMIN_PW);
    // The same session token works on either instance: they share users and tokens.
    assert_eq!(call(&b, "GET", "/api/v1/me", Some(&t), None).0, 200);
    let log = d.path().join("ran.log");
    let n = 24;
    let mut ids = Vec::new();
    for i in 0..n {
        // Half of the runs are started through each instance.
        let via = if i % 2 == 0 { &a } else { &b };
        let (st, run) = call(
            via,
            "POST",
            "/api/v1/runs",
            Some(&t),
            Some(
                &json!({"project": "demo", "playbook": "count.yml", "inventory": "inventory.yml",
                          "extra_vars": {"n": i, "log": log.display().to_string()}}),
            ),
        );
        assert_eq!(st, 201, "{run}");
        ids.push(run["id"].as_i64().unwrap());
    }
    let mut by = std::collections::BTreeMap::<String, usize>::new();
    for id in &ids {
        let done = wait_final(&a, &t, *id);
        assert_eq!(done["run"]["status"], "ok", "{done}");
        *by.entry(done["run"]["instance"].as_str().unwrap().to_string())
            .or_default() += 1;
        // One execution's events: one start, one recap.
        let (_, ev) = call(
            &b,
            "GET",
            &format!("/api/v1/runs/{id}/events"),
            Some(&t),
            None,
        );
        let starts = ev
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["event"]["event"] == "playbook_start")
            .count();
        assert_eq!(starts, 1, "run {id}: {ev}");
    }
    // Every job ran, and ran once: the playbook's own side effect, one line per run.
    let mut lines: Vec<u32> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| l.trim().parse().unwrap())
        .collect();
    lines.sort();
    assert_eq!(lines, (0..n).collect::<Vec<u32>>());
    assert_eq!(
        by.keys().collect::<Vec<_>>(),
        vec!["a", "b"],
        "both instances took work: {by:?}"
    );
}

#[test]
fn two_instances_fire_a_schedule_once_per_due_time() {
    let d = tempfile::tempdir().unwrap();
    project(d.path());
    let db = database(d.path(), Backend::Postgres);
    let a = serve_at(d.path(), &db, &["--instance", "a"]);
    let b = serve_at(d.path(), &db, &["--instance", "b"]);
    let t = login(&a, "admin", ADMIN_PW);
    let body = json!({"project": "demo", "name": "every-second", "cron": "* * * * * *",
                      "playbook": "site.yml", "inventory": "inventory.yml"});
    let on = Instant::now();
    let (st, sch) = call(&b, "POST", "/api/v1/schedules", Some(&t), Some(&body));
    assert_eq!(st, 201, "{sch}");
    let id = sch["id"].as_i64().unwrap();
    std::thread::sleep(Duration::from_secs(6));
    let (st, _) = call(
        &a,
        "PATCH",
        &format!("/api/v1/schedules/{id}"),
        Some(&t),
        Some(&json!({"enabled": false})),
    );
    assert_eq!(st, 200);
    let enabled_for = on.elapsed().as_secs_f64();
    std::thread::sleep(Duration::from_secs(1));
    let (_, runs) = call(&a, "GET", "/api/v1/runs?limit=100", Some(&t), None);
    let fired: Vec<&Value> = runs
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["schedule_id"] == id)
        .collect();
    assert!(fired.len() >= 3, "an every-second schedule fired: {runs}");
    // One run per due second, whichever instance fired it: two firers racing would double it.
    let total = fired.len();
    assert!(
        (total as f64) <= enabled_for.ceil() + 1.0,
        "{total} runs in {enabled_for:.1} s of an every-second schedule: {runs}"
    );
    let (_, audit) = call(&b, "GET", "/api/v1/audit?limit=500", Some(&t), None);
    let starts = audit
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "run.start" && e["detail"]["via"] == "schedule")
        .count();
    assert_eq!(starts, total, "one audit entry per fired run: {audit}");
}

/// Runs `git` in `dir` (with a fixed identity), returning its output.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Commits a site.yml that echoes `word` and pushes it; returns the commit.
fn commit_site(work: &Path, word: &str) -> String {
    std::fs::write(
        work.join("site.yml"),
        format!(
            "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - command: echo {word}\n"
        ),
    )
    .unwrap();
    git(work, &["add", "-A"]);
    git(work, &["commit", "-q", "-m", word]);
    git(work, &["push", "-q", "origin", "HEAD:main"]);
    git(work, &["rev-parse", "HEAD"])
}

/// The `stdout` of the first host result of run `id`.
fn first_stdout(s: &Server, token: &str, id: i64) -> Value {
    let (_, ev) = call(
        s,
        "GET",
        &format!("/api/v1/runs/{id}/events"),
        Some(token),
        None,
    );
    ev.as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"]["event"] == "host_result")
        .map(|e| e["event"]["result"]["stdout"].clone())
        .unwrap_or(Value::Null)
}

#[test]
fn a_git_project_runs_each_run_at_its_commit() {
    let d = tempfile::tempdir().unwrap();
    let (origin, work) = (d.path().join("origin.git"), d.path().join("work"));
    std::fs::create_dir_all(&work).unwrap();
    git(
        d.path(),
        &["init", "-q", "--bare", "-b", "main", "origin.git"],
    );
    git(&work, &["init", "-q", "-b", "main"]);
    git(
        &work,
        &["remote", "add", "origin", &origin.display().to_string()],
    );
    std::fs::write(work.join("inventory.yml"), "all: {}\n").unwrap();
    let first = commit_site(&work, "one");
    let spec = format!("demo=git+{}#main", origin.display());
    let db = d.path().join("db/hoist.db").display().to_string();
    let s = Serve::start(&spec, &db, ADMIN_PW, &[]);
    let s = Server {
        serve: s,
        _dir: None,
    };
    let t = login(&s, "admin", ADMIN_PW);
    let (_, projects) = call(&s, "GET", "/api/v1/projects", Some(&t), None);
    assert_eq!(
        (&projects[0]["source"], &projects[0]["revision"]),
        (&json!("git"), &json!(first)),
        "{projects}"
    );
    let (_, run) = start(&s, &t, "site.yml");
    let one = run["id"].as_i64().unwrap();
    assert_eq!(
        run["revision"], first,
        "a run records the commit it was started on"
    );
    assert_eq!(wait_final(&s, &t, one)["run"]["status"], "ok");
    assert_eq!(first_stdout(&s, &t, one), "one");

    // A new commit upstream changes nothing until the project is synced.
    let second = commit_site(&work, "two");
    let (_, run) = start(&s, &t, "site.yml");
    let id = run["id"].as_i64().unwrap();
    wait_final(&s, &t, id);
    assert_eq!(
        (run["revision"].clone(), first_stdout(&s, &t, id)),
        (json!(first), json!("one"))
    );
    let (st, synced) = call(&s, "POST", "/api/v1/projects/demo/sync", Some(&t), None);
    assert_eq!((st, &synced["revision"]), (200, &json!(second)), "{synced}");
    let (_, run) = start(&s, &t, "site.yml");
    let id = run["id"].as_i64().unwrap();
    wait_final(&s, &t, id);
    assert_eq!(
        (run["revision"].clone(), first_stdout(&s, &t, id)),
        (json!(second), json!("two"))
    );
    let (_, audit) = call(&s, "GET", "/api/v1/audit", Some(&t), None);
    assert!(
        audit
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["action"] == "project.sync"
                && a["detail"]["from"] == first
                && a["detail"]["to"] == second),
        "{audit}"
    );

    // A scheduled run fetches at launch: it runs (and records) the newest commit.
    let third = commit_site(&work, "three");
    let body = json!({"project": "demo", "name": "each-second", "cron": "* * * * * *", "playbook": "site.yml", "inventory": "inventory.yml"});
    let (st, sch) = call(&s, "POST", "/api/v1/schedules", Some(&t), Some(&body));
    assert_eq!(st, 201, "{sch}");
    let mut scheduled = Value::Null;
    wait_for("a scheduled run", || {
        let (_, runs) = call(&s, "GET", "/api/v1/runs", Some(&t), None);
        scheduled = runs
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["schedule_id"] == sch["id"] && r["status"] == "ok")
            .cloned()
            .unwrap_or(Value::Null);
        !scheduled.is_null()
    });
    call(
        &s,
        "DELETE",
        &format!("/api/v1/schedules/{}", sch["id"]),
        Some(&t),
        None,
    );
    let sid = scheduled["id"].as_i64().unwrap();
    assert_eq!(
        (scheduled["revision"].clone(), first_stdout(&s, &t, sid)),
        (json!(third), json!("three"))
    );
    // The first commit's tree is still there for runs that were started on it.
    assert!(
        d.path()
            .join(format!("db/projects/demo/trees/{first}/site.yml"))
            .is_file()
    );
    // An unreachable repository is a clear error on sync, and nothing changes.
    std::fs::rename(&origin, d.path().join("moved.git")).unwrap();
    let (st, v) = call(&s, "POST", "/api/v1/projects/demo/sync", Some(&t), None);
    assert_eq!(st, 502, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("project `demo`: git fetch"),
        "{v}"
    );
    let (_, projects) = call(&s, "GET", "/api/v1/projects", Some(&t), None);
    assert_eq!(projects[0]["revision"], third, "{projects}");
}

#[test]
fn a_run_on_one_instance_is_followed_live_through_another() {
    let d = tempfile::tempdir().unwrap();
    project(d.path());
    std::fs::write(
        d.path().join("proj/steps.yml"),
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - pause: { seconds: 1 }\n    - command: echo {{ item }}\n      loop: [1, 2, 3, 4, 5]\n    - pause: { seconds: 1 }\n    - debug: msg=last\n",
    )
    .unwrap();
    // `--max-runs 0` needs another instance to run the runs: refused on SQLite.
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_hoist"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--max-runs",
            "0",
            "--db",
        ])
        .arg(d.path().join("alone.db"))
        .arg("--project")
        .arg(format!("demo={}", d.path().join("proj").display()))
        .env("HOIST_ADMIN_PASSWORD", ADMIN_PW)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    assert!(
        said.contains("--max-runs 0: runs would wait forever"),
        "{said}"
    );
    let db = database(d.path(), Backend::Postgres);
    let a = serve_at(d.path(), &db, &["--instance", "a"]);
    // b serves the API and executes nothing: every run goes to a.
    let b = serve_at(d.path(), &db, &["--instance", "b", "--max-runs", "0"]);
    let t = login(&b, "admin", ADMIN_PW);
    let (st, run) = start(&b, &t, "steps.yml");
    assert_eq!(st, 201, "{run}");
    let id = run["id"].as_i64().unwrap();
    // Followed through b by three viewers from before it starts and two who join once it
    // runs (b relays it to all five): each gets every event, in order, then the end.
    let follow = |base: String, token: String| {
        std::thread::spawn(move || {
            agent()
                .get(format!("{base}/api/v1/runs/{id}/stream"))
                .header("authorization", format!("Bearer {token}"))
                .call()
                .unwrap()
                .body_mut()
                .read_to_string()
                .unwrap()
        })
    };
    let mut viewers: Vec<_> = (0..3).map(|_| follow(b.base.clone(), t.clone())).collect();
    wait_for("the run to start on a", || {
        call(&b, "GET", &format!("/api/v1/runs/{id}"), Some(&t), None).1["run"]["status"]
            == "running"
    });
    viewers.extend((0..2).map(|_| follow(b.base.clone(), t.clone())));
    let texts: Vec<String> = viewers.into_iter().map(|v| v.join().unwrap()).collect();
    let mut seqs: Vec<i64> = Vec::new();
    for text in &texts {
        let got: Vec<i64> = text
            .lines()
            .filter_map(|l| l.strip_prefix("id: "))
            .map(|s| s.parse().unwrap())
            .collect();
        assert!(got.len() > 10, "{text}");
        assert_eq!(
            got,
            (1..=got.len() as i64).collect::<Vec<_>>(),
            "no event missing or repeated: {text}"
        );
        assert!(
            text.ends_with("event: end\ndata: {\"status\":\"ok\"}\n\n"),
            "{text}"
        );
        if !seqs.is_empty() {
            assert_eq!(got, seqs, "every viewer saw the same events");
        }
        seqs = got;
    }
    let done = wait_final(&b, &t, id);
    assert_eq!(done["run"]["instance"], "a", "{done}");
    let (_, history) = call(
        &a,
        "GET",
        &format!("/api/v1/runs/{id}/events?limit=1000"),
        Some(&t),
        None,
    );
    assert_eq!(
        history.as_array().map(Vec::len),
        Some(seqs.len()),
        "the stream is the stored history: {history}"
    );
}
