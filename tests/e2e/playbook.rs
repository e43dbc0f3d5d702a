//! `hoist run` on the lab: idempotency (a second run changes nothing), check mode changes
//! nothing on the hosts (read back), handlers fire once, rescue/always, a failed host does not
//! stop the others, unreachable hosts, roles/includes/imports/tags/run_once/delegate_to.

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

/// A run's exit code and its JSON events.
struct Played {
    code: i32,
    events: Vec<Value>,
    stderr: String,
}

impl Played {
    fn recap(&self) -> &Value {
        let r = self.events.iter().rev().find(|e| e["event"] == "recap");
        &r.unwrap_or_else(|| panic!("no recap in {:?}\nstderr: {}", self.events, self.stderr))["hosts"]
    }

    /// Sum of one recap counter over every host.
    fn total(&self, counter: &str) -> u64 {
        self.recap()
            .as_object()
            .map(|m| m.values().map(|s| s[counter].as_u64().unwrap_or(0)).sum())
            .unwrap_or(0)
    }

    fn host(&self, host: &str, counter: &str) -> u64 {
        self.recap()[host][counter]
            .as_u64()
            .unwrap_or_else(|| panic!("no {counter} for {host} in {}", self.recap()))
    }

    /// Hosts that reported `status` for the task named `task`.
    fn hosts_with(&self, task: &str, status: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .events
            .iter()
            .filter(|e| e["event"] == "host_result" && e["task"] == task && e["status"] == status)
            .map(|e| e["host"].as_str().unwrap_or_default().to_string())
            .collect();
        v.sort();
        v
    }

    fn lab_hosts(&self) -> Vec<String> {
        self.recap()
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }
}

fn play(book: &str, test_id: &str, extra: &[&str]) -> Played {
    let inv = lab_inventory();
    let mut args = vec![
        "run",
        "-o",
        "json",
        "-i",
        inv.to_str().unwrap_or_default(),
        "-e",
    ];
    let id = format!("test_id={test_id}");
    args.push(&id);
    let pb = playbook(book);
    args.push(&pb);
    args.extend_from_slice(extra);
    let r = hoist(&args, &[]);
    let events = r
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad event line ({e}): {l}")))
        .collect();
    Played {
        code: r.code,
        events,
        stderr: r.stderr,
    }
}

/// Runs a shell command on every lab host; the outputs by host.
fn on_hosts(cmd: &str) -> Value {
    let inv = lab_inventory();
    let r = hoist(
        &[
            "exec",
            "lab",
            "-o",
            "json",
            "-i",
            inv.to_str().unwrap_or_default(),
            "--",
            cmd,
        ],
        &[],
    );
    r.json()
}

fn clean(test_id: &str) {
    on_hosts(&format!("rm -rf /srv/hoist-e2e/{test_id}"));
}

#[test]
fn second_run_reports_zero_changed() {
    clean("idem");
    let first = play("idempotent.yml", "idem", &[]);
    assert_eq!(
        first.code, 0,
        "first run failed: {:?}\n{}",
        first.events, first.stderr
    );
    let hosts = first.lab_hosts().len() as u64;
    assert!(hosts >= 2, "the lab has several hosts");
    // 10 changing tasks plus the handler, on every host.
    assert_eq!(first.total("changed"), 11 * hosts, "{}", first.recap());
    let second = play("idempotent.yml", "idem", &[]);
    assert_eq!(second.code, 0);
    assert_eq!(
        second.total("changed"),
        0,
        "second run changed something: {}",
        second.recap()
    );
    assert_eq!(second.total("failed"), 0);
    assert!(
        second.hosts_with("reload service", "changed").is_empty(),
        "handler must not run"
    );
}

