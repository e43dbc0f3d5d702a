//! What the file modules share: ownership and mode (octal or symbolic, decided on the
//! controller so check mode knows the answer), and "make this file hold exactly these bytes"
//! with checksums compared before anything is sent.

use crate::modules::remote::Stat;
use crate::modules::types::{Bool, Mode, Text};
use crate::modules::{Ctx, FileDiff, ModuleError, Outcome, fail};
use crate::ssh::WriteOpts;
use crate::ssh::shell::{quote, quote_path};

/// `owner`, `group`, `mode` as the file modules take them.
#[derive(Debug, Clone, Default)]
pub struct Attrs {
    pub owner: Option<Text>,
    pub group: Option<Text>,
    pub mode: Option<Mode>,
}

/// Applies a symbolic mode (`u+x,go-w`, `a=rX`) to `mode`.
pub fn apply_symbolic(mode: u32, spec: &str, is_dir: bool) -> Result<u32, String> {
    let mut m = mode;
    for clause in spec.split(',') {
        let split = clause
            .find(['+', '-', '='])
            .ok_or_else(|| format!("`{clause}` has no operator (+, - or =)"))?;
        let (who, rest) = clause.split_at(split);
        let who: u32 = if who.is_empty() || who.contains('a') {
            0o7777
        } else {
            who.chars().try_fold(0, |acc, c| match c {
                'u' => Ok(acc | 0o4700),
                'g' => Ok(acc | 0o2070),
                'o' => Ok(acc | 0o1007),
                _ => Err(format!("`{c}` is not u, g, o or a")),
            })?
        };
        let op = rest.chars().next().unwrap_or('=');
        let mut perm = 0u32;
        for c in rest[1..].chars() {
            perm |= match c {
                'r' => 0o444,
                'w' => 0o222,
                'x' => 0o111,
                'X' if is_dir || m & 0o111 != 0 => 0o111,
                'X' => 0,
                's' => 0o6000,
                't' => 0o1000,
                _ => return Err(format!("`{c}` is not a permission (r, w, x, X, s, t)")),
            };
        }
        let bits = perm & who;
        m = match op {
            '+' => m | bits,
            '-' => m & !bits,
            _ => (m & !who) | bits,
        };
    }
    Ok(m & 0o7777)
}

impl Attrs {
    /// Whether any of owner, group or mode is asked for.
    pub fn given(&self) -> bool {
        self.owner.is_some() || self.group.is_some() || self.mode.is_some()
    }

    /// The mode the file should end with, given its current one (or the default for a new one).
    pub fn wanted_mode(
        &self,
        current: Option<u32>,
        is_dir: bool,
    ) -> Result<Option<u32>, ModuleError> {
        let Some(mode) = &self.mode else {
            return Ok(None);
        };
        if let Some(o) = mode.octal() {
            return Ok(u32::from_str_radix(&o, 8).ok());
        }
        let base = current.unwrap_or(if is_dir { 0o755 } else { 0o644 });
        apply_symbolic(base, &mode.0, is_dir)
            .map(Some)
            .map_err(|e| ModuleError::Args(format!("mode `{}`: {e}", mode.0)))
    }

    /// What differs between `stat` and these attributes, as `chown`/`chmod` words.
    pub fn changes(&self, stat: &Stat) -> Result<Changes, ModuleError> {
        let mut c = Changes::default();
        let current = u32::from_str_radix(&stat.mode, 8).ok();
        if let Some(want) = self.wanted_mode(current, stat.kind == "directory")?
            && Some(want) != current
        {
            c.mode = Some(format!("{want:04o}"));
        }
        if let Some(o) = &self.owner
            && o.0 != stat.owner
            && o.0 != stat.uid.to_string()
        {
            c.owner = Some(o.0.clone());
        }
        if let Some(g) = &self.group
            && g.0 != stat.group
            && g.0 != stat.gid.to_string()
        {
            c.group = Some(g.0.clone());
        }
        // ansible-core's attribute diff: a dict of what changes, modes as `0644`, owner and
        // group as ids before and as given after.
        let id_or_name = |given: &str| match given.parse::<u64>() {
            Ok(n) => serde_json::json!(n),
            Err(_) => serde_json::json!(given),
        };
        let (mut before, mut after) = (serde_json::Map::new(), serde_json::Map::new());
        if let Some(m) = &c.mode {
            before.insert("mode".into(), serde_json::json!(stat.mode));
            after.insert("mode".into(), serde_json::json!(m));
        }
        if let Some(o) = &c.owner {
            before.insert("owner".into(), serde_json::json!(stat.uid));
            after.insert("owner".into(), id_or_name(o));
        }
        if let Some(g) = &c.group {
            before.insert("group".into(), serde_json::json!(stat.gid));
            after.insert("group".into(), id_or_name(g));
        }
        c.before = super::file_diff::shown(&serde_json::Value::Object(before));
        c.after = super::file_diff::shown(&serde_json::Value::Object(after));
        Ok(c)
    }

