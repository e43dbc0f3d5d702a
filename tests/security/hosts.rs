//! Holes 4, 5, 7 and 8 on the lab: the become password never reaches a shell or a command, a
//! planted archive is never unpacked, `@revoked` anywhere refuses the key, and hostile strings in
//! module arguments stay data.

use crate::sh as on_host;
use crate::support::{hoist, lab_inventory, row, write};
use crate::{marker, run_json};

fn inv() -> String {
    lab_inventory().display().to_string()
}

/// A user on `host` who logs in with the lab key, with the given sudoers rule.
fn sudo_user(host: &str, user: &str, rule: &str, password: &str) {
    on_host(
        host,
        &format!(
            "id {user} >/dev/null 2>&1 || useradd -m -s /bin/sh {user}; \
             echo '{user}:{password}' | chpasswd; \
             install -d -m 700 -o {user} -g {user} /home/{user}/.ssh; \
             install -m 600 -o {user} -g {user} /root/.ssh/authorized_keys /home/{user}/.ssh/authorized_keys; \
             echo '{user} {rule}' > /etc/sudoers.d/{user}; chmod 440 /etc/sudoers.d/{user}; \
             rm -f /tmp/become-leak-{user}"
        ),
    );
}

#[test]
fn the_become_password_is_sent_only_to_sudos_own_prompt() {
    // The password is a shell command: written blindly, a NOPASSWD sudo's shell would run it
    // (the old persistent-shell hole) and `hoist exec` would hand it to the command on stdin.
    let leak = |user: &str| format!("touch /tmp/become-leak-{user}; echo LEAKED");
    sudo_user("lab2", "nopw", "ALL=(ALL) NOPASSWD: ALL", "unused-pw-1");
    sudo_user("lab2", "withpw", "ALL=(ALL) ALL", "right-pw-123");
    let dir = tempfile::tempdir().expect("tempdir");
    let nopw = write(
        dir.path(),
        "nopw.yml",
        &format!(
            "all:\n  hosts:\n    lab2:\n      ansible_user: nopw\n      ansible_become: true\n      ansible_become_password: \"{}\"\n",
            leak("nopw")
        ),
    );
    // `hoist exec`: the command reads its stdin; it must be empty, not the password.
    let exec_cat = |extra: &str| {
        hoist(
            &[
                "exec",
                "lab2",
                "-i",
                &inv(),
                "-i",
                extra,
                "-o",
                "json",
                "--",
                "id -un; cat",
            ],
            &[],
        )
    };
    let r = exec_cat(&nopw);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(row(&r.json(), "lab2")["stdout"], "root\n", "{}", r.stdout);
    // A playbook (persistent shells under sudo): the password never becomes a command.
    let book = write(
        dir.path(),
        "book.yml",
        "- hosts: lab2\n  gather_facts: false\n  tasks:\n    - name: who\n      command: id -un\n      register: who\n    - name: again\n      shell: cat; id -un\n",
    );
    let (code, events, stderr) = run_json(&["-i", &inv(), "-i", &nopw, &book]);
    assert_eq!(code, 0, "{events:?}\n{stderr}");
    let all = serde_json::to_string(&events).unwrap_or_default();
    assert!(!all.contains("LEAKED"), "{all}");
    assert!(
        crate::debug_msgs(&events, "who").is_empty()
            && events
                .iter()
                .any(|e| e["task"] == "who" && e["result"]["stdout"] == "root")
    );
    let left = on_host("lab2", "ls /tmp/become-leak-nopw 2>/dev/null | wc -l");
    assert_eq!(left.trim(), "0", "the password ran as a command");
    // A password rule: the right password works, a wrong one is refused clearly.
    for (pw, ok) in [("right-pw-123", true), ("wrong-pw-456", false)] {
        let with = write(
            dir.path(),
            "withpw.yml",
            &format!(
                "all:\n  hosts:\n    lab2:\n      ansible_user: withpw\n      ansible_become: true\n      ansible_become_password: {pw}\n"
            ),
        );
        let r = exec_cat(&with);
        let out = format!("{}{}", r.stdout, r.stderr);
        assert!(!out.contains(pw), "the password was echoed: {out}");
        if ok {
            assert_eq!(row(&r.json(), "lab2")["stdout"], "root\n", "{out}");
        } else {
            assert_ne!(r.code, 0, "{out}");
            assert!(out.contains("Incorrect sudo password"), "{out}");
        }
        let (code, events, stderr) = run_json(&["-i", &inv(), "-i", &with, &book]);
        assert_eq!(code == 0, ok, "{events:?}\n{stderr}");
    }
}

