//! `reboot`: reboots the host and waits until it is back, as ansible-core's action does:
//! the boot id is read, the reboot command run (`shutdown -r MINUTES "MSG"`, `reboot -d SECS`
//! on Alpine, or `reboot_command`), then, connecting anew each try, the boot id is read until
//! it changed and `test_command` runs, within `reboot_timeout`. Refused over a local
//! connection (it would reboot the controller); check mode reports the reboot only.

use crate::modules::remote::Transport;
use crate::modules::types::{Seconds, Text};
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome};
use serde::Deserialize;
use std::time::{Duration, Instant};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reboot {
    msg: Option<Text>,
    pre_reboot_delay: Option<Seconds>,
    post_reboot_delay: Option<Seconds>,
    #[serde(alias = "reboot_timeout_sec")]
    reboot_timeout: Option<Seconds>,
    #[serde(alias = "connect_timeout_sec")]
    connect_timeout: Option<Seconds>,
    test_command: Option<Text>,
    reboot_command: Option<Text>,
    boot_time_command: Option<Text>,
    search_paths: Option<crate::modules::types::List>,
}

const BOOT_ID: &str = "cat /proc/sys/kernel/random/boot_id";

/// The reboot command for a host whose os-release ID is `id`.
pub fn reboot_command(given: Option<&str>, id: &str, delay: u64, msg: &str) -> String {
    if let Some(c) = given {
        return c.to_string();
    }
    match id {
        "alpine" => format!("reboot -d {delay}"),
        _ => format!(
            "shutdown -r {} {}",
            delay / 60,
            crate::ssh::shell::quote(msg)
        ),
    }
}

impl Reboot {
    fn secs(v: &Option<Seconds>, default: f64) -> Duration {
        Duration::from_secs_f64(v.as_ref().map(|s| s.0).unwrap_or(default).max(0.0))
    }

    /// Runs `cmd` on a fresh connection until `done` accepts its output or `end` passes.
    async fn until(
        ctx: &Ctx<'_>,
        cmd: &str,
        end: Instant,
        connect_timeout: Duration,
        done: impl Fn(&str) -> bool,
    ) -> Result<(), String> {
        let reconnect = ctx
            .reconnect
            .ok_or_else(|| "this task cannot reconnect to its host".to_string())?;
        let mut wait = Duration::from_secs(1);
        let mut last = String::from("no attempt was made");
        while Instant::now() < end {
            let attempt = async {
                let remote = reconnect().await?;
                let out = remote.exec(cmd, None).await?;
                if !out.success() {
                    return Err(ModuleError::Failed(format!(
                        "`{cmd}` failed: {}",
                        out.stderr_str().trim()
                    )));
                }
                Ok(out.stdout_str().trim().to_string())
            };
            match tokio::time::timeout(connect_timeout, attempt).await {
                Ok(Ok(text)) if done(&text) => return Ok(()),
                Ok(Ok(_)) => last = "the host has not rebooted yet".into(),
                Ok(Err(e)) => last = e.to_string(),
                Err(_) => last = format!("timed out after {}s", connect_timeout.as_secs()),
            }
            tokio::time::sleep(wait.min(end.saturating_duration_since(Instant::now()))).await;
            wait = (wait * 2).min(Duration::from_secs(10));
        }
        Err(last)
    }
}

impl Module for Reboot {
    const CONTROLLER: bool = true;

    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let failed = |msg: String, rebooted: bool| {
            let mut o = Outcome::ok().with("elapsed", 0).with("rebooted", rebooted);
            o.failed = true;
            o.msg = Some(msg);
            Ok(o)
        };
        let Some(reconnect) = ctx.reconnect else {
            return failed("this task cannot reconnect to its host".into(), false);
        };
        let remote = reconnect().await?;
        if matches!(remote.transport, Transport::Local) {
            return failed(
                "Running reboot with local connection would reboot the control node.".into(),
                false,
            );
        }
        if ctx.check {
            return Ok(Outcome::changed(true)
                .with("elapsed", 0)
                .with("rebooted", true));
        }
        let boot_cmd = self
            .boot_time_command
            .as_ref()
            .map(|c| c.0.clone())
            .unwrap_or_else(|| BOOT_ID.into());
        let before = remote
            .exec(
                &format!("{boot_cmd}; echo; . /etc/os-release 2>/dev/null; echo \"$ID\""),
                None,
            )
            .await?;
        let text = before.stdout_str();
        let mut lines = text.lines();
        let previous = lines.next().unwrap_or_default().trim().to_string();
        let id = lines.last().unwrap_or_default().trim().to_string();
        if previous.is_empty() {
            return failed(
                format!("failed to read the boot id: {}", before.stderr_str().trim()),
                false,
            );
        }
        let pre = Self::secs(&self.pre_reboot_delay, 0.0);
        let msg = self
            .msg
            .as_ref()
            .map(|m| m.0.clone())
            .unwrap_or_else(|| "Reboot initiated by Ansible".into());
        let cmd = reboot_command(
            self.reboot_command.as_ref().map(|c| c.0.as_str()),
            &id,
            pre.as_secs(),
            &msg,
        );
        let _ = &self.search_paths;
        let start = Instant::now();
        // The connection may end with the reboot: that counts as the command working.
        match remote.exec(&cmd, None).await {
            Ok(out) if !out.success() && out.status.is_some() => {
                return failed(
                    format!(
                        "Reboot command failed. Error was: '{}, {}'",
                        out.stdout_str().trim(),
                        out.stderr_str().trim()
                    ),
                    false,
                );
            }
            _ => {}
        }
        tokio::time::sleep(Self::secs(&self.post_reboot_delay, 0.0)).await;
        let timeout = Self::secs(&self.reboot_timeout, 600.0);
        let end = start + pre + timeout;
        let connect_timeout = Self::secs(&self.connect_timeout, 10.0).max(Duration::from_secs(1));
        let elapsed = |o: Outcome| o.with("elapsed", start.elapsed().as_secs());
        if let Err(e) =
            Self::until(ctx, &boot_cmd, end, connect_timeout, |now| now != previous).await
        {
            let o = failed(
                format!(
                    "Timed out waiting for last boot time check (timeout={}): {e}",
                    timeout.as_secs()
                ),
                true,
            )?;
            return Ok(elapsed(o));
        }
        let test = self
            .test_command
            .as_ref()
            .map(|c| c.0.clone())
            .unwrap_or_else(|| "whoami".into());
        if let Err(e) = Self::until(ctx, &test, end, connect_timeout, |_| true).await {
            let o = failed(
                format!(
                    "Timed out waiting for post-reboot test command (timeout={}): {e}",
                    timeout.as_secs()
                ),
                true,
            )?;
            return Ok(elapsed(o));
        }
        Ok(elapsed(Outcome::changed(true).with("rebooted", true)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reboot_commands_as_ansible_core_builds_them() {
        assert_eq!(
            reboot_command(None, "debian", 90, "Reboot initiated by Ansible"),
            "shutdown -r 1 'Reboot initiated by Ansible'"
        );
        assert_eq!(reboot_command(None, "alpine", 5, "x"), "reboot -d 5");
        assert_eq!(
            reboot_command(Some("systemctl reboot"), "debian", 0, "x"),
            "systemctl reboot"
        );
    }
}
