//! `script`: a local script copied to a private temporary directory on the host, run there
//! (through `executable` when given) with the words after its name as arguments, and removed,
//! in one round trip. `creates`/`removes`/`chdir` as `command` has them; in check mode it runs
//! only its guards, as ansible-core's action does.

use super::command::{Plan, execute, shlex};
use super::types::Text;
use super::{Ctx, ModResult, Module, ModuleError, fail};
use crate::ssh::shell::quote;
use serde::Deserialize;
use serde_json::Value as Json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Script {
    #[serde(rename = "_raw_params")]
    raw: Option<String>,
    cmd: Option<String>,
    creates: Option<Text>,
    removes: Option<Text>,
    chdir: Option<Text>,
    executable: Option<String>,
    /// Vaulted scripts are decrypted by the vault support when it reads them.
    decrypt: Option<super::types::Bool>,
}

impl Module for Script {
    const FREE_FORM: bool = true;

    async fn run(self, ctx: &Ctx<'_>) -> ModResult {
        let _ = self.decrypt;
        let raw = match (self.raw, self.cmd) {
            (Some(_), Some(_)) => {
                return fail("parameters are mutually exclusive: _raw_params|cmd");
            }
            (None, None) => return fail("one of the following is required: _raw_params, cmd"),
            (Some(r), None) | (None, Some(r)) => r.trim().to_string(),
        };
        if let Some(d) = &self.chdir
            && !d.0.starts_with('/')
        {
            return fail(format!(
                "chdir {} must be an absolute path for a Unix-aware remote node",
                d.0
            ));
        }
        let words =
            shlex(&raw).map_err(|e| ModuleError::Args(format!("cannot split the command: {e}")))?;
        let Some(first) = words.first() else {
            return fail("one of the following is required: _raw_params, cmd");
        };
        let source = ctx.find_file(first, "files")?;
        let body = std::fs::read(&source)
            .map_err(|e| ModuleError::Failed(format!("cannot read {}: {e}", source.display())))?;
        let name = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "script".into());
        // The text after the script's name runs as the operator wrote it (a shell line).
        let rest = raw.strip_prefix(first.as_str()).unwrap_or_else(|| {
            raw.split_once(char::is_whitespace)
                .map(|(_, r)| r)
                .unwrap_or("")
        });
        let exe = match &self.executable {
            Some(e) => format!("{} ", quote(e)),
            None => String::new(),
        };
        let script = format!(
            "t=$(mktemp -d) || exit 1; f=\"$t\"/{name}; cat > \"$f\" && chmod 0700 \"$f\" && {{ {exe}\"$f\"{rest}; }}; rc=$?; rm -rf \"$t\"; exit $rc",
            name = quote(&name),
        );
        execute(
            Plan {
                shown: Json::from(raw.clone()),
                script,
                chdir: self.chdir.map(|t| t.0),
                creates: self.creates.map(|t| t.0),
                removes: self.removes.map(|t| t.0),
                stdin: Some(body),
                strip: false,
                check_supported: true,
            },
            ctx,
        )
        .await
    }
}
