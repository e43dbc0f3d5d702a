//! Loading a plugin's component for its kind: read through the cache, check the contract
//! version, link against the kind's imports (WASI with nothing granted + hoist's interfaces).

use crate::engine::{self, Load};
use crate::manifest::Manifest;
use crate::sandbox::HostState;
use wasmtime::component::{Component, InstancePre, Linker};

/// A component ready to instantiate, and how it was loaded.
pub struct Prepared {
    pub pre: InstancePre<HostState>,
    pub load: Load,
    pub load_ms: f64,
}

/// A linker with WASI (which grants nothing: see sandbox.rs) plus what `add` links.
pub fn linker(
    add: impl FnOnce(&mut Linker<HostState>) -> wasmtime::Result<()>,
) -> Result<Linker<HostState>, String> {
    let mut l = Linker::new(engine::engine()?);
    wasmtime_wasi::p2::add_to_linker_async(&mut l).map_err(|e| format!("linking WASI: {e}"))?;
    add(&mut l).map_err(|e| format!("linking hoist's interfaces: {e}"))?;
    Ok(l)
}

/// Loads `m`'s component and pre-instantiates it with `linker`.
pub fn prepare(m: &Manifest, linker: &Linker<HostState>) -> Result<Prepared, String> {
    let who = format!("plugin `{}` ({})", m.name, m.path.display());
    if !m.component.is_file() {
        return Err(format!(
            "{who}: component {} not found: build it with `hoist plugin build {}`",
            m.component.display(),
            m.dir().display()
        ));
    }
    let t = std::time::Instant::now();
    let (component, load): (Component, Load) =
        engine::load(&m.component).map_err(|e| format!("{who}: {e}"))?;
    engine::check_contract(&component, &m.name, &m.path)?;
    let pre = linker.instantiate_pre(&component).map_err(|e| {
        format!(
            "{who}: the component does not fit kind `{}` of its manifest (built with the SDK's `{}` feature?): {e:#}",
            m.kind.as_str(),
            m.kind.as_str()
        )
    })?;
    Ok(Prepared {
        pre,
        load,
        load_ms: t.elapsed().as_secs_f64() * 1000.0,
    })
}
