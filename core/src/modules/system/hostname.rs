//! `hostname`: the host's current and permanent name, by ansible-core's strategies — systemd
//! (`hostnamectl`) where systemd runs the host, else by distribution: Debian-like and others
//! keeping `/etc/hostname` (permanent only), Alpine (`/etc/hostname`, then `hostname -F`),
//! SUSE (`/etc/HOSTNAME`), OpenRC (`/etc/conf.d/hostname`), Red Hat
//! (`/etc/sysconfig/network`); `use` picks one. Returns the name facts and a diff.

use crate::modules::remote::Remote;
use crate::modules::types::Text;
use crate::modules::{Ctx, FileDiff, ModResult, Module, ModuleError, Outcome, fail};
use crate::ssh::WriteOpts;
use crate::ssh::shell::quote;
use serde::Deserialize;
use serde_json::{Map, Value as Json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hostname {
    name: Text,
    #[serde(rename = "use")]
    use_: Option<Text>,
}

/// How the name is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    Systemd,
    /// A file holding just the name (`/etc/hostname`, `/etc/HOSTNAME`); Alpine also sets the
    /// running name from it.
    File(&'static str, bool),
    OpenRc,
    RedHat,
}

/// ansible-core's `use` values that apply to Linux.
pub fn chosen(name: &str) -> Result<Option<Strategy>, String> {
    Ok(Some(match name {
        "systemd" | "debian" => Strategy::Systemd,
        "alpine" => Strategy::File("/etc/hostname", true),
        "sles" => Strategy::File("/etc/HOSTNAME", false),
        "openrc" => Strategy::OpenRc,
        "redhat" => Strategy::RedHat,
        "generic" => return Ok(None),
        other => {
            return Err(format!(
                "value of use must be one of: alpine, debian, freebsd, generic, macos, macosx, darwin, openbsd, openrc, redhat, sles, solaris, systemd, got: {other}"
            ));
        }
    }))
}

/// The strategy for a host: systemd when it runs the host, else by the os-release IDs.
pub fn detected(systemd: bool, ids: &str) -> Option<Strategy> {
    if systemd {
        return Some(Strategy::Systemd);
    }
    let has = |id: &str| ids.split_whitespace().any(|w| w == id);
    if has("alpine") {
        Some(Strategy::File("/etc/hostname", true))
    } else if has("rhel") || has("fedora") || has("centos") {
        Some(Strategy::RedHat)
    } else if has("suse") || has("sles") || has("opensuse") {
        Some(Strategy::File("/etc/HOSTNAME", false))
    } else if has("gentoo") {
        Some(Strategy::OpenRc)
    } else if ids.trim().is_empty() {
        None
    } else {
        Some(Strategy::File("/etc/hostname", false))
    }
}

async fn sh(remote: &Remote, script: &str) -> Result<String, ModuleError> {
    let out = remote.exec(script, None).await?;
    if !out.success() {
        return fail(format!(
            "Command failed rc={}, out={}, err={}",
            out.status.map(i64::from).unwrap_or(-1),
            out.stdout_str(),
            out.stderr_str()
        ));
    }
    Ok(out.stdout_str().trim().to_string())
}

/// A `KEY=value` line's value in a file (`HOSTNAME=`, `hostname=`), quotes removed.
fn keyed(text: &str, key: &str) -> String {
    text.lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim().trim_matches('"').to_string())
        .unwrap_or_default()
}

impl Strategy {
    async fn permanent(&self, r: &Remote) -> Result<String, ModuleError> {
        match self {
            Strategy::Systemd => sh(r, "hostnamectl --static status").await,
            Strategy::File(f, _) => Ok(r
                .read(f)
                .await?
                .map(|b| String::from_utf8_lossy(&b).trim().to_string())
                .unwrap_or_default()),
            Strategy::OpenRc => Ok(keyed(
                &read_text(r, "/etc/conf.d/hostname").await?,
                "hostname=",
            )),
            Strategy::RedHat => Ok(keyed(
                &read_text(r, "/etc/sysconfig/network").await?,
                "HOSTNAME=",
            )),
        }
    }

    async fn current(&self, r: &Remote) -> Result<String, ModuleError> {
        match self {
            Strategy::Systemd => sh(r, "hostnamectl --transient status").await,
            Strategy::RedHat => sh(r, "hostname").await,
            _ => self.permanent(r).await,
        }
    }

    async fn set_current(&self, r: &Remote, name: &str) -> Result<(), ModuleError> {
        match self {
            Strategy::Systemd => {
                sh(
                    r,
                    &format!("hostnamectl --transient set-hostname {}", quote(name)),
                )
                .await?;
            }
            Strategy::File(f, true) => {
                sh(r, &format!("hostname -F {}", quote(f))).await?;
            }
            Strategy::RedHat => {
                sh(r, &format!("hostname {}", quote(name))).await?;
            }
            _ => {}
        }
        Ok(())
    }

