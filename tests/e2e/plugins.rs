//! WebAssembly plugins on the lab: a module plugin driving a real HAProxy over SSH, sandbox
//! escapes tried from inside a plugin, and secrets that never reach any output of a full run.
//! The plugins are built by tests/run.sh (`hoist plugin build`).

use super::support::{hoist, hoist_at, lab_inventory, write};
use serde_json::Value;
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

fn plugin_path() -> String {
    let r = repo();
    format!(
        "{}:{}",
        r.join("plugins/examples").display(),
        r.join("tests/plugins").display()
    )
}

struct Events(Vec<Value>);

impl Events {
    /// Host results of the task named `task` (loop items included), in order.
    fn results(&self, task: &str) -> Vec<&Value> {
        self.0
            .iter()
            .filter(|e| {
                (e["event"] == "host_result" || e["event"] == "item_result") && e["task"] == task
            })
            .collect()
    }
    fn item(&self, task: &str, item: &str) -> &Value {
        self.0
            .iter()
            .find(|e| e["event"] == "item_result" && e["task"] == task && e["item"] == item)
            .unwrap_or_else(|| panic!("no result for {task} item {item}"))
    }
}

fn run_json(book: &str, env: &[(&str, &str)], extra: &[&str]) -> (i32, Events, String) {
    let inv = lab_inventory();
    let pp = plugin_path();
    let mut args = vec![
        "run",
        "-o",
        "json",
        "-i",
        inv.to_str().unwrap_or_default(),
        book,
    ];
    args.extend_from_slice(extra);
    let mut env: Vec<(&str, &str)> = env.to_vec();
    env.push(("HOIST_PLUGIN_PATH", &pp));
    let r = hoist(&args, &env);
    let events = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad event ({e}): {l}")))
        .collect();
    (r.code, Events(events), r.stderr)
}

const HAPROXY: &str = r#"
- hosts: lab2
  gather_facts: false
  tasks:
    - apt: { name: [haproxy, socat], update_cache: true }
    - copy:
        dest: /etc/haproxy/haproxy.cfg
        content: |
          global
            stats socket /run/haproxy/admin.sock mode 660 level admin
          defaults
            mode http
            timeout connect 1s
            timeout client 5s
            timeout server 5s
          backend app
            server s1 127.0.0.1:9001
            server s2 127.0.0.1:9002
          frontend web
            bind 127.0.0.1:8080
            default_backend app
    - service: { name: haproxy, state: restarted }
    - name: drain
      haproxy_server: { backend: app, server: s1, state: drain }
    - name: drain again
      haproxy_server: { backend: app, server: s1, state: drain }
    - name: maint in check mode
      haproxy_server: { backend: app, server: s1, state: maint }
      check_mode: true
    - name: read back
      shell: echo 'show stat' | socat stdio unix-connect:/run/haproxy/admin.sock | awk -F, '$1=="app" && $2=="s1" {print $18}'
    - name: ready
      haproxy_server: { backend: app, server: s1, state: ready }
    - name: unknown server
      haproxy_server: { backend: app, server: s9, state: ready }
      ignore_errors: true
    - name: bad state
      haproxy_server: { backend: app, server: s1, state: "{{ 'sideways' }}" }
      ignore_errors: true
"#;

#[test]
fn module_plugin_drives_haproxy_over_ssh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let book = write(dir.path(), "haproxy.yml", HAPROXY);
    let (code, ev, stderr) = run_json(&book, &[], &["--diff"]);
    assert_eq!(code, 0, "stderr: {stderr}");
    let drain = ev.results("drain")[0];
    assert_eq!(drain["status"], "changed", "{drain}");
    assert_eq!(drain["result"]["status"], "DRAIN");
    assert_eq!(drain["diffs"][0]["after"], "drain\n", "{drain}");
    assert_eq!(ev.results("drain again")[0]["status"], "ok", "idempotent");
    let check = ev.results("maint in check mode")[0];
    assert_eq!(check["status"], "changed", "check mode reports the change");
    assert_eq!(
        ev.results("read back")[0]["result"]["stdout"],
        "DRAIN",
        "check mode changed nothing"
    );
    assert_eq!(ev.results("ready")[0]["status"], "changed");
    let unknown = ev.results("unknown server")[0];
    assert_eq!(unknown["status"], "ignored");
    assert_eq!(unknown["result"]["msg"], "HAProxy has no server `app/s9`");
    let bad = ev.results("bad state")[0];
    assert!(
        bad["result"]["msg"]
            .as_str()
            .unwrap_or_default()
            .contains("`sideways` is not one of ready, drain, maint"),
        "{bad}"
    );
}

