//! OpenSSH known_hosts verification: plain, hashed (`|1|salt|hash`), wildcard (`*`, `?`) and
//! negated (`!`) host patterns, `[host]:port` entries, `@revoked` markers, spaces or tabs.

use crate::glob::match_list;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use russh::keys::PublicKey;
use russh::keys::PublicKeyBase64;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What the known_hosts files say about a host's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The key is listed for this host.
    Match { path: PathBuf, line: usize },
    /// The host is listed with a different key of the same type: a possible attack.
    Changed { path: PathBuf, line: usize },
    /// The key is marked `@revoked`.
    Revoked { path: PathBuf, line: usize },
    /// The host has no key of this type in any file.
    Unknown,
}

/// The name a host is listed under: `host` on port 22, `[host]:port` otherwise.
pub fn lookup_name(host: &str, port: u16) -> String {
    if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    }
}

/// Checks `key` for `host:port` against `files` (missing files count as empty). A key marked
/// `@revoked` on any line of any file is refused, for every host and wherever the line sits
/// (OpenSSH: "must not ever be accepted"): every line is read before a match is trusted.
pub fn check(
    files: &[PathBuf],
    host: &str,
    port: u16,
    key: &PublicKey,
) -> std::io::Result<Verdict> {
    let name = lookup_name(host, port);
    let blob = key.public_key_bytes();
    let algo = key.algorithm().as_str().to_string();
    let (mut matched, mut changed) = (None, None);
    for path in files {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for (i, line) in text.lines().enumerate() {
            let Some(entry) = Entry::parse(line) else {
                continue;
            };
            let same_key = || B64.decode(entry.key_b64).is_ok_and(|k| k == blob);
            let here = || (path.clone(), i + 1);
            match entry.marker {
                Some("@revoked") if same_key() => {
                    let (path, line) = here();
                    return Ok(Verdict::Revoked { path, line });
                }
                Some(_) => continue,
                None if !entry.matches_host(&name) => {}
                None if same_key() => {
                    matched.get_or_insert_with(here);
                }
                None if entry.key_type == algo => {
                    changed.get_or_insert_with(here);
                }
                None => {}
            }
        }
    }
    Ok(match (matched, changed) {
        (Some((path, line)), _) => Verdict::Match { path, line },
        (None, Some((path, line))) => Verdict::Changed { path, line },
        (None, None) => Verdict::Unknown,
    })
}

/// Appends `host:port key` to `path` (creating it and its directory), as accept-new does.
pub fn append(path: &Path, host: &str, port: u16, key: &PublicKey) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let line = format!(
        "{} {} {}\n",
        lookup_name(host, port),
        key.algorithm().as_str(),
        key.public_key_base64()
    );
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(line.as_bytes())
}

struct Entry<'a> {
    marker: Option<&'a str>,
    hosts: &'a str,
    key_type: &'a str,
    key_b64: &'a str,
}

impl<'a> Entry<'a> {
    fn parse(line: &'a str) -> Option<Entry<'a>> {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return None;
        }
        let mut f = line.split_whitespace();
        let mut first = f.next()?;
        let marker = if first.starts_with('@') {
            let m = first;
            first = f.next()?;
            Some(m)
        } else {
            None
        };
        Some(Entry {
            marker,
            hosts: first,
            key_type: f.next()?,
            key_b64: f.next()?,
        })
    }

    fn matches_host(&self, name: &str) -> bool {
        if let Some(hashed) = self.hosts.strip_prefix("|1|") {
            return hashed_match(hashed, name);
        }
        match_list(self.hosts.split(','), name)
    }
}

/// `salt|hash` where hash = HMAC-SHA1(salt, name), both base64.
fn hashed_match(field: &str, name: &str) -> bool {
    let Some((salt, hash)) = field.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (B64.decode(salt), B64.decode(hash)) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(&salt) else {
        return false;
    };
    mac.update(name.as_bytes());
    mac.verify_slice(&hash).is_ok()
}

