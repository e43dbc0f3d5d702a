//! `systemd` and `service`: unit state, enablement and masking from one `systemctl show`,
//! then one script for every change (`daemon_reload` first).

use crate::modules::types::{Bool, Text};
use crate::modules::{Ctx, FileDiff, ModResult, Module, ModuleError, Outcome, fail};
use crate::ssh::shell::quote;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Systemd {
    #[serde(alias = "service", alias = "unit")]
    name: Option<Text>,
    state: Option<String>,
    enabled: Option<Bool>,
    masked: Option<Bool>,
    #[serde(default, alias = "daemon-reload")]
    daemon_reload: Bool,
    #[serde(default, alias = "daemon-reexec")]
    daemon_reexec: Bool,
    #[serde(default)]
    no_block: Bool,
    scope: Option<String>,
    force: Option<Bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    name: Text,
    state: Option<String>,
    enabled: Option<Bool>,
    pattern: Option<String>,
    sleep: Option<crate::modules::types::Int>,
    arguments: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    runlevel: Option<String>,
    /// systemd's own options, passed on when systemd manages the host (as ansible-core's
    /// `service` action passes them to the `systemd` module).
    #[serde(default, alias = "daemon-reload")]
    daemon_reload: Bool,
    #[serde(default, alias = "daemon-reexec")]
    daemon_reexec: Bool,
    masked: Option<Bool>,
    #[serde(default)]
    no_block: Bool,
    scope: Option<String>,
    force: Option<Bool>,
}

/// `systemctl show` properties.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UnitState {
    pub load: String,
    pub active: String,
    pub file: String,
    /// `systemctl is-enabled UNIT -l`: its status and output, when asked.
    pub is_enabled: Option<(i64, String)>,
}

pub fn parse_show(out: &str) -> UnitState {
    let mut s = UnitState::default();
    let (show, probe) = out.split_once("@@is-enabled\n").unwrap_or((out, ""));
    if let Some((text, rc)) = probe.rsplit_once("@@rc=") {
        s.is_enabled = Some((rc.trim().parse().unwrap_or(1), text.to_string()));
    }
    for line in show.lines() {
        match line.split_once('=') {
            Some(("LoadState", v)) => s.load = v.to_string(),
            Some(("ActiveState", v)) => s.active = v.to_string(),
            Some(("UnitFileState", v)) => s.file = v.to_string(),
            _ => {}
        }
    }
    s
}

/// The `systemctl` commands that bring `unit` from `now` to what is asked, in order.
pub fn plan(
    unit: &str,
    now: &UnitState,
    state: Option<&str>,
    enabled: Option<bool>,
    masked: Option<bool>,
    no_block: bool,
) -> Result<Vec<String>, String> {
    let u = quote(unit);
    let nb = if no_block { "--no-block " } else { "" };
    let mut cmds = Vec::new();
    if let Some(m) = masked
        && m != (now.file == "masked")
    {
        cmds.push(format!(
            "systemctl {} {u}",
            if m { "mask" } else { "unmask" }
        ));
    }
    if let Some(e) = enabled.filter(|_| masked != Some(true)) {
        // As ansible-core: what `is-enabled -l` says, exactly `indirect`, `alias` or
        // `enabled-runtime` counting as not enabled (an indirect unit whose `Also=` units are
        // enabled lists them, and counts as enabled).
        let is = match &now.is_enabled {
            Some((0, out)) => !["enabled-runtime", "indirect", "alias"].contains(&out.trim_end()),
            Some(_) => false,
            None => matches!(
                now.file.as_str(),
                "enabled" | "linked" | "linked-runtime" | "static"
            ),
        };
        if e != is {
            cmds.push(format!(
                "systemctl {} {u}",
                if e { "enable" } else { "disable" }
            ));
        }
    }
    let running = matches!(now.active.as_str(), "active" | "activating" | "reloading");
    match state {
        None => {}
        Some("started") if !running => cmds.push(format!("systemctl {nb}start {u}")),
        Some("stopped") if running => cmds.push(format!("systemctl {nb}stop {u}")),
        Some("restarted") => cmds.push(format!("systemctl {nb}restart {u}")),
        Some("reloaded") if running => cmds.push(format!("systemctl {nb}reload {u}")),
        Some("reloaded") => cmds.push(format!("systemctl {nb}start {u}")),
        Some("started" | "stopped") => {}
        Some(other) => {
            return Err(format!(
                "unknown state `{other}` (use started, stopped, restarted or reloaded)"
            ));
        }
    }
    Ok(cmds)
}

