//! Choosing the backend, once per process: `HOIST_SECRET_BACKEND` if set (`secret-service`,
//! `keyutils`, `file`, `env`), else the first that works of: the encrypted file when
//! `HOIST_SECRET_FILE` opts in, the Secret Service, keyutils; else environment variables only.
//! Every probe's outcome is kept for `hoist secret backend`.

use super::Store;
use super::file_store::{self, FileStore};
use super::keyring_store::{Flavor, KeyringStore};
use std::path::PathBuf;
use std::sync::OnceLock;

/// One backend's probe.
#[derive(Debug, Clone)]
pub struct Probe {
    pub backend: &'static str,
    pub available: bool,
    pub detail: String,
}

/// The chosen store and why.
pub struct Selection {
    /// `None`: environment variables only.
    pub store: Option<Box<dyn Store>>,
    pub chosen: &'static str,
    /// `auto` or `HOIST_SECRET_BACKEND=...`.
    pub how: String,
    pub probes: Vec<Probe>,
}

impl Selection {
    /// One line: the backend and, when none is usable, why.
    pub fn describe(&self) -> String {
        if self.store.is_some() {
            return self.chosen.to_string();
        }
        let why: Vec<String> = self
            .probes
            .iter()
            .map(|p| format!("{}: {}", p.backend, p.detail))
            .collect();
        if why.is_empty() {
            "environment variables only".into()
        } else {
            format!("environment variables only ({})", why.join("; "))
        }
    }
}

fn file_store(probes: &mut Vec<Probe>) -> Option<Box<dyn Store>> {
    let path = std::env::var_os("HOIST_SECRET_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(file_store::default_path);
    let r = file_store::passphrase().and_then(|p| FileStore::open(path.clone(), p));
    match r {
        Ok(s) => {
            probes.push(Probe {
                backend: "file",
                available: true,
                detail: path.display().to_string(),
            });
            Some(Box::new(s))
        }
        Err(e) => {
            probes.push(Probe {
                backend: "file",
                available: false,
                detail: e,
            });
            None
        }
    }
}

fn session_bus_exists() -> bool {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some() {
        return true;
    }
    let uid = crate::sys::effective_uid().unwrap_or(0);
    std::path::Path::new(&format!("/run/user/{uid}/bus")).exists()
}

fn keyring(flavor: Flavor, probes: &mut Vec<Probe>) -> Option<Box<dyn Store>> {
    let backend = match flavor {
        Flavor::SecretService => "secret-service",
        Flavor::Keyutils => "keyutils",
    };
    if flavor == Flavor::SecretService && !session_bus_exists() {
        probes.push(Probe {
            backend,
            available: false,
            detail: "no D-Bus session bus".into(),
        });
        return None;
    }
    match KeyringStore::open(flavor) {
        Ok(s) => {
            probes.push(Probe {
                backend,
                available: true,
                detail: match flavor {
                    Flavor::SecretService => "org.freedesktop.secrets answers".into(),
                    Flavor::Keyutils => "session keyring writable".into(),
                },
            });
            Some(Box::new(s))
        }
        Err(e) => {
            let detail = if flavor == Flavor::Keyutils && e.contains("AccessDenied") {
                format!(
                    "{e}: no writable session keyring (log in through PAM, or run under `keyctl session`)"
                )
            } else {
                e
            };
            probes.push(Probe {
                backend,
                available: false,
                detail,
            });
            None
        }
    }
}

fn choose() -> Selection {
    super::env::remember_all();
    let mut probes = Vec::new();
    let explicit = std::env::var("HOIST_SECRET_BACKEND")
        .ok()
        .filter(|s| !s.is_empty());
    let how = match &explicit {
        Some(b) => format!("HOIST_SECRET_BACKEND={b}"),
        None => "auto".into(),
    };
    let pick =
        |store: Option<Box<dyn Store>>, chosen: &'static str, probes: Vec<Probe>| Selection {
            chosen: if store.is_some() { chosen } else { "env" },
            store,
            how: how.clone(),
            probes,
        };
    match explicit.as_deref() {
        Some("file") => {
            let s = file_store(&mut probes);
            pick(s, "file", probes)
        }
        Some("secret-service") => {
            let s = keyring(Flavor::SecretService, &mut probes);
            pick(s, "secret-service", probes)
        }
        Some("keyutils") => {
            let s = keyring(Flavor::Keyutils, &mut probes);
            pick(s, "keyutils", probes)
        }
        Some("env") => pick(None, "env", probes),
        Some(other) => {
            probes.push(Probe {
                backend: "HOIST_SECRET_BACKEND",
                available: false,
                detail: format!("`{other}` is not one of secret-service, keyutils, file, env"),
            });
            pick(None, "env", probes)
        }
        None => {
            if std::env::var_os("HOIST_SECRET_FILE").is_some()
                && let Some(s) = file_store(&mut probes)
            {
                return pick(Some(s), "file", probes);
            }
            if let Some(s) = keyring(Flavor::SecretService, &mut probes) {
                return pick(Some(s), "secret-service", probes);
            }
            if let Some(s) = keyring(Flavor::Keyutils, &mut probes) {
                return pick(Some(s), "keyutils", probes);
            }
            pick(None, "env", probes)
        }
    }
}

/// The process's selection (probed on first use).
pub fn selection() -> &'static Selection {
    static SEL: OnceLock<Selection> = OnceLock::new();
    SEL.get_or_init(choose)
}
