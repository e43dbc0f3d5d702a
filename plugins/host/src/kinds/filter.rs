//! Filter plugins: Jinja filters and tests, each call a fresh sandbox (pure functions: no
//! capabilities at all).

use super::worlds::filter as world;
use crate::component::{linker, prepare};
use crate::grants::Grants;
use crate::manifest::Manifest;
use crate::sandbox::{self, HostState, Settled};
use serde_json::Value as Json;
use std::sync::{Arc, OnceLock};
use wasmtime::component::{HasSelf, Linker};
use world::{Filter as World, FilterKind, FilterPre};

fn filter_linker() -> Result<&'static Linker<HostState>, String> {
    static L: OnceLock<Result<Linker<HostState>, String>> = OnceLock::new();
    L.get_or_init(|| linker(|l| World::add_to_linker::<_, HasSelf<HostState>>(l, |s| s)))
        .as_ref()
        .map_err(Clone::clone)
}

/// One filter or test a plugin declares.
#[derive(Debug, Clone)]
pub struct FilterDecl {
    pub name: String,
    pub test: bool,
    pub description: String,
}

/// A loaded filter plugin.
pub struct PluginFilters {
    pub manifest: Arc<Manifest>,
    grants: Arc<Grants>,
    pre: FilterPre<HostState>,
    pub declared: Vec<FilterDecl>,
}

impl PluginFilters {
    /// Loads the plugin and asks which filters it has.
    pub fn load(manifest: Arc<Manifest>) -> Result<Arc<PluginFilters>, String> {
        let p = prepare(&manifest, filter_linker()?)?;
        let pre = FilterPre::new(p.pre).map_err(|e| {
            format!(
                "plugin `{}` ({}): not a filter component: {e:#}",
                manifest.name,
                manifest.path.display()
            )
        })?;
        let grants = Arc::new(Grants::new(&manifest, None));
        let m = manifest.clone();
        let declared = futures::executor::block_on(async {
            let mut store = sandbox::store(&m, grants.clone(), None)?;
            let inst = pre
                .instantiate_async(&mut store)
                .await
                .map_err(|e| sandbox::explain(&m, "instantiation", &e, ""))?;
            let call = inst.call_describe(&mut store);
            sandbox::guarded(&m, "", "describe", call).await
        })?;
        let declared = declared
            .into_iter()
            .map(|f| FilterDecl {
                name: f.name,
                test: f.kind == FilterKind::Test,
                description: f.description,
            })
            .collect();
        Ok(Arc::new(PluginFilters {
            manifest,
            grants,
            pre,
            declared,
        }))
    }

    /// Calls filter (or test) `name`.
    pub fn call(&self, name: &str, value: Json, args: Vec<Json>) -> Result<Json, String> {
        let m = &self.manifest;
        futures::executor::block_on(async {
            let mut store = sandbox::store(m, self.grants.clone(), None)?;
            let inst = self
                .pre
                .instantiate_async(&mut store)
                .await
                .map_err(|e| sandbox::explain(m, "instantiation", &e, ""))?;
            let what = format!("filter `{name}`");
            let (value, args) = (value.to_string(), Json::from(args).to_string());
            let res = sandbox::deadline(
                m.limits.timeout_secs,
                inst.call_call(&mut store, name, &value, &args),
            )
            .await;
            let out = store.data().output();
            match sandbox::settle(m, &what, res, &out) {
                Settled::Broke(e) => Err(e),
                Settled::Refused(msg) => Err(format!("{what} (plugin `{}`): {msg}", m.name)),
                Settled::Value(text) => serde_json::from_str(&text).map_err(|e| {
                    format!("{what} (plugin `{}`) returned invalid JSON: {e}", m.name)
                }),
            }
        })
    }

    /// Registers every declared filter and test with the template engine.
    pub fn install(self: &Arc<Self>) -> Result<(), String> {
        for d in &self.declared {
            let me = self.clone();
            let name = d.name.clone();
            hoist_core::template::external::register(
                &d.name,
                d.test,
                Arc::new(move |v, a| me.call(&name, v, a)),
            )?;
        }
        Ok(())
    }
}
