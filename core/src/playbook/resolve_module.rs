//! Which module a task's module name means: a module in a `library/` directory (they shadow
//! everything, as in ansible-core), else hoist's native module, else a plugin's, else Ansible's
//! own module through the fallback. Decided once, when the task is loaded.

use super::keywords::module_name;
use super::load::LoadCtx;
use crate::modules::{self, ansible};
use std::path::Path;
use std::sync::Arc;

/// What a module name resolved to.
#[derive(Debug, Clone)]
pub enum Resolved {
    /// A native or plugin module, by its short name.
    Native(String),
    /// Ansible's own module, run by the fallback.
    Ansible(Arc<ansible::Located>),
}

impl Resolved {
    /// The name the task keeps as its action.
    pub fn name(&self) -> String {
        match self {
            Resolved::Native(n) => n.clone(),
            Resolved::Ansible(l) => l.name.clone(),
        }
    }

    /// The native module's description (none for Ansible's modules: they check their own
    /// arguments when they run).
    pub fn info(&self) -> Option<modules::ModuleInfo> {
        match self {
            Resolved::Native(n) => modules::info(n),
            Resolved::Ansible(_) => None,
        }
    }

    pub fn located(&self) -> Option<Arc<ansible::Located>> {
        match self {
            Resolved::Ansible(l) => Some(l.clone()),
            Resolved::Native(_) => None,
        }
    }
}

/// The library directories a task loaded with `ctx` sees.
fn dirs(ctx: &LoadCtx) -> Vec<std::path::PathBuf> {
    let role = ctx.role.as_ref().map(|r| r.path.as_path());
    let bases: Vec<&Path> = role
        .into_iter()
        .chain([ctx.base_dir.as_path(), ctx.playbook_dir.as_path()])
        .collect();
    ansible::library_dirs(bases)
}

/// Resolves module name `written`; `Err` says why nothing was found.
pub fn resolve(written: &str, ctx: &LoadCtx) -> Result<Resolved, String> {
    // A templated name (`action: "{{ module }}"`) is resolved per host when the task runs.
    if crate::template::Templar::is_template(written) {
        return Ok(Resolved::Native(written.to_string()));
    }
    let dirs = dirs(ctx);
    if let Some(found) = ansible::in_library(written, &dirs) {
        return found.map(Resolved::Ansible);
    }
    let short = module_name(written);
    if modules::info(short).is_some() {
        return Ok(Resolved::Native(short.to_string()));
    }
    ansible::locate(written, &dirs).map(Resolved::Ansible)
}
