//! The `hoist` binary on bad and good input, without hosts: exit codes, error messages that
//! name file, line and column, and inventory views (snapshots).

mod dropin;
mod ha_preflight;
mod local_runs;
mod playbook_errors;
mod plugins;
mod secrets;
mod trust;
mod vault;

use std::path::{Path, PathBuf};
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn hoist(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_hoist"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env_remove("HOIST_INVENTORY")
        .output()
        .expect("hoist runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn fixture(kind: &str, file: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/inventory")
        .join(kind)
        .join(file)
        .to_string_lossy()
        .into_owned()
}

fn scratch(name: &str, text: &str) -> (tempfile::TempDir, PathBuf) {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(name);
    std::fs::write(&p, text).unwrap();
    (d, p)
}

#[test]
fn malformed_yaml_inventory_points_at_line_and_column() {
    let (_d, p) = scratch("bad.yml", "all:\n  hosts:\n    web1:\n  childs:\n    db:\n");
    let r = hoist(&["inventory", "list", "-i", p.to_str().unwrap()]);
    assert_eq!(r.code, 5, "bad input exits 5");
    assert!(
        r.stderr.contains(&format!("{}:4:3", p.display())),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("unknown field `childs`, expected one of `hosts`, `vars`, `children`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("4 │   childs:"),
        "shows the line: {}",
        r.stderr
    );
    assert!(r.stdout.is_empty());
}

#[test]
fn malformed_ini_inventory_points_at_line_and_column() {
    let (_d, p) = scratch("bad.ini", "[web]\nweb1 ansible_port=22\nweb2 oops\n");
    let r = hoist(&["inventory", "list", "-i", p.to_str().unwrap()]);
    assert_eq!(r.code, 5);
    assert!(
        r.stderr.contains(&format!("{}:3:6", p.display())),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("expected `key=value` after the host name, found `oops`"),
        "{}",
        r.stderr
    );
}

#[test]
fn unknown_group_in_pattern_is_an_error_before_connecting() {
    let r = hoist(&[
        "exec",
        "webz",
        "-i",
        &fixture("yaml", "hosts.yml"),
        "--",
        "true",
    ]);
    assert_eq!(r.code, 5);
    insta::assert_snapshot!(r.stderr.trim());
}

#[test]
fn missing_inventory_file() {
    let r = hoist(&["ping", "all", "-i", "/nonexistent/inventory.yml"]);
    assert_eq!(r.code, 5);
    assert_eq!(
        r.stderr.trim(),
        "error: inventory source /nonexistent/inventory.yml does not exist"
    );
}

#[test]
fn inventory_views() {
    let inv = fixture("ini", "hosts.ini");
    let list = hoist(&["inventory", "list", "-i", &inv]);
    assert_eq!(list.code, 0, "{}", list.stderr);
    insta::assert_snapshot!("list", list.stdout);
    let graph = hoist(&["inventory", "graph", "-i", &inv]);
    insta::assert_snapshot!("graph", graph.stdout);
    let host = hoist(&["inventory", "host", "db1", "-i", &inv, "-o", "json"]);
    insta::assert_snapshot!("host_db1", host.stdout);
    let json = hoist(&["inventory", "list", "-i", &inv, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["prod"]["children"], serde_json::json!(["web", "db"]));
    assert_eq!(v["_meta"]["hostvars"]["web02"]["level"], "host_file");
    let limited = hoist(&["inventory", "list", "prod:!web0[1:2]", "-i", &inv]);
    assert!(
        limited.stdout.contains("web03") && !limited.stdout.contains("web01"),
        "{}",
        limited.stdout
    );
}

#[test]
fn lab_host_count_is_checked() {
    let r = hoist(&["lab", "up", "--hosts", "0"]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("--hosts must be between 1 and 240") || r.stderr.contains("needs root"),
        "{}",
        r.stderr
    );
}
