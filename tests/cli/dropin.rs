//! hoist linked as `ansible-playbook` and `ansible`: their command lines, and the output lines
//! scripts written for them parse (the recap, ad-hoc results).

use super::Run;
use std::path::Path;
use std::process::Command;

fn linked(dir: &Path, name: &str, args: &[&str]) -> Run {
    let link = dir.join(name);
    if !link.exists() {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_hoist"), &link).unwrap();
    }
    let out = Command::new(&link)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("HOIST_INVENTORY")
        .output()
        .expect("hoist runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const INV: &str = "all:\n  hosts:\n    ctl:\n      ansible_connection: local\n";

#[test]
fn as_ansible_playbook_it_takes_its_flags_and_prints_its_recap() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("inv.yml"), INV).unwrap();
    std::fs::write(
        d.path().join("pb.yml"),
        "- hosts: all\n  gather_facts: false\n  tasks:\n    - command: 'true'\n      tags: [a]\n    - debug: {msg: hi}\n      tags: [b]\n",
    )
    .unwrap();
    let r = linked(
        d.path(),
        "ansible-playbook",
        &["pb.yml", "-i", "inv.yml", "-vv", "--tags", "a"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("1 plays in pb.yml"), "{}", r.stdout);
    let recap = r
        .stdout
        .lines()
        .find(|l| l.starts_with("ctl "))
        .unwrap_or_default();
    assert!(
        recap.contains(": ok=1 ") && recap.contains("changed=1 ") && recap.contains("failed=0 "),
        "{recap}"
    );
    let l = linked(
        d.path(),
        "ansible-playbook",
        &["pb.yml", "-i", "inv.yml", "--list-tasks"],
    );
    assert!(
        l.stdout.contains("command\tTAGS: [a]") && l.stdout.contains("debug\tTAGS: [b]"),
        "{}",
        l.stdout
    );
}

#[test]
fn as_ansible_it_runs_one_module_and_prints_ad_hoc_lines() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("inv.yml"), INV).unwrap();
    let r = linked(d.path(), "ansible", &["all", "-i", "inv.yml", "-m", "ping"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(
        r.stdout,
        "ctl | SUCCESS => {\n    \"changed\": false,\n    \"ping\": \"pong\"\n}\n"
    );
    let r = linked(
        d.path(),
        "ansible",
        &[
            "ctl",
            "-i",
            "inv.yml",
            "-m",
            "shell",
            "-a",
            "echo out; exit 3",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(
        r.stdout.starts_with("ctl | FAILED | rc=3 >>\nout"),
        "{}",
        r.stdout
    );
    let left: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".hoist-adhoc"))
        .collect();
    assert!(left.is_empty(), "the ad-hoc playbook is removed");
}