    /// Write options for a new or replaced file.
    pub fn write_opts(&self, current: Option<&Stat>) -> Result<WriteOpts, ModuleError> {
        let cur = current.and_then(|s| u32::from_str_radix(&s.mode, 8).ok());
        Ok(WriteOpts {
            mode: self.wanted_mode(cur, false)?.map(|m| format!("{m:04o}")),
            owner: self.owner.as_ref().map(|t| t.0.clone()),
            group: self.group.as_ref().map(|t| t.0.clone()),
            ..WriteOpts::default()
        })
    }
}

/// Ownership and mode changes to make on an existing path.
#[derive(Debug, Default)]
pub struct Changes {
    pub owner: Option<String>,
    pub group: Option<String>,
    pub mode: Option<String>,
    before: String,
    after: String,
}

impl Changes {
    pub fn any(&self) -> bool {
        self.owner.is_some() || self.group.is_some() || self.mode.is_some()
    }

    /// The commands that make them (`-h` so a symlink itself is changed, not its target).
    /// `link`: the path is a symlink whose own owner is meant (`chown -h`).
    pub fn script(&self, path: &str, recurse: bool, link: bool) -> String {
        let p = quote_path(path);
        let r = if recurse { "-R " } else { "" };
        let mut s = Vec::new();
        if self.owner.is_some() || self.group.is_some() {
            let spec = format!(
                "{}{}",
                self.owner.as_deref().unwrap_or(""),
                self.group
                    .as_ref()
                    .map(|g| format!(":{g}"))
                    .unwrap_or_default()
            );
            let h = if link { "-h " } else { "" };
            s.push(format!("chown {h}{r}{} {p}", quote(&spec)));
        }
        if let Some(m) = &self.mode {
            s.push(format!("chmod {r}{m} {p}"));
        }
        s.join(" && ")
    }

    pub fn diff(&self, path: &str) -> FileDiff {
        FileDiff {
            before_header: format!("{path} (file attributes)"),
            after_header: format!("{path} (file attributes)"),
            before: self.before.clone(),
            after: self.after.clone(),
        }
    }
}

/// Makes `dest` a regular file holding `content` with `attrs`: checksums first, bytes sent only
/// when they differ, written atomically (temp file + rename), backed up on request.
pub struct PutContent<'a> {
    pub dest: &'a str,
    pub content: &'a [u8],
    pub attrs: &'a Attrs,
    pub backup: bool,
    pub force: bool,
    pub validate: Option<String>,
    /// When `dest` turns out to be a directory, the file goes inside it under this name.
    pub into_dir: Option<&'a str>,
}

/// Text for a diff, or a note when the bytes are not shown.
fn diff_text(bytes: &[u8]) -> String {
    if bytes.len() > 256 * 1024 {
        return "[content too large to show]\n".into();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => "[binary content]\n".into(),
    }
}

