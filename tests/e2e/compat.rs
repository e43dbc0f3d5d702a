//! The compatibility corpus (tests/compat): the same playbook and roles, unmodified, run by
//! ansible-core on one lab host and by hoist on another, must leave both hosts in the same
//! state (tests/compat/fingerprint.sh); a second run by either tool changes nothing.

use crate::support::{hoist, lab_inventory};
use std::path::PathBuf;
use std::process::Command;

fn compat_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/compat")
}

fn ansible_playbook() -> PathBuf {
    match std::env::var_os("HOIST_ANSIBLE_PLAYBOOK") {
        Some(p) => PathBuf::from(p),
        None => panic!(
            "the compatibility test needs ansible-core: run it through tests/run.sh (it installs ansible-core and sets HOIST_ANSIBLE_PLAYBOOK)"
        ),
    }
}

/// Runs ansible-playbook on `host`; returns (exit code, output).
fn ansible(host: &str) -> (i32, String) {
    let out = Command::new(ansible_playbook())
        .arg("-i")
        .arg(lab_inventory())
        .arg(compat_dir().join("site.yml"))
        .args(["--limit", host])
        .env("ANSIBLE_FORCE_COLOR", "0")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("ANSIBLE_HOST_KEY_CHECKING", "True")
        .env("ANSIBLE_RETRY_FILES_ENABLED", "0")
        .output()
        .expect("ansible-playbook runs");
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// `changed=N` from ansible's recap line for `host`.
fn ansible_changed(out: &str, host: &str) -> u64 {
    out.lines()
        .find(|l| l.starts_with(host) && l.contains("changed="))
        .and_then(|l| l.split("changed=").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no recap for {host} in:\n{out}"))
}

fn fingerprint(host: &str) -> String {
    let script = std::fs::read_to_string(compat_dir().join("fingerprint.sh")).unwrap();
    let inv = lab_inventory();
    let r = hoist(
        &[
            "exec",
            host,
            "-o",
            "json",
            "-i",
            inv.to_str().unwrap_or_default(),
            "--",
            &script,
        ],
        &[],
    );
    let rows = r.json();
    rows[0]["stdout"].as_str().unwrap_or_default().to_string()
}

#[test]
fn ansible_and_hoist_reach_the_same_end_state() {
    let (by_ansible, by_hoist) = ("lab1", "lab2");
    let (code, out) = ansible(by_ansible);
    assert_eq!(code, 0, "ansible-playbook failed:\n{out}");
    let inv = lab_inventory();
    let site = compat_dir().join("site.yml");
    let r = hoist(
        &[
            "run",
            "-i",
            inv.to_str().unwrap_or_default(),
            "--limit",
            by_hoist,
            site.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(r.code, 0, "hoist failed:\n{}{}", r.stdout, r.stderr);

    let (a, h) = (fingerprint(by_ansible), fingerprint(by_hoist));
    assert!(
        a.contains("== /srv/compat/summary.json"),
        "the fingerprint covers the corpus:\n{a}"
    );
    if a != h {
        let diff: Vec<String> = similar::TextDiff::from_lines(&a, &h)
            .unified_diff()
            .header("ansible-core", "hoist")
            .to_string()
            .lines()
            .map(str::to_string)
            .collect();
        panic!("end states differ:\n{}", diff.join("\n"));
    }

    let (code, out) = ansible(by_ansible);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        ansible_changed(&out, by_ansible),
        0,
        "the corpus is idempotent under ansible-core:\n{out}"
    );
    let r = hoist(
        &[
            "run",
            "-o",
            "json",
            "-i",
            inv.to_str().unwrap_or_default(),
            "--limit",
            by_hoist,
            site.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let changed: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("\"event\":\"host_result\"") && l.contains("\"status\":\"changed\""))
        .collect();
    assert!(
        changed.is_empty(),
        "hoist's second run changed: {changed:#?}"
    );
}
