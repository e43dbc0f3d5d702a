//! `apt_repository`: a one-line `deb`/`deb-src` source in /etc/apt/sources.list or
//! sources.list.d, managed as ansible-core's module manages it — but read and written with
//! the host's shell, so no python-apt is needed: a disabled copy of the line is enabled
//! again, a new one goes to a file named after its URL (or `filename`), removal drops every
//! enabled copy (and a file left empty), `mode` for new files, `apt-get update` with retries
//! afterwards (the files are put back when it keeps failing). Launchpad PPAs (`ppa:`) need
//! their signing key fetched from Launchpad: they run Ansible's own module (the fallback).

use crate::modules::types::{Bool, Int, Mode, Text};
use crate::modules::{Ctx, FileDiff, ModResult, Module, ModuleError, Outcome, fail};
use crate::ssh::WriteOpts;
use crate::ssh::shell::quote;
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Value as Json, json};
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AptRepository {
    repo: Text,
    state: Option<Text>,
    mode: Option<Mode>,
    #[serde(default = "crate::modules::files_common::yes", alias = "update-cache")]
    update_cache: Bool,
    update_cache_retries: Option<Int>,
    update_cache_retry_max_delay: Option<Int>,
    filename: Option<Text>,
    #[serde(default)]
    install_python_apt: Option<Bool>,
    #[serde(default)]
    validate_certs: Option<Bool>,
    codename: Option<Text>,
}

const MAIN: &str = "/etc/apt/sources.list";
const PARTS: &str = "/etc/apt/sources.list.d";

/// One line of a sources file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub valid: bool,
    pub enabled: bool,
    pub source: String,
    pub comment: String,
}

/// ansible-core's `_parse` of a sources line.
pub fn parse(line: &str) -> Line {
    let mut l = line.trim();
    let mut enabled = true;
    if let Some(rest) = l.strip_prefix('#') {
        enabled = false;
        l = rest;
    }
    let mut comment = String::new();
    let mut text = l.to_string();
    if let Some(i) = l.find('#').filter(|i| *i > 0) {
        comment = l[i + 1..].trim().to_string();
        text = l[..i].to_string();
    }
    let chunks: Vec<&str> = text.split_whitespace().collect();
    let valid = chunks
        .first()
        .is_some_and(|c| *c == "deb" || *c == "deb-src");
    Line {
        valid,
        enabled,
        source: if valid {
            chunks.join(" ")
        } else {
            text.trim().to_string()
        },
        comment,
    }
}

/// A file's lines written back as ansible-core writes them.
pub fn dump(lines: &[Line]) -> String {
    lines
        .iter()
        .map(|l| {
            let mut s = String::new();
            if !l.enabled {
                s.push_str("# ");
            }
            s.push_str(&l.source);
            if !l.comment.is_empty() {
                s.push_str(" # ");
                s.push_str(&l.comment);
            }
            s.push('\n');
            s
        })
        .collect()
}

/// ansible-core's file name for a new source: its host and path, punctuation as `_`.
pub fn suggest_filename(source: &str, filename: Option<&str>) -> String {
    if let Some(f) = filename {
        return format!("{f}.list");
    }
    let no_options = regex::Regex::new(r"\[[^\]]+\]")
        .map(|r| r.replace_all(source, "").into_owned())
        .unwrap_or_else(|_| source.to_string());
    let no_scheme = regex::Regex::new(r"\w+://")
        .map(|r| r.replace_all(&no_options, "").into_owned())
        .unwrap_or(no_options);
    let first = no_scheme
        .split_whitespace()
        .find(|p| *p != "deb" && *p != "deb-src")
        .unwrap_or_default();
    let first = first.rsplit_once('@').map(|(_, h)| h).unwrap_or(first);
    let cleaned: String = first
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { ' ' })
        .collect();
    format!(
        "{}.list",
        cleaned.split_whitespace().collect::<Vec<_>>().join("_")
    )
}

/// Every sources file: path to its lines, in apt's order (sources.list, then the parts).
pub type Sources = IndexMap<String, Vec<Line>>;

/// Adds `source` (enabling disabled copies, else appending to `file`); whether any changed.
pub fn add(sources: &mut Sources, source: &str, file: &str) {
    let mut found = false;
    for lines in sources.values_mut() {
        for l in lines.iter_mut().filter(|l| l.valid && l.source == source) {
            l.enabled = true;
            found = true;
        }
    }
    if !found {
        sources.entry(file.to_string()).or_default().push(Line {
            valid: true,
            enabled: true,
            source: source.to_string(),
            comment: String::new(),
        });
    }
}

