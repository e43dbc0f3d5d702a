//! Benchmark (not a test): what a plugin module costs per call, against the built-in module that
//! does the same work, both on a recording transport (no network, so only hoist's own cost is
//! measured). Also: component load cold (compile) and from the precompiled cache.
//! Needs `tests/plugins/sandbox-probe/sandbox_probe.wasm` (`hoist plugin build`).

use hoist_core::modules::{Ctx, Mock, Remote, Transport};
use hoist_core::template::Templar;
use hoist_plugins::kinds::module::PluginModule;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CALLS: usize = 2000;
const ROUNDS: usize = 7;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let manifest = repo.join("tests/plugins/sandbox-probe/plugin.toml");
    let m = Arc::new(hoist_plugins::manifest::load(&manifest).unwrap_or_else(|e| panic!("{e}")));
    if !m.component.is_file() {
        panic!("build the probe first: hoist plugin build tests/plugins/sandbox-probe");
    }
    // Loading: cold compile (empty cache) and cached.
    let cache = tempfile::tempdir().expect("tempdir");
    // SAFETY: single-threaded at this point.
    unsafe { std::env::set_var("HOIST_CACHE_DIR", cache.path()) };
    let t = Instant::now();
    let (_, how) = hoist_plugins::engine::load(&m.component).expect("load");
    let cold = t.elapsed();
    assert_eq!(how, hoist_plugins::engine::Load::Compiled);
    let warm = median(
        (0..ROUNDS)
            .map(|_| {
                let t = Instant::now();
                let (_, how) = hoist_plugins::engine::load(&m.component).expect("load");
                assert_eq!(how, hoist_plugins::engine::Load::Cached);
                t.elapsed()
            })
            .collect(),
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let plugin = PluginModule::new(m.clone());
    plugin.described().expect("describe");
    let templar = Templar::new();
    let vars = minijinja::Value::UNDEFINED;
    let facts = json!({});
    let mock = Arc::new(Mock::default());
    let remote = Remote {
        host: "bench".into(),
        transport: Transport::Mock(mock.clone()),
        become_: None,
        env: Vec::new(),
        trace: None,
    };
    let ctx = Ctx {
        host: "bench",
        remote: Some(&remote),
        check: false,
        diff: false,
        templar: &templar,
        vars: &vars,
        search_paths: &[],
        facts: &facts,
        background: None,
        reconnect: None,
    };
    let mut builtin = Vec::new();
    let mut wasm = Vec::new();
    rt.block_on(async {
        for _ in 0..ROUNDS {
            let t = Instant::now();
            for _ in 0..CALLS {
                let r =
                    hoist_core::modules::run("command", &ctx, json!({"_raw_params": "true"})).await;
                assert!(r.is_ok());
            }
            builtin.push(t.elapsed() / CALLS as u32);
            let t = Instant::now();
            for _ in 0..CALLS {
                let r = plugin.call(&ctx, json!({"attempt": "exec_granted"})).await;
                assert!(r.is_ok_and(|o| o.data["leaked"] == "status 0"));
            }
            wasm.push(t.elapsed() / CALLS as u32);
            if let Ok(mut log) = mock.log.lock() {
                log.clear();
            }
        }
    });
    let (b, w) = (median(builtin), median(wasm));
    println!("plugin module call overhead, in process ({CALLS} calls x {ROUNDS} rounds, median)");
    println!(
        "  component load, cold (compile):      {:>9.2} ms",
        cold.as_secs_f64() * 1e3
    );
    println!(
        "  component load, precompiled cache:   {:>9.2} ms",
        warm.as_secs_f64() * 1e3
    );
    println!(
        "  built-in `command: true` per call:   {:>9.1} us",
        b.as_secs_f64() * 1e6
    );
    println!(
        "  plugin (exec `true`) per call:       {:>9.1} us",
        w.as_secs_f64() * 1e6
    );
    println!(
        "  plugin overhead per call:            {:>9.1} us  (plugin/built-in = {:.1}x)",
        (w.as_secs_f64() - b.as_secs_f64()) * 1e6,
        w.as_secs_f64() / b.as_secs_f64()
    );
}
