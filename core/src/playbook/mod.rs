//! Playbooks: the Ansible-compatible data model ([`model`]), loaded from YAML with every key
//! checked and every error positioned ([`load`]), before anything runs on any host.

mod action_alias;
mod keywords;
pub mod lint;
pub mod load;
pub mod model;
pub mod module_defaults;
mod parse_task;
pub mod resolve_module;
pub mod undefined;

pub use keywords::{closest, module_name};
pub use load::{load_playbook, load_playbook_str, load_role_dynamic, load_tasks_file, load_vars};
pub use model::*;
pub use parse_task::{BACKGROUND_MODULES, split_words, split_words_as_written, whole_seconds};

static STATIC_VARS: std::sync::RwLock<Option<crate::inventory::Vars>> =
    std::sync::RwLock::new(None);

/// Sets the variables known while playbooks load (the command line's extra vars), which
/// static imports may use in their names, as in ansible-core.
pub fn set_static_vars(vars: crate::inventory::Vars) {
    *STATIC_VARS.write().unwrap_or_else(|p| p.into_inner()) = Some(vars);
}

/// The variables known while playbooks load.
pub fn static_vars() -> crate::inventory::Vars {
    STATIC_VARS
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
        .unwrap_or_default()
}
