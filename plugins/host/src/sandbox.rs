//! One plugin call's sandbox: a fresh store with WASI that grants nothing (no preopened
//! directories, no environment, no arguments, no sockets, stdout/stderr captured), a memory
//! limit, fuel, a wall-clock deadline, and the plugin's grants for hoist's own host calls.
//! Traps and limits become one clear error naming the plugin and its file.

use crate::grants::Grants;
use crate::manifest::{Limits, Manifest};
use hoist_core::modules::Remote;
use std::sync::Arc;
use std::time::Duration;
use wasmtime::{Store, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// A log line from the guest.
#[derive(Debug, Clone)]
pub struct LogLine {
    pub level: &'static str,
    pub message: String,
}

/// What the guest can reach during one call.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: crate::ceilings::Budget,
    pub grants: Arc<Grants>,
    pub plugin: String,
    pub logs: Vec<LogLine>,
    /// The task's host, for modules.
    pub target: Option<Remote>,
    output: MemoryOutputPipe,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Fuel between yields to the async executor, so deadlines and other tasks get their turn.
const YIELD_EVERY: u64 = 20_000_000;

/// A store for one call of `m`'s plugin.
pub fn store(
    m: &Manifest,
    grants: Arc<Grants>,
    target: Option<Remote>,
) -> Result<Store<HostState>, String> {
    let engine = crate::engine::engine()?;
    let output = MemoryOutputPipe::new(64 * 1024);
    let wasi = WasiCtxBuilder::new()
        .stdout(output.clone())
        .stderr(output.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .socket_addr_check(|_, _| Box::pin(async { false }))
        .build();
    let limits = crate::ceilings::Budget::new(
        usize::try_from(m.limits.memory_mb << 20).unwrap_or(usize::MAX),
        crate::ceilings::current().table_elements,
    );
    let state = HostState {
        wasi,
        table: ResourceTable::new(),
        limits,
        grants,
        plugin: m.name.clone(),
        logs: Vec::new(),
        target,
        output,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limits);
    store
        .set_fuel(m.limits.fuel)
        .map_err(|e| format!("plugin `{}`: {e}", m.name))?;
    store
        .fuel_async_yield_interval(Some(YIELD_EVERY))
        .map_err(|e| format!("plugin `{}`: {e}", m.name))?;
    Ok(store)
}

/// Runs `call` within the plugin's wall-clock limit; any trap becomes a clear message.
pub async fn guarded<T, F>(
    m: &Manifest,
    store_output: &str,
    what: &str,
    call: F,
) -> Result<T, String>
where
    F: std::future::Future<Output = wasmtime::Result<T>>,
{
    match deadline(m.limits.timeout_secs, call).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(explain(m, what, &e, store_output)),
        Err(()) => Err(overran(m, what)),
    }
}

fn overran(m: &Manifest, what: &str) -> String {
    format!(
        "plugin `{}` ({}) did not finish {what} within its {} s limit (limits.timeout_secs)",
        m.name,
        m.path.display(),
        m.limits.timeout_secs
    )
}

/// How a call into a guest ended.
pub enum Settled<T> {
    /// It returned a value.
    Value(T),
    /// It returned its own error: the guest's message.
    Refused(String),
    /// It trapped or overran its wall-clock limit: one sentence naming the plugin and what ran
    /// out.
    Broke(String),
}

/// Sorts the outcome of a guest call made under [`deadline`], whose value is the guest's
/// `result<T, string>`; `output` is what the guest printed (for a trap's message).
pub fn settle<T>(
    m: &Manifest,
    what: &str,
    res: Result<wasmtime::Result<Result<T, String>>, ()>,
    output: &str,
) -> Settled<T> {
    match res {
        Err(()) => Settled::Broke(overran(m, what)),
        Ok(Err(e)) => Settled::Broke(explain(m, what, &e, output)),
        Ok(Ok(Err(msg))) => Settled::Refused(msg),
        Ok(Ok(Ok(v))) => Settled::Value(v),
    }
}

/// `f` with a wall-clock limit where a tokio runtime can time it (elsewhere, fuel bounds the
/// guest's own work and every host call has its own timeout).
pub async fn deadline<F: std::future::Future>(secs: u64, f: F) -> Result<F::Output, ()> {
    if tokio::runtime::Handle::try_current().is_ok() {
        tokio::time::timeout(Duration::from_secs(secs), f)
            .await
            .map_err(|_| ())
    } else {
        Ok(f.await)
    }
}

/// Prints a plugin's warnings and errors on stderr (secrets masked); info and debug lines are
/// kept only where a result carries them (module results).
pub fn report_logs(plugin: &str, logs: &[LogLine]) {
    for l in logs
        .iter()
        .filter(|l| l.level == "warn" || l.level == "error")
    {
        eprintln!(
            "{}: plugin `{plugin}`: {}",
            if l.level == "warn" {
                "warning"
            } else {
                "error"
            },
            hoist_core::secrets::redact(&l.message)
        );
    }
}

impl HostState {
    /// What the guest wrote to stdout/stderr (a panic message, typically).
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.output.contents()).into_owned()
    }
}

/// One sentence for a failed call: out of fuel, out of memory, a crash (with the guest's panic
/// message), or the engine's own error.
pub fn explain(m: &Manifest, what: &str, e: &wasmtime::Error, output: &str) -> String {
    let who = format!("plugin `{}` ({})", m.name, m.path.display());
    let Limits {
        memory_mb, fuel, ..
    } = m.limits;
    let text = format!("{e:#}");
    let tail = output.trim();
    let said = if tail.is_empty() {
        String::new()
    } else {
        let last: Vec<&str> = tail.lines().rev().take(5).collect();
        format!(
            "; it said: {}",
            last.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )
    };
    if let Some(trap) = e.downcast_ref::<Trap>() {
        return match trap {
            Trap::OutOfFuel => format!(
                "{who} used up its fuel ({fuel} units, limits.fuel) during {what}: an endless loop, or raise the limit"
            ),
            Trap::StackOverflow => format!("{who} overflowed its stack during {what}{said}"),
            Trap::UnreachableCodeReached if tail.contains("memory allocation of") => format!(
                "{who} ran out of memory ({memory_mb} MiB, limits.memory_mb) during {what}{said}"
            ),
            Trap::UnreachableCodeReached => format!("{who} crashed during {what}{said}"),
            other => format!("{who} trapped during {what}: {other}{said}"),
        };
    }
    if text.contains(crate::ceilings::MEMORY_REACHED) || text.contains("memory minimum size") {
        return format!(
            "{who} exceeded its memory limit ({memory_mb} MiB in all its memories, limits.memory_mb) during {what}"
        );
    }
    if text.contains(crate::ceilings::TABLE_REACHED) {
        return format!("{who} exceeded its table limit during {what}: {text}");
    }
    format!("{who} failed during {what}: {text}{said}")
}
