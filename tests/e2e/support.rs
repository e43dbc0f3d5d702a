//! Helpers: the lab inventory, running the hoist binary, scratch inventories.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The lab inventory written by `hoist lab up` (set by tests/run.sh).
pub fn lab_inventory() -> PathBuf {
    match std::env::var_os("HOIST_LAB_INVENTORY") {
        Some(p) => PathBuf::from(p),
        None => panic!(
            "end-to-end tests need the lab: run them through tests/run.sh (it sets HOIST_LAB_INVENTORY)"
        ),
    }
}

/// The lab state directory (keys, known_hosts).
pub fn lab_state() -> PathBuf {
    std::env::var_os("HOIST_LAB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/tmp/hoist-lab"))
        .join("run")
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

/// Runs `hoist ARGS` with a clean environment (no ssh-agent unless given in `env`).
pub fn hoist(args: &[&str], env: &[(&str, &str)]) -> Run {
    hoist_at(None, args, env)
}

/// `hoist` run in directory `cwd`.
pub fn hoist_at(cwd: Option<&Path>, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut c = command(args, env);
    if let Some(d) = cwd {
        c.current_dir(d);
    }
    let out = c.output().expect("hoist runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The hoist binary with `args`, a clean environment (no ssh-agent, no key passphrase, no
/// colour) and `env` on top.
fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hoist"));
    c.args(args)
        .env_remove("SSH_AUTH_SOCK")
        .env_remove("HOIST_SSH_KEY_PASSPHRASE")
        .env("NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// `hoist ARGS` under a watchdog: a run still going after `limit` is killed and the test
/// fails with what it printed so far (a hang is a failure, never a stalled CI).
#[allow(dead_code)] // used by tests/concurrency
pub fn hoist_within(limit: std::time::Duration, args: &[&str], env: &[(&str, &str)]) -> Run {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = command(args, env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("hoist runs");
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut r) = r {
                let mut b = Vec::new();
                let _ = r.read_to_end(&mut b);
                s = String::from_utf8_lossy(&b).into_owned();
            }
            s
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|o| Box::new(o) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|o| Box::new(o) as Box<dyn Read + Send>),
    );
    let t0 = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for hoist") {
            break Some(s);
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let (stdout, stderr) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    let Some(status) = status else {
        panic!(
            "hoist {args:?} hung: still running after {limit:?}, killed\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
    };
    Run {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
    }
}

/// Writes `text` to `dir/name` and returns the path as a string.
pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write scratch file");
    p.to_string_lossy().into_owned()
}

/// `ssh-keygen` a new ed25519 key (with `passphrase`) in `dir`; returns the private key path.
pub fn keygen(dir: &Path, name: &str, passphrase: &str) -> String {
    let p = dir.join(name);
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", passphrase, "-C", name, "-f"])
        .arg(&p)
        .status()
        .expect("ssh-keygen runs")
        .success();
    assert!(ok, "ssh-keygen failed");
    p.to_string_lossy().into_owned()
}

/// The result row of `host` in a JSON array output.
pub fn row<'a>(rows: &'a Value, host: &str) -> &'a Value {
    rows.as_array()
        .and_then(|a| a.iter().find(|r| r["host"] == host))
        .unwrap_or_else(|| panic!("no row for {host} in {rows}"))
}

/// Runs a command on one lab host through hoist and asserts it worked.
pub fn on_host(host: &str, cmd: &str) -> String {
    let inv = lab_inventory();
    let r = hoist(
        &[
            "exec",
            host,
            "-i",
            inv.to_str().unwrap_or_default(),
            "--",
            cmd,
        ],
        &[],
    );
    assert_eq!(
        r.code, 0,
        "`{cmd}` on {host} failed: {}{}",
        r.stdout, r.stderr
    );
    r.stdout
}
