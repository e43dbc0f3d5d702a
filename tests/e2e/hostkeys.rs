//! Strict host-key checking: changed keys refused naming the line, unknown keys refused unless
//! `--accept-new-host-keys`, which records them.

use crate::support::*;

fn inv() -> String {
    lab_inventory().to_string_lossy().into_owned()
}

/// An inventory that points every host at `known_hosts`.
fn with_known_hosts(dir: &std::path::Path, known_hosts: &str) -> String {
    write(
        dir,
        "kh.yml",
        &format!(
            "all:\n  vars:\n    ansible_ssh_common_args: \"-o UserKnownHostsFile={known_hosts}\"\n"
        ),
    )
}

#[test]
fn changed_host_key_is_refused_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let other = keygen(dir.path(), "other", "");
    let other_pub = std::fs::read_to_string(format!("{other}.pub")).unwrap();
    let fake_key: Vec<&str> = other_pub.split_whitespace().take(2).collect();
    let text = format!("# lab hosts\n10.77.0.11 {}\n", fake_key.join(" "));
    let kh = write(dir.path(), "known_hosts", &text);
    let over = with_known_hosts(dir.path(), &kh);
    let r = hoist(
        &["ping", "lab1", "-i", &inv(), "-i", &over, "-o", "json"],
        &[],
    );
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    let err = row(&r.json(), "lab1")["error"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(err.contains("HOST KEY CHANGED"), "{err}");
    assert!(
        err.contains(&format!("{kh}:2")),
        "names file and line: {err}"
    );
    // Even --accept-new-host-keys never overrides a changed key, and the file is untouched.
    let r = hoist(
        &[
            "ping",
            "lab1",
            "-i",
            &inv(),
            "-i",
            &over,
            "--accept-new-host-keys",
        ],
        &[],
    );
    assert_eq!(r.code, 4);
    assert_eq!(std::fs::read_to_string(&kh).unwrap(), text);
}

#[test]
fn unknown_host_key_needs_opt_in_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let kh = dir
        .path()
        .join("new_known_hosts")
        .to_string_lossy()
        .into_owned();
    let over = with_known_hosts(dir.path(), &kh);
    let r = hoist(
        &["ping", "lab2", "-i", &inv(), "-i", &over, "-o", "json"],
        &[],
    );
    assert_eq!(r.code, 4);
    let err = row(&r.json(), "lab2")["error"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        err.contains("unknown host key") && err.contains("--accept-new-host-keys"),
        "{err}"
    );
    assert!(
        !std::path::Path::new(&kh).exists(),
        "nothing written without the opt-in"
    );
    let r = hoist(
        &[
            "ping",
            "lab2",
            "-i",
            &inv(),
            "-i",
            &over,
            "--accept-new-host-keys",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let recorded = std::fs::read_to_string(&kh).unwrap();
    assert!(
        recorded.starts_with("10.77.0.12 ssh-ed25519 "),
        "{recorded}"
    );
    // Now known: strict mode accepts it.
    let r = hoist(&["ping", "lab2", "-i", &inv(), "-i", &over], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn hashed_known_hosts_entries_verify() {
    let dir = tempfile::tempdir().unwrap();
    let lab_kh = std::fs::read_to_string(lab_state().join("known_hosts")).unwrap();
    let kh = write(dir.path(), "hashed", &lab_kh);
    let ok = std::process::Command::new("ssh-keygen")
        .args(["-H", "-f", &kh])
        .output()
        .unwrap()
        .status
        .success();
    assert!(ok);
    assert!(std::fs::read_to_string(&kh).unwrap().starts_with("|1|"));
    let over = with_known_hosts(dir.path(), &kh);
    let r = hoist(&["ping", "lab", "-i", &inv(), "-i", &over], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}
