//! Inventory plugins: produce hosts, groups and variables. Implement [`Source`], register with
//! [`register_inventory!`](crate::register_inventory).

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "inventory",
        path: "../wit",
        pub_export_macro: true,
        export_macro_name: "__export_inventory",
        default_bindings_module: "hoist_plugin_sdk::inventory::bindings",
    });
}

use serde_json::{Map, Value};

/// A host with its variables.
#[derive(Debug, Clone, Default)]
pub struct Host {
    pub name: String,
    pub vars: Map<String, Value>,
}

/// A group: member hosts, child groups, variables.
#[derive(Debug, Clone, Default)]
pub struct Group {
    pub name: String,
    pub hosts: Vec<String>,
    pub children: Vec<String>,
    pub vars: Map<String, Value>,
}

/// What the source produced.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    pub hosts: Vec<Host>,
    pub groups: Vec<Group>,
}

impl Inventory {
    /// The group called `name`, created on first use.
    pub fn group(&mut self, name: &str) -> &mut Group {
        let at = match self.groups.iter().position(|g| g.name == name) {
            Some(i) => i,
            None => {
                self.groups.push(Group {
                    name: name.into(),
                    ..Group::default()
                });
                self.groups.len() - 1
            }
        };
        &mut self.groups[at]
    }
}

/// An inventory source.
pub trait Source {
    /// `config` is the inventory file (the mapping holding `plugin:`), `source_dir` its folder.
    fn load(config: Map<String, Value>, source_dir: &str) -> Result<Inventory, String>;
}

#[doc(hidden)]
pub struct Adapter<T>(core::marker::PhantomData<T>);

impl<T: Source> bindings::Guest for Adapter<T> {
    fn load(config: String, source_dir: String) -> Result<bindings::InventoryData, String> {
        let config = match serde_json::from_str(&config) {
            Ok(Value::Object(m)) => m,
            _ => return Err("the configuration must be a mapping".into()),
        };
        let inv = T::load(config, &source_dir)?;
        Ok(bindings::InventoryData {
            hosts: inv
                .hosts
                .into_iter()
                .map(|h| bindings::InventoryHost {
                    name: h.name,
                    vars: Value::Object(h.vars).to_string(),
                })
                .collect(),
            groups: inv
                .groups
                .into_iter()
                .map(|g| bindings::InventoryGroup {
                    name: g.name,
                    hosts: g.hosts,
                    children: g.children,
                    vars: Value::Object(g.vars).to_string(),
                })
                .collect(),
        })
    }
}

/// Registers the plugin's [`Source`] type.
#[macro_export]
macro_rules! register_inventory {
    ($t:ty) => {
        type __HoistInventoryExport = $crate::inventory::Adapter<$t>;
        $crate::inventory::bindings::__export_inventory!(__HoistInventoryExport with_types_in $crate::inventory::bindings);
    };
}