#[test]
fn unarchive_never_unpacks_a_planted_archive_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("good.txt"), "ours\n").expect("write");
    let tgz = dir.path().join("ours.tar.gz");
    let ok = std::process::Command::new("tar")
        .args(["-czf"])
        .arg(&tgz)
        .args(["-C"])
        .arg(&src)
        .arg("good.txt")
        .status()
        .expect("tar")
        .success();
    assert!(ok);
    let sum = {
        use sha1_smol_like::hex_sha1;
        hex_sha1(&std::fs::read(&tgz).expect("read"))
    };
    // The old fixed name: a local user plants another archive there first.
    on_host(
        "lab1",
        &format!(
            "rm -rf /srv/hoist-unarc && mkdir -p /srv/hoist-unarc /tmp/evil && echo evil > /tmp/evil/evil.txt && \
             tar -czf /tmp/.hoist-unarchive-{sum} -C /tmp/evil evil.txt && chmod 666 /tmp/.hoist-unarchive-{sum}"
        ),
    );
    let book = write(
        dir.path(),
        "book.yml",
        &format!(
            "- hosts: lab1\n  gather_facts: false\n  tasks:\n    - unarchive:\n        src: {}\n        dest: /srv/hoist-unarc\n",
            tgz.display()
        ),
    );
    let (code, events, stderr) = run_json(&["-i", &inv(), &book]);
    assert_eq!(code, 0, "{events:?}\n{stderr}");
    let listing = on_host(
        "lab1",
        "ls /srv/hoist-unarc; ls -d /tmp/hoist-unarchive.* 2>/dev/null | wc -l",
    );
    assert_eq!(
        listing, "good.txt\n0\n",
        "unpacked the planted archive or left the upload behind"
    );
    on_host("lab1", &format!("rm -f /tmp/.hoist-unarchive-{sum}"));
}

/// SHA-1 for the planted name (the digest the old code used), without another dependency.
mod sha1_smol_like {
    pub fn hex_sha1(data: &[u8]) -> String {
        let out = std::process::Command::new("sha1sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                if let Some(mut i) = c.stdin.take() {
                    i.write_all(data)?;
                }
                c.wait_with_output()
            })
            .expect("sha1sum");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

