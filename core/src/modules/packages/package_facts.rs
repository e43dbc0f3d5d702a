//! `package_facts`: the installed packages in the fact `packages` (a name to the list of its
//! installed versions), read with the host's own tools, no Python: dpkg (`apt`: name,
//! version, arch, category), rpm (name, version, release, epoch, arch) and apk (name,
//! version, release). `manager` names them (`auto`: ansible-core's order) and `strategy`
//! takes the first one found or all. Unlike ansible-core's python-apt backend, an apt
//! package's `origin` (its archive's Origin) is not reported.

use crate::modules::types::{List, Text};
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome, fail};
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackageFacts {
    #[serde(default)]
    manager: Option<List>,
    strategy: Option<Text>,
}

/// ansible-core's managers, in its `auto` order, and those hoist reads natively.
const ALL: [&str; 14] = [
    "apk",
    "apt",
    "pacman",
    "pkg",
    "pkg_info",
    "portage",
    "rpm",
    "dnf",
    "dnf5",
    "yum",
    "zypper",
    "pkg5",
    "pkgng",
    "openbsd_pkg",
];

/// The listing command of a manager hoist reads, and the tool that shows it is there.
fn listing(manager: &str) -> Option<(&'static str, &'static str)> {
    Some(match manager {
        "apt" => (
            "dpkg-query",
            "dpkg-query -W -f='${db:Status-Abbrev}\\t${binary:Package}\\t${Version}\\t${Architecture}\\t${Section}\\n'",
        ),
        "rpm" => (
            "rpm",
            "rpm -qa --queryformat '%{NAME}\\t%{VERSION}\\t%{RELEASE}\\t%{EPOCH}\\t%{ARCH}\\n'",
        ),
        "apk" => ("apk", "apk info -v"),
        _ => return None,
    })
}

/// Reads one manager's listing into `packages`.
pub fn read(manager: &str, out: &str, packages: &mut Map<String, Json>) {
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        let entry = match manager {
            "apt" => {
                let f: Vec<&str> = line.split('\t').collect();
                // Installed ones only (`ii`, and `hi` for held ones).
                if f.len() < 5 || !f[0].trim_end().ends_with('i') || f[0].len() < 2 {
                    continue;
                }
                // `binary:Package` carries `:arch` for foreign architectures.
                let name = f[1].split(':').next().unwrap_or(f[1]);
                json!({"name": name, "version": f[2], "arch": f[3], "category": f[4], "source": "apt"})
            }
            "rpm" => {
                let f: Vec<&str> = line.split('\t').collect();
                if f.len() < 5 {
                    continue;
                }
                let epoch = if f[3] == "(none)" {
                    Json::Null
                } else {
                    json!(f[3])
                };
                json!({"name": f[0], "version": f[1], "release": f[2], "epoch": epoch, "arch": f[4], "source": "rpm"})
            }
            "apk" => {
                let parts: Vec<&str> = line.rsplitn(3, '-').collect();
                match parts.as_slice() {
                    [release, version, name] => {
                        json!({"name": name, "version": version, "release": release, "source": "apk"})
                    }
                    _ => json!({"name": line, "version": "", "release": "", "source": "apk"}),
                }
            }
            _ => continue,
        };
        let name = entry["name"].as_str().unwrap_or_default().to_string();
        match packages.get_mut(&name) {
            Some(Json::Array(v)) => v.push(entry),
            _ => {
                packages.insert(name, json!([entry]));
            }
        }
    }
}

impl Module for PackageFacts {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let strategy = self.strategy.map(|s| s.0).unwrap_or_else(|| "first".into());
        if !["first", "all"].contains(&strategy.as_str()) {
            return fail(format!(
                "value of strategy must be one of: first, all, got: {strategy}"
            ));
        }
        let asked: Vec<String> = self
            .manager
            .map(|m| m.0.iter().map(|x| x.to_lowercase()).collect())
            .filter(|m: &Vec<String>| !m.is_empty())
            .unwrap_or_else(|| vec!["auto".into()]);
        let auto = asked.iter().any(|m| m == "auto");
        let mut managers: Vec<String> = asked.iter().filter(|m| *m != "auto").cloned().collect();
        if auto {
            managers.extend(ALL.iter().map(|m| m.to_string()));
        }
        let unsupported: Vec<&str> = managers
            .iter()
            .filter(|m| !ALL.contains(&m.as_str()))
            .map(String::as_str)
            .collect();
        if !unsupported.is_empty() {
            return fail(format!(
                "Unsupported package managers requested: {}",
                unsupported.join(", ")
            ));
        }
        let remote = ctx.remote()?;
        let mut packages = Map::new();
        let mut found = false;
        let mut warnings = Vec::new();
        for m in &managers {
            if strategy == "first" && found {
                break;
            }
            let Some((tool, cmd)) = listing(m) else {
                if !auto {
                    warnings.push(format!(
                        "hoist reads the package managers apt, rpm and apk; `{m}` is not read"
                    ));
                }
                continue;
            };
            let out = remote
                .exec(
                    &format!("command -v {tool} >/dev/null 2>&1 || exit 127; LC_ALL=C {cmd}"),
                    None,
                )
                .await?;
            match out.status {
                Some(127) => {
                    if !auto {
                        warnings.push(format!("Requested package manager {m} was not usable by this module: {tool} is not installed"));
                    }
                }
                Some(0) => {
                    found = true;
                    read(m, &out.stdout_str(), &mut packages);
                }
                _ => {
                    return Err(ModuleError::Failed(format!(
                        "Failed to retrieve packages with {m}: {}",
                        out.stderr_str().trim()
                    )));
                }
            }
        }
        if !found {
            return fail(if auto {
                "Could not auto detect a usable package manager, check warnings for details."
                    .to_string()
            } else {
                format!(
                    "Could not detect a supported package manager from the following list: {managers:?}"
                )
            });
        }
        let mut facts = Map::new();
        facts.insert("packages".into(), Json::Object(packages));
        let mut o = Outcome::ok().with_module_facts(facts);
        o.warnings = warnings;
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_are_read() {
        let mut p = Map::new();
        read(
            "apt",
            "ii \tbash\t5.2.15-2+b2\tamd64\tshells\nrc \told\t1\tamd64\tx\nii \tlibc6:i386\t2.36-9\ti386\tlibs\nii \tlibc6\t2.36-9\tamd64\tlibs\n",
            &mut p,
        );
        assert_eq!(
            p["bash"],
            json!([{"name": "bash", "version": "5.2.15-2+b2", "arch": "amd64", "category": "shells", "source": "apt"}])
        );
        assert!(!p.contains_key("old"));
        assert_eq!(p["libc6"].as_array().map(Vec::len), Some(2));
        let mut r = Map::new();
        read("rpm", "bash\t5.1.8\t9.el9\t(none)\tx86_64\n", &mut r);
        assert_eq!(r["bash"][0]["epoch"], Json::Null);
        let mut a = Map::new();
        read("apk", "musl-1.2.4-r2\nbusybox-1.36.1-r15\n", &mut a);
        assert_eq!(a["musl"][0]["version"], json!("1.2.4"));
        assert_eq!(a["busybox"][0]["release"], json!("r15"));
    }
}
