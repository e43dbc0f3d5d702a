//! ansible-core's `jsonfile` fact cache: each host's facts (gathered ones as `ansible_<name>`,
//! and `set_fact` variables marked `cacheable`) kept in `<dir>/<prefix><host>` as JSON
//! between runs, so a later run sees them without gathering. Chosen as ansible-core chooses
//! it: `ANSIBLE_CACHE_PLUGIN=jsonfile`, `ANSIBLE_CACHE_PLUGIN_CONNECTION` (the directory),
//! `ANSIBLE_CACHE_PLUGIN_PREFIX` and `ANSIBLE_CACHE_PLUGIN_TIMEOUT` (seconds, 0: never
//! expires; default a day). Files are written through a temp file and a rename, private
//! to the user; a host name that is not a plain file name is never cached.

use crate::inventory::Vars;
use serde_json::Value as Json;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// Where and for how long facts are cached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactCache {
    pub dir: PathBuf,
    pub prefix: String,
    /// Seconds a cached entry stays valid; 0 keeps it for ever.
    pub timeout: u64,
}

/// Why the cache cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FactCacheError {
    #[error(
        "fact cache `{0}` is not supported: hoist keeps facts in ansible-core's `jsonfile` cache"
    )]
    Plugin(String),
    #[error("the jsonfile fact cache needs a directory (ANSIBLE_CACHE_PLUGIN_CONNECTION)")]
    NoDir,
    #[error("ANSIBLE_CACHE_PLUGIN_TIMEOUT: `{0}` is not a whole number of seconds")]
    Timeout(String),
}

impl FactCache {
    /// The cache ansible-core's environment variables configure, if any.
    pub fn from_env() -> Result<Option<FactCache>, FactCacheError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let Some(plugin) = var("ANSIBLE_CACHE_PLUGIN") else {
            return Ok(None);
        };
        match plugin.as_str() {
            "memory" | "ansible.builtin.memory" => return Ok(None),
            "jsonfile" | "ansible.builtin.jsonfile" => {}
            other => return Err(FactCacheError::Plugin(other.to_string())),
        }
        let dir = var("ANSIBLE_CACHE_PLUGIN_CONNECTION").ok_or(FactCacheError::NoDir)?;
        let dir = match dir.strip_prefix("~/") {
            Some(rest) => std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(rest))
                .unwrap_or_else(|| PathBuf::from(&dir)),
            None => PathBuf::from(&dir),
        };
        let timeout = match var("ANSIBLE_CACHE_PLUGIN_TIMEOUT") {
            Some(t) => t.parse().map_err(|_| FactCacheError::Timeout(t))?,
            None => 86_400,
        };
        Ok(Some(FactCache {
            dir,
            prefix: var("ANSIBLE_CACHE_PLUGIN_PREFIX").unwrap_or_else(|| "ansible_facts".into()),
            timeout,
        }))
    }

    fn path(&self, host: &str) -> Option<PathBuf> {
        let plain = !host.is_empty()
            && !host.starts_with('.')
            && !host.contains(['/', '\0'])
            && !format!("{}{host}", self.prefix).contains('/');
        plain.then(|| self.dir.join(format!("{}{host}", self.prefix)))
    }

    /// A host's cached facts, when there are any still valid.
    pub fn load(&self, host: &str) -> Option<Vars> {
        let path = self.path(host)?;
        let meta = std::fs::metadata(&path).ok()?;
        if self.timeout > 0 {
            let age = meta
                .modified()
                .ok()
                .and_then(|m| SystemTime::now().duration_since(m).ok())
                .unwrap_or_default();
            if age > Duration::from_secs(self.timeout) {
                return None;
            }
        }
        match serde_json::from_slice(&std::fs::read(&path).ok()?) {
            Ok(Json::Object(m)) => Some(m),
            _ => None,
        }
    }

    /// Replaces a host's cached facts.
    pub fn save(&self, host: &str, facts: &Vars) -> std::io::Result<()> {
        let Some(path) = self.path(host) else {
            return Ok(());
        };
        std::fs::create_dir_all(&self.dir)?;
        let tmp = self
            .dir
            .join(format!(".{}{host}.{}.tmp", self.prefix, std::process::id()));
        let text = serde_json::to_vec_pretty(&Json::Object(facts.clone()))?;
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            f.write_all(&text)?;
        }
        std::fs::rename(&tmp, &path)
    }

    /// Forgets a host's cached facts (`--flush-cache`).
    pub fn flush(&self, host: &str) {
        if let Some(p) = self.path(host) {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Splits cached facts into gathered facts (without their `ansible_` prefix) and the other
/// cached variables (`set_fact ... cacheable`).
pub fn split(cached: Vars) -> (Vars, Vars) {
    let mut facts = Vars::new();
    let mut vars = Vars::new();
    for (k, v) in cached {
        match k.strip_prefix("ansible_") {
            Some(name) if name != "facts" => {
                facts.insert(name.to_string(), v);
            }
            _ => {
                vars.insert(k, v);
            }
        }
    }
    (facts, vars)
}

/// What is cached for a host: its facts as `ansible_<name>` and its cacheable variables.
pub fn entry(facts: &Vars, cacheable: &Vars) -> Vars {
    let mut out = Vars::new();
    if let Some(Json::Object(f)) = facts.get("ansible_facts") {
        for (k, v) in f {
            out.insert(format!("ansible_{k}"), v.clone());
        }
    }
    out.extend(cacheable.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn entries_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let c = FactCache {
            dir: dir.path().to_path_buf(),
            prefix: "prefix_".into(),
            timeout: 0,
        };
        let facts = Vars::from_iter([(
            "ansible_facts".to_string(),
            json!({"distribution": "Debian"}),
        )]);
        let cacheable = Vars::from_iter([
            ("ansible_foobar".to_string(), json!("x")),
            ("plain".to_string(), json!(1)),
        ]);
        let e = entry(&facts, &cacheable);
        c.save("web1", &e).unwrap();
        assert!(dir.path().join("prefix_web1").exists());
        let (f, v) = split(c.load("web1").unwrap());
        assert_eq!(f.get("distribution"), Some(&json!("Debian")));
        assert_eq!(f.get("foobar"), Some(&json!("x")));
        assert_eq!(v.get("plain"), Some(&json!(1)));
        c.flush("web1");
        assert!(c.load("web1").is_none());
        // Names that are not plain file names are never cached.
        c.save("../x", &e).unwrap();
        assert!(!dir.path().parent().unwrap().join("prefix_../x").exists());
        assert!(c.load("../x").is_none());
    }
}