/// Removes every enabled copy of `source`.
pub fn remove(sources: &mut Sources, source: &str) {
    for lines in sources.values_mut() {
        lines.retain(|l| !(l.valid && l.enabled && l.source == source));
    }
}

fn dumped(sources: &Sources) -> IndexMap<String, String> {
    sources
        .iter()
        .filter(|(_, l)| !l.is_empty())
        .map(|(f, l)| (f.clone(), dump(l)))
        .collect()
}

/// Lists the sources files: path, NUL, content, NUL for each.
fn read_script() -> String {
    format!(
        "for f in {MAIN} {PARTS}/*.list; do [ -f \"$f\" ] || continue; printf '%s\\0' \"$f\"; cat -- \"$f\"; printf '\\0'; done"
    )
}

impl AptRepository {
    /// The arguments again, for Ansible's own module.
    fn args(&self) -> Json {
        let mut a = serde_json::Map::new();
        a.insert("repo".into(), json!(self.repo.0));
        if let Some(s) = &self.state {
            a.insert("state".into(), json!(s.0));
        }
        if let Some(m) = &self.mode {
            a.insert("mode".into(), json!(m.0));
        }
        a.insert("update_cache".into(), json!(self.update_cache.0));
        if let Some(f) = &self.filename {
            a.insert("filename".into(), json!(f.0));
        }
        if let Some(c) = &self.codename {
            a.insert("codename".into(), json!(c.0));
        }
        Json::Object(a)
    }
}

