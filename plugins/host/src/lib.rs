//! hoist's WebAssembly plugin host (wasmtime, component model, WASI p2).
//!
//! A plugin is a directory with a `plugin.toml` manifest and a component built from the guest
//! SDK (`plugins/sdk`). Four kinds: modules (task actions), filters (template filters and
//! tests), inventory sources and callbacks. Each call runs in a fresh sandbox that reaches
//! only what the manifest's capabilities grant, within fuel, memory and time limits; a
//! plugin that crashes or loops fails its task with a clear error, never the run.

pub mod ceilings;
pub mod component;
pub mod discover;
pub mod engine;
pub mod files;
pub mod grants;
pub mod http;
pub mod imports;
pub mod kinds;
pub mod manifest;
pub mod sandbox;

pub use discover::{Plugins, discover, search_path};
pub use manifest::{Kind, Manifest, ManifestError};
