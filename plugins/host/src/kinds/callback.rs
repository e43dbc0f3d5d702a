//! Callback plugins: receive every run event in order. One instance lives for the whole run on
//! its own thread (so a slow webhook never holds up the run), keeps its state between events,
//! gets fresh fuel per event, and is dropped after a failure (the run goes on; the failure is
//! reported when the run ends).

use super::worlds::callback as world;
use crate::component::{linker, prepare};
use crate::grants::Grants;
use crate::manifest::Manifest;
use crate::sandbox::{self, HostState, Settled};
use hoist_core::run::{Event, Sink};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};
use wasmtime::component::{HasSelf, Linker};
use world::{Callback as World, CallbackPre};

fn callback_linker() -> Result<&'static Linker<HostState>, String> {
    static L: OnceLock<Result<Linker<HostState>, String>> = OnceLock::new();
    L.get_or_init(|| linker(|l| World::add_to_linker::<_, HasSelf<HostState>>(l, |s| s)))
        .as_ref()
        .map_err(Clone::clone)
}

fn pre(manifest: &Manifest) -> Result<CallbackPre<HostState>, String> {
    let p = prepare(manifest, callback_linker()?)?;
    CallbackPre::new(p.pre).map_err(|e| {
        format!(
            "plugin `{}` ({}): not a callback component: {e:#}",
            manifest.name,
            manifest.path.display()
        )
    })
}

/// Loads and links the component.
pub fn check(manifest: &Manifest) -> Result<(), String> {
    pre(manifest).map(|_| ())
}

/// A running callback plugin.
pub struct PluginCallback {
    pub name: String,
    tx: Mutex<Option<Sender<String>>>,
    worker: Mutex<Option<std::thread::JoinHandle<Result<usize, String>>>>,
}

impl PluginCallback {
    /// Loads the plugin and starts its instance.
    pub fn start(manifest: Arc<Manifest>) -> Result<Arc<PluginCallback>, String> {
        let pre = pre(&manifest)?;
        let (tx, rx) = channel::<String>();
        let m = manifest.clone();
        let worker = std::thread::Builder::new()
            .name(format!("callback-{}", manifest.name))
            .spawn(move || deliver(m, pre, rx))
            .map_err(|e| format!("cannot start callback `{}`: {e}", manifest.name))?;
        Ok(Arc::new(PluginCallback {
            name: manifest.name.clone(),
            tx: Mutex::new(Some(tx)),
            worker: Mutex::new(Some(worker)),
        }))
    }

    /// Waits until every event was delivered; the error of a failed callback, if any.
    pub fn finish(&self) -> Result<usize, String> {
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        let handle = self.worker.lock().ok().and_then(|mut w| w.take());
        match handle {
            Some(h) => h
                .join()
                .unwrap_or_else(|_| Err(format!("callback `{}` panicked", self.name))),
            None => Ok(0),
        }
    }
}

fn deliver(
    m: Arc<Manifest>,
    pre: CallbackPre<HostState>,
    rx: Receiver<String>,
) -> Result<usize, String> {
    let grants = Arc::new(Grants::new(&m, None));
    futures::executor::block_on(async {
        let mut store = sandbox::store(&m, grants, None)?;
        let inst = pre
            .instantiate_async(&mut store)
            .await
            .map_err(|e| sandbox::explain(&m, "instantiation", &e, ""))?;
        let mut delivered = 0;
        while let Ok(event) = rx.recv() {
            store
                .set_fuel(m.limits.fuel)
                .map_err(|e| format!("plugin `{}`: {e}", m.name))?;
            let kind = serde_json::from_str::<serde_json::Value>(&event)
                .ok()
                .and_then(|v| v.get("event").and_then(|e| e.as_str()).map(str::to_string))
                .unwrap_or_default();
            let what = format!("event `{kind}`");
            let res = sandbox::deadline(
                m.limits.timeout_secs,
                inst.call_on_event(&mut store, &event),
            )
            .await;
            let out = store.data().output();
            match sandbox::settle(&m, &what, res, &out) {
                Settled::Broke(e) => return Err(format!("{e}; it got no further events")),
                Settled::Refused(msg) => {
                    return Err(format!(
                        "callback plugin `{}` failed on {what}: {msg}; it got no further events",
                        m.name
                    ));
                }
                Settled::Value(()) => delivered += 1,
            }
            let logs = std::mem::take(&mut store.data_mut().logs);
            crate::sandbox::report_logs(&m.name, &logs);
        }
        Ok(delivered)
    })
}

impl Sink for PluginCallback {
    fn event(&self, e: &Event) {
        let Ok(text) = serde_json::to_string(e) else {
            return;
        };
        if let Ok(tx) = self.tx.lock()
            && let Some(tx) = tx.as_ref()
            && tx.send(text).is_err()
        {
            // The worker stopped after a failure; `finish` reports it.
        }
    }
}
