//! `stat`: what is at a path, returned as Ansible's `stat` dict. Never changes anything.

use super::types::{Bool, Text};
use super::{Ctx, ModResult, Module, Outcome};
use crate::ssh::shell::quote;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatModule {
    #[serde(alias = "dest", alias = "name")]
    path: Text,
    #[serde(default)]
    follow: Bool,
    #[serde(default = "super::files_common::yes")]
    get_checksum: Bool,
    #[serde(alias = "checksum")]
    checksum_algorithm: Option<String>,
    #[serde(default)]
    get_mime: Option<Bool>,
    #[serde(default)]
    get_attributes: Option<Bool>,
}

impl Module for StatModule {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = (&self.get_mime, &self.get_attributes);
        let remote = ctx.remote()?;
        let algo = self
            .checksum_algorithm
            .clone()
            .unwrap_or_else(|| "sha1".into());
        if !["sha1", "sha224", "sha256", "sha384", "sha512", "md5"].contains(&algo.as_str()) {
            return super::fail(format!("unknown checksum_algorithm `{algo}`"));
        }
        let sha1 = self.get_checksum.0 && algo == "sha1";
        let Some(s) = remote.stat(&self.path.0, self.follow.0, sha1).await? else {
            return Ok(Outcome::ok().with("stat", json!({"exists": false})));
        };
        let mut checksum = s.checksum.clone();
        if self.get_checksum.0 && !sha1 && s.kind == "file" {
            let out = remote
                .check(
                    &format!("{algo}sum < {} | cut -d' ' -f1", quote(&self.path.0)),
                    None,
                )
                .await?;
            checksum = Some(out.stdout_str().trim().to_string());
        }
        let mode = u32::from_str_radix(&s.mode, 8).unwrap_or(0);
        let mut st = json!({
            "exists": true,
            "path": self.path.0,
            "mode": s.mode,
            "isdir": s.kind == "directory",
            "isreg": s.kind == "file",
            "islnk": s.kind == "link",
            "uid": s.uid,
            "gid": s.gid,
            "pw_name": s.owner,
            "gr_name": s.group,
            "size": s.size,
            "mtime": s.mtime,
            "xusr": mode & 0o100 != 0,
            "rusr": mode & 0o400 != 0,
            "wusr": mode & 0o200 != 0,
            "executable": mode & 0o111 != 0,
        });
        if let Some(c) = checksum.filter(|c| !c.is_empty()) {
            st["checksum"] = json!(c);
        }
        if let Some(t) = &s.link_target {
            st["lnk_source"] = json!(t);
            st["lnk_target"] = json!(t);
        }
        Ok(Outcome::ok().with("stat", st))
    }
}
