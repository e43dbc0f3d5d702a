//! `copy` (inline `content`, a controller file or directory tree, or `remote_src`) and
//! `template` (a minijinja file rendered on the controller). Both compare checksums before
//! sending anything and write atomically.

use crate::modules::files_common::{PutContent, yes};
use crate::modules::types::{Bool, Text};
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome, fail};
use crate::ssh::shell::quote;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Copy {
    src: Option<Text>,
    content: Option<String>,
    dest: Text,
    owner: Option<Text>,
    group: Option<Text>,
    mode: Option<crate::modules::types::Mode>,
    #[serde(default)]
    backup: Bool,
    #[serde(default = "yes")]
    force: Bool,
    #[serde(default)]
    remote_src: Bool,
    directory_mode: Option<crate::modules::types::Mode>,
    validate: Option<String>,
    #[serde(default = "yes")]
    follow: Bool,
    #[serde(default = "yes")]
    local_follow: Bool,
    checksum: Option<String>,
    #[serde(default)]
    decrypt: Option<Bool>,
    #[serde(default)]
    unsafe_writes: Option<Bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Template {
    src: Text,
    dest: Text,
    owner: Option<Text>,
    group: Option<Text>,
    mode: Option<crate::modules::types::Mode>,
    #[serde(default)]
    backup: Bool,
    #[serde(default = "yes")]
    force: Bool,
    validate: Option<String>,
    newline_sequence: Option<String>,
    #[serde(default = "yes")]
    trim_blocks: Bool,
    #[serde(default)]
    lstrip_blocks: Bool,
    block_start_string: Option<String>,
    block_end_string: Option<String>,
    variable_start_string: Option<String>,
    variable_end_string: Option<String>,
    comment_start_string: Option<String>,
    comment_end_string: Option<String>,
    /// Only UTF-8 output is written; another encoding is refused.
    output_encoding: Option<String>,
    #[serde(default)]
    follow: Option<Bool>,
    #[serde(default)]
    unsafe_writes: Option<Bool>,
}

crate::modules::files_common::impl_attrs!(Copy, Template);

impl Template {
    fn syntax(&self) -> crate::template::FileSyntax {
        let d = crate::template::FileSyntax::default();
        let pick = |o: &Option<String>, def: &str| o.clone().unwrap_or_else(|| def.to_string());
        crate::template::FileSyntax {
            trim_blocks: self.trim_blocks.0,
            lstrip_blocks: self.lstrip_blocks.0,
            block: (
                pick(&self.block_start_string, &d.block.0),
                pick(&self.block_end_string, &d.block.1),
            ),
            variable: (
                pick(&self.variable_start_string, &d.variable.0),
                pick(&self.variable_end_string, &d.variable.1),
            ),
            comment: (
                pick(&self.comment_start_string, &d.comment.0),
                pick(&self.comment_end_string, &d.comment.1),
            ),
        }
    }
}

/// Every file under `dir` (sorted), as paths relative to it.
fn walk(dir: &Path) -> Result<Vec<PathBuf>, ModuleError> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let rd = std::fs::read_dir(dir.join(&rel)).map_err(|e| {
            ModuleError::Failed(format!("cannot read {}: {e}", dir.join(&rel).display()))
        })?;
        for entry in rd {
            let entry = entry.map_err(|e| ModuleError::Failed(e.to_string()))?;
            let r = rel.join(entry.file_name());
            if entry.path().is_dir() {
                stack.push(r);
            } else {
                out.push(r);
            }
        }
    }
    out.sort();
    Ok(out)
}

impl Copy {
    /// A source file's bytes: a vaulted one decrypted unless `decrypt: no`.
    fn read_src(&self, path: &std::path::Path) -> std::io::Result<Vec<u8>> {
        match self.decrypt.is_none_or(|d| d.0) {
            true => crate::vault::read_bytes(path),
            false => std::fs::read(path),
        }
    }

    async fn one_file(
        &self,
        ctx: &Ctx<'_>,
        data: &[u8],
        dest: &str,
        into_dir: Option<&str>,
    ) -> ModResult {
        PutContent {
            dest,
            content: data,
            attrs: &self.attrs(),
            backup: self.backup.0,
            force: self.force.0,
            validate: self.validate.clone(),
            into_dir,
        }
        .run(ctx)
        .await
    }

