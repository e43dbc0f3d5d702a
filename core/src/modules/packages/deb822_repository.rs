//! `deb822_repository`: an APT source in deb822 form (`/etc/apt/sources.list.d/SLUG.sources`),
//! written as ansible-core writes it (fields in its order, lists space-separated, booleans
//! `yes`/`no`, multi-line values indented), with no Python on the host. A `signed_by` URL is
//! fetched on the controller (hosts need no route out) into `/etc/apt/keyrings/SLUG.asc` or
//! `.gpg`; a path on the host is referenced; any other text is inlined. `state: absent`
//! removes the source and its key.

use crate::modules::types::{Bool, Int, List, Mode, Text};
use crate::modules::{Ctx, FileDiff, ModResult, Module, ModuleError, Outcome, fail};
use crate::ssh::WriteOpts;
use crate::ssh::shell::quote;
use serde::Deserialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deb822Repository {
    name: Text,
    allow_downgrade_to_insecure: Option<Bool>,
    allow_insecure: Option<Bool>,
    allow_weak: Option<Bool>,
    architectures: Option<List>,
    by_hash: Option<Bool>,
    check_date: Option<Bool>,
    check_valid_until: Option<Bool>,
    components: Option<List>,
    date_max_future: Option<Int>,
    enabled: Option<Bool>,
    inrelease_path: Option<Text>,
    languages: Option<List>,
    pdiffs: Option<Bool>,
    signed_by: Option<String>,
    suites: Option<List>,
    targets: Option<List>,
    trusted: Option<Bool>,
    types: Option<List>,
    uris: Option<List>,
    mode: Option<Mode>,
    state: Option<Text>,
    #[serde(default)]
    install_python_debian: Option<Bool>,
}

const KEYRINGS: &str = "/etc/apt/keyrings";

/// ansible-core's file name stem for a repository name.
pub fn slug(name: &str) -> String {
    let dashed = regex::Regex::new(r"[_\s]+")
        .map(|r| r.replace_all(&name.to_lowercase(), "-").into_owned())
        .unwrap_or_default();
    dashed
        .chars()
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-')
        .collect()
}

/// A field's name as deb822 writes it.
pub fn field_name(param: &str) -> String {
    match param {
        "name" => "X-Repolib-Name".into(),
        "uris" => "URIs".into(),
        other => other
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                match c.next() {
                    Some(f) => f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase(),
                    None => String::new(),
                }
            })
            .collect::<Vec<_>>()
            .join("-"),
    }
}

/// A value of several lines, as deb822 continues them (blank lines as `.`).
pub fn multiline(v: &str) -> String {
    let lines: Vec<String> = v
        .trim()
        .lines()
        .map(|l| format!("    {}", if l.trim().is_empty() { "." } else { l.trim() }))
        .collect();
    format!("\n{}", lines.join("\n"))
}

/// The stanza: fields in the order of their parameters' names, as ansible-core emits them.
pub fn stanza(fields: &BTreeMap<&'static str, String>) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let v = if v.contains('\n') && !v.starts_with('\n') {
                multiline(v)
            } else {
                v.clone()
            };
            if v.starts_with('\n') {
                format!("{}:{v}\n", field_name(k))
            } else {
                format!("{}: {v}\n", field_name(k))
            }
        })
        .collect()
}

