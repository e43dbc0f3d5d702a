//! `unarchive`: unpack a tar (any compression GNU tar reads) or zip archive from the controller
//! (or, with `remote_src`, from the host) into a directory. Idempotent: the archive is compared
//! with what is on disk (`tar --compare`; for zip, member sizes) before anything is unpacked.

use crate::modules::types::{Bool, List, Mode, Text};
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome, fail};
use crate::ssh::WriteOpts;
use crate::ssh::shell::quote;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unarchive {
    src: Text,
    dest: Text,
    #[serde(default)]
    remote_src: Bool,
    creates: Option<Text>,
    #[serde(default)]
    list_files: Bool,
    extra_opts: Option<List>,
    exclude: Option<List>,
    owner: Option<Text>,
    group: Option<Text>,
    mode: Option<Mode>,
    #[serde(default)]
    keep_newer: Bool,
    #[serde(default)]
    copy: Option<Bool>,
}

fn is_zip(name: &str, head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || name.ends_with(".zip")
}

impl Module for Unarchive {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let remote = ctx.remote()?;
        let dest = self.dest.0.clone();
        if let Some(c) = &self.creates
            && remote.stat(&c.0, true, false).await?.is_some()
        {
            let mut o = Outcome::ok().msg(format!("skipped, since {} exists", c.0));
            o.skipped = true;
            return Ok(o);
        }
        if remote
            .stat(&dest, true, false)
            .await?
            .is_none_or(|s| s.kind != "directory")
        {
            return fail(format!("dest {dest} must be an existing directory"));
        }
        let remote_src = self.remote_src.0 || self.copy == Some(Bool(false));
        if remote_src {
            let head = remote
                .check(
                    &format!("head -c 4 {} | od -An -tx1", quote(&self.src.0)),
                    None,
                )
                .await?
                .stdout_str();
            let zip = head.contains("50 4b 03 04") || self.src.0.ends_with(".zip");
            let archive = self.src.0.clone();
            let out = self.unpack(ctx, &archive, zip, &dest).await?;
            return Ok(out.with("dest", dest).with("src", self.src.0));
        }
        // A local archive goes to a fresh private directory (mktemp -d, 0700) on the host, which
        // is removed whatever happens: nothing another local user planted is ever unpacked.
        let path = ctx.find_file(&self.src.0, "files")?;
        let data = std::fs::read(&path)
            .map_err(|e| ModuleError::Failed(format!("cannot read {}: {e}", path.display())))?;
        let zip = is_zip(&self.src.0, &data);
        let dir = remote
            .check(
                "mktemp -d \"${TMPDIR:-/tmp}/hoist-unarchive.XXXXXXXXXX\"",
                None,
            )
            .await?
            .stdout_str()
            .trim()
            .to_string();
        if !dir.starts_with('/') || dir.contains('\n') {
            return fail(format!("mktemp -d gave `{dir}`, not a directory path"));
        }
        let archive = format!("{dir}/archive");
        let result = async {
            remote
                .write(
                    &archive,
                    &data,
                    &WriteOpts {
                        mode: Some("0600".into()),
                        ..Default::default()
                    },
                )
                .await?;
            self.unpack(ctx, &archive, zip, &dest).await
        }
        .await;
        let removed = remote
            .exec(&format!("rm -rf -- {}", quote(&dir)), None)
            .await;
        let out = result?;
        if let Ok(r) = removed
            && !r.success()
        {
            return fail(format!(
                "cannot remove the upload directory {dir}: {}",
                r.stderr_str().trim()
            ));
        }
        Ok(out.with("dest", dest).with("src", self.src.0))
    }
}

impl Unarchive {
    /// Compares `archive` (on the host) with `dest`, unpacks it when they differ, and lists it.
    async fn unpack(
        &self,
        ctx: &Ctx<'_>,
        archive: &str,
        zip: bool,
        dest: &str,
    ) -> Result<Outcome, ModuleError> {
        let remote = ctx.remote()?;
        let d = quote(dest);
        let a = quote(archive);
        let excludes: String = self
            .exclude
            .as_ref()
            .map(|e| {
                e.0.iter()
                    .map(|x| format!(" --exclude={}", quote(x)))
                    .collect()
            })
            .unwrap_or_default();
        let extra: String = self
            .extra_opts
            .as_ref()
            .map(|e| e.0.iter().map(|x| format!(" {}", quote(x))).collect())
            .unwrap_or_default();
        let owner = match (&self.owner, &self.group) {
            (None, None) => String::new(),
            (o, g) => format!(
                " && chown -R {} {d}",
                quote(&format!(
                    "{}{}",
                    o.as_ref().map(|o| o.0.as_str()).unwrap_or(""),
                    g.as_ref().map(|g| format!(":{}", g.0)).unwrap_or_default()
                ))
            ),
        };
        let (compare, unpack, list) = if zip {
            (
                format!(
                    "unzip -Z -l {a} | awk 'NR>2 && $1 ~ /^-/ {{print $4, $NF}}' | while read size name; do [ -f {d}/\"$name\" ] && [ $(stat -c %s {d}/\"$name\") = \"$size\" ] || exit 1; done"
                ),
                format!(
                    "unzip -o -q{} {a} -d {d}",
                    if self.keep_newer.0 { "u" } else { "" }
                ),
                format!("unzip -Z1 {a}"),
            )
        } else {
            (
                format!("tar -d -f {a} -C {d}{excludes}{extra} >/dev/null 2>&1"),
                format!(
                    "tar -x -f {a} -C {d}{excludes}{extra}{}",
                    if self.keep_newer.0 {
                        " --keep-newer-files"
                    } else {
                        ""
                    }
                ),
                format!("tar -t -f {a}"),
            )
        };
        // `mode` applies to every member unpacked (as Ansible's file attributes do).
        let mode = match &self.mode {
            Some(m) => format!(
                " && {list} | while IFS= read -r f; do chmod {} -- {d}/\"$f\" || exit 1; done",
                quote(&m.octal().unwrap_or_else(|| m.0.clone()))
            ),
            None => String::new(),
        };
        let same = remote.exec(&compare, None).await?.success();
        let mut out = Outcome::changed(!same);
        if !same && !ctx.check {
            remote
                .check(&format!("{unpack}{owner}{mode}"), None)
                .await?;
        }
        if self.list_files.0 {
            let files = remote.check(&list, None).await?.stdout_str();
            out.data.insert(
                "files".into(),
                files.lines().map(str::to_string).collect::<Vec<_>>().into(),
            );
        }
        Ok(out)
    }
}
