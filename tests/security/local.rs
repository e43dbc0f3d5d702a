//! Hole 6 on the controller: the multiplexer's socket directory must be ours and private, and a
//! multiplexer run by another local user is refused before a request (which carries become
//! passwords) is sent to it.

use crate::support::{hoist, lab_inventory};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NOBODY: u32 = 65534;

/// `hoist exec lab1 --persist 5 -- true` with one extra environment variable.
fn exec_with_persist(env: (&str, &str)) -> crate::support::Run {
    let inv = lab_inventory();
    hoist(
        &[
            "exec",
            "lab1",
            "-i",
            inv.to_str().unwrap_or_default(),
            "--persist",
            "5",
            "--",
            "true",
        ],
        &[env],
    )
}

/// A Python `script` run as user `nobody`, stopped after `secs` seconds.
fn as_nobody(secs: u32, script: &str) -> Command {
    let mut c = Command::new("timeout");
    c.arg(secs.to_string()).args([
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "/usr/bin/python3",
        "-c",
        script,
    ]);
    c
}

/// Waits up to 10 s for `path` to exist.
fn wait_for(path: &std::path::Path, what: &str) {
    let t0 = Instant::now();
    while !path.exists() {
        assert!(t0.elapsed() < Duration::from_secs(10), "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_socket_directory_someone_else_made_or_others_may_enter_is_refused() {
    let runtime = tempfile::tempdir().expect("tempdir");
    let planted = runtime.path().join("hoist");
    std::fs::create_dir(&planted).expect("mkdir");
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    std::os::unix::fs::chown(&planted, Some(NOBODY), Some(NOBODY))
        .expect("chown (tests run as root)");
    let xdg = runtime.path().to_str().unwrap_or_default();
    let r = hoist(
        &["mux", "serve", "--persist", "1"],
        &[("XDG_RUNTIME_DIR", xdg)],
    );
    assert_ne!(
        r.code, 0,
        "served from another user's directory: {}{}",
        r.stdout, r.stderr
    );
    assert!(r.stderr.contains("owned by uid 65534"), "{}", r.stderr);
    // A run with --persist refuses it the same way (it would send its requests there).
    let r = exec_with_persist(("XDG_RUNTIME_DIR", xdg));
    assert!(
        format!("{}{}", r.stdout, r.stderr).contains("owned by uid 65534"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    // Ours but open to others: refused too.
    std::os::unix::fs::chown(&planted, Some(0), Some(0)).expect("chown");
    std::fs::set_permissions(&planted, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let r = hoist(
        &["mux", "serve", "--persist", "1"],
        &[("XDG_RUNTIME_DIR", xdg)],
    );
    assert_ne!(r.code, 0);
    assert!(r.stderr.contains("0755"), "{}", r.stderr);
    // A missing one is made 0700, and the multiplexer serves from it.
    std::fs::remove_dir(&planted).expect("rmdir");
    let r = hoist(
        &["mux", "serve", "--persist", "1"],
        &[("XDG_RUNTIME_DIR", xdg)],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mode = std::fs::metadata(&planted)
        .expect("made")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o700);
}

#[test]
fn a_multiplexer_run_by_another_user_gets_no_request() {
    // A shared sticky directory (like /tmp) where user `nobody` listens on the socket path.
    let shared = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o1777))
        .expect("chmod");
    let sock = shared.path().join("mux.sock");
    let got = shared.path().join("received");
    let script = format!(
        "import socket, os\ns = socket.socket(socket.AF_UNIX)\ns.bind({sock:?})\nos.chmod({sock:?}, 0o777)\ns.listen(4)\nc, _ = s.accept()\nc.settimeout(5)\ndata = b''\ntry:\n    while True:\n        d = c.recv(65536)\n        if not d: break\n        data += d\nexcept Exception:\n    pass\nopen({got:?}, 'wb').write(data)\n",
        sock = sock.display().to_string(),
        got = got.display().to_string()
    );
    let mut fake = as_nobody(30, &script)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 as nobody");
    wait_for(&sock, "the fake multiplexer did not start");
    let r = exec_with_persist(("HOIST_MUX_SOCKET", sock.to_str().unwrap_or_default()));
    let out = format!("{}{}", r.stdout, r.stderr);
    assert!(
        out.contains("uid 65534"),
        "the foreign peer was not refused: {out}"
    );
    let _ = fake.wait();
    let received = std::fs::read(&got).unwrap_or_default();
    assert!(
        received.is_empty(),
        "the request reached another user's process: {}",
        String::from_utf8_lossy(&received)
    );
}

#[test]
fn the_operator_caps_what_a_plugin_manifest_asks_for() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/plugins");
    let inspect = |env: &[(&str, &str)]| {
        hoist(
            &["--plugin-dir", dir, "plugin", "inspect", "sandbox_probe"],
            env,
        )
    };
    // The manifest asks for 32 MiB and 300,000,000 fuel.
    let r = inspect(&[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("memory 32 MiB, fuel 300000000"),
        "{}",
        r.stdout
    );
    let r = inspect(&[
        ("HOIST_PLUGIN_MAX_MEMORY_MB", "16"),
        ("HOIST_PLUGIN_MAX_TIMEOUT_SECS", "5"),
    ]);
    assert!(
        r.stdout.contains("memory 16 MiB") && r.stdout.contains("timeout 5 s"),
        "{}{}",
        r.stdout,
        r.stderr
    );
    // Too little fuel for the plugin to even describe itself: stopped, and the message says why.
    let r = inspect(&[("HOIST_PLUGIN_MAX_FUEL", "1000")]);
    assert_ne!(r.code, 0);
    assert!(
        r.stderr.contains("used up its fuel (1000 units"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_planted_precompiled_plugin_is_never_loaded() {
    // A cache directory someone else can write: nothing in it is trusted (a .cwasm is native
    // code). The plugin still loads, compiled afresh.
    let cache = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(cache.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/plugins");
    let env = [("HOIST_CACHE_DIR", cache.path().to_str().unwrap_or_default())];
    let r = hoist(
        &["--plugin-dir", dir, "plugin", "inspect", "sandbox_probe"],
        &env,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("compiled"), "{}", r.stdout);
    let plugins = cache.path().join("plugins");
    if plugins.exists() {
        std::fs::set_permissions(&plugins, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    } else {
        std::fs::create_dir(&plugins).expect("mkdir");
        std::fs::set_permissions(&plugins, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    }
    // Whatever sits there now (planted or ours) is not used from a directory others may write.
    for _ in 0..2 {
        let r = hoist(
            &["--plugin-dir", dir, "plugin", "inspect", "sandbox_probe"],
            &env,
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stdout.contains("compiled") && !r.stdout.contains("(cache"),
            "{}",
            r.stdout
        );
    }
}

#[test]
fn our_multiplexer_serves_no_other_user() {
    // Our multiplexer on a socket in a shared sticky directory; `nobody` asks it to stop.
    let shared = tempfile::tempdir().expect("tempdir");
    std::fs::set_permissions(shared.path(), std::fs::Permissions::from_mode(0o1777))
        .expect("chmod");
    let sock = shared.path().join("mux.sock");
    let mut ours = Command::new(env!("CARGO_BIN_EXE_hoist"))
        .args(["mux", "serve", "--persist", "20", "--socket"])
        .arg(&sock)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("hoist mux serve");
    wait_for(&sock, "the multiplexer did not start");
    // The socket is 0600: nobody cannot even connect. Open it up to prove the peer check.
    std::fs::set_permissions(&sock, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let script = format!(
        "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect({sock:?})\ns.sendall(b'\"Stop\"\\n')\ns.settimeout(5)\ntry:\n    print(repr(s.recv(4096)))\nexcept Exception as e:\n    print('error', e)\n",
        sock = sock.display().to_string()
    );
    let out = as_nobody(20, &script).output().expect("python3 as nobody");
    let said = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        !said.contains("Stopped"),
        "another user stopped our multiplexer: {said}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        ours.try_wait().ok().flatten().is_none(),
        "our multiplexer exited on another user's request"
    );
    // We may stop it.
    let r = hoist(
        &["mux", "stop", "--socket", sock.to_str().unwrap_or_default()],
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let _ = ours.wait();
}
