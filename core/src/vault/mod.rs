//! ansible-vault: the `$ANSIBLE_VAULT;1.1;AES256` (and `1.2` with a vault id) format, read and
//! written exactly as ansible-core does it (PBKDF2-HMAC-SHA256 × 10000 → AES-256-CTR key,
//! HMAC-SHA256 key and counter; HMAC checked before anything is decrypted), and the passwords
//! a run was given (`--vault-password-file`, `--vault-id`, `ANSIBLE_VAULT_PASSWORD_FILE`).
//! Decrypted text is never printed by hoist itself.

mod password;

pub use password::{load_secret, secrets_from_args};

use aes::cipher::{KeyIvInit, StreamCipher};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::RwLock;

const HEADER: &str = "$ANSIBLE_VAULT";
const ITERATIONS: u32 = 10_000;

/// Why a vault text could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    #[error("Attempting to decrypt but no vault secrets found")]
    NoSecrets,
    #[error("Decryption failed (no vault secrets were found that could decrypt){0}")]
    NoMatch(String),
    #[error("not a vault text: {0}")]
    Format(String),
    #[error("unsupported vault cipher `{0}` (ansible-vault writes AES256)")]
    Cipher(String),
}

/// One vault password and the vault id it is for (`default` when none was named).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    pub label: String,
    pub password: Vec<u8>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({}, ***)", self.label)
    }
}

static SECRETS: RwLock<Vec<Secret>> = RwLock::new(Vec::new());

/// Sets the passwords this process decrypts with (the run's `--vault-*` options).
pub fn set_secrets(s: Vec<Secret>) {
    *SECRETS.write().unwrap_or_else(|p| p.into_inner()) = s;
}

/// The passwords given to this process.
pub fn secrets() -> Vec<Secret> {
    SECRETS.read().unwrap_or_else(|p| p.into_inner()).clone()
}

/// Whether `text` is a vault envelope.
pub fn is_vaulted(text: &str) -> bool {
    text.trim_start().starts_with(HEADER)
}

struct Keys {
    cipher: [u8; 32],
    mac: [u8; 32],
    iv: [u8; 16],
}

fn derive(password: &[u8], salt: &[u8]) -> Keys {
    let mut out = [0u8; 80];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, ITERATIONS, &mut out);
    let mut k = Keys {
        cipher: [0; 32],
        mac: [0; 32],
        iv: [0; 16],
    };
    k.cipher.copy_from_slice(&out[..32]);
    k.mac.copy_from_slice(&out[32..64]);
    k.iv.copy_from_slice(&out[64..]);
    k
}

type Ctr = ctr::Ctr128BE<aes::Aes256>;

fn unhex(s: &str) -> Result<Vec<u8>, VaultError> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !s.len().is_multiple_of(2) {
        return Err(VaultError::Format("odd number of hex digits".into()));
    }
    (0..s.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&s[i..i + 2], 16).map_err(|_| VaultError::Format("not hex".into()))
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The vault id named in an envelope's header (`1.2` envelopes), if any.
pub fn label_of(envelope: &str) -> Option<String> {
    let header = envelope.trim_start().lines().next()?;
    let parts: Vec<&str> = header.trim().split(';').collect();
    (parts.len() >= 4).then(|| parts[3].to_string())
}

/// Decrypts an envelope with the first of `secrets` whose HMAC matches (those for the vault
/// id the header names first, as ansible-core tries them).
pub fn decrypt_with(envelope: &str, secrets: &[Secret]) -> Result<Vec<u8>, VaultError> {
    let mut lines = envelope.trim().lines();
    let header = lines.next().unwrap_or_default().trim();
    let parts: Vec<&str> = header.split(';').collect();
    if parts.first() != Some(&HEADER) || parts.len() < 3 {
        return Err(VaultError::Format(
            "the first line is not a $ANSIBLE_VAULT header".into(),
        ));
    }
    if parts[2].trim() != "AES256" {
        return Err(VaultError::Cipher(parts[2].trim().to_string()));
    }
    if secrets.is_empty() {
        return Err(VaultError::NoSecrets);
    }
    let body = unhex(&lines.collect::<String>())?;
    let body = String::from_utf8(body).map_err(|_| VaultError::Format("bad payload".into()))?;
    let mut fields = body.split('\n');
    let (Some(salt), Some(mac), Some(data)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(VaultError::Format(
            "the payload lacks salt, HMAC or ciphertext".into(),
        ));
    };
    let (salt, mac, data) = (unhex(salt)?, unhex(mac)?, unhex(data)?);
    let label = parts.get(3).map(|s| s.trim());
    let mut ordered: Vec<&Secret> = secrets
        .iter()
        .filter(|s| Some(s.label.as_str()) == label)
        .collect();
    ordered.extend(secrets.iter().filter(|s| Some(s.label.as_str()) != label));
    for s in ordered {
        let k = derive(&s.password, &salt);
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&k.mac)
            .map_err(|e| VaultError::Format(e.to_string()))?;
        m.update(&data);
        if m.verify_slice(&mac).is_err() {
            continue;
        }
        let mut plain = data.clone();
        Ctr::new(&k.cipher.into(), &k.iv.into()).apply_keystream(&mut plain);
        let pad = plain.last().copied().unwrap_or(0) as usize;
        if pad == 0
            || pad > 16
            || pad > plain.len()
            || !plain[plain.len() - pad..]
                .iter()
                .all(|b| *b as usize == pad)
        {
            return Err(VaultError::Format("bad padding".into()));
        }
        plain.truncate(plain.len() - pad);
        return Ok(plain);
    }
    Err(VaultError::NoMatch(match label {
        Some(l) => format!(" for vault id {l}"),
        None => String::new(),
    }))
}

