//! The guest side of hoist's plugin contract (`plugins/wit/hoist-plugin.wit`).
//!
//! A plugin crate enables exactly one kind feature (`module`, `filter`, `inventory`,
//! `callback`), implements that kind's trait, and registers the type with the matching macro:
//!
//! ```ignore
//! use hoist_plugin_sdk::module::{Call, Module, ModuleInfo, Outcome};
//! struct Hello;
//! impl Module for Hello {
//!     fn describe() -> ModuleInfo { ModuleInfo::new("says hello") }
//!     fn run(call: Call) -> Result<Outcome, String> { Ok(Outcome::ok().msg(format!("hello {}", call.host))) }
//! }
//! hoist_plugin_sdk::register_module!(Hello);
//! ```
//!
//! Build with `hoist plugin build` (cargo, target `wasm32-wasip2`). The plugin runs sandboxed:
//! it reaches the target, files, the network and the environment only through the functions
//! here, and only as far as its `plugin.toml` capabilities allow.

#[cfg(any(
    all(feature = "module", feature = "filter"),
    all(feature = "module", feature = "inventory"),
    all(feature = "module", feature = "callback"),
    all(feature = "filter", feature = "inventory"),
    all(feature = "filter", feature = "callback"),
    all(feature = "inventory", feature = "callback"),
))]
compile_error!("enable exactly one of the features `module`, `filter`, `inventory`, `callback`");

#[cfg(not(any(
    feature = "module",
    feature = "filter",
    feature = "inventory",
    feature = "callback"
)))]
compile_error!("enable one of the features `module`, `filter`, `inventory`, `callback`");

#[cfg(feature = "callback")]
pub mod callback;
#[cfg(feature = "filter")]
pub mod filter;
#[cfg(feature = "inventory")]
pub mod inventory;
#[cfg(feature = "module")]
pub mod module;

mod shared;
pub use shared::*;

/// JSON values, as the contract passes them.
pub use serde_json::{self as json, Value, json};
