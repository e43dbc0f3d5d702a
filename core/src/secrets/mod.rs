//! Secrets: named values kept out of playbooks, inventories and every output.
//!
//! Backends (chosen once per process, reported by `hoist secret backend`):
//! - `secret-service`: the desktop keyring over D-Bus (GNOME Keyring, KWallet), through the
//!   keyring crate; used when a session bus answers for `org.freedesktop.secrets`;
//! - `keyutils`: the kernel's session keyring (login sessions, `keyctl session`);
//! - `file`: an encrypted file (XChaCha20-Poly1305, key from a passphrase by Argon2id), opt-in
//!   with `HOIST_SECRET_FILE` or `HOIST_SECRET_BACKEND=file`;
//! - `env`: read-only, `HOIST_SECRET_<NAME>` variables (for CI), always consulted first.
//!
//! Every value read is remembered by the redactor (redact.rs) before it is handed out, so it
//! is masked in events, diffs, errors and logs.

mod choose;
mod env;
mod file_store;
mod keyring_store;
mod redact;

pub use choose::{Probe, Selection, selection};
pub use env::{env_name, env_overrides, remember_all as remember_env};
pub use redact::{MASK, nothing_to_mask, redact, redact_json, remember};

use std::collections::HashMap;
use std::sync::Mutex;

/// Why a secret could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("secret `{name}` is not set (backend: {backend}; or set {env})")]
    NotFound {
        name: String,
        backend: String,
        env: String,
    },
    #[error(
        "secret name `{0}`: expected 1 to 128 letters, digits, `_`, `-` or `.`, starting with a letter or digit"
    )]
    BadName(String),
    #[error("{backend}: {message}")]
    Backend { backend: String, message: String },
    #[error(
        "no writable secret store: {0}. Set HOIST_SECRET_FILE (with HOIST_SECRET_PASSPHRASE) for an encrypted file, or provide HOIST_SECRET_<NAME> variables"
    )]
    NoStore(String),
    #[error(
        "a secret must be at least {MIN_LEN} characters (shorter ones cannot be masked reliably)"
    )]
    TooShort,
}

/// The shortest secret hoist accepts (and masks).
pub const MIN_LEN: usize = 4;

/// A place secrets are kept.
pub trait Store: Send + Sync {
    /// `secret-service`, `keyutils`, `file`.
    fn name(&self) -> &'static str;
    fn get(&self, name: &str) -> Result<Option<String>, SecretError>;
    fn set(&self, name: &str, value: &str) -> Result<(), SecretError>;
    /// True when something was removed.
    fn delete(&self, name: &str) -> Result<bool, SecretError>;
    fn list(&self) -> Result<Vec<String>, SecretError>;
}

/// Checks a secret's name.
pub fn check_name(name: &str) -> Result<(), SecretError> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(SecretError::BadName(name.to_string()))
    }
}

static CACHE: Mutex<Option<HashMap<String, String>>> = Mutex::new(None);

/// The secret `name`: `HOIST_SECRET_<NAME>` if set, else the selected store. Cached for the
/// process and registered for redaction before it is returned.
pub fn get(name: &str) -> Result<String, SecretError> {
    check_name(name)?;
    if let Some(v) = CACHE
        .lock()
        .ok()
        .and_then(|c| c.as_ref().and_then(|m| m.get(name).cloned()))
    {
        return Ok(v);
    }
    let value = match env::get(name) {
        Some(v) => v,
        None => {
            let sel = selection();
            let found = match &sel.store {
                Some(store) => store.get(name)?,
                None => None,
            };
            found.ok_or_else(|| SecretError::NotFound {
                name: name.to_string(),
                backend: sel.describe(),
                env: env_name(name),
            })?
        }
    };
    if value.chars().count() < MIN_LEN {
        return Err(SecretError::TooShort);
    }
    remember(&value);
    if let Ok(mut c) = CACHE.lock() {
        c.get_or_insert_with(HashMap::new)
            .insert(name.to_string(), value.clone());
    }
    Ok(value)
}

/// The secret `name` if it exists anywhere (a missing one is not an error).
pub fn find(name: &str) -> Result<Option<String>, SecretError> {
    match get(name) {
        Ok(v) => Ok(Some(v)),
        Err(SecretError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The writable store, or why there is none.
pub fn writable() -> Result<&'static dyn Store, SecretError> {
    let sel = selection();
    sel.store
        .as_deref()
        .ok_or_else(|| SecretError::NoStore(sel.describe()))
}

/// Stores `value` as `name` in the selected store.
pub fn set(name: &str, value: &str) -> Result<&'static str, SecretError> {
    check_name(name)?;
    if value.chars().count() < MIN_LEN {
        return Err(SecretError::TooShort);
    }
    let store = writable()?;
    store.set(name, value)?;
    remember(value);
    Ok(store.name())
}

/// Removes `name` from the selected store.
pub fn delete(name: &str) -> Result<bool, SecretError> {
    check_name(name)?;
    writable()?.delete(name)
}

/// Names in the selected store (sorted).
pub fn list() -> Result<Vec<String>, SecretError> {
    let mut names = match &selection().store {
        Some(s) => s.list()?,
        None => Vec::new(),
    };
    names.sort();
    names.dedup();
    Ok(names)
}
