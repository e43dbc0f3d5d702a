//! `script`: a local script copied to a private temporary directory on the host, run there
//! (through `executable` when given) with the words after its name as arguments, and removed,
//! in one round trip. `creates`/`removes`/`chdir` as `command` has them; in check mode it runs
//! only its guards, as ansible-core's action does.

use crate::modules::command::{Plan, execute, shlex};
use crate::modules::types::Text;
use crate::modules::{Ctx, ModResult, Module, ModuleError, fail};
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
    decrypt: Option<crate::modules::types::Bool>,
}

/// Where the first shell word of `s` ends (quotes and backslashes respected).
fn first_word_end(s: &str) -> usize {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            _ if escaped => escaped = false,
            (Some('\''), '\'') => quote = None,
            (Some('\''), _) => {}
            (_, '\\') => escaped = true,
            (Some('"'), '"') => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, c) if c.is_whitespace() => return i,
            (None, _) => {}
        }
    }
    s.len()
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
        let rest = &raw[first_word_end(&raw)..];
        let exe = match &self.executable {
            Some(e) => format!("{} ", quote(e)),
            None => String::new(),
        };
        let script = format!(
            "t=$(mktemp -d) || exit 1; f=\"$t\"/{name}; cat > \"$f\" && chmod 0700 \"$f\" && {{ {exe}\"$f\"{rest}; }}; rc=$?; rm -rf \"$t\"; exit $rc",
            name = quote(&name),
        );
        let (creates, removes) = (self.creates.map(|t| t.0), self.removes.map(|t| t.0));
        let mut o = execute(
            Plan {
                shown: Json::from(raw.clone()),
                script,
                chdir: self.chdir.map(|t| t.0),
                creates: creates.clone(),
                removes: removes.clone(),
                stdin: Some(body),
                strip: false,
                check_supported: true,
            },
            ctx,
        )
        .await?;
        // A guard that held skips the task, as ansible-core's action reports it.
        if o.msg
            .as_deref()
            .is_some_and(|m| m.starts_with("Did not run command"))
        {
            o.skipped = true;
            o.msg = Some(match (&creates, &removes) {
                (Some(c), _) => format!("{c} exists, matching creates option"),
                (_, Some(r)) => format!("{r} does not exist, matching removes option"),
                _ => "skipped".into(),
            });
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::first_word_end;

    #[test]
    fn the_script_name_ends_where_the_shell_word_ends() {
        assert_eq!(first_word_end("a.sh x y"), 4);
        assert_eq!(first_word_end("'space path/t.sh' --flag"), 17);
        assert_eq!(first_word_end("space\\ path.sh"), 14);
        assert_eq!(first_word_end("only.sh"), 7);
    }
}
