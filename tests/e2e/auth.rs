//! Authentication: passphrase-protected keys, wrong passphrase, missing key file, refused
//! auth, ssh-agent, and become (sudo) from an unprivileged user.

use crate::support::*;
use std::process::Command;

fn inv() -> String {
    lab_inventory().to_string_lossy().into_owned()
}

/// An inventory giving lab3 (only) the key file `key`.
fn lab3_with_key(dir: &std::path::Path, key: &str) -> String {
    write(
        dir,
        "key.yml",
        &format!("all:\n  hosts:\n    lab3:\n      ansible_ssh_private_key_file: {key}\n"),
    )
}

fn authorize_on_lab3(key: &str) {
    let public = std::fs::read_to_string(format!("{key}.pub")).unwrap();
    on_host(
        "lab3",
        &format!("echo '{}' >> /root/.ssh/authorized_keys", public.trim()),
    );
}

#[test]
fn passphrase_protected_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path(), "enc", "correct horse");
    authorize_on_lab3(&key);
    let over = lab3_with_key(dir.path(), &key);
    let args = ["exec", "lab3", "-i", &inv(), "-i", &over, "--", "true"];
    let r = hoist(&args, &[]);
    assert_eq!(r.code, 4, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("protected by a passphrase")
            && r.stdout.contains("HOIST_SSH_KEY_PASSPHRASE"),
        "{}",
        r.stdout
    );
    let r = hoist(&args, &[("HOIST_SSH_KEY_PASSPHRASE", "wrong")]);
    assert_eq!(r.code, 4);
    assert!(r.stdout.contains("wrong passphrase"), "{}", r.stdout);
    assert!(!r.stdout.contains("correct horse") && !r.stderr.contains("wrong\n"));
    let r = hoist(&args, &[("HOIST_SSH_KEY_PASSPHRASE", "correct horse")]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    // Or from hoist's secret store (here its environment backend).
    let r = hoist(
        &args,
        &[("HOIST_SECRET_SSH_KEY_PASSPHRASE", "correct horse")],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn become_password_from_the_secret_store_is_used_and_never_shown() {
    let password = "Sud0-pw-for-ops2";
    on_host(
        "lab4",
        &format!(
            "id ops2 >/dev/null 2>&1 || useradd -m -s /bin/bash ops2; echo 'ops2:{password}' | chpasswd; \
             install -d -m 700 -o ops2 -g ops2 /home/ops2/.ssh; \
             install -m 600 -o ops2 -g ops2 /root/.ssh/authorized_keys /home/ops2/.ssh/authorized_keys; \
             echo 'ops2 ALL=(ALL) ALL' > /etc/sudoers.d/ops2; chmod 440 /etc/sudoers.d/ops2"
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let over = write(
        dir.path(),
        "ops2.yml",
        "all:\n  hosts:\n    lab4:\n      ansible_user: ops2\n      ansible_become_password: \"{{ secret('sudo-ops2') }}\"\n",
    );
    let book = write(
        dir.path(),
        "whoami.yml",
        "- hosts: lab4\n  gather_facts: false\n  become: true\n  tasks:\n    - command: id -un\n      register: who\n    - assert: { that: [\"who.stdout == 'root'\"] }\n",
    );
    let args = ["run", "-i", &inv(), "-i", &over, &book, "-v"];
    let r = hoist(&args, &[("HOIST_SECRET_SUDO_OPS2", password)]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains(password) && !r.stderr.contains(password));
    let r = hoist(&args, &[("HOIST_SECRET_SUDO_OPS2", "not-the-password")]);
    assert_eq!(r.code, 2, "a wrong password fails the task: {}", r.stdout);
    assert!(!r.stdout.contains("not-the-password"), "{}", r.stdout);
}

#[test]
fn missing_key_file_and_refused_auth() {
    let dir = tempfile::tempdir().unwrap();
    let over = lab3_with_key(dir.path(), "/nonexistent/id_ed25519");
    let r = hoist(&["ping", "lab3", "-i", &inv(), "-i", &over], &[]);
    assert_eq!(r.code, 4);
    assert!(
        r.stdout
            .contains("private key file /nonexistent/id_ed25519 does not exist"),
        "{}",
        r.stdout
    );
    let stranger = keygen(dir.path(), "stranger", "");
    let over = lab3_with_key(dir.path(), &stranger);
    let r = hoist(&["ping", "lab3", "-i", &inv(), "-i", &over], &[]);
    assert_eq!(r.code, 4);
    assert!(
        r.stdout.contains("authentication refused for user root"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&stranger),
        "names the key tried: {}",
        r.stdout
    );
}

#[test]
fn ssh_agent_identities_are_used() {
    let dir = tempfile::tempdir().unwrap();
    let agent_key = keygen(dir.path(), "agentkey", "");
    authorize_on_lab3(&agent_key);
    let stranger = keygen(dir.path(), "stranger", "");
    let sock = dir.path().join("agent.sock");
    let mut agent = Command::new("ssh-agent")
        .args(["-D", "-a"])
        .arg(&sock)
        .spawn()
        .expect("ssh-agent");
    for _ in 0..100 {
        if sock.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let sock_s = sock.to_string_lossy().into_owned();
    let added = Command::new("ssh-add")
        .arg(&agent_key)
        .env("SSH_AUTH_SOCK", &sock_s)
        .output()
        .unwrap();
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let over = lab3_with_key(dir.path(), &stranger);
    let r = hoist(
        &["ping", "lab3", "-i", &inv(), "-i", &over],
        &[("SSH_AUTH_SOCK", &sock_s)],
    );
    let _ = agent.kill();
    let _ = agent.wait();
    assert_eq!(
        r.code, 0,
        "the file key is refused, the agent key works: {}{}",
        r.stdout, r.stderr
    );
}

#[test]
fn become_root_with_sudo() {
    on_host(
        "lab3",
        "id deploy >/dev/null 2>&1 || useradd -m -s /bin/bash deploy; \
         install -d -m 700 -o deploy -g deploy /home/deploy/.ssh; \
         install -m 600 -o deploy -g deploy /root/.ssh/authorized_keys /home/deploy/.ssh/authorized_keys; \
         echo 'deploy ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/deploy; chmod 440 /etc/sudoers.d/deploy",
    );
    let dir = tempfile::tempdir().unwrap();
    let plain = write(
        dir.path(),
        "deploy.yml",
        "all:\n  hosts:\n    lab3:\n      ansible_user: deploy\n",
    );
    let r = hoist(
        &[
            "exec",
            "lab3",
            "-i",
            &inv(),
            "-i",
            &plain,
            "-o",
            "json",
            "--",
            "id -un",
        ],
        &[],
    );
    assert_eq!(row(&r.json(), "lab3")["stdout"], "deploy\n");
    let become_ = write(
        dir.path(),
        "become.yml",
        "all:\n  hosts:\n    lab3:\n      ansible_user: deploy\n      ansible_become: true\n",
    );
    let r = hoist(
        &[
            "exec",
            "lab3",
            "-i",
            &inv(),
            "-i",
            &become_,
            "-o",
            "json",
            "--",
            "id -un; echo \"$HOME\"",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(row(&r.json(), "lab3")["stdout"], "root\n/root\n");
}
