//! ping, exec, facts across the lab; unreachable hosts; ProxyJump.

use crate::support::*;

fn inv() -> String {
    lab_inventory().to_string_lossy().into_owned()
}

#[test]
fn ping_every_lab_host() {
    let r = hoist(&["ping", "all", "-i", &inv(), "-o", "json"], &[]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let rows = r.json();
    let rows = rows.as_array().expect("array");
    assert!(rows.len() >= 3, "lab has at least 3 hosts: {rows:?}");
    assert!(rows.iter().all(|r| r["ping"] == "pong"), "{rows:?}");
}

#[test]
fn exec_groups_output_per_host_with_exit_codes() {
    let r = hoist(
        &[
            "exec",
            "lab",
            "-i",
            &inv(),
            "-o",
            "json",
            "--",
            "echo out-$(hostname); echo err >&2; test $(hostname) != lab2",
        ],
        &[],
    );
    assert_eq!(
        r.code, 2,
        "one host fails: exit 2\n{}{}",
        r.stdout, r.stderr
    );
    let rows = r.json();
    for h in ["lab1", "lab2", "lab3"] {
        let row = row(&rows, h);
        assert_eq!(row["stdout"], format!("out-{h}\n"));
        assert_eq!(row["stderr"], "err\n");
        assert_eq!(row["rc"], if h == "lab2" { 1 } else { 0 });
    }
    // The human view groups output under a per-host header.
    let r = hoist(&["exec", "lab1:lab3", "-i", &inv(), "--", "echo hi"], &[]);
    assert_eq!(r.code, 0);
    assert!(r.stdout.contains("lab1 | CHANGED | rc=0"), "{}", r.stdout);
    assert!(r.stdout.contains("lab3 | CHANGED | rc=0"), "{}", r.stdout);
    assert!(!r.stdout.contains("lab2"), "{}", r.stdout);
}

#[test]
fn facts_in_one_round_trip() {
    let r = hoist(&["facts", "lab", "-i", &inv(), "-o", "json"], &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let facts = r.json();
    for (i, h) in ["lab1", "lab2", "lab3"].iter().enumerate() {
        let f = &facts[h];
        assert_eq!(f["hostname"], *h);
        assert_eq!(f["os"]["id"], "debian");
        assert!(f["cpus"].as_u64().unwrap_or(0) >= 1);
        assert!(f["memory"]["total_kb"].as_u64().unwrap_or(0) > 0);
        assert!(f["uptime_seconds"].as_u64().is_some());
        assert!(
            f["disks"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d["mount"] == "/"))
        );
        let eth0 = f["interfaces"]
            .as_array()
            .and_then(|a| a.iter().find(|i| i["name"] == "eth0"))
            .expect("eth0");
        assert_eq!(eth0["addresses"][0], format!("10.77.0.{}/24", 11 + i));
        assert!(eth0["rx_bytes"].as_u64().unwrap_or(0) > 0);
    }
    let table = hoist(&["facts", "lab1", "-i", &inv()], &[]);
    assert!(
        table.stdout.contains("Debian GNU/Linux 12"),
        "{}",
        table.stdout
    );
}

#[test]
fn unreachable_hosts_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let extra = write(
        dir.path(),
        "extra.yml",
        "all:\n  hosts:\n    ghost:\n      ansible_host: 10.77.0.250\n    closed:\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n",
    );
    let r = hoist(
        &[
            "ping",
            "all",
            "-i",
            &inv(),
            "-i",
            &extra,
            "--connect-timeout",
            "3",
            "-o",
            "json",
        ],
        &[],
    );
    assert_eq!(
        r.code, 4,
        "unreachable hosts give exit 4: {}{}",
        r.stdout, r.stderr
    );
    let rows = r.json();
    assert_eq!(row(&rows, "ghost")["ping"], "unreachable");
    assert_eq!(row(&rows, "closed")["ping"], "unreachable");
    assert!(
        row(&rows, "closed")["error"]
            .as_str()
            .unwrap_or("")
            .contains("closed: cannot connect to 127.0.0.1:1")
    );
    for h in ["lab1", "lab2", "lab3"] {
        assert_eq!(row(&rows, h)["ping"], "pong");
    }
}

#[test]
fn proxy_jump_through_one_lab_host_to_another() {
    let dir = tempfile::tempdir().unwrap();
    // Through inventory args (as Ansible users write them) ...
    let kh = lab_state().join("known_hosts");
    let extra = write(
        dir.path(),
        "jump.yml",
        &format!(
            "all:\n  hosts:\n    lab2-via-lab1:\n      ansible_host: 10.77.0.12\n      ansible_ssh_common_args: \"-o UserKnownHostsFile={} -o ProxyJump=root@10.77.0.11\"\n",
            kh.display()
        ),
    );
    let r = hoist(
        &[
            "exec",
            "lab2-via-lab1",
            "-i",
            &inv(),
            "-i",
            &extra,
            "-o",
            "json",
            "--",
            "hostname; echo $SSH_CLIENT",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let out = row(&r.json(), "lab2-via-lab1")["stdout"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        out.starts_with("lab2\n10.77.0.11 "),
        "lab2 sees lab1 as its client: {out}"
    );
    // ... and through ~/.ssh/config (-F), with an alias for the jump host.
    let cfg = write(
        dir.path(),
        "ssh_config",
        "Host viacfg\n  HostName 10.77.0.13\n  ProxyJump jumpbox\nHost jumpbox\n  HostName 10.77.0.11\n  User root\n",
    );
    let extra2 = write(dir.path(), "cfg.yml", "all:\n  hosts:\n    viacfg:\n");
    let r = hoist(
        &[
            "exec",
            "viacfg",
            "-i",
            &inv(),
            "-i",
            &extra2,
            "-F",
            &cfg,
            "-o",
            "json",
            "--",
            "hostname; echo $SSH_CLIENT",
        ],
        &[],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let out = row(&r.json(), "viacfg")["stdout"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(out.starts_with("lab3\n10.77.0.11 "), "{out}");
}
