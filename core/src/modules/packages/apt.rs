//! `apt` and `package` (which picks the host's package manager; apt is the one supported):
//! installed state from `dpkg-query` in one probe, then one `apt-get` for everything missing.

use crate::modules::types::{Bool, Int, List};
use crate::modules::{Ctx, FileDiff, ModResult, Module, ModuleError, Outcome, fail};
use crate::ssh::shell::quote;
use serde::Deserialize;
use std::collections::HashMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Apt {
    #[serde(alias = "pkg", alias = "package")]
    name: Option<List>,
    state: Option<String>,
    #[serde(default, alias = "update-cache")]
    update_cache: Bool,
    cache_valid_time: Option<Int>,
    #[serde(default)]
    purge: Bool,
    #[serde(default)]
    autoremove: Bool,
    #[serde(default)]
    install_recommends: Option<Bool>,
    default_release: Option<String>,
    #[serde(default)]
    allow_downgrade: Bool,
    #[serde(default)]
    force: Bool,
    upgrade: Option<String>,
    lock_timeout: Option<Int>,
}

/// `package`: `name`, `state` and `use` here; every other option goes to the backend module
/// (as in ansible-core, so a role's `enablerepo:` for dnf costs nothing on a task a `when`
/// skips; the backend refuses what it does not take when the task runs).
#[derive(Debug, Deserialize)]
pub struct Package {
    name: List,
    state: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    #[serde(flatten)]
    backend: serde_json::Map<String, serde_json::Value>,
}

/// `name=version` → (`name`, `Some(version)`).
fn split_pin(spec: &str) -> (&str, Option<&str>) {
    match spec.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (spec, None),
    }
}

/// Installed packages and versions, from `dpkg-query` output (`name\tstatus\tversion`).
pub fn parse_installed(out: &str) -> HashMap<String, String> {
    out.lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            let (name, status, version) = (f.next()?, f.next()?, f.next()?);
            status.ends_with(" installed").then(|| {
                (
                    name.split(':').next().unwrap_or(name).to_string(),
                    version.to_string(),
                )
            })
        })
        .collect()
}

/// A package name as apt takes it: `name`, `name:arch`, `name=version`, `name/release`, or a
/// glob; never something that starts like an option or holds shell or control characters.
fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '*')
        && n.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '+' | '-' | '.' | ':' | '~' | '*' | '=' | '/' | '?' | '[' | ']'
                )
        })
}

const APT_ENV: &str = "export DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a;";

impl Apt {
    fn apt_get(&self, verb: &str, pkgs: &[String]) -> String {
        let lock = self.lock_timeout.map(|t| t.0).unwrap_or(120);
        let mut opts = vec![
            format!("-o DPkg::Lock::Timeout={lock}"),
            "-y".into(),
            "-q".into(),
        ];
        if verb == "install" {
            opts.push(
                "-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold".into(),
            );
            match self.install_recommends {
                Some(Bool(false)) => opts.push("--no-install-recommends".into()),
                Some(Bool(true)) => opts.push("--install-recommends".into()),
                None => {}
            }
            if let Some(r) = &self.default_release {
                opts.push(format!("-t {}", quote(r)));
            }
            if self.allow_downgrade.0 || self.force.0 {
                opts.push("--allow-downgrades".into());
            }
        }
        if verb == "remove" && self.purge.0 {
            opts.push("--purge".into());
        }
        let words: Vec<String> = pkgs.iter().map(|p| quote(p)).collect();
        if words.is_empty() {
            return format!("{APT_ENV} apt-get {} {verb}", opts.join(" "));
        }
        // `--`: a name can never be read as an option.
        format!(
            "{APT_ENV} apt-get {} {verb} -- {}",
            opts.join(" "),
            words.join(" ")
        )
    }

