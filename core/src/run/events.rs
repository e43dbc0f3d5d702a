//! What a run reports as it goes: one event per play, task and host result, and a recap.
//! Printers (human, JSON lines, JUnit) are [`Sink`]s; the engine never prints.

use super::stats::Stats;
use crate::modules::FileDiff;
use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value as Json;

/// How a task ended on a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Changed,
    Failed,
    /// Failed, but `ignore_errors` let the host go on.
    Ignored,
    Skipped,
    Unreachable,
}

/// One host's result for one task (or one loop item of it).
#[derive(Debug, Clone, Serialize)]
pub struct HostEvent {
    pub host: String,
    pub task: String,
    pub action: String,
    pub status: Status,
    /// Set for a loop item's result.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<Json>,
    /// The module's return values (censored under `no_log`).
    pub result: Json,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<FileDiff>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegated_to: Option<String>,
    pub duration_ms: u64,
    /// `file:line:column` of the task.
    pub location: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    PlaybookStart {
        path: String,
        check: bool,
        /// How many plays the playbook has.
        #[serde(default)]
        plays: usize,
    },
    PlayStart {
        name: String,
        hosts: Vec<String>,
        location: String,
    },
    TaskStart {
        name: String,
        action: String,
        location: String,
        handler: bool,
    },
    /// A dynamic include was resolved for these hosts.
    Included {
        file: String,
        hosts: Vec<String>,
    },
    /// A loop item finished (the task's overall result follows as `HostResult`).
    ItemResult(HostEvent),
    HostResult(HostEvent),
    Warning {
        host: Option<String>,
        message: String,
    },
    /// A connection-level line shown from verbosity `level` on (`-vvv`: the commands run on
    /// hosts, as `<host> EXEC ...`).
    Verbose {
        host: String,
        message: String,
        level: u8,
    },
    /// A play was cut short (`max_fail_percentage`, `any_errors_fatal`, all hosts failed).
    PlayAborted {
        reason: String,
    },
    Recap {
        hosts: IndexMap<String, Stats>,
        duration_ms: u64,
        /// `set_stats` data (`_run` and per host), when a play set any.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        custom_stats: Option<serde_json::Value>,
    },
}

fn mask(s: &mut String) {
    if let std::borrow::Cow::Owned(r) = crate::secrets::redact(s) {
        *s = r;
    }
}

impl HostEvent {
    fn redact(&mut self) {
        mask(&mut self.task);
        if let Some(i) = &mut self.item {
            crate::secrets::redact_json(i);
        }
        crate::secrets::redact_json(&mut self.result);
        for d in &mut self.diffs {
            for s in [
                &mut d.before,
                &mut d.after,
                &mut d.before_header,
                &mut d.after_header,
            ] {
                mask(s);
            }
        }
    }
}

impl Event {
    /// Masks every secret this process has read (see `crate::secrets`).
    pub fn redact(&mut self) {
        if crate::secrets::nothing_to_mask() {
            return;
        }
        match self {
            Event::PlaybookStart { .. } | Event::Recap { .. } => {}
            Event::PlayStart { name, .. } => mask(name),
            Event::TaskStart { name, .. } => mask(name),
            Event::Included { file, .. } => mask(file),
            Event::ItemResult(h) | Event::HostResult(h) => h.redact(),
            Event::Warning { message, .. } | Event::Verbose { message, .. } => mask(message),
            Event::PlayAborted { reason } => mask(reason),
        }
    }
}

/// Receives every event of a run, in order.
pub trait Sink: Send + Sync {
    fn event(&self, e: &Event);
}

/// Sends every event to several sinks.
pub struct Tee(pub Vec<std::sync::Arc<dyn Sink>>);

impl Sink for Tee {
    fn event(&self, e: &Event) {
        for s in &self.0 {
            s.event(e);
        }
    }
}

/// Keeps every event (for tests and reports).
#[derive(Default)]
pub struct Collect(pub std::sync::Mutex<Vec<Event>>);

impl Sink for Collect {
    fn event(&self, e: &Event) {
        if let Ok(mut v) = self.0.lock() {
            v.push(e.clone());
        }
    }
}