    async fn tree(&self, ctx: &Ctx<'_>, src: &Path, src_text: &str) -> ModResult {
        let dest = self.dest.0.trim_end_matches('/');
        // `src/` copies the contents; `src` copies the directory itself.
        let root = if src_text.ends_with('/') {
            dest.to_string()
        } else {
            format!(
                "{dest}/{}",
                src.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            )
        };
        let files = walk(src)?;
        let mut dirs: Vec<String> = vec![root.clone()];
        for f in &files {
            if let Some(parent) = f.parent().filter(|p| !p.as_os_str().is_empty()) {
                let d = format!("{root}/{}", parent.display());
                if !dirs.contains(&d) {
                    dirs.push(d);
                }
            }
        }
        let remote = ctx.remote()?;
        let mode = self
            .directory_mode
            .as_ref()
            .and_then(|m| m.octal())
            .map(|m| format!("-m {m} "))
            .unwrap_or_default();
        let probe = dirs
            .iter()
            .map(|d| format!("[ -d {} ] || echo {}", quote(d), quote(d)))
            .collect::<Vec<_>>()
            .join("; ");
        let missing = remote.check(&probe, None).await?.stdout_str();
        let mut changed = !missing.trim().is_empty();
        if changed && !ctx.check {
            let mk: Vec<String> = missing
                .lines()
                .map(|d| format!("mkdir -p {mode}{}", quote(d)))
                .collect();
            remote.check(&mk.join(" && "), None).await?;
        }
        let mut out = Outcome::ok();
        for f in &files {
            let data = self.read_src(&src.join(f)).map_err(|e| {
                ModuleError::Failed(format!("cannot read {}: {e}", src.join(f).display()))
            })?;
            let dest = format!("{root}/{}", f.display());
            let r = self.one_file(ctx, &data, &dest, None).await?;
            changed |= r.changed;
            out.diffs.extend(r.diffs);
        }
        out.changed = changed;
        Ok(out
            .with("dest", root)
            .with("src", src.display().to_string())
            .with("files", files.len() as u64))
    }
}

/// When `dest` names a directory (trailing `/` or an existing directory), the file goes inside.
async fn resolve_dest(ctx: &Ctx<'_>, dest: &str, name: &str) -> Result<String, ModuleError> {
    if dest.ends_with('/') {
        return Ok(format!("{dest}{name}"));
    }
    let s = ctx.remote()?.stat(dest, true, false).await?;
    Ok(match s {
        Some(s) if s.kind == "directory" => format!("{dest}/{name}"),
        _ => dest.to_string(),
    })
}

impl Module for Copy {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = (&self.follow, &self.local_follow, &self.unsafe_writes);
        match (&self.content, &self.src) {
            (Some(_), Some(_)) => fail("give either `src` or `content`, not both"),
            (None, None) => fail("one of `src` or `content` is required"),
            (Some(content), None) => {
                if self.dest.0.ends_with('/') {
                    return fail("`dest` must be a file when `content` is given");
                }
                let mut o = self
                    .one_file(ctx, content.as_bytes(), &self.dest.0, None)
                    .await?;
                verify_checksum(self.checksum.as_deref(), content.as_bytes())?;
                o.data.insert("src".into(), "(content)".into());
                Ok(o)
            }
            (None, Some(src)) if self.remote_src.0 => self.remote_copy(ctx, &src.0).await,
            (None, Some(src)) => {
                let path = ctx.find_file(&src.0, "files")?;
                if path.is_dir() {
                    return self.tree(ctx, &path, &src.0).await;
                }
                let data = self.read_src(&path).map_err(|e| {
                    ModuleError::Failed(format!("cannot read {}: {e}", path.display()))
                })?;
                verify_checksum(self.checksum.as_deref(), &data)?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let o = self.one_file(ctx, &data, &self.dest.0, Some(&name)).await?;
                Ok(o.with("src", path.display().to_string()))
            }
        }
    }
}

fn verify_checksum(want: Option<&str>, data: &[u8]) -> Result<(), ModuleError> {
    match want {
        Some(w) if crate::digest::hex("sha1", data) != w => {
            fail(format!("the source's sha1 checksum is not {w}"))
        }
        _ => Ok(()),
    }
}

