//! `file`: directories, symlinks, hard links, touch, absent, and ownership/mode (optionally
//! recursive) of what is there.

use super::file_diff::StateDiff;
use super::{file_link, file_times};
use crate::modules::files_common::{Attrs, apply_symbolic, impl_attrs, path_info, py_mode};
use crate::modules::types::{Bool, Mode, Text};
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome, Stat, fail};
use crate::ssh::shell::{quote, quote_path};
use serde::Deserialize;
use serde_json::Value as Json;

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
    /// ansible-core's internal peek of the action plugins: whether the path looks binary.
    #[serde(rename = "_diff_peek", default)]
    diff_peek: Option<Bool>,
    /// ansible-core's internal name of a file placed inside a directory `path`.
    #[serde(rename = "_original_basename", default)]
    original_basename: Option<Text>,
}

impl_attrs!(File);

/// The uid (or gid) `name` has on the host, a number standing for itself.
async fn numeric_id(ctx: &Ctx<'_>, name: &str, group: bool) -> Result<Json, ModuleError> {
    if let Ok(n) = name.parse::<u32>() {
        return Ok(Json::from(n));
    }
    let script = if group {
        format!("getent group {} | cut -d: -f3", quote(name))
    } else {
        format!("id -u -- {}", quote(name))
    };
    let out = ctx.remote()?.exec(&script, None).await?;
    let text = out.stdout_str();
    Ok(text
        .trim()
        .parse::<u32>()
        .map(Json::from)
        .unwrap_or_else(|_| Json::String(name.to_string())))
}

impl File {
    /// `follow` (ansible-core's default for this module: yes).
    fn follows(&self) -> bool {
        self.follow.as_ref().is_none_or(|f| f.0)
    }

