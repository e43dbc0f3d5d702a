//! Handlers: notified by changed tasks (by name, `role : name` or a `listen` topic), run once
//! per host at the end of each play section or at `meta: flush_handlers`, in the order they
//! are defined. Handlers may notify handlers; later ones run in the same flush. A handler
//! may be an `include_tasks`/`include_role`, which runs what it includes when notified.

use super::events::Event;
use super::inherit::Inherit;
use super::runner::{PlayCtx, Runner};
use crate::playbook::Item;
use indexmap::IndexSet;
use std::sync::Arc;

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
        let handlers: Vec<Item> = pc.handlers.lock().map(|h| h.clone()).unwrap_or_default();
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
                let names = handler.handler_names();
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
                // Forced handlers run on failed hosts too; those hosts stay failed.
                let failed: Vec<String> = targets
                    .iter()
                    .filter(|h| force && self.with_host(h, |s| s.failed))
                    .cloned()
                    .collect();
                for h in &failed {
                    self.with_host(h, |s| s.failed = false);
                }
                match handler {
                    Item::Task(t) => {
                        self.run_task(pc, t, &targets, &Inherit::default(), true)
                            .await
                    }
                    // An include as a handler runs what it includes, as a task list.
                    Item::Include(inc) => {
                        self.run_include(pc, inc, &targets, &Inherit::default())
                            .await
                    }
                    Item::Block(_) => {}
                }
                for h in &failed {
                    self.with_host(h, |s| s.failed = true);
                }
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
