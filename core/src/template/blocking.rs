//! Lookups that block (a command for `pipe`/`lines`, a file read) without freezing the process:
//! on a multi-threaded tokio runtime they run under `block_in_place`, so other tasks (the
//! control plane's API, other runs) move to other threads meanwhile. A command has a time limit
//! (`HOIST_LOOKUP_TIMEOUT`, seconds, default 120) and stops when the run it belongs to is
//! cancelled ([`cancellable`]); either way its whole process group is killed.

use std::future::Future;
use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

tokio::task_local! {
    static CANCEL: Arc<AtomicBool>;
}

/// Runs `fut` (a run) with `flag` as its cancel switch: lookups inside it stop when it is set.
pub async fn cancellable<F: Future>(flag: Arc<AtomicBool>, fut: F) -> F::Output {
    CANCEL.scope(flag, fut).await
}

fn cancelled() -> bool {
    CANCEL
        .try_with(|c| c.load(Ordering::Relaxed))
        .unwrap_or(false)
}

/// Runs `f` where blocking is allowed: under `block_in_place` on a multi-threaded runtime.
pub fn off_async<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// The time limit of one lookup command.
pub fn limit() -> Duration {
    std::env::var("HOIST_LOOKUP_TIMEOUT")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .unwrap_or(Duration::from_secs(120))
}

/// What a lookup command gave.
pub struct Output {
    pub success: bool,
    pub status: String,
    pub stdout: Vec<u8>,
}

/// Runs `script` with `/bin/sh -c` in its own process group, within `limit` and until the run
/// is cancelled.
pub fn command(script: &str, limit: Duration) -> Result<Output, String> {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot run `{script}`: {e}"))?;
    let mut out = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_end(&mut buf);
        }
        buf
    });
    let started = Instant::now();
    let why = loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let stdout = reader.join().unwrap_or_default();
                return Ok(Output {
                    success: status.success(),
                    status: status.to_string(),
                    stdout,
                });
            }
            Ok(None) => {}
            Err(e) => break format!("waiting for `{script}`: {e}"),
        }
        if cancelled() {
            break "the run was cancelled".to_string();
        }
        if started.elapsed() >= limit {
            break format!(
                "`{script}` took longer than {} s (HOIST_LOOKUP_TIMEOUT)",
                limit.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // The whole group: `sh -c 'sleep 100; x'` leaves `sleep` running otherwise.
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
    Err(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_end_at_their_limit_with_their_children() {
        let t0 = Instant::now();
        let e = command("sleep 30; echo late", Duration::from_millis(300))
            .err()
            .expect("stopped");
        assert!(e.contains("took longer"), "{e}");
        assert!(t0.elapsed() < Duration::from_secs(5));
        let o = command("printf 'a\\nb'", Duration::from_secs(10)).expect("runs");
        assert!(o.success);
        assert_eq!(o.stdout, b"a\nb");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_run_stops_its_lookup() {
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            f.store(true, Ordering::Relaxed);
        });
        let t0 = Instant::now();
        let r = cancellable(flag, async {
            off_async(|| command("sleep 30", Duration::from_secs(60)))
        })
        .await;
        assert!(r.err().is_some_and(|e| e.contains("cancelled")));
        assert!(t0.elapsed() < Duration::from_secs(5));
    }
}
