//! The inventory as a run sees it: the loaded inventory, each host's merged inventory
//! variables and the `groups` magic variable, grown while the run goes by `add_host` and
//! `group_by` (copy-on-write: scopes already handed out keep their snapshot).

use crate::inventory::{Inventory, InventoryError, Vars};
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::sync::Arc;

/// One snapshot of the run's inventory.
pub(crate) struct InvView {
    pub inv: Arc<Inventory>,
    /// Each host's inventory variables, merged (the implicit localhost too).
    pub vars: HashMap<String, Arc<Vars>>,
    /// `groups`: each group's hosts.
    pub groups: Arc<Json>,
}

impl InvView {
    pub fn new(inv: Arc<Inventory>) -> InvView {
        let mut vars: HashMap<String, Arc<Vars>> = inv
            .hosts
            .keys()
            .map(|h| (h.clone(), Arc::new(inv.host_vars(h).unwrap_or_default())))
            .collect();
        for name in ["localhost", "127.0.0.1"] {
            vars.entry(name.to_string()).or_insert_with(|| {
                let mut v = inv.implicit_localhost_vars(name);
                v.entry("ansible_python_interpreter").or_insert_with(|| {
                    crate::modules::ansible::controller_python()
                        .display()
                        .to_string()
                        .into()
                });
                Arc::new(v)
            });
        }
        let groups: serde_json::Map<String, Json> = inv
            .groups
            .keys()
            .map(|g| (g.clone(), json!(inv.hosts_of_group(g))))
            .collect();
        InvView {
            inv,
            vars,
            groups: Arc::new(Json::Object(groups)),
        }
    }

    /// The view after `change`, and whether it changed anything.
    pub fn with(&self, change: &InvChange) -> Result<Option<InvView>, InventoryError> {
        let mut inv = (*self.inv).clone();
        let before = (
            inv.hosts.len(),
            membership(&inv),
            inv.hosts.get(change.host()).map(|h| h.vars.clone()),
        );
        match change {
            InvChange::AddHost { name, groups, vars } => {
                let group = groups.first().map(String::as_str).unwrap_or("ungrouped");
                inv.add_host(name, group, vars.clone());
                for g in groups.iter().skip(1) {
                    inv.add_host(name, g, Vars::new());
                }
            }
            InvChange::GroupBy {
                host,
                group,
                parents,
            } => {
                inv.add_host(host, group, Vars::new());
                for p in parents {
                    if p != group {
                        inv.add_child(p, group);
                    }
                }
            }
        }
        inv.finalize()?;
        let after = (
            inv.hosts.len(),
            membership(&inv),
            inv.hosts.get(change.host()).map(|h| h.vars.clone()),
        );
        if before == after {
            return Ok(None);
        }
        Ok(Some(InvView::new(Arc::new(inv))))
    }
}

fn membership(inv: &Inventory) -> Vec<(String, indexmap::IndexSet<String>, Vec<String>)> {
    inv.groups
        .values()
        .map(|g| (g.name.clone(), g.hosts.clone(), g.children.clone()))
        .collect()
}

/// What `add_host` and `group_by` do to the inventory.
#[derive(Debug, Clone)]
pub(crate) enum InvChange {
    AddHost {
        name: String,
        groups: Vec<String>,
        vars: Vars,
    },
    GroupBy {
        host: String,
        group: String,
        parents: Vec<String>,
    },
}

impl InvChange {
    fn host(&self) -> &str {
        match self {
            InvChange::AddHost { name, .. } => name,
            InvChange::GroupBy { host, .. } => host,
        }
    }

    /// The change a successful `add_host` / `group_by` result asks for (ansible-core's strategy
    /// reads the same keys), for `host`.
    pub fn from_result(action: &str, host: &str, result: &Json) -> Option<InvChange> {
        let strings = |v: Option<&Json>| -> Vec<String> {
            match v {
                Some(Json::Array(a)) => a
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect(),
                Some(Json::String(s)) => vec![s.clone()],
                _ => Vec::new(),
            }
        };
        match action {
            "add_host" => {
                let a = result.get("add_host")?;
                Some(InvChange::AddHost {
                    name: a.get("host_name")?.as_str()?.to_string(),
                    groups: strings(a.get("groups")),
                    vars: a
                        .get("host_vars")
                        .and_then(Json::as_object)
                        .cloned()
                        .unwrap_or_default(),
                })
            }
            "group_by" => Some(InvChange::GroupBy {
                host: host.to_string(),
                group: result.get("add_group")?.as_str()?.to_string(),
                parents: strings(result.get("parent_groups")),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_groups_grow_and_say_when_they_did() {
        let mut inv = Inventory::new();
        inv.add_host("a", "web", Vars::new());
        inv.finalize().unwrap();
        let v = InvView::new(Arc::new(inv));
        let add = InvChange::AddHost {
            name: "b".into(),
            groups: vec!["db".into(), "web".into()],
            vars: Vars::from_iter([("x".to_string(), json!(1))]),
        };
        let v2 = v.with(&add).unwrap().expect("a new host is a change");
        assert_eq!(v2.groups["db"], json!(["b"]));
        assert_eq!(v2.groups["web"], json!(["a", "b"]));
        assert_eq!(v2.vars["b"]["x"], json!(1));
        assert!(
            v2.with(&add).unwrap().is_none(),
            "adding it again changes nothing"
        );
        let by = InvChange::GroupBy {
            host: "a".into(),
            group: "debian".into(),
            parents: vec!["all".into()],
        };
        let v3 = v2.with(&by).unwrap().unwrap();
        assert_eq!(v3.groups["debian"], json!(["a"]));
        assert!(v3.with(&by).unwrap().is_none());
        assert_eq!(
            v3.inv.group_names("a"),
            vec!["debian".to_string(), "web".to_string()]
        );
    }
}
