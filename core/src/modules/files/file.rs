//! `file`: directories, symlinks, hard links, touch, absent, and ownership/mode (optionally
//! recursive) of what is there.

use crate::modules::files_common::{Attrs, apply_symbolic, impl_attrs};
use crate::modules::types::{Bool, Mode, Text};
use crate::modules::{Ctx, FileDiff, ModResult, Module, ModuleError, Outcome, Stat, fail};
use crate::ssh::shell::{quote, quote_path};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct File {
    #[serde(alias = "dest", alias = "name")]
    path: Text,
    state: Option<String>,
    src: Option<Text>,
    owner: Option<Text>,
    group: Option<Text>,
    mode: Option<Mode>,
    #[serde(default)]
    recurse: Bool,
    #[serde(default)]
    force: Bool,
    #[serde(default)]
    follow: Option<Bool>,
    modification_time: Option<String>,
    access_time: Option<String>,
    modification_time_format: Option<String>,
    access_time_format: Option<String>,
    #[serde(default)]
    unsafe_writes: Option<Bool>,
}

impl_attrs!(File);

fn state_diff(path: &str, before: &str, after: &str) -> FileDiff {
    FileDiff {
        before_header: path.to_string(),
        after_header: path.to_string(),
        before: format!("path: {path}\nstate: {before}\n"),
        after: format!("path: {path}\nstate: {after}\n"),
    }
}

impl File {
    /// Ownership/mode of `path` (and, with `recurse`, everything below), applied unless checking.
    /// `known` is the path's stat when nothing changed it since it was taken.
    async fn attrs_step(
        &self,
        ctx: &Ctx<'_>,
        path: &str,
        known: Option<Stat>,
        out: &mut Outcome,
    ) -> Result<(), ModuleError> {
        let attrs = self.attrs();
        if attrs.owner.is_none() && attrs.group.is_none() && attrs.mode.is_none() {
            return Ok(());
        }
        let remote = ctx.remote()?;
        let stat = match known {
            Some(s) if s.kind != "link" => s,
            _ => {
                // A link's own mode is always 0777: with `follow` (the default) the attributes
                // are those of what it points to, which is what chmod and chown change.
                let follow = self.follow.as_ref().is_none_or(|f| f.0);
                match remote.stat(path, follow, false).await? {
                    Some(s) if s.kind == "link" && follow => return Ok(()),
                    Some(s) => s,
                    None => return Ok(()),
                }
            }
        };
        let changes = attrs.changes(&stat)?;
        let mut changed = changes.any();
        if self.recurse.0 && stat.kind == "directory" {
            changed |= self.recurse_differs(ctx, path, &attrs).await?;
        }
        if changed {
            out.changed = true;
            if ctx.diff {
                out.diffs.push(changes.diff(path));
            }
            if !ctx.check {
                let script = if self.recurse.0 && stat.kind == "directory" {
                    recursive_script(path, &attrs)
                } else {
                    changes.script(path, false)
                };
                if !script.is_empty() {
                    remote.check(&script, None).await?;
                }
            }
        }
        Ok(())
    }

    /// Creates `path` and every missing parent one by one, each getting the requested mode,
    /// owner and group as it is made (as ansible-core does; `mkdir -p -m` sets the last only).
    fn mkdir_script(&self, path: &str) -> Result<String, ModuleError> {
        let attrs = self.attrs();
        let mode = attrs.wanted_mode(None, true)?;
        let owner = match (&attrs.owner, &attrs.group) {
            (None, None) => None,
            (o, g) => Some(format!(
                "{}{}",
                o.as_ref().map(|o| o.0.as_str()).unwrap_or(""),
                g.as_ref().map(|g| format!(":{}", g.0)).unwrap_or_default()
            )),
        };
        let mut steps = Vec::new();
        let mut prefix = String::new();
        for (i, part) in path.split('/').enumerate() {
            if i > 0 {
                prefix.push('/');
            }
            prefix.push_str(part);
            if part.is_empty() || part == "." || prefix == "/" {
                continue;
            }
            let d = quote_path(&prefix);
            let mut make = format!("mkdir -- {d}");
            if let Some(m) = mode {
                make.push_str(&format!(" && chmod {m:04o} -- {d}"));
            }
            if let Some(o) = &owner {
                make.push_str(&format!(" && chown {} -- {d}", quote(o)));
            }
            steps.push(format!("{{ [ -d {d} ] || {{ {make}; }}; }}"));
        }
        Ok(steps.join(" && "))
    }

