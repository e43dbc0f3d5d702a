//! `sysctl`: a kernel parameter in a sysctl file (default /etc/sysctl.conf) and, with
//! `sysctl_set`, in the running kernel; `reload` applies the file when it changed.

use crate::modules::types::{Bool, Text};
use crate::modules::{Ctx, FileDiff, ModResult, Module, Outcome, fail};
use crate::ssh::WriteOpts;
use crate::ssh::shell::quote;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sysctl {
    #[serde(alias = "key")]
    name: Text,
    #[serde(alias = "val")]
    value: Option<Text>,
    state: Option<String>,
    #[serde(default = "crate::modules::files_common::yes")]
    reload: Bool,
    sysctl_file: Option<Text>,
    #[serde(default)]
    sysctl_set: Bool,
    #[serde(default)]
    ignoreerrors: Bool,
}

/// The file text with `name = value` set (or removed when `value` is `None`).
pub fn apply(text: &str, name: &str, value: Option<&str>) -> String {
    let key = |l: &str| {
        l.split_once('=')
            .map(|(k, _)| k.trim().replace('/', "."))
            .filter(|_| !l.trim_start().starts_with('#'))
    };
    let wanted = name.replace('/', ".");
    let mut out: Vec<String> = Vec::new();
    let mut placed = false;
    for l in text.lines() {
        if key(l).as_deref() == Some(wanted.as_str()) {
            if let (Some(v), false) = (value, placed) {
                out.push(format!("{name}={v}"));
                placed = true;
            }
            continue;
        }
        out.push(l.to_string());
    }
    if let (Some(v), false) = (value, placed) {
        out.push(format!("{name}={v}"));
    }
    let mut s = out.join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

fn normalize(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Module for Sysctl {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let remote = ctx.remote()?;
        let present = match self.state.as_deref() {
            None | Some("present") => true,
            Some("absent") => false,
            Some(other) => return fail(format!("unknown state `{other}` (use present or absent)")),
        };
        let value = if present {
            Some(
                self.value
                    .as_ref()
                    .map(|v| normalize(&v.0))
                    .ok_or_else(|| {
                        crate::modules::ModuleError::Args(
                            "`value` is required with state=present".into(),
                        )
                    })?,
            )
        } else {
            None
        };
        let file = self
            .sysctl_file
            .as_ref()
            .map(|f| f.0.clone())
            .unwrap_or_else(|| "/etc/sysctl.conf".into());
        let before =
            String::from_utf8_lossy(&remote.read(&file).await?.unwrap_or_default()).into_owned();
        let after = apply(&before, &self.name.0, value.as_deref());
        let file_changed = after != before;
        let current = remote
            .exec(&format!("sysctl -n {}", quote(&self.name.0)), None)
            .await?;
        if !current.success() && !self.ignoreerrors.0 && present {
            return fail(format!(
                "unknown kernel parameter {}: {}",
                self.name.0,
                current.stderr_str().trim()
            ));
        }
        let live_differs = present
            && (self.sysctl_set.0 || self.reload.0)
            && normalize(&current.stdout_str()) != value.clone().unwrap_or_default();
        let mut out = Outcome::changed(file_changed || live_differs);
        if ctx.diff && file_changed {
            out.diffs.push(FileDiff {
                before_header: file.clone(),
                after_header: file.clone(),
                before: before.clone(),
                after: after.clone(),
            });
        }
        if !ctx.check {
            if file_changed {
                remote
                    .write(&file, after.as_bytes(), &WriteOpts::default())
                    .await?;
            }
            if live_differs {
                let v = value.clone().unwrap_or_default();
                let ig = if self.ignoreerrors.0 { " -e" } else { "" };
                remote
                    .check(
                        &format!("sysctl{ig} -w {}", quote(&format!("{}={v}", self.name.0))),
                        None,
                    )
                    .await?;
            }
        }
        Ok(out
            .with("name", self.name.0)
            .with("value", value.unwrap_or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::apply;

    #[test]
    fn file_lines() {
        assert_eq!(
            apply("", "net.ipv4.ip_forward", Some("1")),
            "net.ipv4.ip_forward=1\n"
        );
        assert_eq!(
            apply(
                "# c\nnet.ipv4.ip_forward = 0\n",
                "net.ipv4.ip_forward",
                Some("1")
            ),
            "# c\nnet.ipv4.ip_forward=1\n"
        );
        assert_eq!(
            apply("a=1\nnet.ipv4.ip_forward=1\n", "net.ipv4.ip_forward", None),
            "a=1\n"
        );
    }
}
