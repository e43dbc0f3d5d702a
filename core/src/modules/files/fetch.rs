//! `fetch`: copy a file from the host to the controller (`DEST/HOST/PATH`, or `DEST` with
//! `flat`), written atomically, skipped when the checksums already match.

use crate::modules::types::{Bool, Text};
use crate::modules::{Ctx, ModResult, Module, ModuleError, Outcome, fail};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fetch {
    src: Text,
    dest: Text,
    #[serde(default)]
    flat: Bool,
    #[serde(default = "crate::modules::files_common::yes")]
    fail_on_missing: Bool,
    #[serde(default = "crate::modules::files_common::yes")]
    validate_checksum: Bool,
}

/// `base/rel` with `rel` normalised, refused when it would leave `base` (a remote path such as
/// `../../etc/cron.d/x` never writes outside the fetch destination).
fn inside(base: &str, rel: &str) -> Result<PathBuf, ModuleError> {
    let mut parts: Vec<&str> = Vec::new();
    for c in rel.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return fail(format!(
                        "fetch: `{rel}` leaves the destination {base}; refusing to write there"
                    ));
                }
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return fail(format!("fetch: `{rel}` names no file inside {base}"));
    }
    Ok(parts.iter().fold(PathBuf::from(base), |p, c| p.join(c)))
}

impl Module for Fetch {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let remote = ctx.remote()?;
        let src = self.src.0.clone();
        let dest = if self.flat.0 {
            if self.dest.0.ends_with('/') {
                inside(&self.dest.0, src.rsplit('/').next().unwrap_or(&src))?
            } else {
                PathBuf::from(&self.dest.0)
            }
        } else {
            inside(
                &self.dest.0,
                &format!("{}/{}", ctx.host, src.trim_start_matches('/')),
            )?
        };
        let Some(stat) = remote.stat(&src, true, true).await? else {
            if self.fail_on_missing.0 {
                return fail(format!("the remote file does not exist: {src}"));
            }
            let mut o =
                Outcome::ok().msg("the remote file does not exist, not transferring, ignored");
            o.skipped = true;
            return Ok(o);
        };
        if stat.kind == "directory" {
            return fail(format!("{src} is a directory; fetch copies files"));
        }
        let remote_sum = stat.checksum.clone().unwrap_or_default();
        let local_sum = std::fs::read(&dest)
            .ok()
            .map(|d| crate::digest::hex("sha1", &d));
        let out = Outcome::ok()
            .with("src", src.clone())
            .with("dest", dest.display().to_string())
            .with("checksum", remote_sum.clone())
            .with("remote_checksum", remote_sum.clone());
        if local_sum.as_deref() == Some(remote_sum.as_str()) {
            return Ok(out);
        }
        let mut out = Outcome {
            changed: true,
            ..out
        };
        if ctx.check {
            return Ok(out);
        }
        let data = remote
            .read(&src)
            .await?
            .ok_or_else(|| ModuleError::Failed(format!("{src} vanished")))?;
        if self.validate_checksum.0 && crate::digest::hex("sha1", &data) != remote_sum {
            return fail(format!("checksum mismatch while fetching {src}"));
        }
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                ModuleError::Failed(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let tmp = dest.with_extension(format!("hoist-tmp.{}", std::process::id()));
        std::fs::write(&tmp, &data)
            .and_then(|_| std::fs::rename(&tmp, &dest))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                ModuleError::Failed(format!("cannot write {}: {e}", dest.display()))
            })?;
        out.data
            .insert("md5sum".into(), crate::digest::hex("md5", &data).into());
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_paths_never_leave_the_destination() {
        assert_eq!(
            inside("/spool", "web1/etc/../etc/hosts").ok(),
            Some(PathBuf::from("/spool/web1/etc/hosts"))
        );
        assert!(inside("/spool", "web1/../../etc/cron.d/x").is_err());
        assert!(inside("/spool", "..").is_err());
        assert!(inside("/spool", "..").is_err());
        assert!(inside("/spool", "").is_err());
    }
}
