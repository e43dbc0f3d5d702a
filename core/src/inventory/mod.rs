//! Ansible-compatible inventory: hosts, nested groups and their variables.
//!
//! Sources are YAML ([`yaml`]) or INI ([`ini`]) files, or directories of them, each with optional
//! `group_vars/` and `host_vars/` beside it ([`vars_dirs`]). Variables merge in Ansible's documented
//! order ([`precedence`]); hosts are selected with Ansible host patterns ([`pattern`]).

mod graph;
mod ini;
mod load;
pub mod plugin_source;
mod precedence;
mod range;
mod unique_map;
mod vars_dirs;
mod yaml;

pub mod pattern;

pub use graph::graph_lines;
pub use pattern::PatternError;
pub use range::expand as expand_range;

use crate::source::SourceError;
use indexmap::{IndexMap, IndexSet};
use serde_json::Value;
use std::path::PathBuf;

/// A variable map, kept in the order it was written.
pub type Vars = serde_json::Map<String, Value>;

/// `from`'s variables laid over `into`: a later source replaces a variable, or with
/// `hash_behaviour = merge` merges a mapping into the one already there.
pub fn merge_vars(into: &mut Vars, from: Vars) {
    let merge = crate::template::hash_merge();
    for (k, v) in from {
        match into.get_mut(&k) {
            Some(old) if merge && old.is_object() && v.is_object() => {
                crate::template::deep_merge(old, v);
            }
            _ => {
                into.insert(k, v);
            }
        }
    }
}

/// One host of the inventory.
#[derive(Debug, Clone, Default)]
pub struct Host {
    pub name: String,
    /// Variables written on the host in an inventory file.
    pub vars: Vars,
    /// Variables from `host_vars/<name>`.
    pub file_vars: Vars,
}

/// One group: its own hosts, child groups and variables.
#[derive(Debug, Clone, Default)]
pub struct Group {
    pub name: String,
    /// Its own hosts in the order they were added (a set: inventories of many thousand hosts).
    pub hosts: IndexSet<String>,
    pub children: Vec<String>,
    /// Variables written on the group in an inventory file.
    pub vars: Vars,
    /// Variables from `group_vars/<name>`.
    pub file_vars: Vars,
}

/// Everything that can go wrong while loading an inventory.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{0}")]
    Source(#[from] SourceError),
    #[error("cannot read inventory source {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("inventory source {0} does not exist")]
    Missing(PathBuf),
    #[error("group `{0}` is its own ancestor (a cycle in `children`)")]
    Cycle(String),
    #[error("inventory source {path}: {message}")]
    Plugin { path: PathBuf, message: String },
}

/// A loaded inventory: hosts and groups in the order they were first written.
#[derive(Debug, Clone)]
pub struct Inventory {
    pub hosts: IndexMap<String, Host>,
    pub groups: IndexMap<String, Group>,
    pub sources: Vec<PathBuf>,
    /// `host_vars/localhost.yml` (and `127.0.0.1`) for Ansible's implicit localhost, which is
    /// not among `hosts` but reads its host_vars files all the same.
    pub implicit_file_vars: IndexMap<String, Vars>,
}

impl Default for Inventory {
    fn default() -> Self {
        Self::new()
    }
}

impl Inventory {
    /// An empty inventory with the implicit `all` and `ungrouped` groups.
    pub fn new() -> Self {
        let mut groups = IndexMap::new();
        for g in ["all", "ungrouped"] {
            groups.insert(
                g.to_string(),
                Group {
                    name: g.to_string(),
                    ..Group::default()
                },
            );
        }
        Inventory {
            hosts: IndexMap::new(),
            groups,
            sources: Vec::new(),
            implicit_file_vars: IndexMap::new(),
        }
    }

    /// Loads and merges the given sources (files or directories), in order.
    pub fn load(paths: &[PathBuf]) -> Result<Inventory, InventoryError> {
        load::load(paths)
    }

    /// Adds the `group_vars/` and `host_vars/` beside a playbook: Ansible applies them above the
    /// inventory's own (for `all` and for each group and host alike).
    pub fn add_vars_dirs(&mut self, base: &std::path::Path) -> Result<(), InventoryError> {
        if self
            .sources
            .iter()
            .any(|s| s == base || s.parent() == Some(base))
        {
            return Ok(());
        }
        load::apply_vars_dirs(self, base)
    }

    /// Adds (or finds) a group.
    pub fn group_mut(&mut self, name: &str) -> &mut Group {
        self.groups
            .entry(name.to_string())
            .or_insert_with(|| Group {
                name: name.to_string(),
                ..Group::default()
            })
    }

