//! Variable precedence for one host, in the order ansible-core documents and implements
//! (`VARIABLE_PRECEDENCE`): `all` inventory vars, other groups' inventory vars, `group_vars/all`,
//! `group_vars/<group>`, the host's inventory vars, `host_vars/<host>`. Groups merge by depth
//! (parents before children), then `ansible_group_priority`, then name. Top-level keys replace
//! (or, with `ANSIBLE_HASH_BEHAVIOUR=merge`, mappings merge recursively).

use super::{Inventory, Vars};
use serde_json::Value;

impl Inventory {
    /// The groups of `host` other than `all`, in the order their variables apply.
    pub fn sorted_groups_of(&self, host: &str) -> Vec<&str> {
        let mut groups: Vec<&str> = self
            .groups_of(host)
            .into_iter()
            .filter(|g| *g != "all")
            .collect();
        groups.sort_by_key(|g| (self.depth(g), self.priority(g), g.to_string()));
        groups
    }

    fn priority(&self, group: &str) -> i64 {
        let Some(g) = self.groups.get(group) else {
            return 1;
        };
        g.file_vars
            .get("ansible_group_priority")
            .or_else(|| g.vars.get("ansible_group_priority"))
            .and_then(|v| match v {
                Value::Number(n) => n.as_i64(),
                Value::String(s) => s.parse().ok(),
                _ => None,
            })
            .unwrap_or(1)
    }

    /// All variables of `host` merged by precedence, plus the magic `inventory_hostname`,
    /// `inventory_hostname_short` and `group_names`. `None` for an unknown host.
    pub fn host_vars(&self, host: &str) -> Option<Vars> {
        let h = self.hosts.get(host)?;
        let groups = self.sorted_groups_of(host);
        let all = self.groups.get("all");
        let mut vars = Vars::new();
        // Later levels replace a key, or merge into it with `hash_behaviour = merge`.
        let merge = crate::template::hash_merge();
        let mut add = |level: &Vars| {
            for (k, v) in level {
                match vars.get_mut(k) {
                    Some(old) if merge && old.is_object() && v.is_object() => {
                        crate::template::deep_merge(old, v.clone());
                    }
                    _ => {
                        vars.insert(k.clone(), v.clone());
                    }
                }
            }
        };
        if let Some(all) = all {
            add(&all.vars);
        }
        for g in &groups {
            add(&self.groups[*g].vars);
        }
        if let Some(all) = all {
            add(&all.file_vars);
        }
        for g in &groups {
            add(&self.groups[*g].file_vars);
        }
        add(&h.vars);
        add(&h.file_vars);
        vars.insert("inventory_hostname".into(), Value::from(host));
        let short = host.split('.').next().unwrap_or(host);
        vars.insert("inventory_hostname_short".into(), Value::from(short));
        vars.insert("group_names".into(), Value::from(self.group_names(host)));
        Some(vars)
    }

    /// The variables of Ansible's implicit `localhost` (the controller, when the inventory does
    /// not name it): the `all` group's variables and `group_vars/all`, and its `host_vars/`
    /// files.
    pub fn implicit_localhost_vars(&self, name: &str) -> Vars {
        let mut vars = Vars::new();
        if let Some(all) = self.groups.get("all") {
            vars.extend(all.vars.clone());
            vars.extend(all.file_vars.clone());
        }
        if let Some(own) = self.implicit_file_vars.get(name) {
            vars.extend(own.clone());
        }
        vars.insert("inventory_hostname".into(), Value::from(name));
        vars.insert("inventory_hostname_short".into(), Value::from(name));
        vars.insert("group_names".into(), Value::Array(Vec::new()));
        vars.insert("ansible_connection".into(), Value::from("local"));
        vars
    }
}