/// Hashes `name` with `salt` the way `ssh-keygen -H` does (for tests and tooling).
pub fn hash_name(salt: &[u8], name: &str) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(salt).expect("HMAC takes any key length");
    mac.update(name.as_bytes());
    format!(
        "|1|{}|{}",
        B64.encode(salt),
        B64.encode(mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ";
    const K2: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIA6rWI3G1sz07DnfFlrouTcysQlj2P+jpNSOEWD9OJ3X";

    fn key(b64: &str) -> PublicKey {
        russh::keys::parse_public_key_base64(b64).unwrap()
    }

    fn file(text: &str) -> (tempfile::TempDir, Vec<PathBuf>) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("known_hosts");
        std::fs::write(&p, text).unwrap();
        (d, vec![p])
    }

    #[test]
    fn plain_wildcard_port_and_tabs() {
        let (_d, f) = file(&format!(
            "# comment\n[10.0.0.*]:2222\tssh-ed25519\t{K1}\nweb,!web2 ssh-ed25519 {K1}\n"
        ));
        assert!(matches!(
            check(&f, "10.0.0.7", 2222, &key(K1)).unwrap(),
            Verdict::Match { line: 2, .. }
        ));
        assert!(matches!(
            check(&f, "web", 22, &key(K1)).unwrap(),
            Verdict::Match { line: 3, .. }
        ));
        assert_eq!(check(&f, "web2", 22, &key(K1)).unwrap(), Verdict::Unknown);
        assert_eq!(
            check(&f, "10.0.0.7", 22, &key(K1)).unwrap(),
            Verdict::Unknown
        );
    }

    #[test]
    fn hashed_and_changed() {
        let hashed = hash_name(b"0123456789abcdefghij", "lab1");
        let (_d, f) = file(&format!("{hashed} ssh-ed25519 {K1}\n"));
        assert!(matches!(
            check(&f, "lab1", 22, &key(K1)).unwrap(),
            Verdict::Match { line: 1, .. }
        ));
        assert!(matches!(
            check(&f, "lab1", 22, &key(K2)).unwrap(),
            Verdict::Changed { line: 1, .. }
        ));
        assert_eq!(check(&f, "lab2", 22, &key(K1)).unwrap(), Verdict::Unknown);
    }

    #[test]
    fn revoked_wins() {
        let (_d, f) = file(&format!(
            "@revoked * ssh-ed25519 {K1}\nh ssh-ed25519 {K1}\n"
        ));
        assert!(matches!(
            check(&f, "h", 22, &key(K1)).unwrap(),
            Verdict::Revoked { line: 1, .. }
        ));
    }

    #[test]
    fn revoked_after_a_plain_entry_or_in_a_later_file_still_wins() {
        // OpenSSH refuses both; a first-match scan accepted the key.
        let (_d, f) = file(&format!(
            "h ssh-ed25519 {K1}\n@revoked other ssh-ed25519 {K1}\n"
        ));
        assert!(matches!(
            check(&f, "h", 22, &key(K1)).unwrap(),
            Verdict::Revoked { line: 2, .. }
        ));
        let (_d1, mut f1) = file(&format!("h ssh-ed25519 {K1}\n"));
        let (_d2, f2) = file(&format!("@revoked h ssh-ed25519 {K1}\n"));
        f1.extend(f2);
        assert!(matches!(
            check(&f1, "h", 22, &key(K1)).unwrap(),
            Verdict::Revoked { line: 1, .. }
        ));
        // Another revoked key does not stop this one.
        let (_d, f) = file(&format!(
            "@revoked h ssh-ed25519 {K2}\nh ssh-ed25519 {K1}\n"
        ));
        assert!(matches!(
            check(&f, "h", 22, &key(K1)).unwrap(),
            Verdict::Match { line: 2, .. }
        ));
    }

    #[test]
    fn append_then_match() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/known_hosts");
        append(&p, "h", 2200, &key(K2)).unwrap();
        let f = vec![p];
        assert!(matches!(
            check(&f, "h", 2200, &key(K2)).unwrap(),
            Verdict::Match { line: 1, .. }
        ));
    }
}
