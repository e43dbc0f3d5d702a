//! Inventory parsing, variable precedence, host patterns and error messages, on fixtures under
//! `tests/fixtures/inventory` (one fleet written as YAML and as INI) and on inline bad input.

use hoist_core::inventory::{Inventory, InventoryError, graph_lines};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn fixture(kind: &str) -> PathBuf {
    let file = if kind == "yaml" {
        "hosts.yml"
    } else {
        "hosts.ini"
    };
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/inventory")
        .join(kind)
        .join(file)
}

fn load(kind: &str) -> Inventory {
    Inventory::load(&[fixture(kind)]).expect("fixture loads")
}

fn vars_summary(inv: &Inventory) -> Value {
    let mut out = serde_json::Map::new();
    for h in inv.hosts.keys() {
        out.insert(h.clone(), Value::Object(inv.host_vars(h).unwrap()));
    }
    Value::Object(out)
}

#[test]
fn yaml_graph() {
    insta::assert_snapshot!(graph_lines(&load("yaml"), "all").join("\n"));
}

#[test]
fn ini_and_yaml_describe_the_same_fleet() {
    let (y, i) = (load("yaml"), load("ini"));
    assert_eq!(graph_lines(&y, "all"), graph_lines(&i, "all"));
    assert_eq!(vars_summary(&y), vars_summary(&i));
}

#[test]
fn precedence_follows_ansible() {
    let inv = load("yaml");
    let v = |h: &str, k: &str| {
        inv.host_vars(h)
            .unwrap()
            .get(k)
            .cloned()
            .unwrap_or(Value::Null)
    };
    // group_vars/<child> beats group_vars/<parent> beats group_vars/all beats inventory group vars
    assert_eq!(v("web01", "level"), json!("web_file"));
    // host_vars/ beats everything from groups
    assert_eq!(v("web02", "level"), json!("host_file"));
    // inventory host vars beat every group var
    assert_eq!(v("db1", "level"), json!("host_inventory"));
    // a host in no group gets group_vars/all over the inventory's all vars
    assert_eq!(v("solo", "level"), json!("all_file"));
    assert_eq!(v("solo", "only_all"), json!("a"));
    // files of a group_vars directory merge in lexical order
    assert_eq!(v("web03", "web_var"), json!("from_dir_z"));
    assert_eq!(v("web03", "env"), json!("production"));
    // ansible_group_priority: beta (priority 0) applies before alpha (1), so alpha wins
    assert_eq!(v("web01", "pick"), json!("alpha"));
    assert_eq!(v("web01", "http_port"), json!(8080));
    assert_eq!(v("db1", "ansible_port"), json!(2222));
    assert_eq!(
        v("web01", "group_names"),
        json!(["alpha", "beta", "prod", "web"])
    );
    insta::assert_json_snapshot!(vars_summary(&inv));
}

#[test]
fn patterns() {
    let inv = load("yaml");
    let sel = |p: &str| {
        inv.select(p)
            .map(|h| h.join(","))
            .unwrap_or_else(|e| format!("ERR {e}"))
    };
    let cases = [
        "all",
        "*",
        "web",
        "web:db",
        "web,db",
        "prod:&alpha",
        "prod:!web02",
        "!web",
        "web0*",
        "~web0[12]",
        "web[0]",
        "web[-1]",
        "web[1:2]",
        "web[01:02]",
        "web0[1:2]",
        "solo:db1",
        "nosuch",
        "web:!nosuch",
        "web[7]",
    ];
    let out: Vec<String> = cases
        .iter()
        .map(|p| format!("{p:14} => {}", sel(p)))
        .collect();
    insta::assert_snapshot!(out.join("\n"));
}

fn load_text(name: &str, text: &str) -> Result<Inventory, InventoryError> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    Inventory::load(&[p])
}

fn error_text(name: &str, text: &str) -> String {
    let e = load_text(name, text).expect_err("must fail");
    // Paths differ per run: keep the file name only.
    e.to_string()
        .replace(&format!("{}", std::env::temp_dir().display()), "$TMP")
        .lines()
        .map(|l| match l.find(name) {
            Some(i) if l.starts_with('$') || l.starts_with('/') => l[i..].to_string(),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn bad_input_errors_name_file_line_column() {
    let cases = [
        ("syntax.yml", "all:\n  hosts:\n    a: [1, 2\n"),
        ("tab.yml", "all:\n\thosts:\n"),
        ("unclosed.yml", "all:\n  vars:\n    x: \"abc\n"),
        ("unknown_key.yml", "all:\n  hostz:\n    a:\n"),
        ("duplicate.yml", "all:\n  hosts:\n    a:\n    a:\n"),
        ("hosts_list.yml", "all:\n  hosts:\n    - a\n    - b\n"),
        ("bad_range.yml", "all:\n  hosts:\n    web[9:1]:\n"),
        ("bad_group.yml", "all:\n  children:\n    9web:\n"),
        ("section.ini", "[web:varz]\na=1\n"),
        ("hostline.ini", "[web]\nweb1 port\n"),
        ("quote.ini", "[web]\nweb1 a='x\n"),
        ("header.ini", "[web\n"),
        ("vars.ini", "[web:vars]\njustakey\n"),
    ];
    let out: Vec<String> = cases
        .iter()
        .map(|(n, t)| format!("--- {n}\n{}", error_text(n, t)))
        .collect();
    insta::assert_snapshot!(out.join("\n"));
}

#[test]
fn missing_source_and_cycles() {
    let e = Inventory::load(&[PathBuf::from("/nonexistent/inv.yml")]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "inventory source /nonexistent/inv.yml does not exist"
    );
    let e = load_text("cycle.ini", "[a:children]\nb\n[b:children]\na\n").unwrap_err();
    assert!(e.to_string().contains("is its own ancestor"), "{e}");
}

#[test]
fn directory_source_merges_files_and_skips_ignored() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("10-web.ini"), "[web]\nw1\n").unwrap();
    std::fs::write(dir.path().join("20-db.yml"), "db:\n  hosts:\n    d1:\n").unwrap();
    std::fs::write(dir.path().join("README.md"), "not an inventory: [").unwrap();
    std::fs::create_dir(dir.path().join("group_vars")).unwrap();
    std::fs::write(dir.path().join("group_vars/web.yml"), "role: web\n").unwrap();
    let inv = Inventory::load(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(inv.select("all").unwrap(), vec!["w1", "d1"]);
    assert_eq!(inv.host_vars("w1").unwrap()["role"], json!("web"));
}
