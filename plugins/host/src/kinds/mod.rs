//! The four plugin kinds, each a wasmtime binding of its WIT world plus the glue into hoist.

pub mod callback;
pub mod filter;
pub mod inventory;
pub mod module;

use crate::manifest::{Kind, Manifest};
use std::sync::Arc;

/// Loads `m`'s component as its kind and proves it links (and, for modules and filters,
/// answers `describe`).
pub fn check(m: &Arc<Manifest>) -> Result<(), String> {
    match m.kind {
        Kind::Module => module::PluginModule::new(m.clone()).described().map(|_| ()),
        Kind::Filter => filter::PluginFilters::load(m.clone()).map(|_| ()),
        Kind::Inventory => inventory::PluginInventory::new(m.clone()).check(),
        Kind::Callback => callback::check(m),
    }
}

/// Bindings for every world, sharing the imported interfaces of `crate::imports`.
mod worlds {
    macro_rules! world {
        ($modname:ident, $world:literal, { $($iface:literal => $path:ident),* }) => {
            pub mod $modname {
                wasmtime::component::bindgen!({
                    world: $world,
                    path: "../wit",
                    imports: { default: async },
                    exports: { default: async },
                    with: {
                        "hoist:plugin/types": crate::imports::hoist::plugin::types,
                        "hoist:plugin/log": crate::imports::hoist::plugin::log,
                        $($iface: crate::imports::hoist::plugin::$path,)*
                    },
                });
            }
        };
    }
    world!(module, "module", { "hoist:plugin/target" => target, "hoist:plugin/http" => http });
    world!(filter, "filter", {});
    world!(inventory, "inventory", {
        "hoist:plugin/controller" => controller,
        "hoist:plugin/http" => http
    });
    world!(callback, "callback", {
        "hoist:plugin/controller" => controller,
        "hoist:plugin/http" => http
    });
}