    async fn run_apt(self, ctx: &Ctx<'_>) -> ModResult {
        let remote = ctx.remote()?;
        let mut out = Outcome::ok();
        if self.update_cache.0 {
            let fresh = match self.cache_valid_time {
                Some(t) => {
                    let probe = format!(
                        "s=$(stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null); [ -n \"$s\" ] && [ $(( $(date +%s) - s )) -lt {} ]",
                        t.0
                    );
                    remote.exec(&probe, None).await?.success()
                }
                None => false,
            };
            if !fresh && !ctx.check {
                remote.check(&format!("{APT_ENV} apt-get -o DPkg::Lock::Timeout=120 -q update && mkdir -p /var/lib/apt/periodic && touch /var/lib/apt/periodic/update-success-stamp"), None).await?;
            }
            out.data.insert("cache_updated".into(), (!fresh).into());
        }
        let names = self.name.clone().map(|l| l.0).unwrap_or_default();
        if let Some(bad) = names.iter().find(|n| !valid_name(n)) {
            return fail(format!(
                "`{bad}` is not a package name (Debian names start with a letter or digit and \
                 hold letters, digits, `+-.:~*`, an optional `=version` or `/release`)"
            ));
        }
        let state = self.state.clone().unwrap_or_else(|| "present".into());
        if let Some(up) = &self.upgrade {
            let verb = match up.as_str() {
                "no" | "false" => None,
                "dist" | "full" => Some("dist-upgrade"),
                "yes" | "true" | "safe" => Some("upgrade"),
                other => {
                    return fail(format!(
                        "unknown upgrade mode `{other}` (use dist, full, safe or yes)"
                    ));
                }
            };
            if let Some(verb) = verb {
                let sim = remote
                    .check(&format!("{APT_ENV} apt-get -s {verb}"), None)
                    .await?;
                let n = sim
                    .stdout_str()
                    .lines()
                    .filter(|l| l.starts_with("Inst "))
                    .count();
                if n > 0 {
                    out.changed = true;
                    if !ctx.check {
                        let o = remote.check(&self.apt_get(verb, &[]), None).await?;
                        out.data.insert("stdout".into(), o.stdout_str().into());
                    }
                }
                out.data.insert("upgraded".into(), (n as u64).into());
            }
        }
        if names.is_empty() {
            return Ok(out);
        }
        let bare: Vec<&str> = names.iter().map(|n| split_pin(n).0).collect();
        let q = format!(
            "dpkg-query -W -f='${{Package}}\\t${{Status}}\\t${{Version}}\\n' -- {} 2>/dev/null; true",
            bare.iter().map(|p| quote(p)).collect::<Vec<_>>().join(" ")
        );
        let installed = parse_installed(&remote.check(&q, None).await?.stdout_str());
        let (verb, todo): (&str, Vec<String>) = match state.as_str() {
            "present" | "installed" => (
                "install",
                names
                    .iter()
                    .filter(|n| {
                        let (p, v) = split_pin(n);
                        match (installed.get(p), v) {
                            (None, _) => true,
                            (Some(have), Some(want)) => {
                                !have.starts_with(want.trim_end_matches('*'))
                            }
                            (Some(_), None) => false,
                        }
                    })
                    .cloned()
                    .collect(),
            ),
            "latest" => {
                let sim = remote
                    .exec(
                        &format!(
                            "{APT_ENV} apt-get -s install -- {}",
                            names.iter().map(|p| quote(p)).collect::<Vec<_>>().join(" ")
                        ),
                        None,
                    )
                    .await?;
                if !sim.success() {
                    return fail(format!(
                        "apt-get cannot install {}: {}",
                        names.join(", "),
                        sim.stderr_str().trim()
                    ));
                }
                let inst: Vec<String> = sim
                    .stdout_str()
                    .lines()
                    .filter_map(|l| {
                        l.strip_prefix("Inst ")
                            .and_then(|r| r.split_whitespace().next())
                            .map(str::to_string)
                    })
                    .filter(|p| bare.contains(&p.as_str()))
                    .collect();
                ("install", inst)
            }
            "absent" | "removed" => (
                "remove",
                bare.iter()
                    .filter(|p| installed.contains_key(**p))
                    .map(|p| p.to_string())
                    .collect(),
            ),
            other => {
                return fail(format!(
                    "unknown state `{other}` (use present, latest or absent)"
                ));
            }
        };
        if !todo.is_empty() {
            out.changed = true;
            if ctx.diff {
                let sign = if verb == "remove" { "-" } else { "+" };
                out.diffs.push(FileDiff {
                    before_header: "packages".into(),
                    after_header: "packages".into(),
                    before: String::new(),
                    after: todo.iter().map(|p| format!("{sign} {p}\n")).collect(),
                });
            }
            if !ctx.check {
                let o = remote.exec(&self.apt_get(verb, &todo), None).await?;
                if !o.success() {
                    let mut f = Outcome::ok()
                        .msg(format!("apt-get {verb} failed: {}", o.stderr_str().trim()))
                        .with("stdout", o.stdout_str())
                        .with("stderr", o.stderr_str())
                        .with("rc", o.status.unwrap_or(1));
                    f.failed = true;
                    return Ok(f);
                }
                out.data.insert("stdout".into(), o.stdout_str().into());
            }
        }
        if self.autoremove.0 {
            let sim = remote
                .check(&format!("{APT_ENV} apt-get -s autoremove"), None)
                .await?;
            if sim.stdout_str().lines().any(|l| l.starts_with("Remv ")) {
                out.changed = true;
                if !ctx.check {
                    remote.check(&self.apt_get("autoremove", &[]), None).await?;
                }
            }
        }
        out.data.insert(
            if verb == "remove" {
                "removed"
            } else {
                "installed"
            }
            .into(),
            todo.into(),
        );
        Ok(out)
    }
}

