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
    /// The playbook's own action plugin that re-exports a built-in action: (that action, the
    /// name as written).
    Alias(String, String),
}

impl Resolved {
    /// The name the task keeps as its action.
    pub fn name(&self) -> String {
        match self {
            Resolved::Native(n) | Resolved::Alias(n, _) => n.clone(),
            Resolved::Ansible(l) => l.name.clone(),
        }
    }

    /// The native module's description (none for Ansible's modules: they check their own
    /// arguments when they run).
    pub fn info(&self) -> Option<modules::ModuleInfo> {
        match self {
            Resolved::Native(n) | Resolved::Alias(n, _) => modules::info(n),
            Resolved::Ansible(_) => None,
        }
    }

    pub fn located(&self) -> Option<Arc<ansible::Located>> {
        match self {
            Resolved::Ansible(l) => Some(l.clone()),
            Resolved::Native(_) | Resolved::Alias(..) => None,
        }
    }

    /// The name as written, for an action plugin standing for a built-in action.
    pub fn written(&self) -> Option<&str> {
        match self {
            Resolved::Alias(_, w) => Some(w),
            _ => None,
        }
    }
}

/// The directories a task loaded with `ctx` finds plugins beside: its role's, then the
/// playbook's.
fn bases(ctx: &LoadCtx) -> Vec<&Path> {
    let role = ctx.role.as_ref().map(|r| r.path.as_path());
    role.into_iter()
        .chain([ctx.base_dir.as_path(), ctx.playbook_dir.as_path()])
        .collect()
}

/// The library directories a task loaded with `ctx` sees.
fn dirs(ctx: &LoadCtx) -> Vec<std::path::PathBuf> {
    ansible::library_dirs(bases(ctx))
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
        // The operator may ask for Ansible's own module instead (--ansible-module).
        match ansible::forced(short) {
            Some(ansible::Forced::Named) => {
                if let Some(why) = ansible::forced_refusal(short) {
                    return Err(why);
                }
                return ansible::locate(written, &dirs)
                    .map(Resolved::Ansible)
                    .map_err(|e| {
                        format!(
                            "asked to run as Ansible's own module (--ansible-module), which was not found: {e}"
                        )
                    });
            }
            Some(ansible::Forced::All) => {
                if let Ok(found) = ansible::locate(written, &dirs) {
                    return Ok(Resolved::Ansible(found));
                }
            }
            None => {}
        }
        return Ok(Resolved::Native(short.to_string()));
    }
    if let Some(action) =
        super::action_alias::builtin_of(written, &super::action_alias::dirs(bases(ctx)))
        && modules::info(&action).is_some()
    {
        return Ok(Resolved::Alias(action, written.to_string()));
    }
    ansible::locate_in(written, &dirs, &search_list(&ctx.collections)).map(Resolved::Ansible)
}

/// The collections a short name is searched in: those in force, then ansible-core's own
/// (`ansible.legacy`, added as ansible-core adds it when a list does not name it).
fn search_list(collections: &[String]) -> Vec<String> {
    let mut list = collections.to_vec();
    if !list.is_empty()
        && !list
            .iter()
            .any(|c| c == "ansible.builtin" || c == "ansible.legacy")
    {
        list.push("ansible.legacy".into());
    }
    list
}