impl PutContent<'_> {
    pub async fn run(&self, ctx: &Ctx<'_>) -> Result<Outcome, ModuleError> {
        let remote = ctx.remote()?;
        let want = crate::digest::hex("sha1", self.content);
        let mut dest = self.dest.to_string();
        if let (true, Some(name)) = (dest.ends_with('/'), self.into_dir) {
            dest = format!("{dest}{name}");
        }
        let mut current = remote.stat(&dest, true, true).await?;
        if let Some(s) = &current
            && s.kind == "directory"
        {
            let Some(name) = self.into_dir else {
                return fail(format!("destination {dest} is a directory"));
            };
            dest = format!("{}/{name}", dest.trim_end_matches('/'));
            current = remote.stat(&dest, true, true).await?;
        }
        let dest = dest.as_str();
        let same = current
            .as_ref()
            .is_some_and(|s| s.checksum.as_deref() == Some(want.as_str()));
        let mut out;
        if same || (current.is_some() && !self.force) {
            let stat = current
                .as_ref()
                .ok_or_else(|| ModuleError::Failed("stat vanished".into()))?;
            let changes = self.attrs.changes(stat)?;
            out = Outcome::changed(changes.any());
            if changes.any() {
                if ctx.diff {
                    out.diffs.push(changes.diff(dest));
                }
                if !ctx.check {
                    remote
                        .check(&changes.script(dest, false, false), None)
                        .await?;
                }
            }
        } else {
            out = Outcome::changed(true);
            if ctx.diff {
                let before = match &current {
                    Some(_) => remote
                        .read(dest)
                        .await?
                        .map(|b| diff_text(&b))
                        .unwrap_or_default(),
                    None => String::new(),
                };
                out.diffs.push(FileDiff {
                    before_header: dest.to_string(),
                    after_header: dest.to_string(),
                    before,
                    after: diff_text(self.content),
                });
            }
            if !ctx.check {
                let mut opts = self.attrs.write_opts(current.as_ref())?;
                opts.backup = self.backup;
                opts.validate = self.validate.clone();
                if let Some(b) = remote.write(dest, self.content, &opts).await? {
                    out.data.insert("backup_file".into(), b.into());
                }
            }
        }
        let info = if ctx.check || (same && !out.changed) {
            current.clone()
        } else {
            remote.stat(dest, true, false).await?
        };
        if let Some(s) = &info {
            out.data.extend(path_info(s));
        }
        Ok(out
            .with("dest", dest)
            .with("checksum", want)
            .with("size", self.content.len() as u64))
    }
}

/// A mode as ansible-core writes it in results and diffs (`'0%03o'`: `0644`, `01777`).
pub fn py_mode(octal: &str) -> String {
    u32::from_str_radix(octal, 8)
        .map(|m| format!("0{m:03o}"))
        .unwrap_or_else(|_| octal.to_string())
}

/// What ansible-core adds about a path to a file module's result: `uid`, `gid`, `owner`,
/// `group`, `mode`, `state`, `size`.
pub fn path_info(s: &Stat) -> serde_json::Map<String, serde_json::Value> {
    let state = match s.kind.as_str() {
        "directory" => "directory",
        "link" => "link",
        _ if s.nlink > 1 => "hard",
        _ => "file",
    };
    serde_json::Map::from_iter([
        ("uid".to_string(), s.uid.into()),
        ("gid".to_string(), s.gid.into()),
        ("owner".to_string(), s.owner.clone().into()),
        ("group".to_string(), s.group.clone().into()),
        ("mode".to_string(), py_mode(&s.mode).into()),
        ("state".to_string(), state.into()),
        ("size".to_string(), s.size.into()),
    ])
}

/// What ansible-core's `exit_json` adds to any result that names a `path`: the path's owner,
/// group, mode, size and state (`absent` when nothing is there; a link is not followed).
pub async fn add_path_info(
    remote: &crate::modules::Remote,
    path: &str,
    out: &mut Outcome,
) -> Result<(), ModuleError> {
    match remote.stat(path, false, false).await? {
        Some(s) => out.data.extend(path_info(&s)),
        None => {
            out.data.insert("state".into(), "absent".into());
        }
    }
    Ok(())
}

/// `fn attrs(&self) -> Attrs` for module types with `owner`, `group` and `mode` fields.
macro_rules! impl_attrs {
    ($($t:ty),*) => {
        $(impl $t {
            fn attrs(&self) -> $crate::modules::files_common::Attrs {
                $crate::modules::files_common::Attrs {
                    owner: self.owner.clone(),
                    group: self.group.clone(),
                    mode: self.mode.clone(),
                }
            }
        })*
    };
}
pub(crate) use impl_attrs;

/// `backup`/`force` defaults as the file modules use them.
pub fn yes() -> Bool {
    Bool(true)
}

