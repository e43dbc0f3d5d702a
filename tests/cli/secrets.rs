//! `hoist secret` on every backend this machine has: the encrypted file, the environment, the
//! kernel keyring (under `keyctl session`) and the Secret Service (gnome-keyring under
//! `dbus-run-session`), each also read by a playbook through `secret()` with the value masked.

use super::plugins::{Out, hoist_in};
use std::path::Path;
use std::process::{Command, Stdio};

const HOIST: &str = env!("CARGO_BIN_EXE_hoist");

/// `hoist secret set NAME` with `value` on stdin.
fn set_stdin(dir: &Path, name: &str, value: &str, env: &[(&str, &str)]) -> Out {
    use std::io::Write;
    let mut c = Command::new(HOIST);
    c.current_dir(dir)
        .args(["secret", "set", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().expect("hoist runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{value}\n").as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const PLAY: &str = "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug: msg=\"value={{ secret('deploy-key') }}\"\n    - shell: echo {{ secret('deploy-key') }} | wc -c\n      register: n\n    - assert: { that: [\"n.stdout | int == 18\"] }\n";
const VALUE: &str = "s3cret-Value-1234";

#[test]
fn encrypted_file_backend_round_trip_without_ever_printing_the_value() {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("vault/secrets.enc");
    let f = file.to_str().unwrap();
    let env = [
        ("HOIST_SECRET_FILE", f),
        ("HOIST_SECRET_PASSPHRASE", "pass phrase 1"),
    ];
    let r = set_stdin(d.path(), "deploy-key", VALUE, &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("stored `deploy-key` in file"),
        "{}",
        r.stderr
    );
    let get = hoist_in(d.path(), &["secret", "get", "deploy-key"], &env);
    assert_eq!(get.code, 0, "{}", get.stderr);
    assert!(
        get.stdout
            .contains("`deploy-key` is set in file (17 characters)"),
        "{}",
        get.stdout
    );
    // --reveal writes into a pipe (the test's captured stdout), never to a terminal.
    let rev = hoist_in(d.path(), &["secret", "get", "deploy-key", "--reveal"], &env);
    assert_eq!(rev.stdout, VALUE);
    let list = hoist_in(d.path(), &["secret", "list", "-o", "json"], &env);
    assert!(list.stdout.contains("\"deploy-key\""), "{}", list.stdout);
    let backend = hoist_in(d.path(), &["secret", "backend", "-o", "json"], &env);
    let b: serde_json::Value = serde_json::from_str(&backend.stdout).unwrap();
    assert_eq!(b["backend"], "file");
    assert_eq!(b["writable"], true);
    put_play(d.path());
    let run = hoist_in(d.path(), &["run", "-i", "none.yml", "play.yml", "-v"], &env);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("value=********"), "{}", run.stdout);
    for out in [
        &get.stdout,
        &get.stderr,
        &list.stdout,
        &backend.stdout,
        &run.stdout,
        &run.stderr,
    ] {
        assert!(!out.contains(VALUE), "the value leaked: {out}");
    }
    assert!(!std::fs::read_to_string(&file).unwrap().contains(VALUE));
    let wrong = hoist_in(
        d.path(),
        &["secret", "get", "deploy-key"],
        &[
            ("HOIST_SECRET_FILE", f),
            ("HOIST_SECRET_PASSPHRASE", "nope"),
        ],
    );
    assert_ne!(wrong.code, 0);
    assert!(
        wrong
            .stderr
            .contains("wrong passphrase, or the file was altered"),
        "{}",
        wrong.stderr
    );
    let rm = hoist_in(d.path(), &["secret", "rm", "deploy-key"], &env);
    assert_eq!(rm.code, 0, "{}", rm.stderr);
    let gone = hoist_in(d.path(), &["secret", "get", "deploy-key"], &env);
    assert_eq!(gone.code, 1);
    assert!(
        gone.stderr.contains("or set HOIST_SECRET_DEPLOY_KEY"),
        "{}",
        gone.stderr
    );
}

fn put_play(dir: &Path) {
    std::fs::write(dir.join("play.yml"), PLAY).unwrap();
    std::fs::write(dir.join("none.yml"), "all: {}\n").unwrap();
}

#[test]
fn environment_only_backend_reads_overrides_and_refuses_writes() {
    let d = tempfile::tempdir().unwrap();
    put_play(d.path());
    let env = [
        ("HOIST_SECRET_BACKEND", "env"),
        ("HOIST_SECRET_DEPLOY_KEY", VALUE),
    ];
    let run = hoist_in(
        d.path(),
        &["run", "-i", "none.yml", "play.yml", "-v", "-o", "json"],
        &env,
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        !run.stdout.contains(VALUE) && run.stdout.contains("value=********"),
        "{}",
        run.stdout
    );
    let r = set_stdin(d.path(), "other", VALUE, &env);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("no writable secret store"),
        "{}",
        r.stderr
    );
    let r = set_stdin(d.path(), "bad name!", VALUE, &env);
    assert!(r.stderr.contains("secret name `bad name!`"), "{}", r.stderr);
    let r = hoist_in(d.path(), &["secret", "list"], &env);
    assert!(
        r.stdout.contains("HOIST_SECRET_DEPLOY_KEY") && r.stdout.contains("environment"),
        "{}",
        r.stdout
    );
    // A missing secret fails the task with a message that says where it looked.
    let run = hoist_in(
        d.path(),
        &["run", "-i", "none.yml", "play.yml"],
        &[("HOIST_SECRET_BACKEND", "env")],
    );
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout.contains("secret `deploy-key` is not set"),
        "{}",
        run.stdout
    );
}