#[test]
fn check_mode_changes_nothing_on_the_hosts() {
    clean("check");
    let dry = play("check.yml", "check", &["--check"]);
    assert_eq!(dry.code, 0, "{:?}\n{}", dry.events, dry.stderr);
    let hosts = dry.lab_hosts().len() as u64;
    assert_eq!(
        dry.total("changed"),
        5 * hosts,
        "every task reports the change it would make"
    );
    for (host, out) in on_hosts("test -e /srv/hoist-e2e/check && echo present || echo absent")
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["host"].clone(), r["stdout"].clone()))
    {
        assert_eq!(out, "absent\n", "check mode created files on {host}");
    }
    let real = play("check.yml", "check", &[]);
    assert_eq!(real.total("changed"), 5 * hosts);
    let again = play("check.yml", "check", &["--check"]);
    assert_eq!(again.total("changed"), 0, "{}", again.recap());
    for r in on_hosts("stat -c %a /srv/hoist-e2e/check/file; cat /srv/hoist-e2e/check/other")
        .as_array()
        .unwrap()
    {
        assert_eq!(r["stdout"], "600\nsecond\n", "{r}");
    }
}

#[test]
fn handlers_fire_once_per_host() {
    clean("handlers");
    let first = play("handlers.yml", "handlers", &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let hosts = first.lab_hosts();
    assert_eq!(first.hosts_with("count", "changed"), hosts);
    assert_eq!(first.hosts_with("listener", "changed"), hosts);
    assert!(first.hosts_with("never-runs", "changed").is_empty());
    for r in on_hosts("cat /srv/hoist-e2e/handlers/handler.log; cat /srv/hoist-e2e/handlers/listen.log; test -e /srv/hoist-e2e/handlers/never.log && echo NEVER").as_array().unwrap() {
        assert_eq!(r["stdout"], "run\nlistened\n", "{r}");
    }
    let second = play("handlers.yml", "handlers", &[]);
    assert!(
        second.hosts_with("count", "changed").is_empty(),
        "nothing changed, so no handler"
    );
}

#[test]
fn forced_include_handlers_run_and_failed_hosts_stay_failed() {
    clean("handlers_forced");
    let p = play("handlers_forced.yml", "handlers_forced", &[]);
    assert_eq!(p.code, 2, "every host failed: exit code 2; {}", p.stderr);
    let hosts = p.lab_hosts();
    assert_eq!(p.hosts_with("fails", "failed"), hosts);
    assert_eq!(
        p.hosts_with("recorded by the included handler", "changed"),
        hosts
    );
    for r in on_hosts("cat /srv/hoist-e2e/handlers_forced/handler.log")
        .as_array()
        .unwrap()
    {
        assert_eq!(r["stdout"], "included\n", "{r}");
    }
    for h in &hosts {
        assert_eq!(p.host(h, "failed"), 1, "{h}");
    }
}

#[test]
fn file_and_fact_modules_answer_as_ansible_core() {
    clean("file_module");
    let p = play("file_module.yml", "file_module", &[]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    assert_eq!(p.hosts_with("results", "ok"), p.lab_hosts());
}

#[test]
fn dpkg_selections_debconf_and_apt_repository_answer_as_ansible_core() {
    let p = play("packages_native.yml", "packages_native", &[]);
    assert_eq!(p.code, 0, "{}", p.stderr);
    assert_eq!(p.hosts_with("verdict", "ok"), p.lab_hosts());
}

#[test]
fn rescue_always_and_failed_hosts() {
    clean("blocks");
    let p = play("blocks.yml", "blocks", &[]);
    assert_eq!(p.code, 2, "a host failed: exit code 2");
    let hosts = p.lab_hosts();
    let first = hosts[0].clone();
    let others: Vec<String> = hosts[1..].to_vec();
    assert_eq!(p.hosts_with("rescue runs", "changed"), hosts);
    assert_eq!(p.hosts_with("always runs", "changed"), hosts);
    assert!(p.hosts_with("never reached", "changed").is_empty());
    assert_eq!(
        p.hosts_with("fails on the first host only", "failed"),
        vec![first.clone()]
    );
    assert_eq!(p.hosts_with("the others go on", "changed"), others);
    assert_eq!(p.hosts_with("ignored failure", "ignored"), others);
    for h in &hosts {
        assert_eq!(p.host(h, "rescued"), 1, "{h}");
    }
    assert_eq!(p.host(&first, "failed"), 1);
    for h in &others {
        assert_eq!(
            p.host(h, "failed"),
            0,
            "a rescued failure is not a failure: {h}"
        );
        assert_eq!(p.host(h, "ignored"), 1);
    }
    for r in on_hosts("cat /srv/hoist-e2e/blocks/rescued")
        .as_array()
        .unwrap()
    {
        assert_eq!(r["stdout"], "rc=1\n");
    }
}

#[test]
fn roles_includes_tags_run_once_and_delegation() {
    clean("structure");
    let p = play("structure.yml", "structure", &[]);
    assert_eq!(
        p.code,
        0,
        "{:?}\n{}",
        p.events
            .iter()
            .filter(|e| e["status"] == "failed")
            .collect::<Vec<_>>(),
        p.stderr
    );
    let hosts = p.lab_hosts();
    assert_eq!(
        p.hosts_with("Once for the whole play", "ok"),
        vec![hosts[0].clone()],
        "run_once runs on one host"
    );
    assert!(
        p.hosts_with("Only with the extra tag", "changed")
            .is_empty(),
        "`never` tasks need their tag"
    );
    let included = p.events.iter().filter(|e| e["event"] == "included").count();
    assert_eq!(included, 2, "one include per loop item");
    for r in on_hosts("cd /srv/hoist-e2e/structure && cat webapp.conf common imported part-one part-two webapp-handler").as_array().unwrap() {
        assert_eq!(r["stdout"], "port=8181\nworkers=2\nrole=webapp\ncommon 2\nstatic\none\ntwo\nran\n", "{r}");
    }
    let tagged = play("structure.yml", "structure", &["--tags", "extra"]);
    assert_eq!(tagged.code, 0, "{}", tagged.stderr);
    assert_eq!(
        tagged.hosts_with("Only with the extra tag", "changed"),
        hosts
    );
    assert!(
        tagged.hosts_with("Imported task", "ok").is_empty(),
        "untagged tasks are skipped by --tags"
    );
}

#[test]
fn unreachable_hosts_are_reported_and_the_rest_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let inv = std::fs::read_to_string(lab_inventory()).unwrap();
    // A host on the lab bridge that nobody answers for.
    let inv = inv.replacen(
        "      hosts:\n",
        "      hosts:\n        ghost:\n          ansible_host: 10.77.0.250\n",
        1,
    );
    let inv_path = crate::support::write(dir.path(), "inv.yml", &inv);
    let pb = crate::support::write(
        dir.path(),
        "pb.yml",
        "- hosts: lab\n  gather_facts: false\n  tasks:\n    - command: 'true'\n    - debug: {msg: after}\n",
    );
    let r = hoist(
        &[
            "run",
            "-o",
            "json",
            "-i",
            &inv_path,
            "--connect-timeout",
            "2",
            &pb,
        ],
        &[],
    );
    assert_eq!(
        r.code, 4,
        "unreachable: exit code 4\n{}\n{}",
        r.stdout, r.stderr
    );
    let events: Vec<Value> = r
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let unreachable: Vec<&Value> = events
        .iter()
        .filter(|e| e["status"] == "unreachable")
        .collect();
    assert_eq!(unreachable.len(), 1);
    assert_eq!(unreachable[0]["host"], "ghost");
    let after = events
        .iter()
        .filter(|e| e["event"] == "host_result" && e["task"] == "debug" && e["status"] == "ok")
        .count();
    assert!(after >= 2, "the reachable hosts went on: {events:?}");
}

/// Serves `files` over HTTP on the lab bridge (10.77.0.1) for at most `max` requests.
fn serve(files: Vec<(&'static str, &'static str, &'static str)>, max: usize) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("10.77.0.1:0").expect("bind on the lab bridge");
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(max) {
            let Ok(mut s) = stream else { continue };
            let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(5)));
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]);
            let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
            let reply = match files.iter().find(|(p, _, _)| *p == path) {
                Some((_, ctype, body)) => format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_string(),
            };
            let _ = s.write_all(reply.as_bytes());
        }
    });
    format!("http://{addr}")
}

