//! One wasmtime engine per process (fuel metering, async host calls) and the on-disk cache of
//! precompiled components: the first load compiles (tens of ms), later loads map the cached
//! native code (about a millisecond).

use crate::manifest::API_VERSION;
use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

/// The process's engine.
pub fn engine() -> Result<&'static Engine, String> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut c = Config::new();
            c.wasm_component_model(true);
            c.consume_fuel(true);
            // Guest stack: generous for real code, bounded for runaway recursion.
            c.max_wasm_stack(2 << 20);
            Engine::new(&c).map_err(|e| format!("cannot start the WebAssembly engine: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Where precompiled components are kept: `$HOIST_CACHE_DIR`, else `$XDG_CACHE_HOME/hoist`,
/// else `~/.cache/hoist`; then `plugins/`.
pub fn cache_dir() -> PathBuf {
    let base = std::env::var_os("HOIST_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("hoist")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/hoist")))
        .unwrap_or_else(|| std::env::temp_dir().join("hoist-cache"));
    base.join("plugins")
}

/// The cache key: the component's bytes and everything about the engine that shapes its code.
fn cache_key(engine: &Engine, bytes: &[u8]) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    let mut d = Sha256::new();
    d.update(bytes);
    d.update(h.finish().to_le_bytes());
    d.update(env!("CARGO_PKG_VERSION").as_bytes());
    d.finalize()
        .iter()
        .take(20)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How the component was obtained, for `hoist plugin inspect` and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Load {
    Cached,
    Compiled,
}

/// Whether the component at `path` is in the precompiled cache already.
pub fn is_cached(path: &Path) -> bool {
    let (Ok(engine), Ok(bytes)) = (engine(), std::fs::read(path)) else {
        return false;
    };
    let dir = cache_dir();
    let file = dir.join(format!("{}.cwasm", cache_key(engine, &bytes)));
    file.is_file() && private(&dir).is_ok() && private(&file).is_ok()
}

/// Loads the component at `path`, through the cache.
pub fn load(path: &Path) -> Result<(Component, Load), String> {
    let engine = engine()?;
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !bytes.starts_with(b"\0asm") {
        return Err(format!(
            "{} is not a WebAssembly file (build it with `hoist plugin build`)",
            path.display()
        ));
    }
    let dir = cache_dir();
    let cached = dir.join(format!("{}.cwasm", cache_key(engine, &bytes)));
    // A cached file is native code: used only when it and its directory are ours and nobody
    // else may write them (a `.cwasm` planted in a shared /tmp is never loaded).
    let trusted = private(&dir).is_ok();
    if trusted && private(&cached).is_ok() {
        // SAFETY: the file was written by `precompile_component` of an engine with this exact
        // configuration (the key covers it), in the user's own private cache directory.
        if let Ok(c) = unsafe { Component::deserialize_file(engine, &cached) } {
            return Ok((c, Load::Cached));
        }
    }
    let compiled = engine
        .precompile_component(&bytes)
        .map_err(|e| format!("{} is not a valid component: {e:#}", path.display()))?;
    if trusted || !dir.exists() {
        store(&dir, &cached, &compiled);
    }
    // SAFETY: produced just above by this engine.
    let c = unsafe { Component::deserialize(engine, &compiled) }
        .map_err(|e| format!("{}: {e:#}", path.display()))?;
    Ok((c, Load::Compiled))
}

/// `path` is ours, not a symlink, and no one else may write it.
fn private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    let me = hoist_core::sys::effective_uid().map_err(|e| e.to_string())?;
    if meta.file_type().is_symlink() {
        return Err(format!("{} is a symlink", path.display()));
    }
    if meta.uid() != me || meta.mode() & 0o022 != 0 {
        return Err(format!(
            "{} belongs to uid {} with mode {:o}",
            path.display(),
            meta.uid(),
            meta.mode() & 0o7777
        ));
    }
    Ok(())
}

/// Writes a cache entry atomically; a cache that cannot be written only costs speed.
fn store(dir: &Path, path: &Path, data: &[u8]) {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    if std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .is_err()
    {
        return;
    }
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("c"),
        std::process::id()
    ));
    if std::fs::write(&tmp, data).is_ok() {
        let _ = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o600));
        if std::fs::rename(&tmp, path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// Checks that the component speaks this hoist's contract: its `hoist:plugin/...` imports and
/// exports must carry version `major.minor.*` equal to ours.
pub fn check_contract(component: &Component, plugin: &str, file: &Path) -> Result<(), String> {
    let engine = engine()?;
    let ty = component.component_type();
    let names: Vec<String> = ty
        .imports(engine)
        .map(|(n, _)| n.to_string())
        .chain(ty.exports(engine).map(|(n, _)| n.to_string()))
        .collect();
    for name in &names {
        let Some(rest) = name.strip_prefix("hoist:plugin/") else {
            continue;
        };
        let Some((_, version)) = rest.split_once('@') else {
            return Err(format!(
                "plugin `{plugin}` ({}) imports {name} without a version; rebuild it with the hoist plugin SDK",
                file.display()
            ));
        };
        let mut parts = version.split('.').map(|p| p.parse::<u64>().ok());
        let (major, minor) = (parts.next().flatten(), parts.next().flatten());
        if (major, minor) != (Some(API_VERSION.0), Some(API_VERSION.1)) {
            return Err(format!(
                "plugin `{plugin}` ({}) was built against the plugin contract hoist:plugin@{version}; this hoist speaks {}.{}.{}: rebuild it against the matching SDK",
                file.display(),
                API_VERSION.0,
                API_VERSION.1,
                API_VERSION.2
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn only_private_cache_files_are_trusted() {
        let d = tempfile::tempdir().expect("tempdir");
        let f = d.path().join("x.cwasm");
        std::fs::write(&f, b"x").expect("write");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        assert!(private(&f).is_ok());
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o666)).expect("chmod");
        assert!(private(&f).is_err(), "writable by others");
        let l = d.path().join("l.cwasm");
        std::os::unix::fs::symlink(&f, &l).expect("ln");
        assert!(private(&l).is_err(), "a symlink");
        if hoist_core::sys::effective_uid().ok() == Some(0) {
            std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).expect("chmod");
            std::os::unix::fs::chown(&f, Some(65534), None).expect("chown");
            assert!(private(&f).is_err(), "someone else's");
        }
    }
}
