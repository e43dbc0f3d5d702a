//! YAML with positions: every node of a playbook, role or vars file keeps its line and column, so
//! errors found after parsing (an unknown module argument, a `when` that is not a boolean) still
//! point at the exact place. Scalars resolve as Ansible's PyYAML does (YAML 1.1: `yes`/`no`/`on`/
//! `off` are booleans, `0644` is octal); anchors, aliases and `<<` merge keys are supported, and
//! duplicate keys are errors.

mod load;
mod node;
mod scalar;

pub use load::{load_file, parse_str};
pub use node::{Doc, Node, NodeKind};