#[test]
fn every_module_converges_and_then_changes_nothing() {
    clean("modules");
    let http = serve(
        vec![
            ("/payload.txt", "text/plain", "payload\n"),
            ("/status.json", "application/json", "{\"ok\": true}"),
        ],
        200,
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("bundle")).unwrap();
    std::fs::write(dir.path().join("bundle/readme.txt"), "the bundle readme\n").unwrap();
    let archive = dir.path().join("bundle.tar.gz");
    let ok = std::process::Command::new("tar")
        .arg("czf")
        .arg(&archive)
        .arg("-C")
        .arg(dir.path())
        .arg("bundle")
        .status()
        .unwrap()
        .success();
    assert!(ok, "tar works");
    let fetched = dir.path().join("fetched");
    let extra = [
        "-e".to_string(),
        format!("http={http}"),
        "-e".to_string(),
        format!("archive={}", archive.display()),
        "-e".to_string(),
        format!("fetch_dir={}", fetched.display()),
    ];
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let first = play("modules.yml", "modules", &extra);
    let failures: Vec<&Value> = first
        .events
        .iter()
        .filter(|e| e["status"] == "failed" || e["status"] == "unreachable")
        .collect();
    assert_eq!(
        first.code, 0,
        "first run failed: {failures:#?}\n{}",
        first.stderr
    );
    assert!(first.total("changed") > 0);
    for r in on_hosts(
        "hello; id -nG hoistmodules; systemctl is-active hoist-modules; systemctl is-enabled hoist-modules; \
         crontab -l -u hoistmodules | tail -1; cat /etc/cron.d/hoist-modules; cat /srv/hoist-e2e/modules/text.conf; \
         sysctl -n net.ipv4.ip_forward; cat /srv/hoist-e2e/modules/payload.txt; stat -c %a /srv/hoist-e2e/modules/payload.txt; \
         cat ~hoistmodules/.ssh/authorized_keys | cut -c1-11",
    )
    .as_array()
    .unwrap()
    {
        assert_eq!(
            r["stdout"],
            "Hello, world!\nhoistmodules adm\nactive\nenabled\n5 2 * * * /usr/bin/true\n#Ansible: cleanup\n@daily root /usr/bin/true\n\
             [main]\n# BEGIN ANSIBLE MANAGED BLOCK\nx=1\ny=2\n# END ANSIBLE MANAGED BLOCK\nport=8080\nhost=a\n[other]\nport=80\n1\npayload\n640\nssh-ed25519\n",
            "{r}"
        );
    }
    for h in first.lab_hosts() {
        let f = fetched
            .join(&h)
            .join("srv/hoist-e2e/modules/bundle/readme.txt");
        assert_eq!(
            std::fs::read_to_string(&f).unwrap_or_default(),
            "the bundle readme\n",
            "{}",
            f.display()
        );
    }
    let second = play("modules.yml", "modules", &extra);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let changed: Vec<&Value> = second
        .events
        .iter()
        .filter(|e| e["event"] == "host_result" && e["status"] == "changed")
        .collect();
    assert!(changed.is_empty(), "second run changed: {changed:#?}");

    let gone = play("modules_absent.yml", "modules", &[]);
    assert_eq!(
        gone.code,
        0,
        "{:#?}",
        gone.events
            .iter()
            .filter(|e| e["status"] == "failed")
            .collect::<Vec<_>>()
    );
    assert!(gone.total("changed") > 0);
    for r in on_hosts(
        "id hoistmodules 2>&1 | grep -c 'no such user'; getent group hoistmodules || echo nogroup; \
         systemctl is-active hoist-modules; test -e /etc/cron.d/hoist-modules || echo nocron; \
         cat /srv/hoist-e2e/modules/text.conf; dpkg -s hello 2>&1 | grep -c 'not installed'",
    )
    .as_array()
    .unwrap()
    {
        assert_eq!(
            r["stdout"], "1\nnogroup\ninactive\nnocron\n[main]\nport=8080\n[other]\nport=80\n1\n",
            "{r}"
        );
    }
    let again = play("modules_absent.yml", "modules", &[]);
    assert_eq!(again.total("changed"), 0, "{}", again.recap());
}
