//! `group_vars/` and `host_vars/` beside an inventory source: a file per group or host
//! (`web.yml`, `web.yaml`, `web.json` or plain `web`) or a directory of such files, merged in
//! lexical order.

use super::unique_map::UniqueMap;
use super::{InventoryError, Vars};
use crate::source::yaml_error;
use serde_json::Value;
use std::path::{Path, PathBuf};

const EXTS: [&str; 4] = ["", ".yml", ".yaml", ".json"];

/// The variables for `name` found under `dir` (`<base>/group_vars` or `<base>/host_vars`).
pub fn load_for(dir: &Path, name: &str) -> Result<Vars, InventoryError> {
    let mut vars = Vars::new();
    for ext in EXTS {
        let p = dir.join(format!("{name}{ext}"));
        if p.is_file() {
            vars.extend(load_file(&p)?);
        } else if ext.is_empty() && p.is_dir() {
            for f in files_under(&p)? {
                vars.extend(load_file(&f)?);
            }
        }
    }
    Ok(vars)
}

/// Reads one YAML/JSON variables file; an empty file is no variables.
pub fn load_file(path: &Path) -> Result<Vars, InventoryError> {
    let (text, secret) =
        crate::vault::read_text_marked(path).map_err(|source| InventoryError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if text.trim().is_empty() {
        return Ok(Vars::new());
    }
    let map: Option<UniqueMap<Value>> = serde_yaml::from_str(&text).map_err(|e| {
        let e = yaml_error(path, &text, &e);
        if secret { e.about_secret() } else { e }
    })?;
    Ok(map.map(|m| m.0.into_iter().collect()).unwrap_or_default())
}

/// Variable files below `dir`, recursively, in lexical order, hidden and backup files skipped.
fn files_under(dir: &Path) -> Result<Vec<PathBuf>, InventoryError> {
    let io = |source| InventoryError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let mut out = Vec::new();
    for p in entries {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.starts_with('.') || name.ends_with('~') {
            continue;
        }
        if p.is_dir() {
            out.extend(files_under(&p)?);
        } else if EXTS[1..].iter().any(|e| name.ends_with(e)) {
            out.push(p);
        }
    }
    Ok(out)
}