impl Systemd {
    async fn apply(&self, ctx: &Ctx<'_>) -> ModResult {
        let remote = ctx.remote()?;
        let user = if self.scope.as_deref() == Some("user") {
            "--user "
        } else {
            ""
        };
        let mut out = Outcome::ok();
        if self.daemon_reexec.0 && !ctx.check {
            remote
                .check(&format!("systemctl {user}daemon-reexec"), None)
                .await?;
        }
        if self.daemon_reload.0 && !ctx.check {
            remote
                .check(&format!("systemctl {user}daemon-reload"), None)
                .await?;
        }
        let Some(name) = &self.name else {
            if self.daemon_reload.0 || self.daemon_reexec.0 {
                return Ok(out);
            }
            return fail("`name` is required");
        };
        let _ = &self.force;
        let unit = &name.0;
        let show = remote
            .check(
                &format!(
                    "systemctl {user}show {u} -p LoadState -p ActiveState -p UnitFileState{}",
                    if self.enabled.is_some() {
                        format!(
                            "; echo '@@is-enabled'; systemctl {user}is-enabled {} -l 2>/dev/null; echo \"@@rc=$?\"",
                            quote(unit)
                        )
                    } else {
                        String::new()
                    },
                    u = quote(unit)
                ),
                None,
            )
            .await?;
        let now = parse_show(&show.stdout_str());
        if now.load == "not-found"
            && (self.state.is_some() || self.enabled.is_some())
            && self.masked != Some(Bool(true))
        {
            return fail(format!("Could not find the requested service {unit}: host"));
        }
        let cmds = plan(
            unit,
            &now,
            self.state.as_deref(),
            self.enabled.map(|b| b.0),
            self.masked.map(|b| b.0),
            self.no_block.0,
        )
        .map_err(crate::modules::ModuleError::Args)?;
        let cmds: Vec<String> = cmds
            .into_iter()
            .map(|c| c.replacen("systemctl ", &format!("systemctl {user}"), 1))
            .collect();
        if !cmds.is_empty() {
            out.changed = true;
            if ctx.diff {
                out.diffs.push(FileDiff {
                    before_header: unit.clone(),
                    after_header: unit.clone(),
                    before: format!("active: {}\nenabled: {}\n", now.active, now.file),
                    after: cmds.iter().map(|c| format!("{c}\n")).collect(),
                });
            }
            if !ctx.check {
                remote.check(&cmds.join(" && "), None).await?;
            }
        }
        let status =
            json!({"ActiveState": now.active, "UnitFileState": now.file, "LoadState": now.load});
        let mut out = out.with("name", unit.as_str()).with("status", status);
        // The state the service is left in: restarted and reloaded leave it started.
        if let Some(s) = &self.state {
            let left = match s.as_str() {
                "restarted" | "reloaded" => "started",
                other => other,
            };
            out = out.with("state", left);
        }
        if let Some(e) = self.enabled {
            out = out.with("enabled", e.0);
        }
        Ok(out)
    }
}

impl Module for Systemd {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        self.apply(ctx).await
    }
}

