//! Native modules against Ansible's own as the oracle (tests/differential/cases.yml): each
//! case's tasks run on one lab host with hoist's native module and on another with
//! ansible-core's module (`--ansible-module`), a first run and a re-run, with `--diff`; every
//! task's `changed`, `failed`, diff and listed fields, and the end state, must be equal, except
//! the differences a case lists as known (which must still be there).

use crate::support::{hoist_within, lab_inventory};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

const NATIVE_HOST: &str = "lab1";
const ORACLE_HOST: &str = "lab2";

fn cases() -> Vec<Value> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/differential/cases.yml");
    let text = std::fs::read_to_string(&p).expect("cases.yml");
    let v: Value = serde_yaml::from_str(&text).expect("cases.yml parses");
    v.as_array().cloned().expect("a list of cases")
}

/// The Python that has ansible-core (beside HOIST_ANSIBLE_PLAYBOOK, as tests/run.sh sets it).
fn ansible_python() -> String {
    if let Ok(p) = std::env::var("HOIST_ANSIBLE_PYTHON") {
        return p;
    }
    let pb = std::env::var("HOIST_ANSIBLE_PLAYBOOK").unwrap_or_else(|_| {
        panic!("the differential test needs ansible-core: run it through tests/run.sh (it sets HOIST_ANSIBLE_PLAYBOOK)")
    });
    PathBuf::from(pb)
        .with_file_name("python")
        .display()
        .to_string()
}

/// One play per case on `host`: make the scratch directory (first run only), the case's tasks
/// (named `<module> <i>`, failures kept going), then the end state.
fn playbook(cases: &[Value], host: &str) -> String {
    let plays: Vec<Value> = cases
        .iter()
        .map(|c| {
            let module = c["module"].as_str().expect("module");
            let setup = c["setup"].as_str().unwrap_or("true");
            let mut tasks = vec![json!({
                "name": format!("{module} setup"),
                "shell": format!("rm -rf {{{{ d }}}} && mkdir -p {{{{ d }}}} && cd {{{{ d }}}} && {{\n{setup}\n}}"),
                "when": "fresh | bool",
                // A failed setup is reported (below), and the other cases still run.
                "ignore_errors": true,
            })];
            for (i, t) in c["tasks"].as_array().expect("tasks").iter().enumerate() {
                let mut t = t.clone();
                t["name"] = json!(format!("{module} {i}"));
                t["ignore_errors"] = json!(true);
                tasks.push(t);
            }
            tasks.push(json!({
                "name": format!("{module} state"),
                "shell": c["state"].as_str().expect("state"),
                "changed_when": false,
                "ignore_errors": true,
            }));
            json!({
                "name": module,
                "hosts": host,
                "gather_facts": false,
                "vars": {"d": format!("/tmp/hoist-diff/{module}")},
                "tasks": tasks,
            })
        })
        .collect();
    serde_json::to_string_pretty(&plays).expect("JSON is YAML")
}

/// Task name → (result, diffs) from a run's JSON events.
fn results(stdout: &str) -> BTreeMap<String, Value> {
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e["event"] == "host_result")
        .map(|e| {
            let diffs: Vec<Value> = e["diffs"]
                .as_array()
                .map(|d| {
                    // What a user sees: a pair without change shows nothing.
                    d.iter()
                        .filter(|x| x["before"] != x["after"])
                        .map(|x| json!([x["before"], x["after"]]))
                        .collect()
                })
                .unwrap_or_default();
            let name = e["task"].as_str().unwrap_or_default().to_string();
            (name, json!({"result": e["result"], "diffs": diffs}))
        })
        .collect()
}

/// `a.b.c` inside `v` (null when absent).
fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| &v[k])
}

/// What is compared for one task.
fn compared(r: &Value, fields: &[String], state: bool, with_diff: bool) -> Value {
    let res = &r["result"];
    if state {
        return json!({"stdout": res["stdout"], "rc": res["rc"]});
    }
    let mut m = serde_json::Map::new();
    m.insert(
        "changed".into(),
        json!(res["changed"].as_bool().unwrap_or(false)),
    );
    m.insert(
        "failed".into(),
        json!(res["failed"].as_bool().unwrap_or(false)),
    );
    if with_diff {
        m.insert("diff".into(), r["diffs"].clone());
    }
    for f in fields {
        m.insert(f.clone(), at(res, f).clone());
    }
    Value::Object(m)
}

