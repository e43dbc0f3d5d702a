//! Transport errors: each names the host and says what to do.

use std::path::PathBuf;

/// Where a known_hosts file disagrees with the key a server offers.
#[derive(Debug, Clone)]
pub struct KeyMismatch {
    pub host: String,
    pub lookup: String,
    pub path: PathBuf,
    pub line: usize,
    pub algo: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum SshError {
    #[error("{host}: cannot connect to {addr}: {message}")]
    Connect {
        host: String,
        addr: String,
        message: String,
    },
    #[error("{host}: no answer from {addr} within {secs}s (connect timeout)")]
    ConnectTimeout {
        host: String,
        addr: String,
        secs: u64,
    },
    #[error("{host}: command timed out after {secs}s")]
    CommandTimeout { host: String, secs: u64 },
    #[error(
        "{}: HOST KEY CHANGED: {}:{} lists a different {} key for {} (server offers {}); this may be an attack. \
         If the change is expected, remove that line (ssh-keygen -R '{}' -f {})",
        .0.host, .0.path.display(), .0.line, .0.algo, .0.lookup, .0.fingerprint, .0.lookup, .0.path.display()
    )]
    HostKeyChanged(Box<KeyMismatch>),
    #[error("{host}: host key {fingerprint} is revoked ({path}:{line})")]
    HostKeyRevoked {
        host: String,
        fingerprint: String,
        path: PathBuf,
        line: usize,
    },
    #[error(
        "{host}: unknown host key for {lookup} ({fingerprint}); not in {files}. \
         Add it to a known_hosts file, or pass --accept-new-host-keys to record it on first use"
    )]
    HostKeyUnknown {
        host: String,
        lookup: String,
        fingerprint: String,
        files: String,
    },
    #[error("{host}: cannot read known_hosts: {message}")]
    KnownHosts { host: String, message: String },
    #[error("private key file {path} does not exist")]
    KeyFileMissing { path: PathBuf },
    #[error(
        "private key {path} is protected by a passphrase: set HOIST_SSH_KEY_PASSPHRASE, store it with `hoist secret set ssh-key-passphrase`, or load it into ssh-agent"
    )]
    KeyPassphraseNeeded { path: PathBuf },
    #[error("private key {path}: wrong passphrase (or the key file is corrupt)")]
    KeyPassphraseWrong { path: PathBuf },
    #[error("private key {path} cannot be read: {message}")]
    KeyFile { path: PathBuf, message: String },
    #[error("{host}: authentication refused for user {user} (tried: {tried})")]
    AuthRefused {
        host: String,
        user: String,
        tried: String,
    },
    #[error("{host}: SSH error: {message}")]
    Protocol { host: String, message: String },
    /// `become` was refused (the host is reachable: the task fails).
    #[error("{host}: become failed: {message}")]
    Become { host: String, message: String },
    #[error("{host}: through jump host {jump}: {source}")]
    Jump {
        host: String,
        jump: String,
        #[source]
        source: Box<SshError>,
    },
    /// An error reported by the connection multiplexer on behalf of a host.
    #[error("{message}")]
    Relayed { message: String, unreachable: bool },
    #[error("{host}: upload to {path} failed: {message}")]
    Upload {
        host: String,
        path: String,
        message: String,
    },
}

impl SshError {
    /// True when the host could not be reached or logged into (Ansible's UNREACHABLE).
    pub fn is_unreachable(&self) -> bool {
        match self {
            SshError::Relayed { unreachable, .. } => *unreachable,
            other => !matches!(
                other,
                SshError::CommandTimeout { .. } | SshError::Upload { .. } | SshError::Become { .. }
            ),
        }
    }
}