impl Module for Deb822Repository {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = &self.install_python_debian;
        let state = self
            .state
            .as_ref()
            .map(|s| s.0.clone())
            .unwrap_or_else(|| "present".into());
        if !["present", "absent"].contains(&state.as_str()) {
            return fail(format!(
                "value of state must be one of: present, absent, got: {state}"
            ));
        }
        let slug = slug(&self.name.0);
        let dest = format!("/etc/apt/sources.list.d/{slug}.sources");
        let remote = ctx.remote()?;
        if state == "absent" {
            let mut changed = false;
            let mut key_filename = Json::Null;
            for f in [
                dest.clone(),
                format!("{KEYRINGS}/{slug}.asc"),
                format!("{KEYRINGS}/{slug}.gpg"),
            ] {
                key_filename = Json::from(f.clone());
                let gone = remote
                    .exec(
                        &format!(
                            "[ -e {0} ] || exit 3; {1}",
                            quote(&f),
                            if ctx.check {
                                ":".to_string()
                            } else {
                                format!("rm -f -- {}", quote(&f))
                            }
                        ),
                        None,
                    )
                    .await?;
                changed |= gone.status != Some(3);
            }
            return Ok(Outcome::changed(changed)
                .with("repo", Json::Null)
                .with("dest", dest)
                .with("key_filename", key_filename));
        }
        let types = self
            .types
            .clone()
            .map(|t| t.0)
            .unwrap_or_else(|| vec!["deb".into()]);
        if let Some(bad) = types
            .iter()
            .find(|t| !["deb", "deb-src"].contains(&t.as_str()))
        {
            return fail(format!(
                "value of types must be one or more of: deb, deb-src. Got no match for: {bad}"
            ));
        }
        let yes_no = |b: &Option<Bool>| b.map(|b| if b.0 { "yes" } else { "no" }.to_string());
        let list = |l: &Option<List>| l.as_ref().map(|l| l.0.join(" "));
        let mut fields: BTreeMap<&'static str, String> = BTreeMap::new();
        let mut put = |k: &'static str, v: Option<String>| {
            if let Some(v) = v {
                fields.insert(k, v);
            }
        };
        put(
            "allow_downgrade_to_insecure",
            yes_no(&self.allow_downgrade_to_insecure),
        );
        put("allow_insecure", yes_no(&self.allow_insecure));
        put("allow_weak", yes_no(&self.allow_weak));
        put("architectures", list(&self.architectures));
        put("by_hash", yes_no(&self.by_hash));
        put("check_date", yes_no(&self.check_date));
        put("check_valid_until", yes_no(&self.check_valid_until));
        put("components", list(&self.components));
        put(
            "date_max_future",
            self.date_max_future.map(|d| d.0.to_string()),
        );
        put("enabled", yes_no(&self.enabled));
        put(
            "inrelease_path",
            self.inrelease_path.as_ref().map(|t| t.0.clone()),
        );
        put("languages", list(&self.languages));
        put("name", Some(self.name.0.clone()));
        put("pdiffs", yes_no(&self.pdiffs));
        put("suites", list(&self.suites));
        put("targets", list(&self.targets));
        put("trusted", yes_no(&self.trusted));
        put("types", Some(types.join(" ")));
        put("uris", list(&self.uris));
        let mut changed = false;
        let mut key_filename = Json::Null;
        if let Some(sb) = &self.signed_by {
            let on_host = !sb.contains('\n')
                && remote
                    .exec(&format!("[ -f {} ]", quote(sb)), None)
                    .await?
                    .success();
            let url = !on_host
                && regex::Regex::new(r"^[A-Za-z][A-Za-z0-9+.-]*://").is_ok_and(|r| r.is_match(sb));
            let value = if on_host {
                key_filename = Json::from(sb.clone());
                sb.clone()
            } else if url {
                let data = crate::modules::get_url::download(
                    sb,
                    &BTreeMap::new(),
                    None,
                    std::time::Duration::from_secs(30),
                    true,
                )
                .await
                .map_err(|e| ModuleError::Failed(format!("Could not fetch signed_by key: {e}")))?;
                let armored = data
                    .windows(36)
                    .any(|w| w == b"-----BEGIN PGP PUBLIC KEY BLOCK-----");
                let file = format!("{KEYRINGS}/{slug}.{}", if armored { "asc" } else { "gpg" });
                let now = remote.read(&file).await?;
                if now.as_deref() != Some(&data[..]) {
                    changed = true;
                    if !ctx.check {
                        remote
                            .check(
                                &format!("install -d -m 0755 -o root -g root {}", quote(KEYRINGS)),
                                None,
                            )
                            .await?;
                        remote
                            .write(
                                &file,
                                &data,
                                &WriteOpts {
                                    mode: Some("0644".into()),
                                    ..WriteOpts::default()
                                },
                            )
                            .await?;
                    }
                }
                key_filename = Json::from(file.clone());
                file
            } else {
                sb.clone()
            };
            fields.insert("signed_by", value);
        }
        let repo = stanza(&fields);
        let before = remote.read(&dest).await?;
        let mut out = Outcome::ok();
        if before.as_deref() != Some(repo.as_bytes()) {
            changed = true;
            if ctx.diff {
                out.diffs.push(FileDiff {
                    before_header: if before.is_some() {
                        dest.clone()
                    } else {
                        "/dev/null".into()
                    },
                    after_header: dest.clone(),
                    before: before
                        .as_ref()
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .unwrap_or_default(),
                    after: repo.clone(),
                });
            }
        }
        let mode = self
            .mode
            .as_ref()
            .map(|m| m.octal().unwrap_or_else(|| m.0.clone()))
            .unwrap_or_else(|| "0644".into());
        if !ctx.check && before.as_deref() != Some(repo.as_bytes()) {
            remote
                .write(
                    &dest,
                    repo.as_bytes(),
                    &WriteOpts {
                        mode: Some(mode.clone()),
                        ..WriteOpts::default()
                    },
                )
                .await?;
        } else if before.is_some() && !ctx.check {
            // The mode is kept as asked on an unchanged file too.
            let now = remote
                .check(&format!("stat -c %a -- {}", quote(&dest)), None)
                .await?;
            let current = u32::from_str_radix(now.stdout_str().trim(), 8).ok();
            let want = u32::from_str_radix(&mode, 8).ok();
            if current != want {
                remote
                    .check(&format!("chmod {} -- {}", quote(&mode), quote(&dest)), None)
                    .await?;
                changed = true;
            }
        }
        out.changed = changed;
        Ok(out
            .with("repo", repo)
            .with("dest", dest)
            .with("key_filename", key_filename))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stanzas_are_written_as_ansible_core_writes_them() {
        assert_eq!(
            slug("ansible-test focal archive"),
            "ansible-test-focal-archive"
        );
        assert_eq!(slug("My_Repo (2)"), "my-repo-2");
        let mut f = BTreeMap::new();
        f.insert("components", "main restricted".to_string());
        f.insert("date_max_future", "10".to_string());
        f.insert("name", "ansible-test focal archive".to_string());
        f.insert("suites", "focal focal-updates".to_string());
        f.insert("types", "deb".to_string());
        f.insert("uris", "http://us.archive.ubuntu.com/ubuntu".to_string());
        assert_eq!(
            stanza(&f),
            "Components: main restricted\nDate-Max-Future: 10\nX-Repolib-Name: ansible-test focal archive\nSuites: focal focal-updates\nTypes: deb\nURIs: http://us.archive.ubuntu.com/ubuntu\n"
        );
        let mut k = BTreeMap::new();
        k.insert(
            "signed_by",
            "-----BEGIN X-----\n\nabc\n-----END X-----".to_string(),
        );
        assert_eq!(
            stanza(&k),
            "Signed-By:\n    -----BEGIN X-----\n    .\n    abc\n    -----END X-----\n"
        );
        assert_eq!(field_name("check_valid_until"), "Check-Valid-Until");
    }
}