#[test]
fn a_key_revoked_after_its_plain_entry_is_refused() {
    let state = crate::support::lab_state();
    let known = std::fs::read_to_string(state.join("known_hosts")).expect("lab known_hosts");
    let line = known
        .lines()
        .find(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|h| h.split(',').any(|n| n == "10.77.0.11"))
        })
        .expect("lab1's key")
        .to_string();
    let mut f = line.split_whitespace();
    let (_host, kind, key) = (
        f.next(),
        f.next().unwrap_or_default(),
        f.next().unwrap_or_default(),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    // An inventory of lab1 that checks host keys against `known` only.
    let inventory = |known: &str| {
        write(
            dir.path(),
            "inv.yml",
            &format!(
                "all:\n  vars:\n    ansible_user: root\n    ansible_ssh_private_key_file: {}\n    ansible_ssh_common_args: \"-o UserKnownHostsFile={known} -o StrictHostKeyChecking=yes\"\n  hosts:\n    lab1:\n      ansible_host: 10.77.0.11\n",
                state.join("id_ed25519").display()
            ),
        )
    };
    let file = write(
        dir.path(),
        "known",
        &format!("{line}\n@revoked * {kind} {key}\n"),
    );
    let r = hoist(&["ping", "lab1", "-i", &inventory(&file)], &[]);
    let out = format!("{}{}", r.stdout, r.stderr);
    assert_ne!(r.code, 0, "a revoked key was accepted: {out}");
    assert!(out.contains("revoked"), "{out}");
    // Without the revocation the same file is accepted (the test can fail).
    let file = write(dir.path(), "known2", &format!("{line}\n"));
    let r = hoist(&["ping", "lab1", "-i", &inventory(&file)], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn hostile_module_arguments_stay_data() {
    let mark = marker("tcp-check");
    let _ = std::fs::remove_file(&mark);
    let m = mark.display();
    on_host("lab1", "rm -f /tmp/hoist-svc-pwned /tmp/hoist-apt-pwned");
    let dir = tempfile::tempdir().expect("tempdir");
    let book = write(
        dir.path(),
        "book.yml",
        &format!(
            r#"- hosts: lab1
  gather_facts: false
  tasks:
    - name: tcp check host
      health_check:
        checks:
          - name: hostile
            tcp: "127.0.0.1/1$(touch {m})`touch {m}`; touch {m}; #:22"
      delegate_to: localhost
      ignore_errors: true
    - name: sysv service name
      service:
        name: "x; touch /tmp/hoist-svc-pwned; #"
        enabled: true
        use: sysvinit
      check_mode: true
      ignore_errors: true
    - name: apt option as a name
      apt:
        name: "-oDPkg::Pre-Invoke::=touch /tmp/hoist-apt-pwned"
      ignore_errors: true
"#
        ),
    );
    let (_code, events, stderr) = run_json(&["-i", &inv(), &book]);
    let tcp = events
        .iter()
        .find(|e| e["event"] == "host_result" && e["task"] == "tcp check host")
        .unwrap_or_else(|| panic!("the check ran: {events:?}\n{stderr}"));
    assert_eq!(tcp["status"], "ignored", "{tcp}");
    assert!(
        !mark.exists(),
        "a health check host ran on the controller: {stderr}"
    );
    let left = on_host(
        "lab1",
        "ls /tmp/hoist-svc-pwned /tmp/hoist-apt-pwned 2>/dev/null | wc -l",
    );
    assert_eq!(left.trim(), "0", "{events:?}");
    let apt = events
        .iter()
        .find(|e| e["event"] == "host_result" && e["task"] == "apt option as a name")
        .expect("apt ran");
    assert!(
        apt["result"]["msg"]
            .as_str()
            .unwrap_or("")
            .contains("is not a package name"),
        "{apt}"
    );
}

#[test]
fn a_background_job_keeps_its_script_out_of_every_argv() {
    let secret = format!("hoist-argv-secret-{}", std::process::id());
    let dir = tempfile::tempdir().expect("tempdir");
    let book = write(
        dir.path(),
        "book.yml",
        &format!(
            "- hosts: lab3\n  gather_facts: false\n  tasks:\n    - name: job\n      shell: \"t={secret}; sleep 4; echo done\"\n      async: 30\n      poll: 0\n      register: job\n    - name: wait\n      async_status:\n        jid: \"{{{{ job.ansible_job_id }}}}\"\n      register: st\n      until: st.finished\n      retries: 20\n      delay: 1\n"
        ),
    );
    let inv = inv();
    let watcher = std::thread::spawn(move || {
        // What every process on the host shows while the job runs.
        let mut seen = String::new();
        for _ in 0..8 {
            seen.push_str(&on_host("lab3", "ps -eo args"));
            std::thread::sleep(std::time::Duration::from_millis(400));
        }
        seen
    });
    let (code, events, stderr) = run_json(&["-i", &inv, &book]);
    let seen = watcher.join().expect("watcher");
    assert_eq!(code, 0, "{events:?}\n{stderr}");
    assert!(
        seen.contains("sleep 4"),
        "the watcher saw the job running: {seen}"
    );
    assert!(
        !seen.contains(&secret),
        "the job's script is in a process's argv:\n{seen}"
    );
    let left = on_host("lab3", "ls ~/.ansible_async/*.sh 2>/dev/null | wc -l");
    assert_eq!(
        left.trim(),
        "0",
        "the job's script file is removed when it ends"
    );
}

#[test]
fn fetch_never_writes_outside_its_destination() {
    on_host("lab1", "echo planted > /tmp/hoist-fetch-escape");
    let escape = std::env::temp_dir().join(format!("hoist-fetch-escape-{}", std::process::id()));
    let _ = std::fs::remove_file(&escape);
    let dest = tempfile::tempdir().expect("tempdir");
    // Enough `..` to climb out of dest/lab1/ on the controller (on the host it is /tmp/...).
    let climb = "/..".repeat(dest.path().components().count() + 3);
    let src = format!("{climb}{}", escape.display());
    on_host(
        "lab1",
        &format!("cp /tmp/hoist-fetch-escape {}", escape.display()),
    );
    let book = write(
        dest.path(),
        "book.yml",
        &format!(
            "- hosts: lab1\n  gather_facts: false\n  tasks:\n    - name: fetch\n      fetch:\n        src: \"{src}\"\n        dest: {}/spool/\n      ignore_errors: true\n",
            dest.path().display()
        ),
    );
    let (_code, events, stderr) = run_json(&["-i", &inv(), &book]);
    assert!(
        !escape.exists(),
        "fetch wrote outside dest: {events:?}\n{stderr}"
    );
    let r = events
        .iter()
        .find(|e| e["event"] == "host_result" && e["task"] == "fetch")
        .unwrap_or_else(|| panic!("{events:?}\n{stderr}"));
    assert_eq!(r["status"], "ignored", "{r}");
    assert!(
        r["result"]["msg"]
            .as_str()
            .unwrap_or("")
            .contains("leaves the destination"),
        "{r}"
    );
    on_host(
        "lab1",
        &format!("rm -f /tmp/hoist-fetch-escape {}", escape.display()),
    );
}
