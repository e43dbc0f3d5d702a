//! Playbooks: the Ansible-compatible data model ([`model`]), loaded from YAML with every key
//! checked and every error positioned ([`load`]), before anything runs on any host.

mod keywords;
pub mod lint;
pub mod load;
pub mod model;
pub mod module_defaults;
mod parse_task;
pub mod resolve_module;
pub mod undefined;

pub use keywords::closest;
pub use load::{load_playbook, load_playbook_str, load_role_dynamic, load_tasks_file, load_vars};
pub use model::*;
pub use parse_task::{BACKGROUND_MODULES, split_words, whole_seconds};
