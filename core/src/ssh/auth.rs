//! User authentication: key files (ed25519, ECDSA, RSA; passphrase-protected ones decrypted once
//! per run and cached), ssh-agent identities, then the default `~/.ssh/id_*` keys.

use super::connection::ClientHandler;
use super::error::SshError;
use super::target::Target;
use russh::client::{AuthResult, Handle};
use russh::keys::agent::client::AgentClient;
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Decrypted keys shared by every connection of a run (decrypting is slow by design).
#[derive(Default)]
pub struct KeyCache {
    keys: Mutex<HashMap<PathBuf, Arc<PrivateKey>>>,
}

/// The outcome of reading one key file.
enum Loaded {
    Key(Arc<PrivateKey>),
    NeedsPassphrase,
    Missing,
}

impl KeyCache {
    fn load(&self, path: &Path, passphrase: Option<&str>) -> Result<Loaded, SshError> {
        if let Some(k) = self.keys.lock().ok().and_then(|m| m.get(path).cloned()) {
            return Ok(Loaded::Key(k));
        }
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::Missing),
            Err(e) => {
                return Err(SshError::KeyFile {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                });
            }
        };
        let key = match russh::keys::decode_secret_key(&text, None) {
            Ok(k) => k,
            // The passphrase: given (HOIST_SSH_KEY_PASSPHRASE), else the secret
            // `ssh-key-passphrase` from hoist's secret store.
            Err(russh::keys::Error::KeyIsEncrypted) => match passphrase
                .map(str::to_string)
                .or_else(|| crate::secrets::find("ssh-key-passphrase").ok().flatten())
                .as_deref()
            {
                None => return Ok(Loaded::NeedsPassphrase),
                Some(p) => russh::keys::decode_secret_key(&text, Some(p)).map_err(|_| {
                    SshError::KeyPassphraseWrong {
                        path: path.to_path_buf(),
                    }
                })?,
            },
            Err(e) => {
                return Err(SshError::KeyFile {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                });
            }
        };
        let key = Arc::new(key);
        if let Ok(mut m) = self.keys.lock() {
            m.insert(path.to_path_buf(), key.clone());
        }
        Ok(Loaded::Key(key))
    }
}

fn default_keys() -> Vec<PathBuf> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|k| home.join(".ssh").join(k))
        .collect()
}

/// Tries every identity in turn until the server accepts one.
pub async fn authenticate(
    handle: &mut Handle<ClientHandler>,
    target: &Target,
    keys: &KeyCache,
    passphrase: Option<&str>,
    agent: Option<&Path>,
) -> Result<(), SshError> {
    let rsa_hash: Option<HashAlg> = handle
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .flatten();
    let mut tried: Vec<String> = Vec::new();
    let mut needs_passphrase = None;
    let protocol = |e: russh::Error| SshError::Protocol {
        host: target.name.clone(),
        message: e.to_string(),
    };
    let explicit = !target.identity_files.is_empty();
    let mut files = target.identity_files.clone();
    if !explicit {
        files = default_keys();
    }
    for path in &files {
        match keys.load(path, passphrase)? {
            Loaded::Key(k) => {
                let res = handle
                    .authenticate_publickey(&target.user, PrivateKeyWithHashAlg::new(k, rsa_hash))
                    .await
                    .map_err(protocol)?;
                if matches!(res, AuthResult::Success) {
                    return Ok(());
                }
                tried.push(path.display().to_string());
            }
            Loaded::NeedsPassphrase => {
                needs_passphrase.get_or_insert(path.clone());
            }
            Loaded::Missing if explicit => {
                return Err(SshError::KeyFileMissing { path: path.clone() });
            }
            Loaded::Missing => {}
        }
    }
    if let Some(sock) = agent.filter(|_| !target.identities_only)
        && let Ok(mut agent) = AgentClient::connect_uds(sock).await
    {
        let identities = agent.request_identities().await.unwrap_or_default();
        for id in identities {
            let public = id.public_key().into_owned();
            let res = handle
                .authenticate_publickey_with(&target.user, public, rsa_hash, &mut agent)
                .await;
            if matches!(res, Ok(AuthResult::Success)) {
                return Ok(());
            }
            tried.push(format!("agent key {}", id.comment()));
        }
    }
    if let Some(path) = needs_passphrase {
        return Err(SshError::KeyPassphraseNeeded { path });
    }
    Err(SshError::AuthRefused {
        host: target.name.clone(),
        user: target.user.clone(),
        tried: if tried.is_empty() {
            "no key: give one with --private-key, ansible_ssh_private_key_file or ssh-agent".into()
        } else {
            tried.join(", ")
        },
    })
}