/// Runs `script` (sh) with `$HOIST` set, under `wrapper`.
fn wrapped(dir: &Path, wrapper: &[&str], script: &str) -> Out {
    let out = Command::new(wrapper[0])
        .args(&wrapper[1..])
        .args(["sh", "-ec", script])
        .current_dir(dir)
        // A keyring of the test's own (gnome-keyring keeps it under $XDG_DATA_HOME/keyrings).
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("HOIST", HOIST)
        .env("NO_COLOR", "1")
        .env_remove("HOIST_SECRET_FILE")
        .env_remove("HOIST_SECRET_BACKEND")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{} (install keyutils, dbus, gnome-keyring: tests/run.sh does): {e}",
                wrapper[0]
            )
        });
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

const ROUND_TRIP: &str = r#"
echo "s3cret-Value-1234" | $HOIST secret set deploy-key
$HOIST secret backend -o json
$HOIST secret get deploy-key
$HOIST run -i none.yml play.yml -v
$HOIST secret rm deploy-key
$HOIST secret get deploy-key || echo "gone: $?"
"#;

fn check_round_trip(r: &Out, backend: &str) {
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(&format!("\"backend\": \"{backend}\"")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains(&format!("`deploy-key` is set in {backend}")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("value=********"), "{}", r.stdout);
    assert!(r.stdout.contains("gone: 1"), "{}", r.stdout);
    assert!(
        !r.stdout.contains(VALUE) && !r.stderr.contains(VALUE),
        "leaked: {}{}",
        r.stdout,
        r.stderr
    );
}

#[test]
fn kernel_keyring_backend_inside_a_session_keyring() {
    let d = tempfile::tempdir().unwrap();
    put_play(d.path());
    let r = wrapped(d.path(), &["keyctl", "session", "-"], ROUND_TRIP);
    check_round_trip(&r, "keyutils");
}

#[test]
fn secret_service_backend_with_gnome_keyring_on_a_private_bus() {
    let d = tempfile::tempdir().unwrap();
    put_play(d.path());
    let script = format!(
        "printf unlock-pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null\n{ROUND_TRIP}"
    );
    let r = wrapped(d.path(), &["dbus-run-session", "--"], &script);
    check_round_trip(&r, "secret-service");
}