/// Edits a text file in place (lineinfile, blockinfile, replace): read once, change in memory,
/// write back atomically only when the text differs.
pub struct Edit<'a> {
    pub path: &'a str,
    pub attrs: Attrs,
    pub backup: bool,
    /// The result key naming the backup: `backup` (lineinfile) or `backup_file` (the others),
    /// as each ansible-core module names it.
    pub backup_key: &'static str,
    pub create: bool,
    /// The message when the edit creates the file (blockinfile: `File created`), if the
    /// module has one of its own.
    pub created_msg: Option<&'static str>,
    pub validate: Option<String>,
    /// How the module names a missing file in its message: `Destination` (lineinfile) or
    /// `Path` (blockinfile, replace), as ansible-core's modules say it.
    pub missing_word: &'static str,
    /// Whether the result reports attribute changes made with a content change (ansible-core's
    /// check_file_attrs: lineinfile, blockinfile, replace).
    pub report_attrs: bool,
}

/// How many times an edit is read and made again when the file changed in between.
const EDIT_ATTEMPTS: u32 = 20;

impl Edit<'_> {
    /// `f` gets the current text (empty for a file about to be created) and returns the new
    /// text and a message. Edits of one path take turns within the run, and the write replaces
    /// the file only if it is still what was read (another process may edit it too): if not,
    /// the edit is read and made again, so no update is ever lost silently.
    pub async fn run(
        &self,
        ctx: &Ctx<'_>,
        f: impl Fn(&str) -> Result<(String, String), ModuleError>,
    ) -> Result<Outcome, ModuleError> {
        let remote = ctx.remote()?;
        let _turn = crate::modules::path_lock::lock(&remote.host, self.path).await;
        for attempt in 1..=EDIT_ATTEMPTS {
            if let Some(out) = self.attempt(ctx, &f).await? {
                return Ok(out);
            }
            let pause = 10 * u64::from(attempt) + rand::random::<u64>() % 20;
            tokio::time::sleep(std::time::Duration::from_millis(pause)).await;
        }
        fail(format!(
            "{} kept changing while it was edited ({EDIT_ATTEMPTS} attempts); nothing was written",
            self.path
        ))
    }

    /// One read, change and checked write; `None` when the file changed in between.
    async fn attempt(
        &self,
        ctx: &Ctx<'_>,
        f: &impl Fn(&str) -> Result<(String, String), ModuleError>,
    ) -> Result<Option<Outcome>, ModuleError> {
        let remote = ctx.remote()?;
        let (current, content) = remote.stat_read(self.path).await?;
        let expect = match (&current, &content) {
            (None, _) => crate::ssh::Expect::Absent,
            (Some(_), c) => crate::ssh::Expect::Sha256(crate::digest::hex(
                "sha256",
                c.as_deref().unwrap_or_default(),
            )),
        };
        let before = match &current {
            Some(s) if s.kind == "directory" => {
                return fail(format!("Path {} is a directory !", self.path));
            }
            Some(_) => String::from_utf8_lossy(content.as_deref().unwrap_or_default()).into_owned(),
            None if self.create => String::new(),
            None => {
                return fail(format!(
                    "{} {} does not exist !",
                    self.missing_word, self.path
                ));
            }
        };
        let (after, msg) = f(&before)?;
        // A device or other special file is read as ansible-core reads it, but never replaced
        // by a regular file.
        if current.as_ref().is_some_and(|s| s.kind != "file") && after != before {
            return fail(format!("path {} is not a regular file", self.path));
        }
        let msg = match (current.is_none(), self.created_msg) {
            (true, Some(m)) if !ctx.check || after != before => m.to_string(),
            _ => msg,
        };
        let mut out = Outcome::ok().msg(msg);
        if after != before || current.is_none() {
            out.changed = true;
            if ctx.diff {
                out.diffs.push(FileDiff {
                    before_header: format!("{} (content)", self.path),
                    after_header: format!("{} (content)", self.path),
                    before: before.clone(),
                    after: after.clone(),
                });
            }
            if !ctx.check {
                // A file created by the edit gets its missing parent directories, as in
                // ansible-core.
                if current.is_none()
                    && let Some((dir, _)) = self.path.rsplit_once('/')
                    && !dir.is_empty()
                {
                    remote
                        .check(&format!("mkdir -p -- {}", quote_path(dir)), None)
                        .await?;
                }
                // The attributes are written with the content (a new file never exists with
                // other permissions, even for a moment); the result reports them as
                // ansible-core's check_file_attrs does after its write.
                let mut opts = self.attrs.write_opts(current.as_ref())?;
                opts.backup = self.backup;
                opts.validate = self.validate.clone();
                opts.expect = Some(expect);
                match remote
                    .write_checked(self.path, after.as_bytes(), &opts)
                    .await?
                {
                    crate::modules::remote::Written::Done(Some(b)) => {
                        out.data.insert(self.backup_key.into(), b.into());
                    }
                    crate::modules::remote::Written::Done(None) => {}
                    crate::modules::remote::Written::ChangedSinceRead => return Ok(None),
                }
                let before_attrs = match &current {
                    Some(_) => current.clone(),
                    None if self.attrs.given() && self.report_attrs => {
                        Some(new_file_stat(remote).await?)
                    }
                    None => None,
                };
                if let Some(stat) = before_attrs.filter(|_| self.report_attrs) {
                    attributes_changed(&mut out, &self.attrs.changes(&stat)?, self.path, ctx.diff);
                }
            } else if let Some(stat) = current.as_ref().filter(|_| self.report_attrs) {
                attributes_changed(&mut out, &self.attrs.changes(stat)?, self.path, ctx.diff);
            }
        } else if let Some(stat) = &current {
            let changes = self.attrs.changes(stat)?;
            if changes.any() {
                out.changed = true;
                out.msg = Some("ownership, perms or SE linux context changed".into());
                if ctx.diff {
                    out.diffs.push(changes.diff(self.path));
                }
                if !ctx.check {
                    remote
                        .check(&changes.script(self.path, false, false), None)
                        .await?;
                }
            }
        }
        Ok(Some(out))
    }
}

