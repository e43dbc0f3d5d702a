//! Play flow on the lab: `serial` with `max_fail_percentage`, the `free` strategy, `no_log`
//! and `environment`, `--diff` in the human view, `--junit` reports.

use crate::support::{hoist, lab_inventory};
use serde_json::Value;
use std::path::PathBuf;

fn playbook(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/playbooks")
        .join(name)
        .display()
        .to_string()
}

fn run(args: &[&str]) -> (i32, String, Vec<Value>) {
    let inv = lab_inventory();
    let mut all = vec!["run", "-i", inv.to_str().unwrap_or_default()];
    all.extend_from_slice(args);
    let r = hoist(&all, &[]);
    let events = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (r.code, format!("{}{}", r.stdout, r.stderr), events)
}

fn results<'a>(events: &'a [Value], task: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["event"] == "host_result" && e["task"] == task)
        .collect()
}

#[test]
fn serial_batches_stop_at_max_fail_percentage() {
    let (code, out, events) = run(&["-o", "json", &playbook("serial.yml")]);
    assert_eq!(code, 2, "{out}");
    let ran: Vec<&str> = results(&events, "every batch")
        .iter()
        .map(|e| e["host"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(ran.len(), 2, "only the first two batches ran: {ran:?}");
    assert!(events.iter().any(|e| e["event"] == "play_aborted"), "{out}");
    let starts = events
        .iter()
        .filter(|e| e["event"] == "task_start" && e["name"] == "every batch")
        .count();
    assert_eq!(starts, 2, "one task start per batch");
}

#[test]
fn free_strategy_lets_fast_hosts_run_ahead() {
    let (code, out, events) = run(&["-o", "json", &playbook("free.yml")]);
    assert_eq!(code, 0, "{out}");
    let order: Vec<(String, String)> = events
        .iter()
        .filter(|e| e["event"] == "host_result")
        .map(|e| {
            (
                e["host"].as_str().unwrap_or_default().to_string(),
                e["task"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    // The slow host reports its first task last.
    let slow_done = order
        .iter()
        .rposition(|(_, t)| t == "slow on the first host")
        .unwrap();
    let slow_host = order[slow_done].0.clone();
    let fast_second = order
        .iter()
        .position(|(h, t)| *h != slow_host && t == "second step")
        .unwrap();
    assert!(
        fast_second < slow_done,
        "a fast host finished its second task before the slow host's first: {order:?}"
    );
}

#[test]
fn no_log_hides_results_and_environment_arrives() {
    for output in ["json", "table"] {
        let (code, out, _) = run(&["-o", output, "-v", &playbook("secrets.yml")]);
        assert_eq!(code, 0, "{out}");
        assert!(
            !out.contains("s3cr3t-value"),
            "the secret leaked in {output} output:\n{out}"
        );
        assert!(out.contains("censored") || output == "table", "{out}");
    }
}

#[test]
fn diff_mode_shows_unified_diffs() {
    let (_, _, _) = run(&[
        "-o",
        "json",
        "-e",
        "test_id=diff",
        "-e",
        "content=old",
        &playbook("diff.yml"),
    ]);
    let (code, out, _) = run(&[
        "--diff",
        "-e",
        "test_id=diff",
        "-e",
        "content=new",
        &playbook("diff.yml"),
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("--- before: /srv/hoist-e2e/diff/conf"),
        "{out}"
    );
    assert!(out.contains("+++ after: /srv/hoist-e2e/diff/conf"), "{out}");
    assert!(
        out.contains("\n-old\n") && out.contains("\n+new\n"),
        "{out}"
    );
    let (_, out, _) = run(&[
        "--diff",
        "--check",
        "-e",
        "test_id=diff",
        "-e",
        "content=newer",
        &playbook("diff.yml"),
    ]);
    assert!(
        out.contains("\n+newer\n"),
        "check mode shows the diff too: {out}"
    );
    let (_, _, events) = run(&[
        "-e",
        "test_id=diff",
        "-e",
        "content=new",
        "-o",
        "json",
        &playbook("diff.yml"),
    ]);
    let changed = events
        .iter()
        .filter(|e| e["event"] == "host_result" && e["status"] == "changed")
        .count();
    assert_eq!(
        changed, 0,
        "the check run changed nothing on the hosts: {events:?}"
    );
}

#[test]
fn junit_report_lists_every_task_and_host() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.xml");
    let (code, out, _) = run(&[
        "-o",
        "json",
        "--junit",
        report.to_str().unwrap(),
        &playbook("serial.yml"),
    ]);
    assert_eq!(code, 2, "{out}");
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert_eq!(
        xml.matches("<testcase ").count(),
        4,
        "2 batches x 2 tasks: {xml}"
    );
    assert_eq!(
        xml.matches("<failure type=\"failed\" message=\"stop here\"/>")
            .count(),
        1,
        "{xml}"
    );
    assert_eq!(xml.matches("<skipped/>").count(), 1, "{xml}");
}

#[test]
fn persist_reuses_connections_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("mux.sock");
    let pb = crate::support::write(
        dir.path(),
        "pb.yml",
        "- hosts: lab\n  gather_facts: false\n  tasks:\n    - name: client\n      command: sh -c 'echo $SSH_CLIENT'\n      register: c\n      changed_when: false\n    - name: show\n      debug: {var: c.stdout}\n",
    );
    let inv = lab_inventory();
    let env = [("HOIST_MUX_SOCKET", socket.to_str().unwrap())];
    let client = |run: &crate::support::Run| -> Vec<String> {
        let mut v: Vec<String> = run
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["event"] == "host_result" && e["task"] == "show")
            .map(|e| format!("{} {}", e["host"], e["result"]["c.stdout"]))
            .collect();
        v.sort();
        v
    };
    let args = [
        "run",
        "-o",
        "json",
        "--persist",
        "30",
        "-i",
        inv.to_str().unwrap(),
        &pb,
    ];
    let first = hoist(&args, &env);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    let second = hoist(&args, &env);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let (a, b) = (client(&first), client(&second));
    assert!(!a.is_empty(), "{}", first.stdout);
    assert_eq!(
        a, b,
        "the second run used the same connections (same client ports)"
    );
    let stop = hoist(&["mux", "stop"], &env);
    assert_eq!(stop.code, 0, "{}", stop.stderr);
}

#[test]
fn any_errors_fatal_stops_every_host() {
    let (code, out, events) = run(&["-o", "json", &playbook("fatal.yml")]);
    assert_eq!(code, 2, "{out}");
    assert_eq!(
        results(&events, "fails on the first host only")
            .iter()
            .filter(|e| e["status"] == "failed")
            .count(),
        1
    );
    assert!(
        results(&events, "never reached").is_empty(),
        "no host went on: {out}"
    );
    assert!(events.iter().any(|e| e["event"] == "play_aborted"), "{out}");
}

#[test]
fn any_errors_fatal_lets_a_rescue_handle_the_failure() {
    let (code, out, events) = run(&["-o", "json", &playbook("fatal_rescued.yml")]);
    assert_eq!(code, 0, "{out}");
    // As ansible-core: any_errors_fatal fails every host of the batch into the rescue.
    let rescued = results(&events, "rescued");
    let reached = results(&events, "reached by every host");
    assert_eq!(
        rescued.len(),
        reached.len(),
        "every host was rescued: {out}"
    );
    assert!(reached.len() >= 2, "every host went on: {out}");
    assert!(reached.iter().all(|e| e["status"] == "changed"), "{out}");
    assert!(
        !events.iter().any(|e| e["event"] == "play_aborted"),
        "{out}"
    );
}

#[test]
fn boolean_keywords_may_be_templates() {
    let (code, out, events) = run(&["-o", "json", &playbook("templated_keywords.yml")]);
    // The last task fails on the first host: `maybe` is not a boolean.
    assert_eq!(code, 2, "{out}");
    let tolerated = results(&events, "fails but tolerated");
    assert!(
        !tolerated.is_empty() && tolerated.iter().all(|e| e["status"] == "ignored"),
        "{out}"
    );
    assert!(!results(&events, "output kept quiet").is_empty(), "{out}");
    assert!(
        !out.contains("hidden-value-42"),
        "no_log from a template censors: {out}"
    );
    let bad: Vec<_> = results(&events, "not a boolean")
        .into_iter()
        .filter(|e| e["status"] == "failed")
        .collect();
    assert_eq!(bad.len(), 1, "only the host that runs it fails: {out}");
    assert!(
        bad[0]["result"]["msg"]
            .as_str()
            .unwrap_or_default()
            .contains("`ignore_errors`: `{{ 'maybe' }}` gave `maybe`, not a boolean"),
        "{out}"
    );
}

#[test]
fn async_jobs_run_in_the_background_and_are_read_back() {
    let (code, out, events) = run(&["-o", "json", &playbook("async.yml")]);
    assert_eq!(code, 0, "{out}");
    // Every host ran every check; the job over its limit failed and was ignored.
    let hosts = results(&events, "waited for").len();
    assert!(hosts >= 2, "{out}");
    for task in [
        "waited result",
        "its result",
        "gone result",
        "stopped at its limit",
    ] {
        let ok = results(&events, task);
        assert_eq!(ok.len(), hosts, "{task}: {out}");
        assert!(ok.iter().all(|e| e["status"] == "ok"), "{task}: {ok:?}");
    }
    let slow = results(&events, "over its limit");
    assert!(slow.iter().all(|e| e["status"] == "ignored"), "{slow:?}");
}

#[test]
fn ansible_modules_run_in_the_foreground_and_as_async_jobs() {
    // The fallback packages modules with ansible-core on the controller: the one that
    // tests/run.sh installs (the interpreter of HOIST_ANSIBLE_PLAYBOOK).
    let Some(ap) = std::env::var_os("HOIST_ANSIBLE_PLAYBOOK") else {
        panic!("needs ansible-core: run it through tests/run.sh (it sets HOIST_ANSIBLE_PLAYBOOK)");
    };
    let dir = PathBuf::from(ap)
        .parent()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let path = format!("{dir}:{}", std::env::var("PATH").unwrap_or_default());
    let inv = lab_inventory();
    let r = crate::support::hoist(
        &[
            "run",
            "-o",
            "json",
            "-i",
            inv.to_str().unwrap_or_default(),
            &playbook("fallback.yml"),
        ],
        &[("PATH", path.as_str())],
    );
    let out = format!("{}{}", r.stdout, r.stderr);
    assert_eq!(r.code, 0, "{out}");
    let events: Vec<Value> = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let ok = results(&events, "results");
    assert!(ok.len() >= 2, "{out}");
    assert!(ok.iter().all(|e| e["status"] == "ok"), "{ok:?}");
}

#[test]
fn wait_for_connection_reconnects_and_gives_up_in_time() {
    let (code, out, events) = run(&["-o", "json", &playbook("reconnect.yml")]);
    assert_eq!(code, 0, "{out}");
    let ok = results(&events, "reconnected");
    assert!(ok.len() >= 2, "{out}");
    assert!(ok.iter().all(|e| e["status"] == "ok"), "{ok:?}");
    let gave_up = results(&events, "gave up");
    assert_eq!(gave_up.len(), 1, "{out}");
    assert_eq!(gave_up[0]["status"], "ok", "{out}");
}
