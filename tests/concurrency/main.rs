//! Concurrency on a lab of many hosts (tests/run.sh brings up 50 and sets
//! `HOIST_MANY_LAB_INVENTORY`): delegation from every host to one, `throttle`, and concurrent
//! read-modify-write edits of one file, each under a watchdog so a hang fails the test instead
//! of stalling CI. Concurrency counts are measured on the hosts, never by timing.

#[allow(dead_code)]
#[path = "../e2e/support.rs"]
mod support;

use std::path::PathBuf;
use std::time::Duration;

/// The many-host lab's inventory, and how many hosts the tests share (at least 10): all but
/// the last, which the dead-peer test crashes.
fn lab() -> (String, usize) {
    let Some(inv) = std::env::var_os("HOIST_MANY_LAB_INVENTORY") else {
        panic!(
            "the concurrency tests need the many-host lab: run them through tests/run.sh (it sets HOIST_MANY_LAB_INVENTORY)"
        );
    };
    let text = std::fs::read_to_string(&inv).expect("the lab inventory is readable");
    let hosts = text.matches("ansible_host:").count();
    assert!(
        hosts >= 11,
        "the many-host lab has {hosts} hosts, fewer than 11"
    );
    (PathBuf::from(inv).to_string_lossy().into_owned(), hosts - 1)
}

fn scratch() -> tempfile::TempDir {
    tempfile::tempdir().expect("a scratch directory")
}

/// `hoist run` with `-f forks` under a watchdog; asserts it succeeded.
fn run(inv: &str, book: &str, forks: usize, extra: &[&str]) -> support::Run {
    let forks = forks.to_string();
    let limit = format!("lab:!lab{}", last_host(inv));
    let mut args = vec!["run", "-i", inv, book, "-f", &forks, "-l", &limit];
    args.extend_from_slice(extra);
    let r = support::hoist_within(Duration::from_secs(180), &args, &[]);
    assert_eq!(r.code, 0, "hoist run failed:\n{}\n{}", r.stdout, r.stderr);
    r
}

/// The number of the lab's last host (kept out of the shared tests).
fn last_host(inv: &str) -> usize {
    let text = std::fs::read_to_string(inv).expect("the lab inventory is readable");
    text.matches("ansible_host:").count()
}

/// One lab host's command output (through ssh with the lab's key).
fn on_lab1(cmd: &str) -> String {
    let state = support::lab_state();
    let out = std::process::Command::new("ssh")
        .args(["-i"])
        .arg(state.join("id_ed25519"))
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            state.join("known_hosts").display()
        ))
        .args(["-o", "BatchMode=yes", "root@10.77.0.11", cmd])
        .output()
        .expect("ssh runs");
    assert!(out.status.success(), "`{cmd}` on lab1: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_host_delegating_to_one_completes_and_no_line_is_lost() {
    let (inv, n) = lab();
    let d = scratch();
    let path = format!("/tmp/hoist-deleg-{}", std::process::id());
    let book = support::write(
        d.path(),
        "deleg.yml",
        &format!(
            r##"- hosts: lab
  gather_facts: false
  tasks:
    - name: a command on lab1 for every host
      command: echo "ran for {{{{ inventory_hostname }}}}"
      delegate_to: lab1
      register: ran
    - name: every host adds its line to one file on lab1
      lineinfile:
        path: {path}
        line: "{{{{ inventory_hostname }}}}"
        create: true
      delegate_to: lab1
    - name: and a block on lab1 (one file edited twice per host)
      blockinfile:
        path: {path}.blocks
        create: true
        marker: "# {{mark}} {{{{ inventory_hostname }}}}"
        block: "{{{{ inventory_hostname }}}} was here"
      delegate_to: lab1
"##
        ),
    );
    let r = run(&inv, &book, n, &[]);
    for i in 1..=n {
        assert!(
            r.stdout.contains(&format!("[lab{i} -> lab1]")) || i == 1,
            "lab{i} has no delegated result:\n{}",
            r.stdout
        );
    }
    let lines: std::collections::BTreeSet<String> = on_lab1(&format!("cat {path}"))
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), n, "one line per host survived: {lines:?}");
    let blocks = on_lab1(&format!("grep -c 'was here' {path}.blocks"));
    assert_eq!(blocks.trim(), n.to_string(), "one block per host survived");
    // Run again: the edits find nothing to change (and still no hang).
    let again = run(&inv, &book, n, &["-o", "json"]);
    let edits: Vec<_> = events(&again.stdout)
        .into_iter()
        .filter(|e| e["event"] == "host_result" && e["action"] != "command")
        .collect();
    assert_eq!(edits.len(), 2 * n, "two edit results per host");
    for e in edits {
        assert_eq!(e["status"], "ok", "an edit changed on the second run: {e}");
    }
    on_lab1(&format!("rm -f {path} {path}.blocks"));
}