/// What a file created by the connecting (or become) user would have been: mode 0644 under the
/// usual umask, owned by that user and their group.
async fn new_file_stat(remote: &crate::modules::Remote) -> Result<Stat, ModuleError> {
    let out = remote.check("id -u; id -un; id -g; id -gn", None).await?;
    let text = out.stdout_str();
    let l: Vec<&str> = text.lines().collect();
    let at = |i: usize| l.get(i).copied().unwrap_or_default().trim().to_string();
    Ok(Stat {
        kind: "file".into(),
        mode: "0644".into(),
        uid: at(0).parse().unwrap_or(0),
        owner: at(1),
        gid: at(2).parse().unwrap_or(0),
        group: at(3),
        ..Stat::default()
    })
}

/// ansible-core's check_file_attrs after a content change: the message says the attributes
/// changed too, and their diff follows the content's.
fn attributes_changed(out: &mut Outcome, changes: &Changes, path: &str, diff: bool) {
    if !changes.any() {
        return;
    }
    let msg = out.msg.take().unwrap_or_default();
    out.msg = Some(if msg.is_empty() {
        "ownership, perms or SE linux context changed".to_string()
    } else {
        format!("{msg} and ownership, perms or SE linux context changed")
    });
    if diff {
        out.diffs.push(changes.diff(path));
    }
}

/// The names ansible-core gives `lsattr`'s flag letters.
pub fn attribute_names(flags: &str) -> Vec<&'static str> {
    flags
        .chars()
        .filter_map(|c| {
            Some(match c {
                'A' => "noatime",
                'a' => "append",
                'c' => "compressed",
                'C' => "nocow",
                'd' => "nodump",
                'D' => "dirsync",
                'e' => "extents",
                'E' => "encrypted",
                'h' => "blocksize",
                'i' => "immutable",
                'I' => "indexed",
                'j' => "journalled",
                'N' => "inline",
                's' => "zero",
                'S' => "synchronous",
                't' => "notail",
                'T' => "blockroot",
                'u' => "undelete",
                'X' => "compressedraw",
                'Z' => "compresseddirty",
                _ => return None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbolic_modes() {
        assert_eq!(apply_symbolic(0o644, "u+x", false).unwrap(), 0o744);
        assert_eq!(apply_symbolic(0o777, "go-w", false).unwrap(), 0o755);
        assert_eq!(apply_symbolic(0o640, "a=rX", true).unwrap(), 0o555);
        assert_eq!(apply_symbolic(0o640, "a=rX", false).unwrap(), 0o444);
        assert_eq!(apply_symbolic(0o600, "u=rw,g=r,o=", false).unwrap(), 0o640);
        assert!(apply_symbolic(0o600, "u~x", false).is_err());
    }
}
