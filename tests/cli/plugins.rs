//! Plugins without hosts: filter, inventory and callback plugins on localhost plays, the author's
//! workflow (`plugin new` for every kind, `build`, `inspect`), and bad input (manifests,
//! missing components and capabilities, another contract version, shadowing a built-in).
//! The example plugins are built by tests/run.sh.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Runs hoist in `cwd` with the example plugins on the path.
pub fn hoist_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hoist"));
    c.current_dir(cwd)
        .args(args)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .env("HOIST_PLUGIN_PATH", repo().join("plugins/examples"))
        .env("CARGO_TARGET_DIR", repo().join("target/wasm-plugins"))
        .env_remove("HOIST_INVENTORY");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("hoist runs");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn put(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(d) = p.parent() {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

const FLEET_CSV: &str = "host,ansible_host,dc,role,groups,pg_version\n\
web1,10.0.0.1,fra1,web,frontend;prod,\n\
\"db1\",10.0.0.2,ams2,db,prod,15.4-1.pgdg120+1\n\
db2,10.0.0.3,ams2,db,\"prod;standby\",14.9\n";

const PLAY: &str = r#"
- hosts: localhost
  gather_facts: false
  tasks:
    - debug: msg="{{ ['1.2.3', '1.10.0', '1.9.9'] | semver_max }} {{ '1.4.2' | semver_bump('minor') }}"
      register: versions
    - assert:
        that:
          - versions.msg == '1.10.0 1.5.0'
          - "hostvars['db1'].pg_version is semver_satisfies('>=15, <17')"
          - "hostvars['db2'].pg_version is not semver_satisfies('>=15')"
          - "groups['dc_ams2'] == ['db1', 'db2']"
          - "hostvars['web1'].ansible_user == 'ops'"
"#;

#[test]
fn filter_inventory_and_callback_plugins_in_one_run() {
    let d = tempfile::tempdir().unwrap();
    put(d.path(), "fleet.csv", FLEET_CSV);
    put(
        d.path(),
        "fleet.yml",
        "plugin: csv_fleet\nsource: fleet.csv\ngroup_by: [dc, role]\nvars:\n  ansible_user: ops\n",
    );
    put(d.path(), "play.yml", PLAY);
    let inv = hoist_in(
        d.path(),
        &["inventory", "list", "-i", "fleet.yml", "-o", "json"],
        &[],
    );
    assert_eq!(inv.code, 0, "{}", inv.stderr);
    let listed: serde_json::Value = serde_json::from_str(&inv.stdout).unwrap();
    let hostvars = &listed["_meta"]["hostvars"];
    let names: Vec<&String> = hostvars.as_object().unwrap().keys().collect();
    assert_eq!(names, ["web1", "db1", "db2"], "{listed}");
    assert_eq!(hostvars["db1"]["pg_version"], "15.4-1.pgdg120+1");
    assert_eq!(hostvars["web1"]["ansible_user"], "ops");
    assert_eq!(
        listed["dc_ams2"]["hosts"],
        serde_json::json!(["db1", "db2"]),
        "{listed}"
    );
    let r = hoist_in(
        d.path(),
        &[
            "run",
            "play.yml",
            "-i",
            "fleet.yml",
            "--callback",
            "run_report",
        ],
        &[("HOIST_REPORT_FILE", "out/report.json")],
    );
    // out/ does not exist yet: the callback's write fails, is reported, and the run still ends well.
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("warning: callback plugin `run_report` failed on event `recap`"),
        "{}",
        r.stderr
    );
    put(
        d.path(),
        "bad.yml",
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug: msg=\"{{ '1.0' | semver_bump('sideways') }}\"\n",
    );
    let bad = hoist_in(d.path(), &["run", "bad.yml", "-i", "fleet.yml"], &[]);
    assert_eq!(bad.code, 2, "{}", bad.stdout);
    assert!(bad.stdout.contains("bad.yml:4:7: debug: Error while resolving value for 'msg'. filter `semver_bump` (plugin `semver`): semver_bump: `sideways` is not major, minor or patch"), "{}", bad.stdout);
    std::fs::create_dir(d.path().join("out")).unwrap();
    let r = hoist_in(
        d.path(),
        &[
            "run",
            "play.yml",
            "-i",
            "fleet.yml",
            "--callback",
            "run_report",
        ],
        &[("HOIST_REPORT_FILE", "out/report.json")],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.path().join("out/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["playbook"], "play.yml");
    assert_eq!(report["tasks"], 2);
    assert_eq!(report["hosts"]["localhost"]["ok"], 2, "{report}");
    assert_eq!(report["ok"], true, "{report}");
    // The callback cannot write outside its grant ({cwd}).
    let r = hoist_in(
        d.path(),
        &[
            "run",
            "play.yml",
            "-i",
            "fleet.yml",
            "--callback",
            "run_report",
        ],
        &[("HOIST_REPORT_FILE", "/etc/hoist-report.json")],
    );
    assert!(
        r.stderr
            .contains("may not write /etc/hoist-report.json on the controller"),
        "{}",
        r.stderr
    );
    assert!(!Path::new("/etc/hoist-report.json").exists());
}

#[test]
fn inventory_plugin_errors_name_the_file_and_what_is_missing() {
    let d = tempfile::tempdir().unwrap();
    put(d.path(), "fleet.csv", "host,dc\nweb1,fra1,extra\n");
    put(
        d.path(),
        "fleet.yml",
        "plugin: csv_fleet\nsource: fleet.csv\n",
    );
    let r = hoist_in(d.path(), &["inventory", "list", "-i", "fleet.yml"], &[]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(
        r.stderr.contains("fleet.yml: plugin `csv_fleet`"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("row 2 has 3 fields, the header has 2"),
        "{}",
        r.stderr
    );
    put(d.path(), "other.yml", "plugin: cmdb_magic\n");
    let r = hoist_in(d.path(), &["inventory", "list", "-i", "other.yml"], &[]);
    assert_eq!(r.code, 5);
    assert!(
        r.stderr
            .contains("names the inventory plugin `cmdb_magic`, which is not installed"),
        "{}",
        r.stderr
    );
    // A source outside the grant ({source_dir}) is refused.
    put(
        d.path(),
        "sub/fleet.yml",
        "plugin: csv_fleet\nsource: ../fleet.csv\n",
    );
    let r = hoist_in(d.path(), &["inventory", "list", "-i", "sub/fleet.yml"], &[]);
    assert_eq!(r.code, 5);
    assert!(r.stderr.contains("may not read"), "{}", r.stderr);
    assert!(
        r.stderr.contains("add it to [capabilities] read"),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_manifests_missing_components_and_shadowing_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap().to_string();
    put(
        d.path(),
        "p/plugin.toml",
        "name = \"p\"\nversion = \"1\"\nkind = \"modul\"\napi = \"0.1\"\n",
    );
    let r = hoist_in(d.path(), &["--plugin-dir", &dir, "plugin", "list"], &[]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("p/plugin.toml:3:8: unknown variant `modul`"),
        "{}",
        r.stderr
    );
    put(
        d.path(),
        "p/plugin.toml",
        "name = \"p\"\nversion = \"1\"\nkind = \"module\"\napi = \"0.3\"\n",
    );
    let r = hoist_in(d.path(), &["--plugin-dir", &dir, "plugin", "list"], &[]);
    assert!(
        r.stderr
            .contains("p/plugin.toml:4:1: api 0.3: this hoist speaks the plugin contract 0.1"),
        "{}",
        r.stderr
    );
    put(
        d.path(),
        "p/plugin.toml",
        "name = \"copy\"\nversion = \"1\"\nkind = \"module\"\napi = \"0.1\"\n",
    );
    put(
        d.path(),
        "play.yml",
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n",
    );
    let r = hoist_in(d.path(), &["--plugin-dir", &dir, "run", "play.yml"], &[]);
    assert_eq!(r.code, 5);
    assert!(
        r.stderr
            .contains("`copy` is a built-in module; a plugin cannot replace it"),
        "{}",
        r.stderr
    );
    put(
        d.path(),
        "p/plugin.toml",
        "name = \"ghost\"\nversion = \"1\"\nkind = \"module\"\napi = \"0.1\"\n",
    );
    put(
        d.path(),
        "play.yml",
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ghost: {}\n",
    );
    let r = hoist_in(d.path(), &["--plugin-dir", &dir, "run", "play.yml"], &[]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("component"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("ghost.wasm not found: build it with `hoist plugin build"),
        "{}",
        r.stderr
    );
}

#[test]
fn plugin_module_arguments_are_checked_before_the_run() {
    let d = tempfile::tempdir().unwrap();
    put(
        d.path(),
        "play.yml",
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - haproxy_server: { backend: a, server: b, state: drain, sockt: /x }\n",
    );
    let r = hoist_in(d.path(), &["check-syntax", "play.yml"], &[]);
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(r.stderr.contains("play.yml:4:"), "{}", r.stderr);
    assert!(
        r.stderr.contains("unsupported parameter `sockt`"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("did you mean `socket`?"), "{}", r.stderr);
    put(
        d.path(),
        "play.yml",
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - haproxy_server: { backend: a, server: b }\n",
    );
    let r = hoist_in(d.path(), &["check-syntax", "play.yml"], &[]);
    assert_eq!(r.code, 5);
    assert!(
        r.stderr.contains("missing required argument `state`"),
        "{}",
        r.stderr
    );
    let r = hoist_in(d.path(), &["modules", "haproxy_server", "-o", "json"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("\"socket\""), "{}", r.stdout);
    let r = hoist_in(
        d.path(),
        &["plugin", "inspect", "haproxy_server", "-o", "json"],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["capabilities"]["exec"], serde_json::json!(["socat"]));
    assert_eq!(v["contract"], "hoist:plugin@0.1");
    assert!(
        v["declares"].to_string().contains("state (required): str"),
        "{v}"
    );
}

const KINDS: [&str; 4] = ["module", "filter", "inventory", "callback"];

#[test]
fn plugin_new_scaffolds_every_kind_and_each_builds_loads_and_runs() {
    let d = tempfile::tempdir().unwrap();
    for kind in KINDS {
        let name = format!("my_{kind}");
        let mut args = vec!["plugin", "new", name.as_str(), "--kind", kind];
        if kind == "module" {
            args.push("--vendor-sdk");
        }
        let r = hoist_in(d.path(), &args, &[]);
        assert_eq!(r.code, 0, "{kind}: {}", r.stderr);
        let r = hoist_in(d.path(), &["plugin", "build", &name], &[]);
        assert_eq!(r.code, 0, "{kind}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains(&format!("built {name} ({kind})")),
            "{}",
            r.stdout
        );
    }
    assert!(
        d.path()
            .join("my_module/hoist-sdk/wit/hoist-plugin.wit")
            .is_file()
    );
    let again = hoist_in(
        d.path(),
        &["plugin", "new", "my_filter", "--kind", "filter"],
        &[],
    );
    assert_eq!(again.code, 5);
    assert!(
        again
            .stderr
            .contains("already holds a project; nothing written"),
        "{}",
        again.stderr
    );
    let dirs = d.path().to_str().unwrap();
    put(
        d.path(),
        "hosts.yml",
        "plugin: my_inventory\nhosts: [alpha, beta]\n",
    );
    put(
        d.path(),
        "play.yml",
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - my_module: { path: /etc/passwd, line: 'root:x:0:0:root:/root:/bin/bash' }\n      register: m\n    - assert:\n        that: [m.found, \"'hi' | my_filter_shout == 'HI!'\", \"4 is my_filter_even\", \"groups.my_inventory == ['alpha', 'beta']\"]\n",
    );
    let r = hoist_in(
        d.path(),
        &[
            "--plugin-dir",
            dirs,
            "run",
            "play.yml",
            "-i",
            "hosts.yml",
            "--callback",
            "my_callback",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
}

#[test]
fn a_component_built_against_another_contract_version_is_refused() {
    let d = tempfile::tempdir().unwrap();
    // A copy of the SDK whose contract says 0.2.0.
    for rel in [
        "sdk/Cargo.toml",
        "sdk/src/lib.rs",
        "sdk/src/shared.rs",
        "sdk/src/module.rs",
        "sdk/src/filter.rs",
        "sdk/src/inventory.rs",
        "sdk/src/callback.rs",
        "wit/hoist-plugin.wit",
    ] {
        let text = std::fs::read_to_string(repo().join("plugins").join(rel)).unwrap();
        put(
            d.path(),
            &format!("future/{rel}"),
            &text.replace("hoist:plugin@0.1.0", "hoist:plugin@0.2.0"),
        );
    }
    let sdk = d.path().join("future/sdk");
    let r = hoist_in(
        d.path(),
        &[
            "plugin",
            "new",
            "newer",
            "--kind",
            "filter",
            "--sdk",
            sdk.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = hoist_in(d.path(), &["plugin", "build", "newer"], &[]);
    assert_eq!(r.code, 5, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("plugin `newer`") && r.stderr.contains("newer/plugin.toml"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains(
            "was built against the plugin contract hoist:plugin@0.2.0; this hoist speaks 0.1.0"
        ),
        "{}",
        r.stderr
    );
}

/// Accepts one HTTP request on loopback, answers 204, and returns it (head and body).
fn one_request() -> (u16, std::thread::JoinHandle<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        listener.set_nonblocking(false).unwrap();
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = s.read(&mut chunk).unwrap_or(0);
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).to_string();
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text[..end]
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                    })
                    .unwrap_or(0);
                if buf.len() >= end + 4 + len {
                    break;
                }
            }
        }
        let _ = s.write_all(
            b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        String::from_utf8_lossy(&buf).into_owned()
    });
    (port, handle)
}

#[test]
fn callback_posts_the_summary_to_a_granted_webhook() {
    let d = tempfile::tempdir().unwrap();
    put(d.path(), "none.yml", "all: {}\n");
    put(
        d.path(),
        "play.yml",
        "- hosts: localhost\n  gather_facts: false\n  tasks:\n    - command: 'false'\n      ignore_errors: true\n    - debug: msg=done\n",
    );
    let (port, got) = one_request();
    let url = format!("http://127.0.0.1:{port}/hooks/deploy");
    let r = hoist_in(
        d.path(),
        &[
            "run",
            "-i",
            "none.yml",
            "play.yml",
            "--callback",
            "run_report",
        ],
        &[
            ("HOIST_REPORT_WEBHOOK", &url),
            ("HOIST_REPORT_TOKEN", "hook-token-1"),
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    let req = got.join().unwrap();
    assert!(req.starts_with("POST /hooks/deploy HTTP/1.1"), "{req}");
    assert!(
        req.to_ascii_lowercase()
            .contains("authorization: bearer hook-token-1"),
        "{req}"
    );
    let body: serde_json::Value =
        serde_json::from_str(req.split("\r\n\r\n").nth(1).unwrap_or("")).unwrap();
    assert_eq!(body["report"]["playbook"], "play.yml", "{body}");
    assert_eq!(body["report"]["hosts"]["localhost"]["ignored"], 1, "{body}");
    assert!(d.path().join("hoist-report.json").is_file());
    // A webhook host the manifest does not grant is refused (the callback reports it).
    let r = hoist_in(
        d.path(),
        &[
            "run",
            "-i",
            "none.yml",
            "play.yml",
            "--callback",
            "run_report",
        ],
        &[("HOIST_REPORT_WEBHOOK", "http://10.77.0.11:9/x")],
    );
    assert_eq!(r.code, 0);
    assert!(
        r.stderr.contains("may not connect to 10.77.0.11:9"),
        "{}",
        r.stderr
    );
}