const PROBE: &str = r#"
- hosts: lab3
  gather_facts: false
  tasks:
    - shell: rm -rf /tmp/probe && mkdir /tmp/probe && echo hello > /tmp/probe/ok.txt && ln -s /etc/shadow /tmp/probe/link && rm -f /etc/probe-owned
    - name: refused
      sandbox_probe: { attempt: "{{ item }}" }
      loop: [controller_file, controller_dir, socket, env, exec_ungranted, read_ungranted, read_traversal, read_symlink, write_ungranted, http_ungranted]
    - name: granted
      sandbox_probe: { attempt: "{{ item }}" }
      loop: [exec_granted, read_granted, write_granted]
    - name: stopped
      sandbox_probe: { attempt: "{{ item }}" }
      loop: [memory, loop, stack, panic]
      ignore_errors: true
    - name: after
      shell: stat -c '%a %s' /tmp/probe/out.txt; test ! -e /etc/probe-owned && echo clean
"#;

#[test]
fn sandbox_escapes_are_refused_and_crashes_fail_only_their_task() {
    let dir = tempfile::tempdir().expect("tempdir");
    let book = write(dir.path(), "probe.yml", PROBE);
    let (code, ev, stderr) = run_json(&book, &[("PROBE_SECRET_ENV", "visible?")], &[]);
    assert_eq!(code, 0, "stderr: {stderr}");
    let refused = |item: &str, needle: &str| {
        let r = &ev.item("refused", item)["result"];
        assert_eq!(r["refused"], true, "{item} was not refused: {r}");
        let e = r["error"].as_str().unwrap_or_default();
        assert!(e.contains(needle), "{item}: `{e}` lacks `{needle}`");
    };
    // WASI gives the guest no files, sockets or environment at all.
    refused("controller_file", "");
    refused("controller_dir", "");
    refused("socket", "");
    refused("env", "no environment");
    // hoist's own host calls check the manifest's grants (and name what is missing).
    refused("exec_ungranted", "may not run `id`");
    refused("exec_ungranted", "[capabilities] exec");
    refused("read_ungranted", "may not read /etc/shadow on the target");
    refused("read_traversal", "may not read /etc/shadow");
    refused("read_symlink", "may not read /etc/shadow");
    refused("write_ungranted", "may not write /etc/probe-owned");
    refused("http_ungranted", "may not connect to 127.0.0.1:9");
    assert_eq!(
        ev.item("granted", "exec_granted")["result"]["leaked"],
        "status 0"
    );
    assert_eq!(
        ev.item("granted", "read_granted")["result"]["leaked"],
        "hello\n"
    );
    assert_eq!(
        ev.item("granted", "write_granted")["result"]["leaked"],
        "written"
    );
    let stopped = |item: &str, needles: &[&str]| {
        let r = ev.item("stopped", item);
        assert_eq!(r["status"], "ignored", "{item}: {r}");
        let msg = r["result"]["msg"].as_str().unwrap_or_default();
        assert!(
            msg.contains("plugin `sandbox_probe`") && msg.contains("plugin.toml"),
            "{msg}"
        );
        assert!(needles.iter().any(|n| msg.contains(n)), "{item}: `{msg}`");
    };
    stopped(
        "memory",
        &["memory limit (32 MiB", "ran out of memory (32 MiB"],
    );
    stopped("loop", &["used up its fuel (300000000 units"]);
    stopped("stack", &["overflowed its stack", "used up its fuel"]);
    stopped(
        "panic",
        &["crashed during run; it said:", "probe panic: deliberate"],
    );
    let after = ev.results("after")[0];
    assert_eq!(after["status"], "changed", "the run went on: {after}");
    assert_eq!(after["result"]["stdout"], "640 16\nclean", "{after}");
}

