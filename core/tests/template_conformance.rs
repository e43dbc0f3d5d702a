//! Filters, tests, lookups and template files against ansible-core itself: every case in
//! tests/template-conformance/cases.yml is evaluated by ansible-core (ansible_eval.py, with the
//! Python that has ansible-core: `HOIST_ANSIBLE_PYTHON`, or the one beside
//! `HOIST_ANSIBLE_PLAYBOOK`) and by hoist's templar; the JSON of the results must be equal (or
//! both must fail). Every filter, test and lookup hoist registers must have a case. The
//! comparison table is written to target/template-conformance.md.

use hoist_core::template::{FileSyntax, Templar, to_jinja};
use serde_json::{Value as Json, json};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("HOIST_ANSIBLE_PYTHON") {
        return PathBuf::from(p);
    }
    match std::env::var_os("HOIST_ANSIBLE_PLAYBOOK") {
        Some(pb) => PathBuf::from(pb).with_file_name("python"),
        None => panic!(
            "the template conformance test needs ansible-core: run it through tests/run.sh (it sets HOIST_ANSIBLE_PLAYBOOK), or set HOIST_ANSIBLE_PYTHON"
        ),
    }
}

/// The files the cases read.
fn workdir() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("a scratch directory");
    for (rel, text) in [
        ("files/hello.txt", "hello\n"),
        ("files/lines.txt", "l1\nl2\n"),
        ("templates/greet.j2", "Hello {{ who }}!\n"),
        (
            "files/settings.ini",
            "[global]\nUser = yperre\n[paths]\nbase = /srv\npath = %(base)s/x\n",
        ),
        ("files/people.csv", "Smith,\"Jane, Q\",35\nJones,Bob,40\n"),
    ] {
        let p = d.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    d
}

fn cases() -> Vec<Json> {
    let text = std::fs::read_to_string(repo().join("tests/template-conformance/cases.yml"))
        .expect("cases.yml");
    let v: Json = serde_yaml::from_str(&text).expect("cases.yml is YAML");
    v.as_array().cloned().expect("cases.yml is a list")
}

/// hoist's result for one case: `{"value": ...}` or `{"error": ...}`.
fn hoist_eval(t: &Templar, case: &Json, dir: &Path) -> Json {
    let mut vars = case["vars"].as_object().cloned().unwrap_or_default();
    let d = dir.display().to_string();
    vars.insert("playbook_dir".into(), json!(d));
    vars.insert("hoist_search_paths".into(), json!([d]));
    let ctx = to_jinja(&Json::Object(vars));
    let got = if let Some(text) = case["template"].as_str() {
        let path = dir.join("case.j2");
        std::fs::write(&path, text).unwrap();
        let opts = FileSyntax {
            trim_blocks: case["options"]["trim_blocks"].as_bool().unwrap_or(true),
            lstrip_blocks: case["options"]["lstrip_blocks"].as_bool().unwrap_or(false),
            ..FileSyntax::default()
        };
        t.render_file_with(&path, &ctx, &opts).map(Json::String)
    } else if let Some(text) = case["value"].as_str() {
        // A variable's value as written (set_fact, vars): native types for one expression.
        t.render_string_value(text, &ctx)
    } else {
        let expr = case["expr"]
            .as_str()
            .expect("a case has `expr` or `template`");
        t.render_string_value(&format!("{{{{ {expr} }}}}"), &ctx)
    };
    match got {
        Ok(v) => json!({ "value": v }),
        Err(e) => json!({ "error": e.message }),
    }
}

/// JSON equality with numbers compared by value (2.0 == 2), as Python compares them.
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// The filters, tests and lookups hoist registers, read from its template sources.
fn registered() -> BTreeSet<String> {
    let re = regex::Regex::new(r#"add_(?:filter|test)\(\s*"([a-z_0-9]+)""#).unwrap();
    let list = regex::Regex::new(r#"for name in \[([^\]]*)\]"#).unwrap();
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(repo().join("core/src/template")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        out.extend(re.captures_iter(&text).map(|c| c[1].to_string()));
        for c in list.captures_iter(&text) {
            out.extend(
                c[1].split(',')
                    .map(|s| s.trim().trim_matches('"').to_string())
                    .filter(|s| !s.is_empty()),
            );
        }
    }
    out.extend(
        hoist_core::template::LOOKUP_NAMES
            .iter()
            .map(|s| s.to_string()),
    );
    out
}

#[test]
fn filters_tests_lookups_and_templates_match_ansible_core() {
    let dir = workdir();
    let cases = cases();
    // Paths in the cases (fileglob, lines) are relative to the working directory, as the
    // Python side's is.
    std::env::set_current_dir(dir.path()).unwrap();
    let out = Command::new(python())
        .arg(repo().join("tests/template-conformance/ansible_eval.py"))
        .arg(repo().join("tests/template-conformance/cases.yml"))
        .arg(dir.path())
        .output()
        .expect("python with ansible-core runs");
    assert!(
        out.status.success(),
        "ansible_eval.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let theirs: Vec<Json> =
        serde_json::from_slice(&out.stdout).expect("ansible_eval.py prints JSON");
    assert_eq!(theirs.len(), cases.len());

    let t = Templar::new();
    let mut table = vec![
        "| case | ansible-core | hoist | same |".to_string(),
        "|---|---|---|---|".to_string(),
    ];
    let mut differ = Vec::new();
    for (case, peer) in cases.iter().zip(&theirs) {
        let ours = hoist_eval(&t, case, dir.path());
        let name = case["expr"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("template {:?}", case["template"].as_str().unwrap_or("")));
        let hoist_only = case["peer"].as_str() == Some("none");
        let ok = if hoist_only {
            ours.get("value").is_some()
        } else {
            match (peer.get("value"), ours.get("value")) {
                (Some(a), Some(b)) => same(a, b),
                (None, None) => true,
                _ => false,
            }
        };
        let cell = |v: &Json| {
            let s = match (v.get("value"), v.get("error")) {
                (Some(x), _) => x.to_string(),
                (_, Some(e)) => format!("error: {}", e.as_str().unwrap_or("")),
                _ => v.to_string(),
            };
            s.chars().take(120).collect::<String>().replace('|', "\\|")
        };
        table.push(format!(
            "| `{}` | {} | {} | {} |",
            name.replace('|', "\\|").replace('\n', "\\n"),
            if hoist_only {
                "(not in ansible-core)".to_string()
            } else {
                cell(peer)
            },
            cell(&ours),
            if ok { "yes" } else { "**no**" }
        ));
        if !ok {
            differ.push(format!(
                "{name}\n  ansible-core: {peer}\n  hoist:        {ours}"
            ));
        }
    }
    let target = repo().join("target");
    let _ = std::fs::create_dir_all(&target);
    let _ = std::fs::write(
        target.join("template-conformance.md"),
        table.join("\n") + "\n",
    );

    let text =
        std::fs::read_to_string(repo().join("tests/template-conformance/cases.yml")).unwrap();
    let missing: Vec<String> = registered()
        .into_iter()
        .filter(|n| {
            !(text.contains(&format!("| {n}"))
                || text.contains(&format!("is {n}"))
                || text.contains(&format!("'{n}'")))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "registered but without a case in cases.yml: {missing:?}"
    );
    assert!(
        differ.is_empty(),
        "{} of {} cases differ from ansible-core:\n{}",
        differ.len(),
        cases.len(),
        differ.join("\n")
    );
}