#[test]
fn native_modules_match_ansibles_own() {
    let cases = cases();
    let dir = tempfile::tempdir().unwrap();
    let inv = lab_inventory();
    let inv = inv.to_str().unwrap();
    let python = ansible_python();
    let forced: Vec<&str> = cases.iter().filter_map(|c| c["module"].as_str()).collect();
    let forced = forced.join(",");
    // Both sides run at once, each on its own host; each run under a watchdog.
    let side = |host: &'static str, oracle: bool| {
        let pb = dir.path().join(format!("{host}.yml"));
        std::fs::write(&pb, playbook(&cases, host)).unwrap();
        let pb = pb.display().to_string();
        let python = python.clone();
        let forced = forced.clone();
        let inv = inv.to_string();
        std::thread::spawn(move || {
            let mut env = vec![("HOIST_ANSIBLE_PYTHON", python.as_str())];
            if oracle {
                env.push(("HOIST_ANSIBLE_MODULES", forced.as_str()));
            }
            ["fresh=true", "fresh=false"]
                .iter()
                .map(|fresh| {
                    let r = hoist_within(
                        Duration::from_secs(600),
                        &["run", &pb, "-i", &inv, "--diff", "-o", "json", "-e", fresh],
                        &env,
                    );
                    assert!(
                        r.stdout.contains("\"event\":\"recap\""),
                        "the {host} run did not finish:\n{}\n{}",
                        r.stdout,
                        r.stderr
                    );
                    results(&r.stdout)
                })
                .collect::<Vec<_>>()
        })
    };
    let native = side(NATIVE_HOST, false);
    let oracle = side(ORACLE_HOST, true);
    let (native, oracle) = (native.join().unwrap(), oracle.join().unwrap());
    let mut differences = Vec::new();
    let mut stale_known = Vec::new();
    for c in &cases {
        let module = c["module"].as_str().unwrap();
        let fields: Vec<String> = c["fields"]
            .as_array()
            .map(|f| {
                f.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let known = c["known"].as_object().cloned().unwrap_or_default();
        // Diffs listed as differing by design: compared apart, and they must still differ.
        let diff_differs = c["diff_differs"].is_string();
        let mut diffs_differed = false;
        // A setup that failed would make the comparison meaningless.
        for (side, runs) in [("native", &native), ("ansible", &oracle)] {
            let setup = runs[0]
                .get(&format!("{module} setup"))
                .map(|r| r["result"].clone())
                .unwrap_or(Value::Null);
            if setup["failed"].as_bool().unwrap_or(true) {
                differences.push(format!("{module} setup failed on the {side} side: {setup}"));
            }
        }
        let n = c["tasks"].as_array().map(Vec::len).unwrap_or(0);
        let keys: Vec<String> = (0..n)
            .map(|i| i.to_string())
            .chain(["state".into()])
            .collect();
        for key in keys {
            let mut differs = false;
            for (run, (ours, theirs)) in native.iter().zip(&oracle).enumerate() {
                let name = format!("{module} {key}");
                let (Some(a), Some(b)) = (ours.get(&name), theirs.get(&name)) else {
                    differences.push(format!("{name}: no result on one side (run {run})"));
                    continue;
                };
                let state = key == "state";
                if diff_differs && a["diffs"] != b["diffs"] {
                    diffs_differed = true;
                }
                let (a, b) = (
                    compared(a, &fields, state, !diff_differs),
                    compared(b, &fields, state, !diff_differs),
                );
                if a != b {
                    differs = true;
                    if !known.contains_key(&key) {
                        differences.push(format!(
                            "{name} (run {}):\n  native: {a}\n  ansible: {b}",
                            run + 1
                        ));
                    }
                }
            }
            if known.contains_key(&key) && !differs {
                stale_known.push(format!("{module} {key}"));
            }
        }
        if diff_differs && !diffs_differed {
            stale_known.push(format!("{module} (diff_differs)"));
        }
    }
    assert!(
        differences.is_empty(),
        "native modules differ from Ansible's own:\n{}",
        differences.join("\n")
    );
    assert!(
        stale_known.is_empty(),
        "listed as known differences but now equal (remove them from cases.yml): {stale_known:?}"
    );
}
