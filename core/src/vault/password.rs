//! Where vault passwords come from: a file (its first line; trailing newline dropped) or an
//! executable that prints it, named by `--vault-password-file`, `--vault-id [label@]source`
//! or `ANSIBLE_VAULT_PASSWORD_FILE`.

use super::Secret;
use std::path::Path;

/// The password in `source` (a file, or a script run with no arguments).
pub fn load_secret(label: &str, source: &Path) -> Result<Secret, String> {
    let meta = std::fs::metadata(source).map_err(|e| {
        format!(
            "The vault password file {} was not found: {e}",
            source.display()
        )
    })?;
    use std::os::unix::fs::PermissionsExt;
    let text = if meta.permissions().mode() & 0o111 != 0 && meta.is_file() {
        let out = std::process::Command::new(source).output().map_err(|e| {
            format!(
                "cannot run the vault password script {}: {e}",
                source.display()
            )
        })?;
        if !out.status.success() {
            return Err(format!(
                "the vault password script {} failed ({})",
                source.display(),
                out.status
            ));
        }
        out.stdout
    } else {
        std::fs::read(source).map_err(|e| format!("cannot read {}: {e}", source.display()))?
    };
    let line = text.split(|b| *b == b'\n').next().unwrap_or_default();
    let password = line.strip_suffix(b"\r").unwrap_or(line).to_vec();
    if password.is_empty() {
        return Err(format!(
            "Invalid vault password was provided from file ({})",
            source.display()
        ));
    }
    Ok(Secret {
        label: label.to_string(),
        password,
    })
}

/// The secrets named by the command line's `--vault-password-file` and `--vault-id` values,
/// plus `ANSIBLE_VAULT_PASSWORD_FILE` (and `ANSIBLE_VAULT_IDENTITY_LIST`) when set.
pub fn secrets_from_args(
    files: &[std::path::PathBuf],
    ids: &[String],
) -> Result<Vec<Secret>, String> {
    let mut out = Vec::new();
    for f in files {
        out.push(load_secret("default", f)?);
    }
    let mut ids: Vec<String> = ids.to_vec();
    if let Ok(list) = std::env::var("ANSIBLE_VAULT_IDENTITY_LIST") {
        ids.extend(
            list.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
    }
    for id in ids {
        let (label, source) = match id.split_once('@') {
            Some((l, s)) => (l.to_string(), s.to_string()),
            None => ("default".to_string(), id.clone()),
        };
        if source == "prompt" || source == "prompt_ask_vault_pass" {
            return Err("vault passwords are not prompted for: hoist runs non-interactively; give a password file".into());
        }
        out.push(load_secret(&label, Path::new(&source))?);
    }
    if out.is_empty()
        && let Ok(f) = std::env::var("ANSIBLE_VAULT_PASSWORD_FILE")
        && !f.is_empty()
    {
        out.push(load_secret("default", Path::new(&f))?);
    }
    Ok(out)
}
