//! Modules that live outside hoist-core (WebAssembly plugins): a process-wide registry the
//! playbook loader, the static check and the runner consult after the built-ins.

use super::{ArgIssue, Ctx, ModResult, ModuleInfo};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

/// The future an external module's run returns.
pub type RunFuture<'a> = Pin<Box<dyn Future<Output = ModResult> + Send + 'a>>;

/// A module provided from outside hoist-core.
pub trait External: Send + Sync {
    /// Name, arguments, free-form, controller-only.
    fn info(&self) -> Result<ModuleInfo, String>;
    /// Checks argument values before the run, where no template is involved (unknown names
    /// were already refused against `info().fields`).
    fn validate(&self, args: &Json) -> Result<(), ArgIssue>;
    /// Runs the module with templated `args`.
    fn run<'a>(&'a self, ctx: &'a Ctx<'a>, args: Json) -> RunFuture<'a>;
}

static REGISTRY: RwLock<BTreeMap<String, Arc<dyn External>>> = RwLock::new(BTreeMap::new());

/// Registers `module` as `name`. A built-in's name is refused (plugins cannot shadow built-ins)
/// and so is a name taken by another external module.
pub fn register(name: &str, module: Arc<dyn External>) -> Result<(), String> {
    if super::builtin_info(name).is_some() {
        return Err(format!(
            "`{name}` is a built-in module; a plugin cannot replace it"
        ));
    }
    let mut r = REGISTRY
        .write()
        .map_err(|_| "module registry poisoned".to_string())?;
    if r.contains_key(name) {
        return Err(format!("two plugins provide the module `{name}`"));
    }
    r.insert(name.to_string(), module);
    Ok(())
}

/// Removes every external module (for tests and reloads).
pub fn clear() {
    if let Ok(mut r) = REGISTRY.write() {
        r.clear();
    }
}

/// The external module called `name`.
pub fn get(name: &str) -> Option<Arc<dyn External>> {
    REGISTRY.read().ok()?.get(name).cloned()
}

/// Every external module's name.
pub fn names() -> Vec<String> {
    REGISTRY
        .read()
        .map(|r| r.keys().cloned().collect())
        .unwrap_or_default()
}
