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
            // ansible-core's declaration: the value quoted.
            return Ok(format!("{}=\"{job}\"", self.name.0));
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

/// Whether `line` declares the variable `name` (ansible-core's `^name=`).
fn declares(line: &str, name: &str) -> bool {
    line.strip_prefix(name).is_some_and(|r| r.starts_with('='))
}

/// Sets (`decl`) or removes (`None`) the variable `name` in crontab text, as ansible-core's
/// cron does: a declaration replaced where it is, a new one put at the top, or after/before the
/// variable `insertafter`/`insertbefore` names.
pub fn apply_env(
    text: &str,
    name: &str,
    decl: Option<&str>,
    insertafter: Option<&str>,
    insertbefore: Option<&str>,
) -> Result<String, String> {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let found = lines.iter().any(|l| declares(l, name));
    match decl {
        Some(d) if found => {
            for l in lines.iter_mut().filter(|l| declares(l, name)) {
                *l = d.to_string();
            }
        }
        Some(d) => match insertafter.or(insertbefore) {
            None => lines.insert(0, d.to_string()),
            Some(other) => {
                let at = lines
                    .iter()
                    .position(|l| declares(l, other))
                    .ok_or_else(|| format!("Variable named '{other}' not found."))?;
                let at = if insertafter.is_some() { at + 1 } else { at };
                lines.insert(at, d.to_string());
            }
        },
        None => lines.retain(|l| !declares(l, name)),
    }
    let mut s = lines.join("\n");
    if !s.is_empty() {
        s.push('\n');
    }
    Ok(s)
}

impl Module for Cron {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let remote = ctx.remote()?;
        if self.env.0 && self.name.0.contains(' ') {
            return fail("Invalid name for environment variable");
        }
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
        let after = if self.env.0 {
            apply_env(
                &before,
                &self.name.0,
                line.as_deref(),
                self.insertafter.as_deref(),
                self.insertbefore.as_deref(),
            )
            .map_err(crate::modules::ModuleError::Failed)?
        } else {
            apply(&before, &self.name.0, line.as_deref())
        };
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
        // ansible-core's get_envnames: every `NAME=` line without blanks before the `=`.
        let envs: Vec<String> = after
            .lines()
            .filter_map(|l| l.split_once('='))
            .filter(|(n, _)| !n.is_empty() && !n.contains(char::is_whitespace))
            .map(|(n, _)| n.to_string())
            .collect();
        Ok(out
            .with("name", self.name.0)
            .with(
                "jobs",
                after
                    .lines()
                    .filter_map(|l| l.strip_prefix("#Ansible: "))
                    .map(str::to_string)
                    .collect::<Vec<_>>(),
            )
            .with("envs", envs))
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

    #[test]
    fn variables_as_ansible_core_places_them() {
        use super::apply_env;
        let t = "#Ansible: j\n* * * * * x\n";
        let added = apply_env(t, "PATH", Some("PATH=\"/bin\""), None, None).unwrap();
        assert_eq!(added, "PATH=\"/bin\"\n#Ansible: j\n* * * * * x\n");
        let after = apply_env(&added, "MAILTO", Some("MAILTO=\"a\""), Some("PATH"), None).unwrap();
        assert_eq!(
            after,
            "PATH=\"/bin\"\nMAILTO=\"a\"\n#Ansible: j\n* * * * * x\n"
        );
        let updated = apply_env(&after, "PATH", Some("PATH=\"/usr/bin\""), None, None).unwrap();
        assert!(updated.starts_with("PATH=\"/usr/bin\"\nMAILTO"));
        assert_eq!(
            apply_env(&updated, "PATH", None, None, None).unwrap(),
            "MAILTO=\"a\"\n#Ansible: j\n* * * * * x\n"
        );
        assert_eq!(
            apply_env(t, "X", Some("X=\"1\""), None, Some("NOPE")).unwrap_err(),
            "Variable named 'NOPE' not found."
        );
    }
}
