//! `--persist`: the multiplexer keeps connections between runs, stops on request or when idle.

use crate::support::*;
use std::time::{Duration, Instant};

fn inv() -> String {
    lab_inventory().to_string_lossy().into_owned()
}

/// The client port lab1's sshd sees: the same port means the same TCP connection.
fn client_port(sock: &str) -> String {
    let r = hoist(
        &[
            "exec",
            "lab1",
            "-i",
            &inv(),
            "--persist",
            "30",
            "-o",
            "json",
            "--",
            "echo $SSH_CLIENT",
        ],
        &[("HOIST_MUX_SOCKET", sock)],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let out = row(&r.json(), "lab1")["stdout"]
        .as_str()
        .unwrap_or("")
        .to_string();
    out.split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

#[test]
fn connections_persist_between_runs_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("mux.sock").to_string_lossy().into_owned();
    let first = client_port(&sock);
    assert!(!first.is_empty());
    assert!(
        std::path::Path::new(&sock).exists(),
        "multiplexer started on demand"
    );
    assert_eq!(
        client_port(&sock),
        first,
        "second run reuses the connection"
    );
    // Errors still come back per host through the multiplexer.
    let r = hoist(
        &[
            "exec",
            "lab",
            "-i",
            &inv(),
            "--persist",
            "30",
            "-o",
            "json",
            "--",
            "test $(hostname) != lab2",
        ],
        &[("HOIST_MUX_SOCKET", &sock)],
    );
    assert_eq!(r.code, 2);
    assert_eq!(row(&r.json(), "lab2")["rc"], 1);
    let r = hoist(&["mux", "stop"], &[("HOIST_MUX_SOCKET", &sock)]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    wait_gone(&sock, Duration::from_secs(5));
    assert_ne!(
        client_port(&sock),
        first,
        "a new multiplexer opens a new connection"
    );
    hoist(&["mux", "stop"], &[("HOIST_MUX_SOCKET", &sock)]);
    wait_gone(&sock, Duration::from_secs(5));
}

#[test]
fn idle_multiplexer_exits_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("mux.sock").to_string_lossy().into_owned();
    let r = hoist(
        &["ping", "lab1", "-i", &inv(), "--persist", "1"],
        &[("HOIST_MUX_SOCKET", &sock)],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    wait_gone(&sock, Duration::from_secs(10));
}

fn wait_gone(sock: &str, limit: Duration) {
    let start = Instant::now();
    while std::path::Path::new(sock).exists() {
        assert!(
            start.elapsed() < limit,
            "multiplexer socket {sock} still there after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
