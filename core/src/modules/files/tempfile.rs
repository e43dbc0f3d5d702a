//! `tempfile`: a new temporary file or directory on the target, made with `mktemp` (private
//! mode, a name nobody can predict); returns its `path`. Not run in check mode (ansible-core's
//! module does not support it), so nothing is left behind by a dry run.

use crate::modules::types::Text;
use crate::modules::{Ctx, ModResult, Module, Outcome, fail};
use crate::ssh::shell::{quote, quote_path};
use serde::Deserialize;

#[derive(Debug, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum Kind {
    #[default]
    File,
    Directory,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TempFile {
    #[serde(default)]
    state: Kind,
    /// The directory to create it in (default: the target's `$TMPDIR`, else /tmp).
    path: Option<Text>,
    prefix: Option<Text>,
    suffix: Option<Text>,
}

/// The `mktemp` command for these arguments; prints the new path.
fn script(t: &TempFile) -> String {
    let dir = match &t.path {
        Some(p) => quote_path(&p.0),
        None => "\"${TMPDIR:-/tmp}\"".to_string(),
    };
    let prefix = t
        .prefix
        .as_ref()
        .map(|p| p.0.as_str())
        .unwrap_or("ansible.");
    let suffix = t.suffix.as_ref().map(|s| s.0.as_str()).unwrap_or("");
    let flag = if t.state == Kind::Directory {
        "-d "
    } else {
        ""
    };
    format!(
        "mktemp {flag}-p {dir} {}",
        quote(&format!("{prefix}XXXXXXXXXX{suffix}"))
    )
}

impl Module for TempFile {
    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        for (what, v) in [("prefix", &self.prefix), ("suffix", &self.suffix)] {
            if v.as_ref().is_some_and(|s| s.0.contains('/')) {
                return fail(format!("{what} must be a valid file name component"));
            }
        }
        if ctx.check {
            let mut o = Outcome::ok().msg("tempfile does not support check mode");
            o.skipped = true;
            return Ok(o);
        }
        let remote = ctx.remote()?;
        let out = remote.exec(&script(&self), None).await?;
        if !out.success() {
            return fail(format!(
                "cannot create a temporary {}: {}",
                if self.state == Kind::Directory {
                    "directory"
                } else {
                    "file"
                },
                out.stderr_str().trim()
            ));
        }
        let path = out.stdout_str().trim().to_string();
        let mut o = Outcome::changed(true).with("path", path.clone());
        if let Some(s) = remote.stat(&path, false, false).await? {
            o = o
                .with("mode", s.mode)
                .with("owner", s.owner)
                .with("group", s.group)
                .with("uid", s.uid)
                .with("gid", s.gid)
                .with("size", s.size)
                .with(
                    "state",
                    if s.kind == "directory" {
                        "directory"
                    } else {
                        "file"
                    },
                );
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> Result<TempFile, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn mktemp_commands() {
        let t = parse(serde_json::json!({})).unwrap();
        assert_eq!(
            script(&t),
            "mktemp -p \"${TMPDIR:-/tmp}\" ansible.XXXXXXXXXX"
        );
        let t = parse(
            serde_json::json!({"state": "directory", "path": "/var/my tmp", "suffix": ".test"}),
        )
        .unwrap();
        assert_eq!(
            script(&t),
            "mktemp -d -p '/var/my tmp' ansible.XXXXXXXXXX.test"
        );
        let e = parse(serde_json::json!({"state": "directry"})).unwrap_err();
        assert!(e.contains("unknown variant `directry`"), "{e}");
    }
}
