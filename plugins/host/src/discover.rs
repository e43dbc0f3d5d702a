//! Finding plugins: directories on the plugin path that hold a `plugin.toml` (or whose child
//! directories do), then installing each kind where hoist looks for it.

use crate::kinds::{
    callback::PluginCallback, filter::PluginFilters, inventory::PluginInventory,
    module::PluginModule,
};
use crate::manifest::{self, Kind, Manifest};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The plugin path, first match wins: `--plugin-dir` values, `$HOIST_PLUGIN_PATH`
/// (colon-separated), `plugins/` beside the playbook, `~/.local/share/hoist/plugins`.
pub fn search_path(extra: &[PathBuf], playbook_dir: Option<&Path>) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = extra.to_vec();
    if let Some(p) = std::env::var_os("HOIST_PLUGIN_PATH") {
        dirs.extend(std::env::split_paths(&p).filter(|d| !d.as_os_str().is_empty()));
    }
    if let Some(d) = playbook_dir {
        dirs.push(d.join("plugins"));
    }
    if let Some(h) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(h).join(".local/share/hoist/plugins"));
    }
    dirs
}

/// The plugins found on a path.
#[derive(Default)]
pub struct Plugins {
    pub manifests: Vec<Arc<Manifest>>,
    /// Plugins hidden by an earlier one of the same name.
    pub shadowed: Vec<Arc<Manifest>>,
}

/// Reads every manifest on `dirs` (missing directories are skipped). A malformed manifest is
/// an error: a plugin the operator installed never silently disappears.
pub fn discover(dirs: &[PathBuf]) -> Result<Plugins, String> {
    let mut found = Plugins::default();
    for dir in dirs {
        let mut files = Vec::new();
        let direct = dir.join("plugin.toml");
        if direct.is_file() {
            files.push(direct);
        } else if let Ok(rd) = std::fs::read_dir(dir) {
            let mut kids: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path().join("plugin.toml")))
                .filter(|p| p.is_file())
                .collect();
            kids.sort();
            files.extend(kids);
        }
        for f in files {
            let m = Arc::new(manifest::load(&f).map_err(|e| e.to_string())?);
            if found.manifests.iter().any(|o| o.name == m.name) {
                found.shadowed.push(m);
            } else {
                found.manifests.push(m);
            }
        }
    }
    Ok(found)
}

/// Plugins installed into hoist-core for a run.
#[derive(Default)]
pub struct Installed {
    pub callbacks: Vec<Arc<PluginCallback>>,
}

impl Plugins {
    /// The plugin called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Manifest>> {
        self.manifests.iter().find(|m| m.name == name)
    }

    /// Registers module and inventory plugins (loaded lazily, on first use), loads filter
    /// plugins (their names must be known to templates), and starts the callbacks named in
    /// `callbacks`.
    pub fn install(&self, callbacks: &[String]) -> Result<Installed, String> {
        for m in &self.manifests {
            match m.kind {
                Kind::Module => hoist_core::modules::external::register(
                    &m.name,
                    Arc::new(PluginModule::new(m.clone())),
                )
                .map_err(|e| format!("plugin `{}` ({}): {e}", m.name, m.path.display()))?,
                Kind::Inventory => hoist_core::inventory::plugin_source::register(
                    &m.name,
                    Arc::new(PluginInventory::new(m.clone())),
                )
                .map_err(|e| format!("plugin `{}` ({}): {e}", m.name, m.path.display()))?,
                Kind::Filter => PluginFilters::load(m.clone())?.install()?,
                Kind::Callback => {}
            }
        }
        let mut installed = Installed::default();
        for name in callbacks {
            let m = self.get(name).ok_or_else(|| {
                format!("no callback plugin `{name}` on the plugin path (see `hoist plugin list`)")
            })?;
            if m.kind != Kind::Callback {
                return Err(format!(
                    "plugin `{name}` ({}) is a {} plugin, not a callback",
                    m.path.display(),
                    m.kind.as_str()
                ));
            }
            installed.callbacks.push(PluginCallback::start(m.clone())?);
        }
        Ok(installed)
    }
}