    /// Whether anything below `path` differs from `attrs`.
    async fn recurse_differs(
        &self,
        ctx: &Ctx<'_>,
        path: &str,
        attrs: &Attrs,
    ) -> Result<bool, ModuleError> {
        let out = ctx
            .remote()?
            .check(
                &format!(
                    "find {} -mindepth 1 -printf '%y %m %u %g %U %G\\n'",
                    quote(path)
                ),
                None,
            )
            .await?;
        for line in out.stdout_str().lines() {
            let f: Vec<&str> = line.split(' ').collect();
            if f.len() < 6 {
                continue;
            }
            let is_dir = f[0] == "d";
            if f[0] == "l" {
                continue;
            }
            let cur = u32::from_str_radix(f[1], 8).unwrap_or(0);
            if let Some(m) = &attrs.mode {
                let want = match m.octal() {
                    Some(o) => u32::from_str_radix(&o, 8).unwrap_or(cur),
                    None => apply_symbolic(cur, &m.0, is_dir).map_err(ModuleError::Args)?,
                };
                if want != cur {
                    return Ok(true);
                }
            }
            if attrs
                .owner
                .as_ref()
                .is_some_and(|o| o.0 != f[2] && o.0 != f[4])
                || attrs
                    .group
                    .as_ref()
                    .is_some_and(|g| g.0 != f[3] && g.0 != f[5])
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

fn recursive_script(path: &str, attrs: &Attrs) -> String {
    let p = quote_path(path);
    let mut s = Vec::new();
    if attrs.owner.is_some() || attrs.group.is_some() {
        let spec = format!(
            "{}{}",
            attrs.owner.as_ref().map(|o| o.0.as_str()).unwrap_or(""),
            attrs
                .group
                .as_ref()
                .map(|g| format!(":{}", g.0))
                .unwrap_or_default()
        );
        s.push(format!("chown -R {} {p}", quote(&spec)));
    }
    if let Some(m) = &attrs.mode {
        s.push(format!(
            "chmod -R {} {p}",
            quote(&m.octal().unwrap_or_else(|| m.0.clone()))
        ));
    }
    s.join(" && ")
}

impl Module for File {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = (
            &self.follow,
            &self.unsafe_writes,
            &self.access_time,
            &self.modification_time_format,
            &self.access_time_format,
        );
        let remote = ctx.remote()?;
        let path = self.path.0.clone();
        let p = quote_path(&path);
        let current = remote.stat(&path, false, false).await?;
        let now = current
            .as_ref()
            .map(|s| s.kind.clone())
            .unwrap_or_else(|| "absent".into());
        let state = match self.state.as_deref() {
            Some(s) => s.to_string(),
            None if self.src.is_some() => "link".into(),
            None if now == "absent" => "file".into(),
            None => {
                if now == "directory" {
                    "directory".into()
                } else {
                    "file".into()
                }
            }
        };
        let mut out = Outcome::ok();
        let act = |out: &mut Outcome, after: &str, script: String| -> Option<String> {
            out.changed = true;
            if ctx.diff {
                out.diffs.push(state_diff(&path, &now, after));
            }
            (!ctx.check).then_some(script)
        };
        let script = match state.as_str() {
            "absent" => match now.as_str() {
                "absent" => None,
                _ => act(&mut out, "absent", format!("rm -rf -- {p}")),
            },
            "directory" => match now.as_str() {
                "directory" => None,
                "absent" => {
                    let script = self.mkdir_script(&path)?;
                    act(&mut out, "directory", script)
                }
                other if self.force.0 && other == "link" => act(
                    &mut out,
                    "directory",
                    format!("rm -f -- {p} && mkdir -p -- {p}"),
                ),
                other => return fail(format!("{path} already exists as a {other}")),
            },
            "file" => match now.as_str() {
                "absent" => return fail(format!("file ({path}) is absent, cannot continue")),
                "file" | "other" => None,
                "link" => None,
                other => return fail(format!("{path} is a {other}, not a file")),
            },
            "touch" => {
                let preserve = self.modification_time.as_deref() == Some("preserve");
                match now.as_str() {
                    "absent" => act(&mut out, "file", format!("touch -- {p}")),
                    _ if preserve => None,
                    _ => act(&mut out, &now, format!("touch -- {p}")),
                }
            }
            "link" | "hard" => {
                let Some(src) = &self.src else {
                    return fail(format!("`src` is required for state={state}"));
                };
                let s = quote(&src.0);
                let same = match (state.as_str(), &current) {
                    ("link", Some(c)) => c.link_target.as_deref() == Some(src.0.as_str()),
                    ("hard", Some(_)) => remote
                        .exec(&format!("[ {p} -ef {s} ]"), None)
                        .await?
                        .success(),
                    _ => false,
                };
                if same {
                    None
                } else {
                    if matches!(now.as_str(), "file" | "directory")
                        && !self.force.0
                        && state == "link"
                    {
                        return fail(format!(
                            "refusing to convert {path} from {now} to a link (set force: true)"
                        ));
                    }
                    let flag = if state == "link" { "-sfn" } else { "-f" };
                    act(&mut out, &state, format!("ln {flag} -- {s} {p}"))
                }
            }
            other => {
                return fail(format!(
                    "unknown state `{other}` (use file, directory, link, hard, touch or absent)"
                ));
            }
        };
        let unchanged = script.is_none() && !out.changed;
        if let Some(script) = script {
            remote.check(&script, None).await?;
        }
        if state != "absent" && !(ctx.check && now == "absent") {
            let known = if unchanged { current } else { None };
            self.attrs_step(ctx, &path, known, &mut out).await?;
        }
        // ansible-core names the path `dest` for links and touch (with `src` for links),
        // `path` otherwise.
        let out = match state.as_str() {
            "link" | "hard" => out
                .with("dest", path)
                .with("src", self.src.as_ref().map(|s| s.0.clone())),
            "touch" => out.with("dest", path),
            _ => out.with("path", path),
        };
        Ok(out.with("state", state))
    }
}