impl Copy {
    /// `remote_src`: a file already on the target, copied there (checksums compared there).
    async fn remote_copy(&self, ctx: &Ctx<'_>, src: &str) -> ModResult {
        let remote = ctx.remote()?;
        let Some(s) = remote.stat(src, true, true).await? else {
            return fail(format!("source {src} does not exist on the host"));
        };
        if s.kind != "file" {
            return fail(format!(
                "remote_src copies regular files only; {src} is a {}",
                s.kind
            ));
        }
        let name = src.rsplit('/').next().unwrap_or(src).to_string();
        let dest = resolve_dest(ctx, &self.dest.0, &name).await?;
        let d = remote.stat(&dest, true, true).await?;
        if d.as_ref().is_some_and(|d| d.checksum == s.checksum) || (d.is_some() && !self.force.0) {
            let d = d.ok_or_else(|| ModuleError::Failed("stat vanished".into()))?;
            let c = self.attrs().changes(&d)?;
            if c.any() && !ctx.check {
                remote.check(&c.script(&dest, false, false), None).await?;
            }
            return Ok(Outcome::changed(c.any())
                .with("dest", dest)
                .with("src", src));
        }
        if !ctx.check {
            let mut opts = self.attrs().write_opts(d.as_ref())?;
            opts.backup = self.backup.0;
            opts.validate = self.validate.clone();
            let script = format!(
                "cat {} | {{ {}; }}",
                quote(src),
                crate::ssh::atomic_write_script(&dest, &opts)
            );
            remote.check(&script, None).await?;
        }
        Ok(Outcome::changed(true)
            .with("dest", dest)
            .with("src", src)
            .with("checksum", s.checksum.unwrap_or_default()))
    }
}

impl Module for Template {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = (&self.follow, &self.unsafe_writes);
        let path = ctx.find_file(&self.src.0, "templates")?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = name.trim_end_matches(".j2");
        let dest = if self.dest.0.ends_with('/') {
            format!("{}{name}", self.dest.0)
        } else {
            self.dest.0.clone()
        };
        // ansible-core's template_* variables: the source's mtime and owner, the run's date
        // (Python's str() of a datetime).
        let meta = std::fs::metadata(&path).ok();
        let py_time =
            |t: chrono::DateTime<chrono::Local>| t.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
        let mtime = meta
            .as_ref()
            .and_then(|m| m.modified().ok())
            .map(|t| py_time(t.into()))
            .unwrap_or_default();
        let uid = {
            use std::os::unix::fs::MetadataExt;
            meta.as_ref()
                .map(|m| crate::sys::user_name(m.uid()))
                .unwrap_or_default()
        };
        let vars = minijinja::context! {
            template_mtime => mtime,
            template_uid => uid,
            template_run_date => py_time(chrono::Local::now()),
            template_path => path.display().to_string(),
            template_fullpath => std::fs::canonicalize(&path).unwrap_or(path.clone()).display().to_string(),
            template_destpath => dest.clone(),
            template_host => ctx.host,
            ansible_managed => "Ansible managed",
            ..ctx.vars.clone()
        };
        if let Some(enc) = self.output_encoding.as_deref()
            && !matches!(
                enc.to_ascii_lowercase().replace('_', "-").as_str(),
                "utf-8" | "utf8"
            )
        {
            return fail(format!(
                "output_encoding `{enc}`: hoist writes templates as UTF-8 only"
            ));
        }
        let mut text = ctx
            .templar
            .render_file_with(&path, &vars, &self.syntax())
            .map_err(|e| {
                let at = e
                    .line
                    .map(|l| format!("{}:{l}: ", path.display()))
                    .unwrap_or_else(|| format!("{}: ", path.display()));
                ModuleError::Failed(format!("template error: {at}{}", e.message))
            })?;
        match self.newline_sequence.as_deref() {
            None | Some("\\n") | Some("\n") => {}
            Some("\\r\\n") | Some("\r\n") => text = text.replace('\n', "\r\n"),
            Some("\\r") | Some("\r") => text = text.replace('\n', "\r"),
            Some(_) => return fail("newline_sequence needs to be one of: \\n, \\r or \\r\\n"),
        }
        let o = PutContent {
            dest: &dest,
            content: text.as_bytes(),
            attrs: &self.attrs(),
            backup: self.backup.0,
            force: self.force.0,
            validate: self.validate.clone(),
            into_dir: Some(name),
        }
        .run(ctx)
        .await?;
        Ok(o.with("src", path.display().to_string()))
    }
}
