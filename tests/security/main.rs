//! Security regression tests (issue 12): one test per hole found when hoist was attacked as a
//! user on a managed host, an API caller with a low role or token, and a local user on the
//! controller or a target would. Host-side tests run on the lab (`tests/run.sh` brings it up and
//! sets `HOIST_LAB_INVENTORY`); server-side tests run against a real `hoist serve`. Each test
//! plants a marker that only a successful attack would create and checks it is absent, next to
//! a check that the legitimate path still works (so none can pass by doing nothing).

#[allow(dead_code)]
#[path = "../e2e/support.rs"]
mod support;

#[path = "../support/serve.rs"]
mod serve_support;

mod data_is_not_code;
mod hosts;
mod local;
mod matrix;
mod server;

/// A marker path on the controller no test creates on purpose.
pub fn marker(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("hoist-pwned-{name}-{}", std::process::id()))
}

/// Runs `hoist run -o json` on a playbook; the exit code, events and stderr.
pub fn run_json(args: &[&str]) -> (i32, Vec<serde_json::Value>, String) {
    let mut all = vec!["run", "-o", "json"];
    all.extend_from_slice(args);
    let r = support::hoist(&all, &[]);
    let events = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (r.code, events, r.stderr)
}

/// The `msg` of every debug result for `task` in `events`.
pub fn debug_msgs(events: &[serde_json::Value], task: &str) -> Vec<String> {
    events
        .iter()
        .filter(|e| {
            (e["event"] == "host_result" || e["event"] == "item_result") && e["task"] == task
        })
        .filter_map(|e| match &e["result"]["msg"] {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        })
        .collect()
}

/// Runs `cmd` on one lab host; its stdout (the command must succeed).
pub fn sh(host: &str, cmd: &str) -> String {
    let inv = support::lab_inventory();
    let r = support::hoist(
        &[
            "exec",
            host,
            "-o",
            "json",
            "-i",
            inv.to_str().unwrap_or_default(),
            "--",
            cmd,
        ],
        &[],
    );
    let row = support::row(&r.json(), host).clone();
    assert_eq!(row["rc"], 0, "`{cmd}` on {host}: {row}");
    row["stdout"].as_str().unwrap_or_default().to_string()
}