    async fn set_permanent(&self, r: &Remote, name: &str) -> Result<(), ModuleError> {
        match self {
            Strategy::Systemd => {
                sh(
                    r,
                    &format!("hostnamectl --pretty --static set-hostname {}", quote(name)),
                )
                .await?;
            }
            Strategy::File(f, _) => {
                r.write(f, format!("{name}\n").as_bytes(), &WriteOpts::default())
                    .await?;
            }
            Strategy::OpenRc => {
                let text = read_text(r, "/etc/conf.d/hostname").await?;
                let new = set_line(&text, "hostname=", &format!("hostname=\"{name}\""));
                r.write(
                    "/etc/conf.d/hostname",
                    new.as_bytes(),
                    &WriteOpts::default(),
                )
                .await?;
            }
            Strategy::RedHat => {
                let text = read_text(r, "/etc/sysconfig/network").await?;
                let new = set_line(&text, "HOSTNAME", &format!("HOSTNAME={name}"));
                r.write(
                    "/etc/sysconfig/network",
                    new.as_bytes(),
                    &WriteOpts::default(),
                )
                .await?;
            }
        }
        Ok(())
    }
}

async fn read_text(r: &Remote, path: &str) -> Result<String, ModuleError> {
    Ok(r.read(path)
        .await?
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default())
}

/// The text with the line starting with `prefix` replaced by `line` (added when missing).
fn set_line(text: &str, prefix: &str, line: &str) -> String {
    let mut found = false;
    let mut out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.trim().starts_with(prefix) {
                found = true;
                line.to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    if !found {
        out.push(line.to_string());
    }
    out.join("\n") + "\n"
}

impl Module for Hostname {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let name = self.name.0;
        let remote = ctx.remote()?;
        let strategy = match &self.use_ {
            Some(u) => chosen(&u.0).map_err(ModuleError::Failed)?,
            None => {
                let probe = remote
                    .exec(
                        "if command -v systemctl >/dev/null 2>&1 && { [ -e /run/systemd/system/ ] || [ -e /dev/.run/systemd/ ] || [ -e /dev/.systemd/ ]; }; then echo systemd; else echo other; fi; \
                         . /etc/os-release 2>/dev/null; echo \"$ID $ID_LIKE\"",
                        None,
                    )
                    .await?;
                let text = probe.stdout_str();
                let mut lines = text.lines();
                let systemd = lines.next() == Some("systemd");
                detected(systemd, lines.next().unwrap_or_default())
            }
        };
        let Some(strategy) = strategy else {
            return fail("hostname module cannot be used on platform Linux (generic)");
        };
        if strategy == Strategy::Systemd && name.len() > 64 {
            return fail(
                "name cannot be longer than 64 characters on systemd servers, try a shorter name",
            );
        }
        let current = strategy.current(remote).await?;
        let permanent = strategy.permanent(remote).await?;
        let mut changed = false;
        // systemd: the permanent name first (NetworkManager objects otherwise).
        let permanent_first = strategy == Strategy::Systemd;
        for step in if permanent_first {
            [true, false]
        } else {
            [false, true]
        } {
            let differs = if step {
                permanent != name
            } else {
                current != name
            };
            if differs {
                changed = true;
                if !ctx.check {
                    if step {
                        strategy.set_permanent(remote, &name).await?;
                    } else {
                        strategy.set_current(remote, &name).await?;
                    }
                }
            }
        }
        let before = if name != current {
            &current
        } else {
            &permanent
        };
        let fqdn = remote
            .exec("hostname -f 2>/dev/null || hostname", None)
            .await?
            .stdout_str()
            .trim()
            .to_string();
        let mut facts = Map::new();
        facts.insert(
            "ansible_hostname".into(),
            Json::from(name.split('.').next().unwrap_or_default()),
        );
        facts.insert("ansible_nodename".into(), Json::from(name.clone()));
        facts.insert("ansible_fqdn".into(), Json::from(fqdn.clone()));
        facts.insert(
            "ansible_domain".into(),
            Json::from(fqdn.split_once('.').map(|(_, d)| d).unwrap_or_default()),
        );
        let mut o = Outcome::changed(changed)
            .with("name", name.clone())
            .with_module_facts(facts);
        if changed {
            let before = format!("hostname = {before}\n");
            let after = format!("hostname = {name}\n");
            o.diffs.push(FileDiff {
                before_header: "before".into(),
                after_header: "after".into(),
                before: before.clone(),
                after: after.clone(),
            });
            o.diff_value = Some(serde_json::json!({"before": before, "after": after}));
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_as_ansible_core_picks_them() {
        assert_eq!(detected(true, "debian"), Some(Strategy::Systemd));
        assert_eq!(
            detected(false, "debian "),
            Some(Strategy::File("/etc/hostname", false))
        );
        assert_eq!(
            detected(false, "rocky rhel centos fedora"),
            Some(Strategy::RedHat)
        );
        assert_eq!(
            detected(false, "alpine "),
            Some(Strategy::File("/etc/hostname", true))
        );
        assert_eq!(detected(false, " "), None);
        assert!(chosen("nope").is_err());
        assert_eq!(chosen("generic"), Ok(None));
        assert_eq!(
            set_line("NETWORKING=yes\nHOSTNAME=old\n", "HOSTNAME", "HOSTNAME=new"),
            "NETWORKING=yes\nHOSTNAME=new\n"
        );
        assert_eq!(keyed("hostname=\"box\"\n", "hostname="), "box");
    }
}
