use super::*;
use serde_json::json;

fn spec(v: serde_json::Value) -> CheckSpec {
    serde_json::from_value(v).unwrap()
}

#[test]
fn resolves_kinds_and_rejects_bad_specs() {
    let (name, c) = spec(json!({"tcp": "10.0.0.1:5432"})).resolve(0).unwrap();
    assert_eq!(name, "tcp 10.0.0.1:5432");
    assert_eq!(
        c,
        Check::Tcp {
            host: "10.0.0.1".into(),
            port: 5432
        }
    );
    let (_, c) = spec(json!({"tcp": 22})).resolve(0).unwrap();
    assert_eq!(
        c,
        Check::Tcp {
            host: "127.0.0.1".into(),
            port: 22
        }
    );
    let (name, c) =
        spec(json!({"name": "gw", "http": {"url": "http://x/", "status": "204", "body": "ok"}}))
            .resolve(0)
            .unwrap();
    assert_eq!(name, "gw");
    assert!(matches!(c, Check::Http { status: 204, .. }));
    let e = spec(json!({"tcp": 1, "systemd": "x"}))
        .resolve(3)
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "health check #3: give only one kind, got tcp and systemd"
    );
    let e = spec(json!({"name": "nothing"})).resolve(0).unwrap_err();
    assert!(e.message.starts_with("give one of: tcp, http"), "{e}");
    let e = spec(json!({"http": {"url": "u", "code": 1}}))
        .resolve(0)
        .unwrap_err();
    assert!(e.message.contains("does not take `code`"), "{e}");
    let e = spec(json!({"tcp": "host:http"})).resolve(0).unwrap_err();
    assert!(e.message.contains("host:port"), "{e}");
    assert!(serde_json::from_value::<CheckSpec>(json!({"tcpp": 1})).is_err());
}

#[test]
fn judges_tcp_http_command_systemd_disk() {
    let tcp = Check::Tcp {
        host: "h".into(),
        port: 1,
    };
    assert!(tcp.judge(0, "open\n").0);
    assert_eq!(tcp.judge(124, "").1, "h:1 timed out");
    assert!(!tcp.judge(1, "bash: connect: Connection refused").0);

    let http = Check::Http {
        url: "u".into(),
        status: 200,
        body: Some("ok".into()),
        ca: None,
        insecure: false,
    };
    assert!(http.judge(0, "200\nok\n").0);
    assert_eq!(http.judge(0, "503\nno\n").1, "HTTP 503, expected 200");
    assert_eq!(http.judge(0, "200\nnope\n").1, "HTTP 200, body lacks `ok`");
    assert!(!http.judge(7, "000curl: (7) Failed to connect\n").0);

    let cmd = Check::Command {
        cmd: "x".into(),
        expect_rc: 0,
    };
    assert!(cmd.judge(0, "fine\n").0);
    assert_eq!(cmd.judge(2, "boom\n").1, "rc=2 (expected 0) boom");

    let unit = Check::Systemd { unit: "x".into() };
    assert!(unit.judge(0, "active\n").0);
    assert!(!unit.judge(3, "inactive\n").0);

    let disk = Check::Disk {
        path: "/".into(),
        max_used_pct: 80.0,
    };
    let line = "/dev/sda1 1000 850 150 85% /";
    assert_eq!(
        disk.judge(0, line),
        (false, "85.0% used (max 80%)".into(), None)
    );
    assert!(disk.judge(0, "/dev/sda1 1000 100 900 10% /").0);
}

#[test]
fn judges_postgresql_replication() {
    let c = Check::PgReplication {
        max_lag_bytes: Some(1000),
        min_replicas: 1,
    };
    assert!(c.judge(0, "primary|1|0\n").0);
    assert_eq!(
        c.judge(0, "primary|0|0\n").1,
        "primary, 0 streaming replica(s) (min 1), max lag 0 bytes"
    );
    assert!(!c.judge(0, "primary|1|5000\n").0);
    assert!(c.judge(0, "replica|streaming|10\n").0);
    assert_eq!(
        c.judge(0, "replica|none|0\n"),
        (false, "replica, none, replay lag 0 bytes".into(), None)
    );
    assert!(!c.judge(2, "psql: error: connection refused\n").0);
}

#[test]
fn judges_moosefs_chunks() {
    let c = Check::MfsChunks {
        master: "m".into(),
        min_chunkservers: 3,
    };
    let healthy = "all chunks matrix:\tchunkclass missing:\t0\nall chunks matrix:\tchunkclass endangered:\t0\n\
all chunks matrix:\tchunkclass undergoal:\t0\nchunk servers:\ta\t9422\nchunk servers:\tb\t9422\nchunk servers:\tc\t9422\n";
    let (ok, detail, _) = c.judge(0, healthy);
    assert!(ok, "{detail}");
    assert_eq!(
        detail,
        "3 chunkserver(s) (min 3); chunks missing 0, endangered 0, undergoal 0"
    );
    let degraded = healthy.replace("undergoal:\t0", "undergoal:\t4");
    assert!(!c.judge(0, &degraded).0);
    let two = healthy.replace("chunk servers:\tc\t9422\n", "");
    assert!(!c.judge(0, &two).0);
    assert!(!c.judge(0, "garbage").0);
}

#[test]
fn splits_script_output_and_reads_metrics() {
    let checks = vec![
        (Check::Systemd { unit: "a".into() }, 5.0),
        (
            Check::Vip {
                address: "10.0.0.9".into(),
            },
            5.0,
        ),
    ];
    let script = host_script(&checks);
    assert!(script.contains("echo @@check 1"));
    let out = "@@metrics\ncpu_pct 12\nmem_used_pct 40.5\n@@check 0\nactive\n@@rc 0 0\n@@check 1\nholds\n@@rc 1 0\n@@end\n";
    let (metrics, results) = split_output(out, 2);
    let m = parse_metrics(&metrics);
    assert_eq!(m["cpu_pct"], json!(12.0));
    assert_eq!(m["mem_used_pct"], json!(40.5));
    assert_eq!(results[0], Some((0, "active\n".into())));
    let (ok, detail, holds) = checks[1].0.judge(0, &results[1].as_ref().unwrap().1);
    assert!(ok);
    assert_eq!(detail, "holds 10.0.0.9");
    assert_eq!(holds, Some(true));
    // A cut-off output leaves the missing checks unanswered.
    let (_, cut) = split_output("@@check 0\nactive\n", 2);
    assert_eq!(cut, vec![None, None]);
}

#[test]
fn one_vip_owner_per_address() {
    let r = |holds| CheckResult {
        name: "vip".into(),
        kind: "vip".into(),
        ok: true,
        detail: String::new(),
        vip: Some("10.0.0.9".into()),
        holds: Some(holds),
    };
    let (a, b) = (vec![r(true)], vec![r(false)]);
    let v = fleet_verdicts([("lb1", a.as_slice()), ("lb2", b.as_slice())]);
    assert_eq!(v.len(), 1);
    assert!(v[0].ok);
    assert_eq!(v[0].detail, "held by lb1");
    let both = vec![r(true)];
    let v = fleet_verdicts([("lb1", a.as_slice()), ("lb2", both.as_slice())]);
    assert!(!v[0].ok);
    let none = vec![r(false)];
    let v = fleet_verdicts([("lb1", none.as_slice()), ("lb2", b.as_slice())]);
    assert_eq!(v[0].detail, "no host holds it");
}
