//! The transport as a library: many channels on one connection beyond `MaxSessions`, atomic
//! uploads, command timeouts.

use crate::support::*;
use hoist_core::adhoc;
use hoist_core::inventory::Inventory;
use hoist_core::ssh::{
    ConnectContext, ConnectOptions, Connection, KeyCache, Pool, SshConfig, SshError,
};
use std::sync::Arc;
use std::time::Duration;

async fn connect(host: &str, opts: ConnectOptions) -> (Arc<Pool>, Arc<Connection>) {
    let inv = Inventory::load(&[lab_inventory()]).expect("lab inventory");
    let ssh = SshConfig::default();
    let targets = adhoc::targets(&inv, &[host.to_string()], &ssh, &opts);
    let pool = Arc::new(Pool::new(ConnectContext {
        ssh,
        opts,
        keys: KeyCache::default(),
    }));
    let conn = pool.get(&targets[0]).await.expect("connects");
    (pool, conn)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_concurrent_commands_share_one_connection() {
    let (pool, conn) = connect("lab1", ConnectOptions::default()).await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..40 {
        let c = conn.clone();
        set.spawn(async move { (i, c.exec(&format!("echo {i}"), None).await) });
    }
    let mut done = 0;
    while let Some(r) = set.join_next().await {
        let (i, out) = r.expect("task");
        let out = out.expect("exec succeeds despite MaxSessions 10");
        assert_eq!(out.stdout_str(), format!("{i}\n"));
        done += 1;
    }
    assert_eq!(done, 40);
    pool.close_all().await;
}

#[tokio::test]
async fn upload_is_atomic_and_keeps_or_sets_mode() {
    let (pool, conn) = connect("lab2", ConnectOptions::default()).await;
    conn.exec("rm -rf /tmp/up && mkdir /tmp/up", None)
        .await
        .unwrap();
    let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    conn.upload(&data, "/tmp/up/blob", Some("0600"))
        .await
        .unwrap();
    let out = conn
        .exec(
            "stat -c %a /tmp/up/blob; sha256sum < /tmp/up/blob; ls -A /tmp/up",
            None,
        )
        .await
        .unwrap();
    let expected = {
        let mut h = std::process::Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        h.stdin.take().unwrap().write_all(&data).unwrap();
        String::from_utf8(h.wait_with_output().unwrap().stdout).unwrap()
    };
    assert_eq!(
        out.stdout_str(),
        format!("600\n{expected}blob\n"),
        "content, mode, no temp file left"
    );
    // Rewriting without a mode keeps the existing one.
    conn.upload(b"second\n", "/tmp/up/blob", None)
        .await
        .unwrap();
    let out = conn
        .exec("stat -c %a /tmp/up/blob; cat /tmp/up/blob", None)
        .await
        .unwrap();
    assert_eq!(out.stdout_str(), "600\nsecond\n");
    // A failed upload leaves the old file and no temp file.
    let err = conn
        .upload(b"x", "/nonexistent-dir/blob", None)
        .await
        .unwrap_err();
    assert!(matches!(err, SshError::Upload { .. }), "{err}");
    pool.close_all().await;
}

#[tokio::test]
async fn command_timeout_is_reported() {
    let opts = ConnectOptions {
        command_timeout: Some(Duration::from_secs(1)),
        ..ConnectOptions::default()
    };
    let (pool, conn) = connect("lab1", opts).await;
    let err = conn.exec("sleep 5", None).await.unwrap_err();
    assert!(err.to_string().contains("timed out after 1s"), "{err}");
    assert!(!err.is_unreachable());
    pool.close_all().await;
}