const SECRET_BOOK: &str = r#"
- hosts: lab4
  gather_facts: false
  vars:
    db_password: "{{ secret('db-password') }}"
  tasks:
    - name: "configure with {{ secret('api-token') }}"
      copy:
        dest: /tmp/secret-test.conf
        content: "password={{ db_password }}\ntoken={{ secret('api-token') }}\n"
        mode: "0600"
    - debug: msg="the password is {{ db_password }}"
    - shell: echo "token {{ secret('api-token') }}"
      register: echoed
    - debug: var=echoed
    - set_fact: { copy_of: "{{ db_password | b64encode }}" }
    - debug: var=copy_of
    - shell: "echo {{ db_password }} >&2; exit 3"
      ignore_errors: true
    - assert: { that: ["db_password == 'wrong' ~ secret('api-token')"] }
      ignore_errors: true
    - shell: sha256sum /tmp/secret-test.conf | cut -c1-64
      register: digest
"#;

#[test]
fn secrets_never_appear_in_any_output() {
    use sha2::Digest;
    let dir = tempfile::tempdir().expect("tempdir");
    let book = write(dir.path(), "secrets.yml", SECRET_BOOK);
    let password = "Pa55-w0rd.from-file";
    let token = "tok_5ecr3t_from_env";
    // The password sits in the encrypted file backend; the token comes from the environment.
    let store = dir.path().join("secrets.enc");
    let store_s = store.to_string_lossy().into_owned();
    let pass_env = [
        ("HOIST_SECRET_FILE", store_s.as_str()),
        ("HOIST_SECRET_PASSPHRASE", "correct horse battery"),
    ];
    let set_file = write(dir.path(), "value", password);
    let r = hoist(
        &["secret", "set", "db-password", "--from-file", &set_file],
        &pass_env,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::remove_file(&set_file).expect("remove value file");
    let mut env: Vec<(&str, &str)> = pass_env.to_vec();
    env.push(("HOIST_SECRET_API_TOKEN", token));
    // The callback may write only under its working directory (`{cwd}` in its manifest).
    let report = dir.path().join("report.json");
    env.push(("HOIST_REPORT_FILE", "report.json"));
    let junit = dir.path().join("junit.xml");
    let junit_s = junit.to_string_lossy().into_owned();
    let inv = lab_inventory();
    let inv_s = inv.to_string_lossy().into_owned();
    let pp = plugin_path();
    env.push(("HOIST_PLUGIN_PATH", &pp));
    let human = hoist_at(
        Some(dir.path()),
        &[
            "run",
            "-i",
            &inv_s,
            &book,
            "-v",
            "--diff",
            "--junit",
            &junit_s,
            "--callback",
            "run_report",
        ],
        &env,
    );
    let json = hoist(&["run", "-o", "json", "-i", &inv_s, &book, "--diff"], &env);
    let mut captured = vec![
        ("human stdout", human.stdout.clone()),
        ("human stderr", human.stderr.clone()),
        ("json stdout", json.stdout.clone()),
        ("json stderr", json.stderr.clone()),
        (
            "junit",
            std::fs::read_to_string(&junit).expect("junit written"),
        ),
        (
            "report",
            std::fs::read_to_string(&report).expect("report written"),
        ),
        ("store", std::fs::read_to_string(&store).expect("store")),
    ];
    for (cmd, args) in [
        ("list", vec!["secret", "list"]),
        ("get", vec!["secret", "get", "db-password"]),
        ("backend", vec!["secret", "backend"]),
    ] {
        let r = hoist(&args, &env);
        assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
        captured.push((cmd, r.stdout + &r.stderr));
    }
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(password);
    for (what, text) in &captured {
        for needle in [password, token, b64.as_str()] {
            assert!(!text.contains(needle), "{what} shows a secret:\n{text}");
        }
    }
    // The output is masked, not empty: the tasks ran and their results are there.
    assert!(
        human.stdout.contains("the password is ********"),
        "{}",
        human.stdout
    );
    assert!(json.stdout.contains("token ********"), "{}", json.stdout);
    assert_eq!(human.code, 0, "{}", human.stderr);
    assert!(!human.stderr.contains("warning"), "{}", human.stderr);
    // And the host got the real values.
    let want = format!(
        "{:x}",
        sha2::Sha256::digest(format!("password={password}\ntoken={token}\n"))
    );
    let digest = json
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|e| {
            e["event"] == "host_result"
                && e["action"] == "shell"
                && e["result"]["stdout"]
                    .as_str()
                    .is_some_and(|s| s.len() == 64)
        })
        .map(|e| {
            e["result"]["stdout"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .expect("digest task");
    assert_eq!(digest, want);
}
