//! `service_facts`: every service the host knows, as ansible-core lists them — SysV scripts
//! (`service --status-all`) and systemd units (`list-units`, then `list-unit-files` for the
//! rest with their ActiveState) — in the fact `services` (`name`, `state`, `status`,
//! `source`); skipped with ansible-core's message when none are found.

use crate::modules::{Ctx, ModResult, Module, Outcome};
use crate::ssh::shell::quote;
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFacts {}

/// One probe: SysV's listing and systemd's two, each after a marker line.
const PROBE: &str = "export LANG=C LC_ALL=C; \
    if command -v service >/dev/null 2>&1 && ! command -v chkconfig >/dev/null 2>&1 && ! command -v rc-status >/dev/null 2>&1; then \
      echo '@@sysv'; service --status-all 2>/dev/null; fi; \
    if command -v systemctl >/dev/null 2>&1 && { [ -e /run/systemd/system/ ] || [ -e /dev/.run/systemd/ ] || [ -e /dev/.systemd/ ]; }; then \
      echo '@@units'; systemctl list-units --no-pager --type service --all --plain; \
      echo '@@files'; systemctl list-unit-files --no-pager --type service --all; fi";

const BAD_STATES: [&str; 3] = ["not-found", "masked", "failed"];

/// The probe's sections by marker.
fn sections(text: &str) -> Map<String, Json> {
    let mut out = Map::new();
    let mut current: Option<String> = None;
    let mut body = String::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("@@") {
            if let Some(c) = current.take() {
                out.insert(c, Json::String(std::mem::take(&mut body)));
            }
            current = Some(name.to_string());
        } else if current.is_some() {
            body.push_str(line);
            body.push('\n');
        }
    }
    if let Some(c) = current {
        out.insert(c, Json::String(body));
    }
    out
}

/// `service --status-all`: `[ + ]  name` running, `[ - ]` stopped (`[ ? ]` is not listed).
pub fn sysv(out: &str, services: &mut Map<String, Json>) {
    for line in out.lines() {
        let t = line.trim_start();
        let state = match t.get(..5) {
            Some("[ + ]") => "running",
            Some("[ - ]") => "stopped",
            _ => continue,
        };
        let name = t[5..].trim();
        if !name.is_empty() {
            services.insert(
                name.into(),
                json!({"name": name, "state": state, "source": "sysv"}),
            );
        }
    }
}

/// `systemctl list-units --plain`: state and status of the units systemd has loaded.
pub fn units(out: &str, services: &mut Map<String, Json>) {
    for line in out.lines().filter(|l| l.contains(".service")) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 {
            continue;
        }
        let status = BAD_STATES
            .iter()
            .find(|b| f[..f.len() - 1].contains(b))
            .copied()
            .unwrap_or(f[2]);
        let state = if f[3] == "running" {
            "running"
        } else {
            "stopped"
        };
        services.insert(
            f[0].into(),
            json!({"name": f[0], "state": state, "status": status, "source": "systemd"}),
        );
    }
}

/// `systemctl list-unit-files`: the units not loaded (to be asked for their ActiveState),
/// and the status of loaded ones that are not in a bad state.
pub fn unit_files(out: &str, services: &mut Map<String, Json>) -> Vec<(String, String)> {
    let mut unloaded = Vec::new();
    for line in out.lines().filter(|l| l.contains(".service")) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [name, status, ..] = f.as_slice() else {
            continue;
        };
        match services.get_mut(*name) {
            None => unloaded.push((name.to_string(), status.to_string())),
            Some(s) => {
                let bad = s["status"]
                    .as_str()
                    .is_some_and(|st| BAD_STATES.contains(&st));
                if !bad {
                    s["status"] = json!(status);
                }
            }
        }
    }
    unloaded
}

impl Module for ServiceFacts {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let remote = ctx.remote()?;
        let out = remote.exec(PROBE, None).await?;
        let parts = sections(&out.stdout_str());
        let text = |k: &str| parts.get(k).and_then(Json::as_str).unwrap_or_default();
        let mut services = Map::new();
        sysv(text("sysv"), &mut services);
        units(text("units"), &mut services);
        let unloaded = unit_files(text("files"), &mut services);
        if !unloaded.is_empty() {
            let names: Vec<String> = unloaded.iter().map(|(n, _)| quote(n)).collect();
            // Each unit asked on its own (a template unit fails alone), answers NUL-separated.
            let shown = remote
                .exec(
                    &format!(
                        "export LANG=C; for u in {}; do s=$(systemctl show --property=ActiveState -- \"$u\" 2>/dev/null) && printf '%s' \"$s\"; printf '\\0'; done",
                        names.join(" ")
                    ),
                    None,
                )
                .await?
                .stdout_str();
            let states: Vec<String> = shown
                .split('\0')
                .map(|b| {
                    b.trim()
                        .strip_prefix("ActiveState=")
                        .map(str::to_string)
                        .unwrap_or_else(|| "unknown".into())
                })
                .collect();
            for (i, (name, status)) in unloaded.into_iter().enumerate() {
                let state = states.get(i).cloned().unwrap_or_else(|| "unknown".into());
                services.insert(
                    name.clone(),
                    json!({"name": name, "state": state, "status": status, "source": "systemd"}),
                );
            }
        }
        if services.is_empty() {
            let mut o = Outcome::ok().msg(
                "Failed to find any services. This can be due to privileges or some other configuration issue.",
            );
            o.skipped = true;
            return Ok(o);
        }
        let mut facts = Map::new();
        facts.insert("services".into(), Json::Object(services));
        Ok(Outcome::ok().with_module_facts(facts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_are_read_as_ansible_core_reads_them() {
        let mut s = Map::new();
        sysv(" [ + ]  cron\n [ - ]  hwclock.sh\n [ ? ]  odd\n", &mut s);
        units(
            "ssh.service loaded active running OpenBSD Secure Shell server\nx.service not-found inactive dead x.service\n",
            &mut s,
        );
        let rest = unit_files(
            "UNIT FILE STATE VENDOR PRESET\nssh.service enabled enabled\nx.service masked enabled\nfoo.service disabled enabled\n",
            &mut s,
        );
        assert_eq!(
            s["cron"],
            json!({"name": "cron", "state": "running", "source": "sysv"})
        );
        assert_eq!(s["ssh.service"]["status"], json!("enabled"));
        assert_eq!(s["ssh.service"]["state"], json!("running"));
        assert_eq!(s["x.service"]["status"], json!("not-found"));
        assert_eq!(
            rest,
            vec![("foo.service".to_string(), "disabled".to_string())]
        );
        let parts = sections("junk\n@@sysv\na\n@@units\nb\nc\n");
        assert_eq!(parts["units"], json!("b\nc\n"));
    }
}
