//! The encrypted-file backend (opt-in, for headless machines without a keyring): one file of
//! JSON holding an XChaCha20-Poly1305 ciphertext of all secrets, keyed by Argon2id from a
//! passphrase (`HOIST_SECRET_PASSPHRASE`, or the first line of `HOIST_SECRET_PASSPHRASE_FILE`).
//! Writes take an exclusive lock, go to a temp file (0600) and are renamed: never half-written,
//! no lost update between two processes.

use super::{SecretError, Store};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Argon2id cost: OWASP's recommended minimum (19 MiB, 2 passes).
const M_KIB: u32 = 19 * 1024;
const T: u32 = 2;

#[derive(Serialize, Deserialize)]
struct Sealed {
    format: String,
    version: u32,
    kdf: String,
    m_kib: u32,
    t: u32,
    p: u32,
    salt: String,
    nonce: String,
    data: String,
}

pub struct FileStore {
    path: PathBuf,
    passphrase: Zeroizing<String>,
}

fn err(message: impl Into<String>) -> SecretError {
    SecretError::Backend {
        backend: "file".into(),
        message: message.into(),
    }
}

/// The file's default place: `$XDG_DATA_HOME/hoist/secrets.enc` or
/// `~/.local/share/hoist/secrets.enc`.
pub fn default_path() -> PathBuf {
    std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("/var/lib"))
        .join("hoist/secrets.enc")
}

/// The passphrase from the environment, or why there is none.
pub fn passphrase() -> Result<Zeroizing<String>, String> {
    if let Ok(p) = std::env::var("HOIST_SECRET_PASSPHRASE")
        && !p.is_empty()
    {
        return Ok(Zeroizing::new(p));
    }
    if let Some(f) = std::env::var_os("HOIST_SECRET_PASSPHRASE_FILE") {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| format!("cannot read {}: {e}", PathBuf::from(&f).display()))?;
        let line = text.lines().next().unwrap_or("").to_string();
        if !line.is_empty() {
            return Ok(Zeroizing::new(line));
        }
    }
    Err("the encrypted file needs HOIST_SECRET_PASSPHRASE or HOIST_SECRET_PASSPHRASE_FILE".into())
}

fn derive(
    pass: &str,
    salt: &[u8],
    m: u32,
    t: u32,
    p: u32,
) -> Result<Zeroizing<[u8; 32]>, SecretError> {
    let params = argon2::Params::new(m, t, p, Some(32)).map_err(|e| err(e.to_string()))?;
    let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    a.hash_password_into(pass.as_bytes(), salt, key.as_mut())
        .map_err(|e| err(e.to_string()))?;
    Ok(key)
}

impl FileStore {
    pub fn open(path: PathBuf, passphrase: Zeroizing<String>) -> Result<FileStore, String> {
        let me = FileStore { path, passphrase };
        // A wrong passphrase must fail now, not at the first secret.
        me.load().map_err(|e| e.to_string())?;
        Ok(me)
    }

    fn load(&self) -> Result<BTreeMap<String, String>, SecretError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(err(format!("cannot read {}: {e}", self.path.display()))),
        };
        let bad = |what: &str| err(format!("{}: {what}", self.path.display()));
        let s: Sealed = serde_json::from_str(&text)
            .map_err(|e| bad(&format!("not a hoist secrets file ({e})")))?;
        if s.format != "hoist-secrets" || s.version != 1 || s.kdf != "argon2id" {
            return Err(bad("unknown format or version"));
        }
        let salt = B64.decode(&s.salt).map_err(|_| bad("bad salt"))?;
        let nonce = B64.decode(&s.nonce).map_err(|_| bad("bad nonce"))?;
        let data = B64.decode(&s.data).map_err(|_| bad("bad data"))?;
        if nonce.len() != 24 {
            return Err(bad("bad nonce"));
        }
        let key = derive(&self.passphrase, &salt, s.m_kib, s.t, s.p)?;
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        let plain = Zeroizing::new(
            cipher
                .decrypt(XNonce::from_slice(&nonce), data.as_ref())
                .map_err(|_| bad("wrong passphrase, or the file was altered"))?,
        );
        serde_json::from_slice(&plain).map_err(|_| bad("corrupt contents"))
    }

    fn save(&self, map: &BTreeMap<String, String>) -> Result<(), SecretError> {
        let mut salt = [0u8; 16];
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut salt);
        rand::rng().fill_bytes(&mut nonce);
        let key = derive(&self.passphrase, &salt, M_KIB, T, 1)?;
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        let plain = Zeroizing::new(serde_json::to_vec(map).map_err(|e| err(e.to_string()))?);
        let data = cipher
            .encrypt(XNonce::from_slice(&nonce), plain.as_ref())
            .map_err(|_| err("encryption failed"))?;
        let sealed = Sealed {
            format: "hoist-secrets".into(),
            version: 1,
            kdf: "argon2id".into(),
            m_kib: M_KIB,
            t: T,
            p: 1,
            salt: B64.encode(salt),
            nonce: B64.encode(nonce),
            data: B64.encode(data),
        };
        let text = serde_json::to_string_pretty(&sealed).map_err(|e| err(e.to_string()))?;
        write_private(&self.path, text.as_bytes())
            .map_err(|e| err(format!("cannot write {}: {e}", self.path.display())))
    }

    /// Runs `f` on the decrypted map under an exclusive lock, then saves it.
    fn update<R>(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, String>) -> R,
    ) -> Result<R, SecretError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        create_private_dir(dir)
            .map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
        let lock_path = self.path.with_extension("lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| err(format!("cannot open {}: {e}", lock_path.display())))?;
        lock.lock()
            .map_err(|e| err(format!("cannot lock {}: {e}", lock_path.display())))?;
        let mut map = self.load()?;
        let r = f(&mut map);
        self.save(&map)?;
        Ok(r)
    }
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Temp file (0600) in the same directory, fsync, rename.
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".secrets.{}.tmp", std::process::id()));
    let r = (|| {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}

impl Store for FileStore {
    fn name(&self) -> &'static str {
        "file"
    }
    fn get(&self, name: &str) -> Result<Option<String>, SecretError> {
        Ok(self.load()?.remove(name))
    }
    fn set(&self, name: &str, value: &str) -> Result<(), SecretError> {
        self.update(|m| {
            m.insert(name.to_string(), value.to_string());
        })
    }
    fn delete(&self, name: &str) -> Result<bool, SecretError> {
        self.update(|m| m.remove(name).is_some())
    }
    fn list(&self) -> Result<Vec<String>, SecretError> {
        Ok(self.load()?.into_keys().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_wrong_passphrase_and_no_plaintext() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s/secrets.enc");
        let s = FileStore::open(path.clone(), Zeroizing::new("correct horse".into())).unwrap();
        s.set("db", "hunter22-value").unwrap();
        s.set("api", "tok-123456").unwrap();
        assert_eq!(s.get("db").unwrap().as_deref(), Some("hunter22-value"));
        assert_eq!(s.list().unwrap(), ["api", "db"]);
        assert!(s.delete("api").unwrap());
        assert!(!s.delete("api").unwrap());
        let raw = std::fs::read_to_string(&path).unwrap();
        assert!(!raw.contains("hunter22"), "{raw}");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let e = FileStore::open(path.clone(), Zeroizing::new("wrong".into()))
            .err()
            .unwrap();
        assert!(e.contains("wrong passphrase"), "{e}");
        let again = FileStore::open(path, Zeroizing::new("correct horse".into())).unwrap();
        assert_eq!(again.list().unwrap(), ["db"]);
    }
}