    /// Ownership/mode of `path` (and, with `recurse`, everything below), applied unless checking.
    /// `known` is the path's stat when nothing changed it since it was taken.
    async fn attrs_step(
        &self,
        ctx: &Ctx<'_>,
        path: &str,
        known: Option<Stat>,
        out: &mut Outcome,
        mut diff: Option<&mut StateDiff>,
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
        let mut changes = attrs.changes(&stat)?;
        // A link's own mode cannot be set on Linux: ansible-core records the wish in the
        // diff and reports no change for it.
        let is_link = stat.kind == "link";
        let link_mode = if is_link { changes.mode.take() } else { None };
        let mut changed = changes.any();
        if self.recurse.0 && stat.kind == "directory" {
            changed |= self.recurse_differs(ctx, path, &attrs).await?;
        }
        if let (Some(d), Some(m)) = (diff.as_deref_mut(), &link_mode) {
            d.set("mode", py_mode(&stat.mode), py_mode(m));
        }
        if changed {
            out.changed = true;
            if let Some(d) = diff {
                if let Some(o) = &changes.owner {
                    d.set("owner", stat.uid, numeric_id(ctx, o, false).await?);
                }
                if let Some(g) = &changes.group {
                    d.set("group", stat.gid, numeric_id(ctx, g, true).await?);
                }
                if let Some(m) = &changes.mode {
                    d.set("mode", py_mode(&stat.mode), py_mode(m));
                }
            }
            if !ctx.check {
                let script = if self.recurse.0 && stat.kind == "directory" {
                    recursive_script(path, &attrs, self.follows())
                } else {
                    changes.script(path, false, is_link)
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

    /// In check mode, a warning for an owner or group the host does not have yet (an earlier
    /// task may be about to create it), in ansible-core's words.
    async fn warn_unknown_ids(&self, ctx: &Ctx<'_>, out: &mut Outcome) -> Result<(), ModuleError> {
        for (id, db, what, num) in [
            (&self.owner, "passwd", "user", "uid"),
            (&self.group, "group", "group", "gid"),
        ] {
            let Some(id) = id else { continue };
            let known = ctx
                .remote()?
                .exec(&format!("getent {db} {} >/dev/null", quote(&id.0)), None)
                .await?
                .success();
            if !known {
                out.warnings.push(match id.0.parse::<u32>() {
                    Ok(n) => format!(
                        "failed to look up {what} with {num} {n}. Create {what} up to this point in real play"
                    ),
                    Err(_) => format!(
                        "failed to look up {what} {}. Create {what} up to this point in real play",
                        id.0
                    ),
                });
            }
        }
        Ok(())
    }

    /// What a directory holds, as ansible-core's diff of an `absent` directory lists it: every
    /// directory and every other entry below it, by full path.
    async fn content_of(&self, ctx: &Ctx<'_>, path: &str) -> Result<Json, ModuleError> {
        let out = ctx
            .remote()?
            .check(
                &format!("find {} -mindepth 1 -printf '%y %p\\0'", quote_path(path)),
                None,
            )
            .await?;
        let (mut dirs, mut files) = (Vec::new(), Vec::new());
        for entry in out.stdout.split(|b| *b == 0) {
            let entry = String::from_utf8_lossy(entry);
            match entry.split_once(' ') {
                Some(("d", p)) => dirs.push(Json::from(p)),
                Some((_, p)) => files.push(Json::from(p)),
                None => {}
            }
        }
        Ok(serde_json::json!({"directories": dirs, "files": files}))
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
                    "find {}{} -mindepth 1 -printf '%y %m %u %g %U %G\\n'",
                    if self.follows() { "-L " } else { "" },
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

/// `chown`/`chmod` of a whole tree; with `follow`, links inside it are followed (what they
/// point to changes, directories they point to are walked), as ansible-core walks it.
fn recursive_script(path: &str, attrs: &Attrs, follow: bool) -> String {
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
        // Followed, dangling links are left alone (chown -L would fail on them).
        s.push(match follow {
            true => format!(
                "find -L {p} ! -type l -exec chown {} -- {{}} +",
                quote(&spec)
            ),
            false => format!("chown -R {} {p}", quote(&spec)),
        });
    }
    if let Some(m) = &attrs.mode {
        let mode = quote(&m.octal().unwrap_or_else(|| m.0.clone()));
        // chmod has no -L of its own (before coreutils 9.5): find walks through the links.
        s.push(match follow {
            true => format!("find -L {p} ! -type l -exec chmod {mode} -- {{}} +"),
            false => format!("chmod -R {mode} {p}"),
        });
    }
    s.join(" && ")
}

impl Module for File {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = &self.unsafe_writes;
        let remote = ctx.remote()?;
        let mut path = self.path.0.clone();
        if self.diff_peek.is_some() {
            // NUL in the first 8 KiB, as ansible-core's execute_diff_peek.
            let out = remote
                .exec(
                    &format!(
                        "head -c 8192 -- {} | tr -d -c '\\000' | wc -c",
                        quote_path(&path)
                    ),
                    None,
                )
                .await?;
            let binary = out.stdout_str().trim().parse::<u64>().is_ok_and(|n| n > 0);
            return Ok(Outcome::ok()
                .with("path", path)
                .with("appears_binary", binary));
        }
        // A file named inside a directory `path` (state neither link nor absent).
        if !matches!(self.state.as_deref(), Some("link" | "absent"))
            && let Some(base) = self
                .original_basename
                .as_ref()
                .map(|b| b.0.clone())
                .or_else(|| {
                    self.src.as_ref().and_then(|s| {
                        std::path::Path::new(&s.0)
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                    })
                })
            && remote
                .stat(&path, true, false)
                .await?
                .is_some_and(|s| s.kind == "directory")
        {
            path = format!("{}/{base}", path.trim_end_matches('/'));
        }
        let p = quote_path(&path);
        let current = remote.stat(&path, false, false).await?;
        // ansible-core's get_state: a file with more than one name is `hard`.
        let now = current
            .as_ref()
            .map(|s| match s.kind.as_str() {
                "file" if s.nlink > 1 => "hard".to_string(),
                k => k.to_string(),
            })
            .unwrap_or_else(|| "absent".into());
        // ansible-core's default: the state the path has, else a directory under `recurse`,
        // else a file.
        let state = match self.state.as_deref() {
            Some(s) => s.to_string(),
            None => match now.as_str() {
                "absent" if self.recurse.0 => "directory".into(),
                "absent" | "other" => "file".into(),
                other => other.to_string(),
            },
        };
        if self.recurse.0 && state != "directory" {
            return fail("recurse option requires state to be 'directory'");
        }
        if self.src.is_some() && !matches!(state.as_str(), "link" | "hard") {
            return fail("src option requires state to be 'link' or 'hard'");
        }
        let times = |v: &Option<String>, f: &Option<String>| {
            file_times::wanted(v.as_deref(), f.as_deref(), &state).map_err(ModuleError::Failed)
        };
        let mtime = times(&self.modification_time, &self.modification_time_format)?;
        let atime = times(&self.access_time, &self.access_time_format)?;
        let mut out = Outcome::ok();
        if ctx.check && state != "absent" {
            self.warn_unknown_ids(ctx, &mut out).await?;
        }
        // ansible-core's diff names the state as the module calls it (`touch` included).
        let mut diff = ctx.diff.then(|| StateDiff::new(&path));
        if let Some(d) = &mut diff
            && now != state
            && !(state == "absent" && now == "absent")
        {
            d.set("state", now.as_str(), state.as_str());
        }
        let act = |out: &mut Outcome, script: String| -> Option<String> {
            out.changed = true;
            (!ctx.check).then_some(script)
        };
        let script = match state.as_str() {
            "absent" => match now.as_str() {
                "absent" => {
                    diff = None;
                    None
                }
                _ => {
                    if let Some(d) = &mut diff
                        && now == "directory"
                    {
                        d.set_before("path_content", self.content_of(ctx, &path).await?);
                    }
                    act(&mut out, format!("rm -rf -- {p}"))
                }
            },
            "directory" => match now.as_str() {
                "directory" => None,
                "absent" => {
                    // ansible-core makes the directory (0755 under the usual umask), then sets
                    // the mode asked for, and its diff says so.
                    if let Some(d) = &mut diff
                        && let Some(want) = self.attrs().wanted_mode(Some(0o755), true)?
                        && want != 0o755
                    {
                        d.set("mode", "0755", format!("{want:04o}"));
                    }
                    let script = self.mkdir_script(&path)?;
                    act(&mut out, script)
                }
                other if self.force.0 && other == "link" => {
                    act(&mut out, format!("rm -f -- {p} && mkdir -p -- {p}"))
                }
                other => return fail(format!("{path} already exists as a {other}")),
            },
            "file" => {
                // A followed link stands for what it points to.
                let (at, kind) = if now == "link" && self.follow.as_ref().is_none_or(|f| f.0) {
                    let real = remote
                        .check(&format!("readlink -m -- {p}"), None)
                        .await?
                        .stdout_str()
                        .trim_end_matches('\n')
                        .to_string();
                    let kind = remote
                        .stat(&real, false, false)
                        .await?
                        .map(|s| s.kind)
                        .unwrap_or_else(|| "absent".into());
                    if let Some(d) = &mut diff {
                        *d = StateDiff::new(&real);
                    }
                    (real, kind)
                } else {
                    (path.clone(), now.clone())
                };
                match kind.as_str() {
                    "file" | "other" => None,
                    other => {
                        let mut o = out
                            .msg(format!("file ({at}) is {other}, cannot continue"))
                            .with("path", at)
                            .with("state", other);
                        o.failed = true;
                        return Ok(o);
                    }
                }
            }
            "touch" => match now.as_str() {
                "absent" if ctx.check => {
                    // ansible-core returns at once here, without a diff.
                    diff = None;
                    act(&mut out, String::new())
                }
                "absent" => act(&mut out, format!("touch -- {p}")),
                _ => None,
            },
            "link" | "hard" => {
                let src = self.src.as_ref().map(|s| s.0.as_str());
                let hard = state == "hard";
                let follow = self.follow.as_ref().is_none_or(|f| f.0);
                // An existing link whose source is not given keeps (and, with `follow`,
                // names) the source it has.
                let src = match (src, &current) {
                    (None, Some(c)) if !hard && follow => c.link_target.as_deref(),
                    (s, _) => s,
                };
                let probe = remote
                    .check(&file_link::probe_script(&path, src, hard), None)
                    .await?;
                let found = file_link::parse(&probe.stdout)?;
                if let Some(d) = &mut diff {
                    *d = StateDiff::new(&path);
                    if found.state != state {
                        d.set("state", found.state.as_str(), state.as_str());
                    }
                }
                let plan = if hard {
                    file_link::hardlink(&path, src, self.force.0, follow, &found, diff.as_mut())
                } else {
                    file_link::symlink(&path, src, self.force.0, &found, diff.as_mut())
                };
                match plan {
                    file_link::Plan::Keep => None,
                    file_link::Plan::Make(script) => act(&mut out, script),
                    // ansible-core's failures name the path (`dest` for hard links) and src.
                    file_link::Plan::Refuse(msg) => {
                        let mut o = out.msg(msg.clone());
                        o.failed = true;
                        if !msg.starts_with("src is required") {
                            o = o.with(if hard { "dest" } else { "path" }, path.clone());
                            if let Some(s) = src {
                                o = o.with("src", s);
                            }
                        }
                        return Ok(o);
                    }
                }
            }
            other => {
                return fail(format!(
                    "unknown state `{other}` (use file, directory, link, hard, touch or absent)"
                ));
            }
        };
        let unchanged = script.is_none() && !out.changed;
        if let Some(script) = script.filter(|s| !s.is_empty()) {
            remote.check(&script, None).await?;
        }
        let follow = self.follow.as_ref().is_none_or(|f| f.0);
        let dangling = state == "link"
            && follow
            && !(ctx.check && now == "absent")
            && !remote.exec(&format!("[ -e {p} ]"), None).await?.success();
        if dangling {
            out.warnings.push(
                "Cannot set fs attributes on a non-existent symlink target. follow should be set to False to avoid this.".into(),
            );
        } else if state != "absent" && !(ctx.check && now == "absent") {
            let known = if unchanged { current } else { None };
            let attrs = self
                .attrs_step(ctx, &path, known, &mut out, diff.as_mut())
                .await;
            if let Err(e) = attrs {
                // A file `touch` just made is removed again when it cannot get its attributes.
                if state == "touch" && now == "absent" && !ctx.check {
                    remote.exec(&format!("rm -f -- {p}"), None).await?;
                }
                return Err(e);
            }
            out.changed |= file_times::apply(
                remote,
                &path,
                follow,
                &mtime,
                &atime,
                ctx.check,
                diff.as_mut(),
            )
            .await?;
        }
        if let Some(d) = diff {
            d.finish(&mut out);
        }
        // What the path is now, as ansible-core adds it to every file module's result.
        if state != "absent"
            && !(ctx.check && now == "absent")
            && let Some(s) = remote.stat(&path, false, false).await?
        {
            out.data.extend(path_info(&s));
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
        Ok(match out.data.contains_key("state") {
            true => out,
            false => out.with("state", state),
        })
    }
}