#[test]
fn two_runs_editing_one_file_at_once_lose_no_update() {
    let (inv, n) = lab();
    let d = scratch();
    let path = format!("/tmp/hoist-two-runs-{}", std::process::id());
    let book = support::write(
        d.path(),
        "lines.yml",
        &format!(
            "- hosts: lab\n  gather_facts: false\n  tasks:\n    - lineinfile:\n        path: {path}\n        line: \"{{{{ inventory_hostname }}}}-{{{{ tag }}}}\"\n        create: true\n      delegate_to: lab1\n"
        ),
    );
    // Two hoist processes: the per-path turn inside one run cannot order them, the write's
    // check that the file is still what was read must.
    let threads: Vec<_> = ["a", "b"]
        .into_iter()
        .map(|tag| {
            let (inv, book) = (inv.clone(), book.clone());
            std::thread::spawn(move || run(&inv, &book, n, &["-e", &format!("tag={tag}")]))
        })
        .collect();
    for t in threads {
        t.join().expect("a run thread");
    }
    let lines = on_lab1(&format!("sort -u {path} | wc -l"));
    assert_eq!(lines.trim(), (2 * n).to_string(), "every line of both runs");
    on_lab1(&format!("rm -f {path}"));
}

/// The events of `hoist run -o json` (one JSON object a line).
fn events(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The most hosts that were inside the task at once, measured on the controller: each host
/// adds a file to a directory, counts the files, waits, removes its own.
fn peak(stdout: &str, task: &str) -> usize {
    events(stdout)
        .iter()
        .filter(|e| e["event"] == "host_result" && e["task"] == task)
        .filter_map(|e| e["result"]["stdout"].as_str()?.trim().parse::<usize>().ok())
        .max()
        .unwrap_or_else(|| panic!("no counts for `{task}` in {stdout}"))
}

#[test]
fn throttle_caps_how_many_hosts_run_a_task_at_once() {
    let (inv, n) = lab();
    let d = scratch();
    let dir = d.path().join("inside");
    let count = format!(
        "mkdir -p {dir} && touch {dir}/{{{{ inventory_hostname }}}}-$$ && ls {dir} | wc -l > {dir}/.n-{{{{ inventory_hostname }}}} && sleep 0.4 && cat {dir}/.n-{{{{ inventory_hostname }}}} && rm -f {dir}/{{{{ inventory_hostname }}}}-$$ {dir}/.n-{{{{ inventory_hostname }}}}",
        dir = dir.display()
    );
    let book = support::write(
        d.path(),
        "throttle.yml",
        &format!(
            r#"- hosts: lab
  gather_facts: false
  tasks:
    - name: unthrottled
      shell: "{count}"
      delegate_to: localhost
    - name: task throttle 3
      shell: "{count}"
      delegate_to: localhost
      throttle: 3
    - block:
        - name: block throttle 2
          shell: "{count}"
          delegate_to: localhost
        - name: the task's own throttle wins
          shell: "{count}"
          delegate_to: localhost
          throttle: 5
      throttle: 2
    - name: templated throttle
      shell: "{count}"
      delegate_to: localhost
      throttle: "{{{{ 1 + 1 }}}}"
"#
        ),
    );
    let r = run(&inv, &book, n, &["-o", "json"]);
    let unthrottled = peak(&r.stdout, "unthrottled");
    assert!(
        unthrottled > 5,
        "without throttle more than 5 hosts ran at once ({unthrottled})"
    );
    assert!(peak(&r.stdout, "task throttle 3") <= 3);
    assert!(peak(&r.stdout, "block throttle 2") <= 2);
    let own = peak(&r.stdout, "the task's own throttle wins");
    assert!(
        (3..=5).contains(&own),
        "task throttle 5 inside a block of 2: {own} at once"
    );
    assert!(peak(&r.stdout, "templated throttle") <= 2);

    // A throttle that is not an integer fails the task on every host with ansible-core's words.
    let bad = support::write(
        d.path(),
        "bad.yml",
        "- hosts: lab\n  gather_facts: false\n  tasks:\n    - debug: {msg: x}\n      throttle: \"{{ 'nope' }}\"\n",
    );
    let limit = format!("lab:!lab{}", last_host(&inv));
    let r = support::hoist_within(
        Duration::from_secs(60),
        &["run", "-i", &inv, &bad, "-l", &limit],
        &[],
    );
    assert_ne!(r.code, 0);
    assert!(
        r.stdout
            .contains("Failed to convert the throttle value to an integer"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_host_that_dies_mid_task_is_unreachable_within_the_keepalive_budget() {
    let (inv, _) = lab();
    let victim = format!("lab{}", last_host(&inv));
    let d = scratch();
    let book = support::write(
        d.path(),
        "dead.yml",
        &format!("- hosts: {victim}\n  gather_facts: false\n  tasks:\n    - command: sleep 300\n"),
    );
    let killer = {
        let victim = victim.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(3));
            support::hoist(&["lab", "kill", &victim], &[])
        })
    };
    let t0 = std::time::Instant::now();
    // Keepalives every 2 s, 3 unanswered: the host is given up about 6 s after it died.
    let r = support::hoist_within(
        Duration::from_secs(120),
        &[
            "run",
            "-i",
            &inv,
            &book,
            "-o",
            "json",
            "--keepalive-interval",
            "2",
            "--keepalive-count",
            "3",
        ],
        &[],
    );
    let took = t0.elapsed();
    let killed = killer.join().expect("the kill thread");
    let back = support::hoist(&["lab", "start", &victim], &[]);
    assert_eq!(killed.code, 0, "lab kill: {}", killed.stderr);
    assert_eq!(back.code, 0, "lab start: {}", back.stderr);
    let unreachable = events(&r.stdout).iter().any(|e| {
        e["event"] == "host_result" && e["host"] == victim.as_str() && e["status"] == "unreachable"
    });
    assert!(
        unreachable,
        "{victim} is reported unreachable: {}{}",
        r.stdout, r.stderr
    );
    assert_ne!(r.code, 0);
    // Killed at 3 s; 2 s x 3 keepalives later it is given up (without keepalives the run
    // would wait for the 300 s command). A generous bound for a loaded machine.
    assert!(
        took < Duration::from_secs(40),
        "the dead host was given up after {took:?}"
    );
}

#[test]
fn reboot_waits_until_the_host_booted_again() {
    let (inv, _) = lab();
    // The last host is kept out of the other tests (they limit to `lab:!labN`).
    let victim = format!("lab{}", last_host(&inv));
    let d = scratch();
    let book = support::write(
        d.path(),
        "reboot.yml",
        &format!(
            "- hosts: {victim}\n  gather_facts: false\n  tasks:\n    - command: cat /proc/sys/kernel/random/boot_id\n      register: before\n    - name: checked\n      reboot:\n      check_mode: true\n    - command: cat /proc/sys/kernel/random/boot_id\n      register: unchanged\n    - name: rebooted\n      reboot: {{reboot_timeout: 120, post_reboot_delay: 1}}\n      register: rebooted\n    - command: cat /proc/sys/kernel/random/boot_id\n      register: after\n    - name: verdict\n      assert:\n        that:\n          - unchanged.stdout == before.stdout\n          - rebooted is changed\n          - rebooted.rebooted\n          - rebooted.elapsed >= 1\n          - after.stdout != before.stdout\n"
        ),
    );
    let r = support::hoist_within(
        Duration::from_secs(240),
        &["run", "-i", &inv, &book, "-o", "json"],
        &[],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let verdict = events(&r.stdout)
        .into_iter()
        .any(|e| e["event"] == "host_result" && e["task"] == "verdict" && e["status"] == "ok");
    assert!(verdict, "{}", r.stdout);
}