impl Module for Service {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = (&self.pattern, &self.sleep, &self.arguments, &self.runlevel);
        // `use` forces the manager, as in Ansible; `auto` (the default) asks the facts.
        let systemd = match self.use_.as_deref() {
            Some("systemd") => Some(true),
            Some("sysvinit" | "sysv" | "service") => Some(false),
            Some("auto") | None => ctx
                .fact("service_mgr")
                .and_then(|v| v.as_str())
                .map(|m| m == "systemd"),
            Some(other) => {
                return Err(ModuleError::Args(format!(
                    "`use: {other}`: hoist manages services with systemd or sysvinit (or auto)"
                )));
            }
        };
        let systemd = match systemd {
            Some(s) => s,
            None => ctx
                .remote()?
                .exec("[ -d /run/systemd/system ]", None)
                .await?
                .success(),
        };
        if systemd {
            return Systemd {
                name: Some(self.name),
                state: self.state,
                enabled: self.enabled,
                masked: self.masked,
                daemon_reload: self.daemon_reload,
                daemon_reexec: self.daemon_reexec,
                no_block: self.no_block,
                scope: self.scope,
                force: self.force,
            }
            .apply(ctx)
            .await;
        }
        let systemd_only = [
            ("daemon_reload", self.daemon_reload.0),
            ("daemon_reexec", self.daemon_reexec.0),
            ("masked", self.masked.is_some()),
            ("no_block", self.no_block.0),
            ("scope", self.scope.is_some()),
            ("force", self.force.is_some()),
        ];
        if let Some((arg, _)) = systemd_only.iter().find(|(_, set)| *set) {
            return Err(ModuleError::Args(format!(
                "`{arg}` is a systemd option and this host's services are managed by SysV init"
            )));
        }
        // SysV init: `service NAME status` and update-rc.d.
        let remote = ctx.remote()?;
        let n = quote(&self.name.0);
        let running = remote
            .exec(&format!("service {n} status >/dev/null 2>&1"), None)
            .await?
            .success();
        let mut cmds = Vec::new();
        match self.state.as_deref() {
            Some("started") if !running => cmds.push(format!("service {n} start")),
            Some("stopped") if running => cmds.push(format!("service {n} stop")),
            Some("restarted") => cmds.push(format!("service {n} restart")),
            Some("reloaded") => cmds.push(format!("service {n} reload")),
            Some("started" | "stopped") | None => {}
            Some(other) => return fail(format!("unknown state `{other}`")),
        }
        if let Some(e) = self.enabled {
            let on = remote
                .exec(&format!("ls /etc/rc[2345].d/S*{n} >/dev/null 2>&1"), None)
                .await?
                .success();
            if on != e.0 {
                cmds.push(format!(
                    "update-rc.d {n} {}",
                    if e.0 { "defaults" } else { "disable" }
                ));
            }
        }
        let mut out = Outcome::changed(!cmds.is_empty());
        if !cmds.is_empty() && !ctx.check {
            remote.check(&cmds.join(" && "), None).await?;
        }
        out.data.insert("name".into(), self.name.0.into());
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans() {
        let stopped = UnitState {
            is_enabled: None,
            load: "loaded".into(),
            active: "inactive".into(),
            file: "disabled".into(),
        };
        let running = UnitState {
            is_enabled: None,
            load: "loaded".into(),
            active: "active".into(),
            file: "enabled".into(),
        };
        assert_eq!(
            plan("nginx", &stopped, Some("started"), Some(true), None, false).unwrap(),
            vec!["systemctl enable nginx", "systemctl start nginx"]
        );
        assert!(
            plan("nginx", &running, Some("started"), Some(true), None, false)
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            plan("nginx", &running, Some("restarted"), None, None, false).unwrap(),
            vec!["systemctl restart nginx"]
        );
        assert_eq!(
            plan(
                "nginx",
                &running,
                Some("stopped"),
                Some(false),
                Some(true),
                false
            )
            .unwrap(),
            vec!["systemctl mask nginx", "systemctl stop nginx"]
        );
        assert!(plan("x", &running, Some("bogus"), None, None, false).is_err());
        assert_eq!(
            parse_show("LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n"),
            running
        );
    }
}
