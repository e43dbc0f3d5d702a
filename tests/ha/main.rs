//! The HA stack, end to end on an 8-host lab (brought up by tests/run.sh with the stack's
//! packages): deploy from scratch and again with nothing changed; a rollout stopped by a failed
//! health gate with the fleet still serving; while a client keeps writing and reading through the
//! VIP, a full rolling upgrade (with a PostgreSQL switchover) and a balancer crash, with zero
//! failed requests and every acknowledged write read back; backups with rotation leaving exactly
//! the retained set; a restore that brings deleted data back. Figures go to target/ha-figures.json.

mod load;

use load::{Channel, Config, Load, Record, failed_attempts, longest_gap};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const INV: &str = "inventory/lab-ha.yml";
const VIP: &str = "10.77.0.100";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn secrets() -> PathBuf {
    root().join("target/ha-secrets")
}

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// `hoist ARGS` from the project root, with this test's secrets directory.
fn hoist(args: &[&str]) -> Out {
    let out = Command::new(env!("CARGO_BIN_EXE_hoist"))
        .current_dir(root())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("hoist runs");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `hoist run PLAYBOOK -i INV -o json` with extra `-e` values; returns (exit code, events).
fn playbook(name: &str, extra: &[&str]) -> (i32, Vec<Value>, String) {
    let secrets_var = format!("ha_secrets_dir={}", secrets().display());
    let path = format!("playbooks/{name}");
    let mut args = vec![
        "run",
        path.as_str(),
        "-i",
        INV,
        "-o",
        "json",
        "-e",
        &secrets_var,
    ];
    for e in extra {
        args.push("-e");
        args.push(e);
    }
    let started = Instant::now();
    let o = hoist(&args);
    eprintln!(
        "[ha] {name} {extra:?}: exit {} in {:.1}s",
        o.code,
        started.elapsed().as_secs_f64()
    );
    let events = o
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    (o.code, events, format!("{}\n{}", o.stdout, o.stderr))
}

/// Changed results per host in the recap.
fn changed(events: &[Value]) -> Vec<(String, u64)> {
    let recap = events
        .iter()
        .find(|e| e["event"] == "recap")
        .expect("a recap");
    recap["hosts"]
        .as_object()
        .expect("hosts")
        .iter()
        .map(|(h, s)| (h.clone(), s["changed"].as_u64().unwrap_or(0)))
        .filter(|(_, c)| *c > 0)
        .collect()
}

fn exec(pattern: &str, cmd: &str) -> String {
    let o = hoist(&["exec", pattern, "-i", INV, "-o", "json", "--", cmd]);
    assert_eq!(o.code, 0, "exec {cmd}: {}{}", o.stdout, o.stderr);
    let rows: Value = serde_json::from_str(&o.stdout).expect("exec JSON");
    rows[0]["stdout"].as_str().unwrap_or_default().to_string()
}

/// `site.yml` succeeds and changes nothing.
fn site_changes_nothing(when: &str) {
    let (code, events, out) = playbook("site.yml", &[]);
    assert_eq!(code, 0, "site.yml {when}:\n{out}");
    assert_eq!(
        changed(&events),
        vec![],
        "site.yml changed something {when}:\n{out}"
    );
}

/// The load client through the VIP: a request fails only when 30 s of retries did not help.
fn start_load(ca: &[u8], password: &str, run_id: &str) -> Load {
    Load::start(Config {
        vip: VIP.into(),
        ca_pem: ca.to_vec(),
        pg_password: password.to_string(),
        run_id: run_id.to_string(),
        deadline: Duration::from_secs(30),
        max_ops: 100_000,
    })
}

/// `hoist health` until it passes (up to `secs` tries a second apart); prints the last report.
fn wait_healthy(secs: u32) -> bool {
    let mut last = String::new();
    for _ in 0..secs {
        let h = hoist(&["health", "-i", INV]);
        if h.code == 0 {
            return true;
        }
        last = h.stdout;
        std::thread::sleep(Duration::from_secs(1));
    }
    eprintln!("[ha] still unhealthy:\n{last}");
    false
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every acknowledged write reads back: files through the VIP, rows from the primary.
fn lost_writes(r: &Record, agent: &ureq::Agent, password: &str, run_id: &str) -> (usize, usize) {
    let mut lost_files = 0;
    for (name, body) in &r.acked_files {
        let got = (0..20).find_map(|_| {
            let got = agent
                .get(&format!("https://{VIP}/files/{name}"))
                .call()
                .ok()
                .filter(|r| r.status().as_u16() == 200)
                .and_then(|mut r| r.body_mut().read_to_string().ok());
            if got.is_none() {
                std::thread::sleep(Duration::from_millis(200));
            }
            got
        });
        if got.as_deref() != Some(body.as_str()) {
            eprintln!("[ha] lost file {name}: {got:?}");
            lost_files += 1;
        }
    }
    let mut c = load::pg_config(VIP, 5432, password)
        .connect(postgres::NoTls)
        .expect("connect to the primary through the VIP");
    let rows = c
        .query(
            "select path from files where path like $1",
            &[&format!("/pg/{run_id}-%")],
        )
        .expect("select");
    let have: std::collections::HashSet<String> = rows.iter().map(|r| r.get(0)).collect();
    let lost_rows = r.acked_rows.iter().filter(|p| !have.contains(*p)).count();
    (lost_files, lost_rows)
}

#[test]
fn ha_stack_end_to_end() {
    if std::env::var_os("HOIST_HA_LAB").is_none() {
        panic!(
            "the HA test needs the 8-host HA lab: run it through tests/run.sh (sets HOIST_HA_LAB)"
        );
    }
    let _ = std::fs::remove_dir_all(secrets());
    let mut figures = serde_json::Map::new();

    // 1. From scratch, then again: nothing changes.
    let t = Instant::now();
    let (code, _, out) = playbook("site.yml", &[]);
    assert_eq!(code, 0, "site.yml from scratch:\n{out}");
    figures.insert("deploy_seconds".into(), json!(t.elapsed().as_secs_f64()));
    let t = Instant::now();
    site_changes_nothing("the second run");
    figures.insert(
        "idempotent_rerun_seconds".into(),
        json!(t.elapsed().as_secs_f64()),
    );
    assert!(wait_healthy(30), "hoist health after the deployment");

    let ca = std::fs::read(secrets().join("ca.crt")).expect("the CA certificate");
    let password = read(secrets().join("pg_app")).trim().to_string();
    let agent = load::agent(&ca);

    // 2. A health gate that cannot pass stops the rollout at the first node, names it and the
    //    failing check, leaves the others untouched; the fleet keeps serving.
    let impossible = r#"{"gate_timeout": 3, "health_checks": {"all": [{"name": "impossible check", "command": "test -e /nonexistent"}]}}"#;
    let (code, events, out) = playbook("rolling-upgrade.yml", &[impossible]);
    assert_eq!(code, 2, "a failed gate fails the rollout:\n{out}");
    assert!(
        out.contains("rollout stopped: st2 did not become healthy")
            && out.contains("impossible check"),
        "the failure names the node and the check:\n{out}"
    );
    let touched: Vec<&str> = events
        .iter()
        .filter(|e| e["event"] == "host_result")
        .filter_map(|e| e["host"].as_str())
        .collect();
    for untouched in ["st3", "st1", "db1", "db2", "lb1", "lb2"] {
        assert!(
            !touched.contains(&untouched),
            "{untouched} was touched:\n{out}"
        );
    }
    let r = agent
        .get(&format!("https://{VIP}/healthz"))
        .call()
        .expect("the fleet still serves");
    assert_eq!(r.status().as_u16(), 200);

    // 3. Load through the VIP during a full rolling upgrade and a balancer crash.
    let run_id = format!("load{}", std::process::id());
    let load = start_load(&ca, &password, &run_id);
    std::thread::sleep(Duration::from_secs(3));
    let upgrade_from = Instant::now();
    let (code, _, out) = playbook("rolling-upgrade.yml", &[]);
    assert_eq!(code, 0, "rolling upgrade:\n{out}");
    let upgrade_to = Instant::now();
    figures.insert(
        "rolling_upgrade_seconds".into(),
        json!((upgrade_to - upgrade_from).as_secs_f64()),
    );
    std::thread::sleep(Duration::from_secs(2));

    // The balancer holding the VIP crashes (processes killed, link down).
    let holder = ["lb1", "lb2"]
        .into_iter()
        .find(|lb| {
            !exec(lb, &format!("ip -o addr show to {VIP}"))
                .trim()
                .is_empty()
        })
        .expect("a balancer holds the VIP");
    let address = if holder == "lb1" {
        "10.77.0.11"
    } else {
        "10.77.0.12"
    };
    let kill_from = Instant::now();
    let k = hoist(&["lab", "kill", address]);
    assert_eq!(k.code, 0, "lab kill: {}", k.stderr);
    std::thread::sleep(Duration::from_secs(10));
    let kill_to = Instant::now();
    let record = load.finish();
    let (lost_files, lost_rows) = lost_writes(&record, &agent, &password, &run_id);

    let http = [Channel::HttpWrite, Channel::HttpRead];
    let pg_w = [Channel::PgWrite];
    let all = [
        Channel::HttpWrite,
        Channel::HttpRead,
        Channel::PgWrite,
        Channel::PgRead,
    ];
    let proof = json!({
        "requests_ok": record.ok_ops,
        "requests_failed": record.failed_ops.len(),
        "files_acknowledged": record.acked_files.len(),
        "rows_acknowledged": record.acked_rows.len(),
        "lost_files": lost_files,
        "lost_rows": lost_rows,
        "wrong_reads": record.wrong_reads.len(),
        "retried_attempts_during_upgrade": failed_attempts(&record, &all, upgrade_from, upgrade_to),
        "retried_attempts_during_crash": failed_attempts(&record, &all, kill_from, kill_to),
        "longest_http_gap_during_upgrade_s": longest_gap(&record, &http, upgrade_from, upgrade_to).as_secs_f64(),
        "longest_pg_write_gap_during_upgrade_s": longest_gap(&record, &pg_w, upgrade_from, upgrade_to).as_secs_f64(),
        "vip_failover_s": longest_gap(&record, &http, kill_from, kill_to).as_secs_f64(),
        "pg_write_gap_during_crash_s": longest_gap(&record, &pg_w, kill_from, kill_to).as_secs_f64(),
    });
    eprintln!("[ha] load: {proof}");
    figures.insert("load".into(), proof.clone());
    assert!(record.ok_ops > 100, "the client did work: {proof}");
    assert_eq!(record.failed_ops, vec![], "no request failed: {proof}");
    assert_eq!(
        record.wrong_reads,
        Vec::<String>::new(),
        "reads match writes"
    );
    assert_eq!(
        (lost_files, lost_rows),
        (0, 0),
        "no acknowledged write lost: {proof}"
    );

    // The crashed balancer comes back and the fleet is whole again.
    let s = hoist(&["lab", "start", address]);
    assert_eq!(s.code, 0, "lab start: {}", s.stderr);
    assert!(
        wait_healthy(60),
        "the fleet is healthy again after {holder} restarted"
    );

    // 4. Backups: older ones are pruned by the policy, exactly the retained set stays.
    let synthetic = [
        "20250105T000000Z",
        "20250110T000000Z",
        "20250201T000000Z",
        "20250215T000000Z",
        "20250301T000000Z",
    ];
    let mut make = String::from(
        "set -e; mkdir -p /srv/backups/db; cd /srv/backups/db; echo keep-me > README; ",
    );
    for s in synthetic {
        make.push_str(&format!(
            "echo old-{s} > db-{s}.dump; sha256sum db-{s}.dump > db-{s}.dump.sha256; "
        ));
    }
    exec("bk1", &make);
    let keep = r#"{"backup_keep": {"last": 2, "monthly": 3}}"#;
    let (code, _, out) = playbook("backup.yml", &[keep]);
    assert_eq!(code, 0, "backup:\n{out}");
    let listing = exec("bk1", "cd /srv/backups/db && ls -1");
    let names: Vec<&str> = listing.lines().collect();
    let stamp = names
        .iter()
        .filter_map(|n| n.strip_prefix("db-").and_then(|n| n.strip_suffix(".dump")))
        .filter(|s| !synthetic.contains(s))
        .max()
        .expect("today's backup")
        .to_string();
    let mut expected = vec![
        "README".to_string(),
        "db-20250215T000000Z.dump".into(),
        "db-20250215T000000Z.dump.sha256".into(),
        "db-20250301T000000Z.dump".into(),
        "db-20250301T000000Z.dump.sha256".into(),
        format!("db-{stamp}.dump"),
        format!("db-{stamp}.dump.sha256"),
    ];
    expected.sort();
    assert_eq!(
        names, expected,
        "the retained set: the newest 2, the newest of each of 3 months"
    );
    for kind in ["files", "mfs-meta"] {
        let l = exec(
            "bk1",
            &format!("cd /srv/backups/{kind} && sha256sum -c --strict *.sha256"),
        );
        assert!(l.contains(": OK"), "{kind} backup verifies: {l}");
    }

    // 5. Restore: delete data, restore the backup, everything is back.
    let mut c = load::pg_config(VIP, 5432, &password)
        .connect(postgres::NoTls)
        .expect("connect");
    let rows_before: i64 = c
        .query_one("select count(*) from files", &[])
        .unwrap()
        .get(0);
    c.execute("delete from files", &[]).unwrap();
    let (gone_name, gone_body) = record.acked_files[0].clone();
    // A new client: the old one's pooled connections went to the crashed balancer.
    let agent = load::agent(&ca);
    let deleted = (0..10).any(|_| {
        let ok = agent
            .delete(&format!("https://{VIP}/files/{gone_name}"))
            .call()
            .is_ok_and(|r| r.status().as_u16() < 300);
        if !ok {
            std::thread::sleep(Duration::from_millis(300));
        }
        ok
    });
    assert!(deleted, "DELETE {gone_name} through the VIP");
    // A file changed after the backup is newer than its copy in it: the restore keeps it.
    let (kept_name, kept_body) = record.acked_files[1].clone();
    let changed = "changed after the backup";
    let put = agent
        .put(&format!("https://{VIP}/files/{kept_name}"))
        .send(changed.as_bytes())
        .expect("PUT");
    assert!(put.status().as_u16() < 300, "PUT: {}", put.status());
    let stamp_var = format!("restore_stamp={stamp}");
    let (code, _, out) = playbook("restore.yml", &[&stamp_var]);
    assert_eq!(code, 0, "restore:\n{out}");
    let now = agent
        .get(&format!("https://{VIP}/files/{kept_name}"))
        .call()
        .expect("get")
        .body_mut()
        .read_to_string()
        .unwrap_or_default();
    assert_eq!(now, changed, "a file newer than the backup stays as it is");
    let put = agent
        .put(&format!("https://{VIP}/files/{kept_name}"))
        .send(kept_body.as_bytes())
        .expect("PUT");
    assert!(put.status().as_u16() < 300, "PUT back: {}", put.status());
    let rows_after: i64 = c
        .query_one("select count(*) from files", &[])
        .unwrap()
        .get(0);
    assert_eq!(rows_after, rows_before, "every row is back");
    let got = agent
        .get(&format!("https://{VIP}/files/{gone_name}"))
        .call()
        .expect("get")
        .body_mut()
        .read_to_string()
        .unwrap();
    assert_eq!(got, gone_body, "the deleted file is back");
    let (lost_files, lost_rows) = lost_writes(&record, &agent, &password, &run_id);
    assert_eq!(
        (lost_files, lost_rows),
        (0, 0),
        "after the restore, every acknowledged write is there"
    );

    // The MooseFS metadata restore rolls the namespace back to the backup: a file written after
    // it is gone, the files from before are all there, the storage tier is healthy.
    let put = agent
        .put(&format!("https://{VIP}/files/after-the-backup.txt"))
        .send("too late".as_bytes())
        .expect("PUT");
    assert!(put.status().as_u16() < 300, "PUT: {}", put.status());
    let meta = r#"{"restore_what": ["mfs-meta"]}"#;
    let (code, _, out) = playbook("restore.yml", &[&stamp_var, meta]);
    assert_eq!(code, 0, "metadata restore:\n{out}");
    let after = agent
        .get(&format!("https://{VIP}/files/after-the-backup.txt"))
        .call()
        .expect("GET");
    assert_eq!(
        after.status().as_u16(),
        404,
        "the namespace is back to the backup"
    );
    let (lost_files, _) = lost_writes(&record, &agent, &password, &run_id);
    assert_eq!(lost_files, 0, "every file from before the backup is there");
    assert!(wait_healthy(60), "healthy after the metadata restore");

    // 6. Unplanned PostgreSQL failover: the primary crashes under load, failover.yml promotes
    //    the replica, writes resume; the old primary comes back and pg-rejoin.yml makes it a
    //    replica again; site.yml then finds nothing to change.
    let primary = if exec(
        "db1",
        "test -f /var/lib/postgresql/15/main/standby.signal && echo r || echo p",
    )
    .trim()
        == "p"
    {
        ("db1", "10.77.0.13")
    } else {
        ("db2", "10.77.0.14")
    };
    let run2 = format!("{run_id}b");
    let load = start_load(&ca, &password, &run2);
    std::thread::sleep(Duration::from_secs(3));
    let crash = Instant::now();
    let k = hoist(&["lab", "kill", primary.1]);
    assert_eq!(k.code, 0, "lab kill: {}", k.stderr);
    let secrets_var = format!("ha_secrets_dir={}", secrets().display());
    let t = Instant::now();
    let fo = hoist(&[
        "run",
        "playbooks/failover.yml",
        "-i",
        INV,
        "-e",
        &secrets_var,
        "--connect-timeout",
        "3",
    ]);
    let failover_secs = t.elapsed().as_secs_f64();
    // The crashed node is unreachable (exit 4); nothing may fail on the others.
    assert_eq!(fo.code, 4, "failover:\n{}{}", fo.stdout, fo.stderr);
    assert!(!fo.stdout.contains("FAILED!"), "failover:\n{}", fo.stdout);
    std::thread::sleep(Duration::from_secs(3));
    let crash_to = Instant::now();
    let record2 = load.finish();
    let pg_w = [Channel::PgWrite];
    let acked_last_second = record2
        .attempts
        .iter()
        .filter(|(t, c, ok)| {
            *ok && *c == Channel::PgWrite
                && *t <= crash
                && crash.duration_since(*t) <= Duration::from_secs(1)
        })
        .count();
    let rows_only = Record {
        acked_rows: record2.acked_rows.clone(),
        ..Record::default()
    };
    let (_, lost_rows2) = lost_writes(&rows_only, &agent, &password, &run2);
    let failover = json!({
        "failed_primary": primary.0,
        "requests_ok": record2.ok_ops,
        "requests_failed": record2.failed_ops.len(),
        "pg_write_gap_s": longest_gap(&record2, &pg_w, crash, crash_to).as_secs_f64(),
        "failover_playbook_s": failover_secs,
        "rows_acknowledged": record2.acked_rows.len(),
        "rows_acknowledged_in_the_last_second_before_the_crash": acked_last_second,
        "lost_rows": lost_rows2,
    });
    eprintln!("[ha] failover: {failover}");
    figures.insert("pg_failover".into(), failover.clone());
    assert_eq!(
        record2.failed_ops,
        vec![],
        "no request failed across the failover: {failover}"
    );
    // Asynchronous replication: at most what the primary committed in its last moment is lost.
    assert!(
        lost_rows2 <= acked_last_second,
        "lost only what had not streamed yet: {failover}"
    );
    let s = hoist(&["lab", "start", primary.1]);
    assert_eq!(s.code, 0, "lab start: {}", s.stderr);
    let (code, _, out) = playbook("site.yml", &[]);
    assert_eq!(code, 2, "site.yml refuses two primaries:\n{out}");
    assert!(out.contains("pg-rejoin.yml"), "and says what to do:\n{out}");
    let rejoin = format!("pg_rejoin={}", primary.0);
    let (code, _, out) = playbook("pg-rejoin.yml", &[&rejoin]);
    assert_eq!(code, 0, "pg-rejoin:\n{out}");
    assert!(wait_healthy(60), "healthy after the rejoin");
    let (code, _, out) = playbook("site.yml", &[]);
    assert_eq!(code, 0, "site.yml after the rejoin:\n{out}");
    site_changes_nothing("after the failover and the rejoin");

    let path = root().join("target/ha-figures.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&Value::Object(figures)).unwrap(),
    )
    .unwrap();
    eprintln!("[ha] figures in {}", path.display());
}