    /// Adds (or finds) a host and makes it a member of `group`; host vars merge, later wins.
    pub fn add_host(&mut self, name: &str, group: &str, vars: Vars) {
        let host = self.hosts.entry(name.to_string()).or_insert_with(|| Host {
            name: name.to_string(),
            ..Host::default()
        });
        merge_vars(&mut host.vars, vars);
        let g = self.group_mut(group);
        if !g.hosts.contains(name) {
            g.hosts.insert(name.to_string());
        }
    }

    /// Makes `child` a child group of `parent`.
    pub fn add_child(&mut self, parent: &str, child: &str) {
        self.group_mut(child);
        let p = self.group_mut(parent);
        if !p.children.iter().any(|c| c == child) {
            p.children.push(child.to_string());
        }
    }

    /// Groups that list `group` as a child.
    pub fn parents_of(&self, group: &str) -> Vec<&str> {
        self.groups
            .values()
            .filter(|g| g.children.iter().any(|c| c == group))
            .map(|g| g.name.as_str())
            .collect()
    }

    /// Links top-level groups under `all`, fills `ungrouped`, and rejects cycles.
    pub(crate) fn finalize(&mut self) -> Result<(), InventoryError> {
        let names: Vec<String> = self.groups.keys().cloned().collect();
        for g in &names {
            self.check_acyclic(g, &mut Vec::new())?;
        }
        // Top-level groups hang under `all`; `ungrouped` goes last, as ansible-inventory shows it.
        for g in names
            .iter()
            .filter(|g| *g != "ungrouped")
            .chain(["ungrouped".to_string()].iter())
        {
            if g != "all" && self.parents_of(g).is_empty() {
                self.add_child("all", g);
            }
        }
        let grouped: std::collections::HashSet<String> = self
            .groups
            .values()
            .filter(|g| g.name != "all" && g.name != "ungrouped")
            .flat_map(|g| g.hosts.iter().cloned())
            .collect();
        let ungrouped: IndexSet<String> = self
            .hosts
            .keys()
            .filter(|h| !grouped.contains(*h))
            .cloned()
            .collect();
        let ug = self.group_mut("ungrouped");
        ug.hosts = ungrouped;
        self.group_mut("all").hosts.clear();
        Ok(())
    }

    fn check_acyclic(&self, group: &str, path: &mut Vec<String>) -> Result<(), InventoryError> {
        if path.iter().any(|p| p == group) {
            return Err(InventoryError::Cycle(group.to_string()));
        }
        path.push(group.to_string());
        if let Some(g) = self.groups.get(group) {
            for c in &g.children {
                self.check_acyclic(c, path)?;
            }
        }
        path.pop();
        Ok(())
    }

    /// Every host of `group`, its own and its descendants', in inventory order.
    pub fn hosts_of_group(&self, group: &str) -> Vec<&str> {
        if group == "all" {
            return self.hosts.keys().map(String::as_str).collect();
        }
        let mut seen = std::collections::HashSet::new();
        self.collect_group_hosts(group, &mut seen);
        self.hosts
            .keys()
            .filter(|h| seen.contains(h.as_str()))
            .map(String::as_str)
            .collect()
    }

    fn collect_group_hosts<'a>(
        &'a self,
        group: &str,
        seen: &mut std::collections::HashSet<&'a str>,
    ) {
        if let Some(g) = self.groups.get(group) {
            seen.extend(g.hosts.iter().map(String::as_str));
            for c in &g.children {
                self.collect_group_hosts(c, seen);
            }
        }
    }

    /// Every group `host` belongs to, directly or through a child group, `all` included.
    pub fn groups_of(&self, host: &str) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let mut stack: Vec<&str> = self
            .groups
            .values()
            .filter(|g| g.hosts.contains(host))
            .map(|g| g.name.as_str())
            .collect();
        while let Some(g) = stack.pop() {
            if out.contains(&g) {
                continue;
            }
            out.push(g);
            stack.extend(self.parents_of(g));
        }
        if self.hosts.contains_key(host) && !out.contains(&"all") {
            out.push("all");
        }
        out
    }

    /// Distance of a group from `all` along its longest parent chain (`all` is 0).
    pub fn depth(&self, group: &str) -> usize {
        if group == "all" {
            return 0;
        }
        self.parents_of(group)
            .into_iter()
            .map(|p| self.depth(p) + 1)
            .max()
            .unwrap_or(1)
    }

    /// The names of the groups a host is in, `all` and `ungrouped` left out, sorted.
    pub fn group_names(&self, host: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .groups_of(host)
            .into_iter()
            .filter(|g| *g != "all" && *g != "ungrouped")
            .map(String::from)
            .collect();
        names.sort();
        names
    }
}