/// A file's bytes, decrypted with the run's passwords when the file is an ansible-vault
/// envelope (`copy`'s `src`, whose `decrypt` defaults to yes).
pub fn read_bytes(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    let data = std::fs::read(path)?;
    if !data.starts_with(HEADER.as_bytes()) {
        return Ok(data);
    }
    let text = String::from_utf8_lossy(&data);
    decrypt(&text).map_err(|e| {
        std::io::Error::other(format!(
            "cannot decrypt this vault file: {e} (give the password with --vault-password-file or --vault-id)"
        ))
    })
}

/// A text file's contents, decrypted with the run's passwords when the whole file is an
/// ansible-vault envelope (vars files, inventories, tasks files).
pub fn read_text(path: &std::path::Path) -> std::io::Result<String> {
    read_text_marked(path).map(|(text, _)| text)
}

/// As [`read_text`], also saying whether the file was vaulted (its text is then a secret:
/// errors about it must not quote it).
pub fn read_text_marked(path: &std::path::Path) -> std::io::Result<(String, bool)> {
    let text = std::fs::read_to_string(path)?;
    if !is_vaulted(&text) {
        return Ok((text, false));
    }
    let plain = decrypt(&text).map_err(|e| {
        std::io::Error::other(format!(
            "cannot decrypt this vault file: {e} (give the password with --vault-password-file or --vault-id)"
        ))
    })?;
    String::from_utf8(plain)
        .map(|t| (t, true))
        .map_err(|_| std::io::Error::other("the decrypted vault file is not UTF-8"))
}

/// Decrypts with the run's passwords.
pub fn decrypt(envelope: &str) -> Result<Vec<u8>, VaultError> {
    decrypt_with(envelope, &secrets())
}

/// Encrypts `plain` as ansible-vault does (a random 32-byte salt unless one is given); the
/// header names `label` (format 1.2) unless it is `default`.
pub fn encrypt(plain: &[u8], password: &[u8], label: &str, salt: Option<&[u8]>) -> String {
    let salt = match salt {
        Some(s) => s.to_vec(),
        None => {
            let mut s = vec![0u8; 32];
            rand::fill(&mut s[..]);
            s
        }
    };
    let k = derive(password, &salt);
    let pad = 16 - plain.len() % 16;
    let mut data = plain.to_vec();
    data.extend(std::iter::repeat_n(pad as u8, pad));
    Ctr::new(&k.cipher.into(), &k.iv.into()).apply_keystream(&mut data);
    let mac = match <Hmac<Sha256> as Mac>::new_from_slice(&k.mac) {
        Ok(mut m) => {
            m.update(&data);
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    };
    let body = format!("{}\n{}\n{}", hex(&salt), hex(&mac), hex(&data));
    let wrapped: Vec<String> = hex(body.as_bytes())
        .as_bytes()
        .chunks(80)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let header = if label == "default" {
        format!("{HEADER};1.1;AES256")
    } else {
        format!("{HEADER};1.2;AES256;{label}")
    };
    format!("{header}\n{}\n", wrapped.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Made by ansible-core 2.19's `vault` filter (its filter_encryption target): "secret"
    /// under password "test", salt "7", vault id filter_default.
    const FROM_ANSIBLE: &str = "$ANSIBLE_VAULT;1.2;AES256;filter_default
33370a34333734353636633035656232613935353432656132646533346233326431346232616261
6133383034376566366261316365633931356133633337396363370a376664386236313834326561
6338373864623763613165366636633031303739";

    fn secret(p: &str) -> Secret {
        Secret {
            label: "default".into(),
            password: p.as_bytes().to_vec(),
        }
    }

    #[test]
    fn reads_and_writes_ansible_vault() {
        assert_eq!(
            decrypt_with(FROM_ANSIBLE, &[secret("test")]).unwrap(),
            b"secret"
        );
        assert_eq!(
            encrypt(b"secret", b"test", "filter_default", Some(b"7")),
            format!("{FROM_ANSIBLE}\n")
        );
        assert!(matches!(
            decrypt_with(FROM_ANSIBLE, &[secret("nope")]),
            Err(VaultError::NoMatch(_))
        ));
        assert_eq!(decrypt_with(FROM_ANSIBLE, &[]), Err(VaultError::NoSecrets));
        let e = encrypt(b"x\ny\n", b"pw", "default", None);
        assert!(e.starts_with("$ANSIBLE_VAULT;1.1;AES256\n"));
        assert_eq!(decrypt_with(&e, &[secret("pw")]).unwrap(), b"x\ny\n");
        assert_eq!(label_of(FROM_ANSIBLE).as_deref(), Some("filter_default"));
    }
}
