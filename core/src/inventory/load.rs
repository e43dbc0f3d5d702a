//! Loading inventory sources: files by format, directories file by file, then the
//! `group_vars/`/`host_vars/` beside each source.

use super::{Inventory, InventoryError, ini, plugin_source, vars_dirs, yaml};
use std::path::{Path, PathBuf};

/// File endings Ansible skips in an inventory directory.
const IGNORED: [&str; 9] = [
    "~", ".orig", ".bak", ".cfg", ".retry", ".pyc", ".md", ".txt", ".swp",
];

pub fn load(paths: &[PathBuf]) -> Result<Inventory, InventoryError> {
    let mut inv = Inventory::new();
    let mut bases = Vec::new();
    for path in paths {
        if !path.exists() {
            return Err(InventoryError::Missing(path.clone()));
        }
        if path.is_dir() {
            for file in source_files(path)? {
                parse_file(&mut inv, &file)?;
            }
            bases.push(path.clone());
        } else {
            parse_file(&mut inv, path)?;
            bases.push(
                path.parent()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| PathBuf::from(".")),
            );
        }
        inv.sources.push(path.clone());
    }
    inv.finalize()?;
    bases.dedup();
    for base in bases {
        apply_vars_dirs(&mut inv, &base)?;
    }
    Ok(inv)
}

fn parse_file(inv: &mut Inventory, path: &Path) -> Result<(), InventoryError> {
    let (text, secret) =
        crate::vault::read_text_marked(path).map_err(|source| InventoryError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let parsed = match ext {
        "yml" | "yaml" | "json" => match plugin_source::plugin_of(&text) {
            Some((name, config)) => plugin_source::load_into(inv, path, &name, config),
            None => yaml::parse(inv, path, &text),
        },
        _ => ini::parse(inv, path, &text),
    };
    // A vaulted inventory's errors never quote its decrypted text.
    match parsed {
        Err(InventoryError::Source(e)) if secret => Err(InventoryError::Source(e.about_secret())),
        other => other,
    }
}

fn source_files(dir: &Path) -> Result<Vec<PathBuf>, InventoryError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| InventoryError::Io {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            p.is_file() && !name.starts_with('.') && !IGNORED.iter().any(|e| name.ends_with(e))
        })
        .collect();
    files.sort();
    Ok(files)
}

/// Merges `group_vars/` and `host_vars/` under `base` into the inventory (later wins).
pub(super) fn apply_vars_dirs(inv: &mut Inventory, base: &Path) -> Result<(), InventoryError> {
    let (gdir, hdir) = (base.join("group_vars"), base.join("host_vars"));
    if gdir.is_dir() {
        for g in inv.groups.values_mut() {
            super::merge_vars(&mut g.file_vars, vars_dirs::load_for(&gdir, &g.name)?);
        }
    }
    if hdir.is_dir() {
        for h in inv.hosts.values_mut() {
            super::merge_vars(&mut h.file_vars, vars_dirs::load_for(&hdir, &h.name)?);
        }
        for name in ["localhost", "127.0.0.1"] {
            if !inv.hosts.contains_key(name) {
                let vars = vars_dirs::load_for(&hdir, name)?;
                super::merge_vars(
                    inv.implicit_file_vars.entry(name.to_string()).or_default(),
                    vars,
                );
            }
        }
    }
    Ok(())
}
