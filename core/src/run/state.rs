//! Per-host state across a run: facts, `set_fact`/`register` variables, failure flags,
//! pending handler notifications and the recap counters.

use super::stats::Stats;
use crate::inventory::Vars;
use indexmap::IndexSet;
use std::sync::Arc;

#[derive(Debug, Default)]
pub struct HostState {
    /// `ansible_facts` and the `ansible_*` names injected from it.
    pub facts: Arc<Vars>,
    /// `set_fact` and `register` results: data, never rendered.
    pub set_vars: Arc<Vars>,
    /// `include_vars` results: operator-written vars files, templated when read.
    pub included_vars: Arc<Vars>,
    pub failed: bool,
    pub unreachable: bool,
    /// `meta: end_host` or a play cut short.
    pub ended: bool,
    /// Handler notifications (names or `listen` topics) not yet run.
    pub notified: IndexSet<String>,
    pub stats: Stats,
    /// How many times `meta: clear_host_errors` cleared this host's failure.
    pub errors_cleared: u32,
    /// `set_fact` variables marked `cacheable`: kept in the fact cache with the facts.
    pub cacheable: Vars,
}

impl HostState {
    /// Still taking part in the play.
    pub fn active(&self) -> bool {
        !self.failed && !self.unreachable && !self.ended
    }

    /// Sets variables (copy-on-write: scopes already handed out keep their snapshot).
    pub fn set(&mut self, vars: Vars) {
        let mut v = (*self.set_vars).clone();
        v.extend(vars);
        self.set_vars = Arc::new(v);
    }

    /// Adds variables read from a vars file by `include_vars` (they stay templates).
    pub fn include(&mut self, vars: Vars) {
        let mut v = (*self.included_vars).clone();
        v.extend(vars);
        self.included_vars = Arc::new(v);
    }

    /// Takes a fact cache entry: facts as gathered ones, other variables as cacheable
    /// `set_fact` variables.
    pub fn restore_cached(&mut self, cached: Vars) {
        let (facts, vars) = super::fact_cache::split(cached);
        if !facts.is_empty() {
            self.set_facts(facts);
        }
        if !vars.is_empty() {
            self.set(vars.clone());
            self.cacheable.extend(vars);
        }
    }

    /// Stores gathered facts under `ansible_facts` and as `ansible_<name>`.
    pub fn set_facts(&mut self, facts: Vars) {
        let mut all = match self.facts.get("ansible_facts") {
            Some(serde_json::Value::Object(m)) => m.clone(),
            _ => Vars::new(),
        };
        all.extend(facts);
        let mut v = Vars::new();
        for (k, val) in &all {
            v.insert(format!("ansible_{k}"), val.clone());
        }
        v.insert("ansible_facts".into(), serde_json::Value::Object(all));
        self.facts = Arc::new(v);
    }
}
