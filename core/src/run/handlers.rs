//! Handlers: notified by changed tasks (by name, `role : name` or a `listen` topic), run once
//! per host at the end of each play section or at `meta: flush_handlers`, in the order they
//! are defined. Handlers may notify handlers; later ones run in the same flush.

use super::events::Event;
use super::inherit::Inherit;
use super::runner::{PlayCtx, Runner};
use crate::playbook::Task;
use indexmap::IndexSet;
use std::sync::Arc;

/// The names a handler answers to.
fn answers_to(h: &Task) -> Vec<String> {
    let mut names = h.listen.clone();
    if let Some(n) = &h.common.name {
        names.push(n.clone());
        names.push(h.display_name());
    }
    names
}

impl Runner {
    pub(crate) fn flush_handlers<'a>(
        self: &'a Arc<Self>,
        pc: &'a Arc<PlayCtx>,
        hosts: &'a [String],
    ) -> futures::future::BoxFuture<'a, ()> {
        Box::pin(self.flush(pc, hosts))
    }

    async fn flush(self: &Arc<Self>, pc: &Arc<PlayCtx>, hosts: &[String]) {
        let force = pc.play.force_handlers || self.opts.force_handlers;
        let handlers: Vec<Arc<Task>> = pc.handlers.lock().map(|h| h.clone()).unwrap_or_default();
        for _ in 0..=handlers.len() {
            // What each host has been notified of when this pass starts.
            let pending: Vec<(String, IndexSet<String>)> = hosts
                .iter()
                .map(|h| (h.clone(), self.with_host(h, |s| s.notified.clone())))
                .filter(|(_, n)| !n.is_empty())
                .collect();
            if pending.is_empty() {
                return;
            }
            let mut known = IndexSet::new();
            for handler in &handlers {
                let names = answers_to(handler);
                known.extend(names.iter().cloned());
                let targets: Vec<String> = pending
                    .iter()
                    .filter(|(h, n)| {
                        names.iter().any(|x| n.contains(x)) && (force || self.is_active(h))
                    })
                    .filter(|(h, _)| self.with_host(h, |s| !s.unreachable))
                    .map(|(h, _)| h.clone())
                    .collect();
                if targets.is_empty() {
                    continue;
                }
                if force {
                    for h in &targets {
                        self.with_host(h, |s| s.failed = false);
                    }
                }
                self.run_task(pc, handler, &targets, &Inherit::default(), true)
                    .await;
            }
            for (h, seen) in &pending {
                for name in seen {
                    if !known.contains(name) {
                        self.emit(Event::Warning {
                            host: Some(h.clone()),
                            message: format!("the handler `{name}` was notified but no handler has that name or listens to it"),
                        });
                    }
                }
                self.with_host(h, |s| s.notified.retain(|n| !seen.contains(n)));
            }
        }
    }
}
