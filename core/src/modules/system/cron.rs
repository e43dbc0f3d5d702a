//! `cron`: named entries (`#Ansible: NAME` markers, as Ansible writes them) in a user's crontab
//! or a file under /etc/cron.d, and `env` variables.

use crate::modules::types::{Bool, Text};
use crate::modules::{Ctx, FileDiff, ModResult, Module, Outcome, fail};
use crate::ssh::WriteOpts;
use crate::ssh::shell::quote;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cron {
    name: Text,
    job: Option<String>,
    #[serde(default = "star")]
    minute: Text,
    #[serde(default = "star")]
    hour: Text,
    #[serde(default = "star")]
    day: Text,
    #[serde(default = "star")]
    month: Text,
    #[serde(default = "star")]
    weekday: Text,
    special_time: Option<String>,
    user: Option<Text>,
    state: Option<String>,
    #[serde(default)]
    disabled: Bool,
    cron_file: Option<Text>,
    #[serde(default)]
    env: Bool,
    #[serde(default)]
    backup: Bool,
    insertafter: Option<String>,
    insertbefore: Option<String>,
}

fn star() -> Text {
    Text("*".into())
}

impl Cron {
    /// The entry's line (without the marker).
    fn line(&self, user_field: Option<&str>) -> Result<String, String> {
        let job = self
            .job
            .clone()
            .ok_or("`job` is required with state=present")?;
        if self.env.0 {
            return Ok(format!("{}={job}", self.name.0));
        }
        let when = match &self.special_time {
            Some(s) => {
                const OK: &[&str] = &[
                    "reboot", "yearly", "annually", "monthly", "weekly", "daily", "hourly",
                ];
                if !OK.contains(&s.as_str()) {
                    return Err(format!("unknown special_time `{s}`"));
                }
                format!("@{s}")
            }
            None => format!(
                "{} {} {} {} {}",
                self.minute.0, self.hour.0, self.day.0, self.month.0, self.weekday.0
            ),
        };
        let user = user_field.map(|u| format!(" {u}")).unwrap_or_default();
        let prefix = if self.disabled.0 { "#" } else { "" };
        Ok(format!("{prefix}{when}{user} {job}"))
    }
}

/// Replaces, adds or removes the entry `name` in crontab text.
pub fn apply(text: &str, name: &str, line: Option<&str>) -> String {
    let marker = format!("#Ansible: {name}");
    let mut out: Vec<String> = Vec::new();
    let mut lines = text.lines().peekable();
    let mut placed = false;
    while let Some(l) = lines.next() {
        if l == marker {
            lines.next();
            if let (Some(new), false) = (line, placed) {
                out.push(marker.clone());
                out.push(new.to_string());
                placed = true;
            }
            continue;
        }
        out.push(l.to_string());
    }
    if let (Some(new), false) = (line, placed) {
        out.push(marker);
        out.push(new.to_string());
    }
    let mut s = out.join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

impl Module for Cron {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = (&self.insertafter, &self.insertbefore);
        let remote = ctx.remote()?;
        let present = match self.state.as_deref() {
            None | Some("present") => true,
            Some("absent") => false,
            Some(other) => return fail(format!("unknown state `{other}` (use present or absent)")),
        };
        let user = self
            .user
            .as_ref()
            .map(|u| u.0.clone())
            .unwrap_or_else(|| "root".into());
        let file = self.cron_file.as_ref().map(|f| {
            if f.0.starts_with('/') {
                f.0.clone()
            } else {
                format!("/etc/cron.d/{}", f.0)
            }
        });
        let before = match &file {
            Some(f) => {
                String::from_utf8_lossy(&remote.read(f).await?.unwrap_or_default()).into_owned()
            }
            None => remote
                .check(
                    &format!("crontab -l -u {} 2>/dev/null || true", quote(&user)),
                    None,
                )
                .await?
                .stdout_str(),
        };
        let line = if present {
            Some(
                self.line(file.as_ref().map(|_| user.as_str()))
                    .map_err(crate::modules::ModuleError::Args)?,
            )
        } else {
            None
        };
        let after = apply(&before, &self.name.0, line.as_deref());
        let mut out = Outcome::changed(after != before);
        if out.changed {
            if ctx.diff {
                out.diffs.push(FileDiff {
                    before_header: file.clone().unwrap_or_else(|| format!("crontab {user}")),
                    after_header: file.clone().unwrap_or_else(|| format!("crontab {user}")),
                    before: before.clone(),
                    after: after.clone(),
                });
            }
            if !ctx.check {
                match &file {
                    Some(f) if after.trim().is_empty() => {
                        remote.check(&format!("rm -f {}", quote(f)), None).await?;
                    }
                    Some(f) => {
                        remote
                            .write(
                                f,
                                after.as_bytes(),
                                &WriteOpts {
                                    mode: Some("0644".into()),
                                    backup: self.backup.0,
                                    ..Default::default()
                                },
                            )
                            .await?;
                    }
                    None => {
                        remote
                            .check(
                                &format!("crontab -u {} -", quote(&user)),
                                Some(after.as_bytes()),
                            )
                            .await?;
                    }
                }
            }
        }
        Ok(out.with("name", self.name.0).with(
            "jobs",
            after
                .lines()
                .filter_map(|l| l.strip_prefix("#Ansible: "))
                .map(str::to_string)
                .collect::<Vec<_>>(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::apply;

    #[test]
    fn entries_by_name() {
        let t = apply("", "backup", Some("0 2 * * * /usr/local/bin/backup"));
        assert_eq!(t, "#Ansible: backup\n0 2 * * * /usr/local/bin/backup\n");
        assert_eq!(
            apply(&t, "backup", Some("0 2 * * * /usr/local/bin/backup")),
            t
        );
        assert_eq!(
            apply(&t, "backup", Some("0 3 * * * x")),
            "#Ansible: backup\n0 3 * * * x\n"
        );
        assert_eq!(
            apply(&format!("MAILTO=root\n{t}"), "backup", None),
            "MAILTO=root\n"
        );
    }
}
