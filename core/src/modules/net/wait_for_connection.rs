//! `wait_for_connection`: waits until the host answers again (after a reboot, a network
//! change, a host just created), as ansible-core's action: after `delay`, it connects anew
//! and runs a command on the host, each try bounded by `connect_timeout`, every `sleep`
//! seconds, for at most `timeout` seconds; `elapsed` says how long it took.

use crate::modules::types::Seconds;
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome};
use serde::Deserialize;
use std::time::{Duration, Instant};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitForConnection {
    connect_timeout: Option<Seconds>,
    delay: Option<Seconds>,
    sleep: Option<Seconds>,
    timeout: Option<Seconds>,
}

/// Connects anew and runs a command until it works or `timeout` runs out; the last error.
pub async fn until_connected(
    ctx: &Ctx<'_>,
    connect_timeout: Duration,
    sleep: Duration,
    timeout: Duration,
) -> Result<(), String> {
    let reconnect = ctx
        .reconnect
        .ok_or_else(|| "this task cannot reconnect to its host".to_string())?;
    let end = Instant::now() + timeout;
    let mut last = String::from("no attempt was made");
    while Instant::now() < end {
        let attempt = async {
            let remote = reconnect().await?;
            let out = remote.exec("echo pong", None).await?;
            match out.stdout_str().trim() {
                "pong" => Ok(()),
                other => Err(ModuleError::Failed(format!("ping test failed: {other}"))),
            }
        };
        match tokio::time::timeout(connect_timeout, attempt).await {
            Ok(Ok(())) => return Ok(()),
            Ok(Err(e)) => last = e.to_string(),
            Err(_) => last = format!("timed out after {}s", connect_timeout.as_secs()),
        }
        tokio::time::sleep(sleep.min(end.saturating_duration_since(Instant::now()))).await;
    }
    Err(last)
}

impl Module for WaitForConnection {
    const CONTROLLER: bool = true;

    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        if ctx.check {
            let mut o = Outcome::ok();
            o.skipped = true;
            return Ok(o);
        }
        let secs = |v: &Option<Seconds>, default: f64| {
            Duration::from_secs_f64(v.as_ref().map(|s| s.0).unwrap_or(default).max(0.0))
        };
        let start = Instant::now();
        tokio::time::sleep(secs(&self.delay, 0.0)).await;
        let waited = until_connected(
            ctx,
            secs(&self.connect_timeout, 5.0).max(Duration::from_millis(100)),
            secs(&self.sleep, 1.0),
            secs(&self.timeout, 600.0),
        )
        .await;
        let mut o = Outcome::ok().with("elapsed", start.elapsed().as_secs());
        if let Err(e) = waited {
            o.failed = true;
            o.msg = Some(format!("timed out waiting for ping module test: {e}"));
        }
        Ok(o)
    }
}
