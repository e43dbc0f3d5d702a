//! Inventory plugins: produce hosts, groups and variables from a configuration file (`-i
//! fleet.yml` holding `plugin: NAME`), reading controller files and web services only as
//! granted.

use super::worlds::inventory as world;
use crate::component::{linker, prepare};
use crate::grants::Grants;
use crate::manifest::Manifest;
use crate::sandbox::{self, HostState, Settled};
use hoist_core::inventory::Vars;
use hoist_core::inventory::plugin_source::{Source, SourceData, SourceGroup};
use serde_json::Value as Json;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use wasmtime::component::{HasSelf, Linker};
use world::{Inventory as World, InventoryPre};

fn inventory_linker() -> Result<&'static Linker<HostState>, String> {
    static L: OnceLock<Result<Linker<HostState>, String>> = OnceLock::new();
    L.get_or_init(|| linker(|l| World::add_to_linker::<_, HasSelf<HostState>>(l, |s| s)))
        .as_ref()
        .map_err(Clone::clone)
}

/// An inventory plugin, loaded on first use.
pub struct PluginInventory {
    pub manifest: Arc<Manifest>,
    pre: OnceLock<Result<InventoryPre<HostState>, String>>,
}

fn vars(plugin: &str, what: &str, text: &str) -> Result<Vars, String> {
    match serde_json::from_str(text) {
        Ok(Json::Object(m)) => Ok(m),
        _ => Err(format!(
            "plugin `{plugin}` returned variables for {what} that are not a JSON object"
        )),
    }
}

impl PluginInventory {
    pub fn new(manifest: Arc<Manifest>) -> PluginInventory {
        PluginInventory {
            manifest,
            pre: OnceLock::new(),
        }
    }

    /// Loads and links the component.
    pub fn check(&self) -> Result<(), String> {
        self.pre().map(|_| ())
    }

    fn pre(&self) -> Result<&InventoryPre<HostState>, String> {
        self.pre
            .get_or_init(|| {
                let p = prepare(&self.manifest, inventory_linker()?)?;
                InventoryPre::new(p.pre).map_err(|e| {
                    format!(
                        "plugin `{}` ({}): not an inventory component: {e:#}",
                        self.manifest.name,
                        self.manifest.path.display()
                    )
                })
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl Source for PluginInventory {
    fn load(&self, config: Json, source_dir: &Path) -> Result<SourceData, String> {
        let m = &self.manifest;
        let pre = self.pre()?;
        let grants = Arc::new(Grants::new(m, Some(source_dir)));
        let data = futures::executor::block_on(async {
            let mut store = sandbox::store(m, grants, None)?;
            let inst = pre
                .instantiate_async(&mut store)
                .await
                .map_err(|e| sandbox::explain(m, "instantiation", &e, ""))?;
            let (config, dir) = (config.to_string(), source_dir.display().to_string());
            let res = sandbox::deadline(
                m.limits.timeout_secs,
                inst.call_load(&mut store, &config, &dir),
            )
            .await;
            let out = store.data().output();
            crate::sandbox::report_logs(&m.name, &store.data().logs);
            match sandbox::settle(m, "load", res, &out) {
                Settled::Broke(e) => Err(e),
                Settled::Refused(msg) => Err(format!("plugin `{}`: {msg}", m.name)),
                Settled::Value(d) => Ok(d),
            }
        })?;
        let mut out = SourceData::default();
        for h in data.hosts {
            let v = vars(&m.name, &format!("host `{}`", h.name), &h.vars)?;
            out.hosts.push((h.name, v));
        }
        for g in data.groups {
            let v = vars(&m.name, &format!("group `{}`", g.name), &g.vars)?;
            out.groups.push(SourceGroup {
                name: g.name,
                hosts: g.hosts,
                children: g.children,
                vars: v,
            });
        }
        Ok(out)
    }
}
