//! Inventory sources provided by plugins: an inventory file whose top-level mapping names a
//! `plugin:` is handed to that plugin (Ansible's inventory-plugin convention), and the hosts,
//! groups and variables it returns are merged like any other source.

use super::{Inventory, InventoryError, Vars};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// What a source produced.
#[derive(Debug, Clone, Default)]
pub struct SourceData {
    /// Hosts and their variables.
    pub hosts: Vec<(String, Vars)>,
    pub groups: Vec<SourceGroup>,
}

#[derive(Debug, Clone, Default)]
pub struct SourceGroup {
    pub name: String,
    pub hosts: Vec<String>,
    pub children: Vec<String>,
    pub vars: Vars,
}

/// An inventory source.
pub trait Source: Send + Sync {
    /// `config`: the inventory file as JSON; `source_dir`: its folder.
    fn load(&self, config: Json, source_dir: &Path) -> Result<SourceData, String>;
}

static REGISTRY: RwLock<BTreeMap<String, Arc<dyn Source>>> = RwLock::new(BTreeMap::new());

/// Registers the inventory source `name`.
pub fn register(name: &str, source: Arc<dyn Source>) -> Result<(), String> {
    let mut r = REGISTRY
        .write()
        .map_err(|_| "inventory registry poisoned".to_string())?;
    if r.contains_key(name) {
        return Err(format!("two plugins provide the inventory source `{name}`"));
    }
    r.insert(name.to_string(), source);
    Ok(())
}

/// Removes every registered source.
pub fn clear() {
    if let Ok(mut r) = REGISTRY.write() {
        r.clear();
    }
}

/// The plugin an inventory file names, if it is a plugin configuration.
pub fn plugin_of(text: &str) -> Option<(String, Json)> {
    if !text
        .lines()
        .any(|l| l.starts_with("plugin:") || l.starts_with("\"plugin\""))
    {
        return None;
    }
    let v: Json = serde_yaml::from_str(text).ok()?;
    let name = v.get("plugin")?.as_str()?.to_string();
    Some((name, v))
}

/// Loads `path` (whose configuration is `config`) through plugin `name` into `inv`.
pub fn load_into(
    inv: &mut Inventory,
    path: &Path,
    name: &str,
    config: Json,
) -> Result<(), InventoryError> {
    let fail = |message: String| InventoryError::Plugin {
        path: path.to_path_buf(),
        message,
    };
    let source = REGISTRY
        .read()
        .ok()
        .and_then(|r| r.get(name).cloned())
        .ok_or_else(|| {
            let known: Vec<String> = REGISTRY
                .read()
                .map(|r| r.keys().cloned().collect())
                .unwrap_or_default();
            fail(format!(
                "names the inventory plugin `{name}`, which is not installed (installed: {}; see `hoist plugin list`)",
                if known.is_empty() { "none".into() } else { known.join(", ") }
            ))
        })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let data = source.load(config, &dir).map_err(fail)?;
    // What a plugin returns is data: text that looks like a template is marked never to be
    // rendered, and keys that hold template syntax are refused.
    let data_vars = |vars: &Vars| -> Result<Vars, InventoryError> {
        let v = Json::Object(vars.clone());
        if let Some(k) = crate::template::unsafe_text::template_key(&v) {
            return Err(fail(format!(
                "plugin `{name}` returned a variable name holding template syntax: `{k}`"
            )));
        }
        match crate::template::unsafe_text::mark_templates(v) {
            Json::Object(m) => Ok(m),
            _ => Ok(Vars::new()),
        }
    };
    let mut grouped = std::collections::HashSet::new();
    for (host, vars) in data.hosts.iter() {
        let h = inv
            .hosts
            .entry(host.clone())
            .or_insert_with(|| super::Host {
                name: host.clone(),
                ..super::Host::default()
            });
        h.vars.extend(data_vars(vars)?);
    }
    for g in &data.groups {
        if g.name.is_empty() || g.name.contains(|c: char| c.is_whitespace() || c == ':') {
            return Err(fail(format!(
                "plugin `{name}` returned a bad group name `{}`",
                g.name
            )));
        }
        let vars = data_vars(&g.vars)?;
        inv.group_mut(&g.name).vars.extend(vars);
        for h in &g.hosts {
            inv.add_host(h, &g.name, Vars::new());
            grouped.insert(h.clone());
        }
        for c in &g.children {
            inv.add_child(&g.name, c);
        }
    }
    for (host, _) in &data.hosts {
        if !grouped.contains(host) {
            inv.add_host(host, "ungrouped", Vars::new());
        }
    }
    Ok(())
}
