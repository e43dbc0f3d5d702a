//! Shared by the control plane's tests and benchmark (tests/server, tests/ui, benches/serve.rs):
//! start `hoist serve` as a real process on a free loopback port, and make API requests.

#![allow(dead_code)]

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `hoist serve`; killed when dropped.
pub struct Serve {
    pub child: Child,
    /// `http://127.0.0.1:PORT` (or `https://`).
    pub base: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Starts `hoist serve` with the project `NAME=DIR`, the database `db` and `extra`
    /// arguments, and waits until it listens. The first start creates `admin` with
    /// `admin_password`.
    pub fn start(project: &str, db: &str, admin_password: &str, extra: &[&str]) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let listen = format!("127.0.0.1:{port}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_hoist"))
            .args([
                "serve",
                "--listen",
                &listen,
                "--db",
                db,
                "--project",
                project,
            ])
            .args(extra)
            .env("HOIST_ADMIN_PASSWORD", admin_password)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hoist serve starts");
        let stderr = child.stderr.take().expect("stderr");
        let mut lines = BufReader::new(stderr).lines();
        let mut said = Vec::new();
        let first = loop {
            match lines.next().and_then(|l| l.ok()) {
                Some(l) if l.contains("listening on") => break l,
                Some(l) if said.len() < 50 => said.push(l),
                _ => panic!("hoist serve did not start: {}", said.join("\n")),
            }
        };
        std::thread::spawn(move || for _ in lines {});
        let scheme = if first.contains("https://") {
            "https"
        } else {
            "http"
        };
        Serve {
            child,
            base: format!("{scheme}://{listen}"),
        }
    }

    /// Resident and peak memory of the server process, KiB.
    pub fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

impl Serve {
    /// (status, JSON body) of a request to this server (a body that is not JSON: as a string).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let (status, text) = request(
            &agent(),
            &format!("{}{path}", self.base),
            method,
            token,
            body,
        );
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// A session token for `name` (the login must succeed).
    pub fn login(&self, name: &str, pw: &str) -> String {
        let (st, v) = self.call(
            "POST",
            "/api/v1/login",
            None,
            Some(&serde_json::json!({"name": name, "password": pw})),
        );
        assert_eq!(st, 200, "{v}");
        v["token"].as_str().expect("token").to_string()
    }

    /// Waits (up to 60 s) until run `id` is neither queued nor running; its final state.
    pub fn wait_final(&self, token: &str, id: i64) -> Value {
        let t0 = std::time::Instant::now();
        loop {
            let (_, v) = self.call("GET", &format!("/api/v1/runs/{id}"), Some(token), None);
            let status = v["run"]["status"].as_str().unwrap_or("").to_string();
            if !["queued", "running"].contains(&status.as_str()) {
                return v;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "run {id} still {status}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// An HTTP client that returns 4xx/5xx as answers, with a 30 s limit per request.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// One request: (status, body text).
pub fn request(
    agent: &ureq::Agent,
    url: &str,
    method: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (u16, String) {
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header("content-type", "application/json")
            .body(b.to_string().into_bytes()),
        None => req.body(Vec::new()),
    }
    .unwrap();
    let mut resp = agent.run(req).expect("request");
    let status = resp.status().as_u16();
    (status, resp.body_mut().read_to_string().unwrap_or_default())
}

/// Writes a project directory `dir` with `inventory.yml` (localhost only) and the given
/// playbooks, each a list of task lines for one play on localhost.
pub fn project(dir: &Path, books: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("inventory.yml"), "all: {}\n").unwrap();
    for (name, tasks) in books {
        std::fs::write(
            dir.join(name),
            format!("- hosts: localhost\n  gather_facts: false\n  tasks:\n{tasks}"),
        )
        .unwrap();
    }
}