impl Module for Apt {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        if self.name.is_none()
            && !self.update_cache.0
            && self.upgrade.is_none()
            && !self.autoremove.0
        {
            return fail("give `name`, `update_cache`, `upgrade` or `autoremove`");
        }
        self.run_apt(ctx).await
    }
}

impl Module for Package {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        // `use`, else `ansible_package_use`, else the host's package manager fact.
        let configured = ctx
            .vars
            .get_attr("ansible_package_use")
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .filter(|u| !u.is_empty());
        let mgr = match self.use_.clone().or(configured) {
            Some(u) if u != "auto" => u,
            _ => ctx
                .fact("pkg_mgr")
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .unwrap_or_default(),
        };
        let mgr = if mgr.is_empty() || mgr == "unknown" {
            let probe = ctx.remote()?.exec("command -v apt-get", None).await?;
            if probe.success() {
                "apt".to_string()
            } else {
                mgr
            }
        } else {
            mgr
        };
        let mut args = self.backend;
        args.insert(
            "name".into(),
            serde_json::to_value(&self.name.0).unwrap_or_default(),
        );
        if let Some(s) = self.state {
            args.insert("state".into(), s.into());
        }
        if mgr != "apt" {
            // Another manager's module is Ansible's own, run by the fallback; a name no module
            // answers to is refused in ansible-core's words.
            let dirs =
                crate::modules::ansible::library_dirs(ctx.search_paths.iter().map(|p| p.as_path()));
            return match crate::modules::ansible::locate(&mgr, &dirs) {
                Ok(m) => {
                    crate::modules::ansible::run(&m, ctx, serde_json::Value::Object(args)).await
                }
                Err(_) => fail(format!(
                    "Could not find a matching action for the \"{mgr}\" package manager."
                )),
            };
        }
        let apt: Apt = serde_json::from_value(serde_json::Value::Object(args))
            .map_err(|e| ModuleError::Args(format!("the apt backend of `package`: {e}")))?;
        apt.run_apt(ctx).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_query_parsing() {
        let out = "tree\tinstall ok installed\t2.1.0-1\ncurl\tdeinstall ok config-files\t7.88\nlibc6:amd64\tinstall ok installed\t2.36\n";
        let m = parse_installed(out);
        assert_eq!(m.get("tree").map(String::as_str), Some("2.1.0-1"));
        assert!(!m.contains_key("curl"));
        assert!(m.contains_key("libc6"));
    }

    #[test]
    fn install_command() {
        let a: Apt = serde_json::from_value(
            serde_json::json!({"name": "tree", "install_recommends": false}),
        )
        .unwrap();
        insta::assert_snapshot!(a.apt_get("install", &["tree".into(), "jq".into()]), @"export DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a; apt-get -o DPkg::Lock::Timeout=120 -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold --no-install-recommends install -- tree jq");
        assert!(valid_name("libc6:amd64=2.36*"));
        assert!(valid_name("nginx/bookworm-backports"));
        assert!(!valid_name("-oDPkg::Pre-Invoke::=id"));
        assert!(!valid_name("a;id"));
        assert!(!valid_name("a b"));
        assert!(!valid_name(""));
    }
}
