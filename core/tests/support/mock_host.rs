#![allow(dead_code)]

//! A recording host for module tests: runs one module call against `Mock` (answers from a
//! queue, then exit 0 with no output) with a fixed host, facts and variables, and returns what
//! the module reported and every script it sent (with its stdin).

use hoist_core::inventory::Vars;
use hoist_core::modules::{self, Ctx, Mock, Remote, Transport};
use hoist_core::template::{Layer, Scope, Templar};
use serde_json::{Value as Json, json};
use std::path::PathBuf;
use std::sync::Arc;

/// What one call did: its result (or error text) and the scripts sent, in order.
pub struct Called {
    pub result: Result<Json, String>,
    pub sent: Vec<(String, Option<String>)>,
}

/// Runs `module` with `args` on host `web1`; `replies` answer its probes in order.
pub fn call(module: &str, args: &Json, replies: &[(u32, &str)], check: bool, diff: bool) -> Called {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mock = Arc::new(Mock::default());
    for (status, out) in replies {
        mock.reply(*status, out);
    }
    let remote = Remote {
        host: "web1".into(),
        transport: Transport::Mock(mock.clone()),
        become_: None,
        env: vec![],
        trace: None,
    };
    let templar = Arc::new(Templar::new());
    let vars: Vars = json!({"inventory_hostname": "web1", "port": 8080})
        .as_object()
        .cloned()
        .unwrap_or_default();
    let scope = Scope::new(
        vec![Layer::templates(Arc::new(vars))],
        templar.clone(),
        None,
    );
    let ctx_value = scope.context();
    let search = vec![PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/modules")];
    let facts = json!({"pkg_mgr": "apt", "service_mgr": "systemd", "distribution": "Debian"});
    let ctx = Ctx {
        host: "web1",
        remote: Some(&remote),
        check,
        diff,
        templar: &templar,
        vars: &ctx_value,
        search_paths: &search,
        facts: &facts,
        background: None,
        reconnect: None,
    };
    let result = rt
        .block_on(modules::run(module, &ctx, args.clone()))
        .map(|o| o.to_json())
        .map_err(|e| e.to_string());
    let sent = mock.log.lock().map(|l| l.clone()).unwrap_or_default();
    Called { result, sent }
}