impl Module for AptRepository {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = (
            &self.install_python_apt,
            &self.validate_certs,
            &self.codename,
        );
        let repo = self.repo.0.clone();
        let state = self
            .state
            .as_ref()
            .map(|s| s.0.clone())
            .unwrap_or_else(|| "present".into());
        if !["present", "absent"].contains(&state.as_str()) {
            return fail(format!(
                "value of state must be one of: absent, present, got: {state}"
            ));
        }
        if repo.trim().is_empty() {
            return fail("Please set argument 'repo' to a non-empty value");
        }
        if repo.starts_with("ppa:") {
            // A PPA's signing key comes from Launchpad: Ansible's own module does that.
            return match crate::modules::ansible::locate("ansible.builtin.apt_repository", &[]) {
                Ok(m) => crate::modules::ansible::run(&m, ctx, self.args()).await,
                Err(why) => fail(format!(
                    "Launchpad PPAs need their signing key fetched from Launchpad, which Ansible's own apt_repository module does, and it cannot be run here ({why}); or write the PPA's `deb` line with deb822_repository and its signed_by key"
                )),
            };
        }
        let line = parse(&repo);
        if !line.valid || !line.enabled {
            return fail(format!("Invalid repository string: {}", line.source));
        }
        let remote = ctx.remote()?;
        let listing = remote.check(&read_script(), None).await?;
        let mut sources: Sources = IndexMap::new();
        let mut fields = listing.stdout.split(|b| *b == 0);
        while let (Some(path), Some(text)) = (fields.next(), fields.next()) {
            let path = String::from_utf8_lossy(path).into_owned();
            if path.is_empty() {
                break;
            }
            let text = String::from_utf8_lossy(text);
            sources.insert(path, text.lines().map(parse).collect());
        }
        let before = dumped(&sources);
        if state == "present" {
            let name = suggest_filename(&line.source, self.filename.as_ref().map(|f| f.0.as_str()));
            let file = if name.contains('/') {
                name
            } else {
                format!("{PARTS}/{name}")
            };
            add(&mut sources, &line.source, &file);
        } else {
            remove(&mut sources, &line.source);
        }
        let after = dumped(&sources);
        let changed = before != after;
        let added: Vec<String> = after
            .keys()
            .filter(|f| !before.contains_key(*f))
            .cloned()
            .collect();
        let removed: Vec<String> = before
            .keys()
            .filter(|f| !after.contains_key(*f))
            .cloned()
            .collect();
        let mut o = Outcome::changed(changed)
            .with("repo", repo.clone())
            .with("state", state.clone())
            .with("sources_added", added.clone())
            .with("sources_removed", removed.clone());
        let mut diffs = Vec::new();
        if changed && ctx.diff {
            for f in added.iter().chain(&removed) {
                let (b, a) = (
                    before.get(f).cloned().unwrap_or_default(),
                    after.get(f).cloned().unwrap_or_default(),
                );
                let header = |has: bool| if has { f.clone() } else { "/dev/null".into() };
                diffs.push(json!({"before": b, "after": a, "before_header": header(before.contains_key(f)), "after_header": header(after.contains_key(f))}));
                o.diffs.push(FileDiff {
                    before_header: header(before.contains_key(f)),
                    after_header: header(after.contains_key(f)),
                    before: b,
                    after: a,
                });
            }
        }
        o.diff_value = Some(Json::Array(diffs));
        if !changed || ctx.check {
            return Ok(o);
        }
        // Write what changed: new files with `mode` (0644 by default), emptied ones removed.
        let write =
            async |files: &IndexMap<String, String>, gone: &[String]| -> Result<(), ModuleError> {
                for (f, text) in files {
                    if before.get(f) == Some(text) {
                        continue;
                    }
                    let mode = match (&self.mode, before.contains_key(f)) {
                        (Some(m), false) => Some(m.octal().unwrap_or_else(|| m.0.clone())),
                        (None, false) => Some("0644".to_string()),
                        _ => None,
                    };
                    remote
                        .check(&format!("mkdir -p -- {}", quote(PARTS)), None)
                        .await?;
                    remote
                        .write(
                            f,
                            text.as_bytes(),
                            &WriteOpts {
                                mode,
                                ..WriteOpts::default()
                            },
                        )
                        .await?;
                }
                for f in gone {
                    remote
                        .check(&format!("rm -f -- {}", quote(f)), None)
                        .await?;
                }
                Ok(())
            };
        write(&after, &removed).await?;
        if self.update_cache.0 {
            let retries = self
                .update_cache_retries
                .as_ref()
                .map(|r| r.0)
                .unwrap_or(5)
                .max(1);
            let max_delay = self
                .update_cache_retry_max_delay
                .as_ref()
                .map(|r| r.0)
                .unwrap_or(12)
                .max(0) as f64;
            let mut err = String::new();
            let mut ok = false;
            for attempt in 0..retries {
                let out = remote.exec("LC_ALL=C apt-get update -q", None).await?;
                if out.success()
                    && !out.stderr_str().contains("\nE: ")
                    && !out.stderr_str().starts_with("E: ")
                {
                    ok = true;
                    break;
                }
                err = out.stderr_str().trim().to_string();
                o.warnings.push(format!(
                    "Failed to update cache after {} due to {err} retry, retrying",
                    attempt + 1
                ));
                let delay = (2f64.powi(attempt as i32)).min(max_delay) + rand::random::<f64>();
                tokio::time::sleep(Duration::from_secs_f64(delay)).await;
            }
            if !ok {
                // Put the files back as they were.
                for f in &added {
                    remote
                        .check(&format!("rm -f -- {}", quote(f)), None)
                        .await?;
                }
                write(&before, &[]).await?;
                return fail(format!(
                    "Failed to update apt cache after {retries} retries: {}",
                    if err.is_empty() {
                        "unknown reason"
                    } else {
                        &err
                    }
                ));
            }
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_parse_and_dump_as_ansible_core() {
        let l = parse("#  deb  http://x/debian  bookworm main # mine");
        assert_eq!(
            l,
            Line {
                valid: true,
                enabled: false,
                source: "deb http://x/debian bookworm main".into(),
                comment: "mine".into()
            }
        );
        assert_eq!(dump(&[l]), "# deb http://x/debian bookworm main # mine\n");
        assert!(!parse("# just a comment").valid);
        assert_eq!(
            suggest_filename(
                "deb [arch=amd64 signed-by=/k.gpg] https://user:pw@dl.google.com/linux/chrome/deb/ stable main",
                None
            ),
            "dl_google_com_linux_chrome_deb.list"
        );
        assert_eq!(
            suggest_filename("deb http://x/ y", Some("mine")),
            "mine.list"
        );
    }

    #[test]
    fn sources_are_added_and_removed() {
        let mut s: Sources = IndexMap::new();
        s.insert(MAIN.into(), vec![parse("# deb http://a/ x main")]);
        add(
            &mut s,
            "deb http://a/ x main",
            "/etc/apt/sources.list.d/a.list",
        );
        assert!(s[MAIN][0].enabled, "the disabled copy is enabled again");
        assert!(!s.contains_key("/etc/apt/sources.list.d/a.list"));
        add(
            &mut s,
            "deb http://b/ y main",
            "/etc/apt/sources.list.d/b.list",
        );
        assert_eq!(
            dump(&s["/etc/apt/sources.list.d/b.list"]),
            "deb http://b/ y main\n"
        );
        remove(&mut s, "deb http://b/ y main");
        assert!(dumped(&s).get("/etc/apt/sources.list.d/b.list").is_none());
    }
}
