//! The OS keyring backends, through the keyring crate: the Secret Service (D-Bus) and the
//! kernel's keyutils session keyring. Entries live under service `hoist`, one per secret,
//! plus an index entry listing the names (neither store can enumerate portably).

use super::{SecretError, Store};
use keyring_core::{CredentialStore, Entry, Error};
use std::sync::{Arc, Mutex};

const SERVICE: &str = "hoist";
/// Holds the newline-separated names (secret names cannot start with `_`).
const INDEX: &str = "__index__";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    SecretService,
    Keyutils,
}

pub struct KeyringStore {
    flavor: Flavor,
    /// keyutils' store (the Secret Service one is the keyring crate's default).
    store: Option<Arc<CredentialStore>>,
    /// Serializes index updates within the process.
    index_lock: Mutex<()>,
}

fn backend_err(flavor: Flavor, e: Error) -> SecretError {
    let backend = match flavor {
        Flavor::SecretService => "secret-service",
        Flavor::Keyutils => "keyutils",
    };
    SecretError::Backend {
        backend: backend.into(),
        message: e.to_string(),
    }
}

impl KeyringStore {
    /// Opens the store and proves it works (a probe entry is written and removed, since
    /// both stores can fail only on first write: a locked collection, no session keyring).
    pub fn open(flavor: Flavor) -> Result<KeyringStore, String> {
        let store = match flavor {
            Flavor::SecretService => {
                keyring::Entry::store_status()
                    .as_ref()
                    .map_err(|e| e.to_string())?;
                None
            }
            Flavor::Keyutils => {
                let s: Arc<CredentialStore> =
                    linux_keyutils_keyring_store::Store::new().map_err(|e| e.to_string())?;
                Some(s)
            }
        };
        let me = KeyringStore {
            flavor,
            store,
            index_lock: Mutex::new(()),
        };
        let probe = me.entry("__probe__").map_err(|e| e.to_string())?;
        probe
            .set_password("hoist-probe")
            .map_err(|e| e.to_string())?;
        let _ = probe.delete_credential();
        Ok(me)
    }

    fn entry(&self, user: &str) -> Result<Entry, SecretError> {
        match (&self.store, self.flavor) {
            (Some(s), _) => Entry::new_in_store(s, SERVICE, user),
            (None, _) => keyring::Entry::new(SERVICE, user).map(|e| e.inner),
        }
        .map_err(|e| backend_err(self.flavor, e))
    }

    fn read_index(&self) -> Result<Vec<String>, SecretError> {
        match self.entry(INDEX)?.get_password() {
            Ok(s) => Ok(s
                .lines()
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()),
            Err(Error::NoEntry) => Ok(Vec::new()),
            Err(e) => Err(backend_err(self.flavor, e)),
        }
    }

    fn update_index(&self, f: impl FnOnce(&mut Vec<String>)) -> Result<(), SecretError> {
        let _g = self.index_lock.lock();
        let mut names = self.read_index()?;
        f(&mut names);
        names.sort();
        names.dedup();
        let e = self.entry(INDEX)?;
        if names.is_empty() {
            match e.delete_credential() {
                Ok(()) | Err(Error::NoEntry) => Ok(()),
                Err(err) => Err(backend_err(self.flavor, err)),
            }
        } else {
            e.set_password(&names.join("\n"))
                .map_err(|err| backend_err(self.flavor, err))
        }
    }
}

impl Store for KeyringStore {
    fn name(&self) -> &'static str {
        match self.flavor {
            Flavor::SecretService => "secret-service",
            Flavor::Keyutils => "keyutils",
        }
    }

    fn get(&self, name: &str) -> Result<Option<String>, SecretError> {
        match self.entry(name)?.get_password() {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoEntry) => Ok(None),
            Err(e) => Err(backend_err(self.flavor, e)),
        }
    }

    fn set(&self, name: &str, value: &str) -> Result<(), SecretError> {
        self.entry(name)?
            .set_password(value)
            .map_err(|e| backend_err(self.flavor, e))?;
        self.update_index(|n| n.push(name.to_string()))
    }

    fn delete(&self, name: &str) -> Result<bool, SecretError> {
        let removed = match self.entry(name)?.delete_credential() {
            Ok(()) => true,
            Err(Error::NoEntry) => false,
            Err(e) => return Err(backend_err(self.flavor, e)),
        };
        self.update_index(|n| n.retain(|x| x != name))?;
        Ok(removed)
    }

    fn list(&self) -> Result<Vec<String>, SecretError> {
        self.read_index()
    }
}
