//! One play: its hosts (pattern, `--limit`), `serial` batches, `vars_files`, fact gathering and
//! the sections pre_tasks → roles and tasks → post_tasks, each followed by a handler flush.

use super::events::{Event, HostEvent, Status};
use super::inherit::Inherit;
use super::runner::{PlayCtx, RunError, Runner};
use crate::inventory::Vars;
use crate::playbook::{HostOrder, Item, Play, RoleCtx, Serial, Strategy};
use crate::template::Scope;
use serde_json::json;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Splits `hosts` into `serial` batches (the last size repeats).
pub fn batches(hosts: &[String], serial: &[Serial]) -> Vec<Vec<String>> {
    if serial.is_empty() {
        return vec![hosts.to_vec()];
    }
    let mut out = Vec::new();
    let mut i = 0;
    let mut k = 0;
    while i < hosts.len() {
        let spec = &serial[k.min(serial.len() - 1)];
        let size = match spec {
            Serial::Count(c) => *c,
            Serial::Percent(p) => ((hosts.len() as f64) * p / 100.0).floor() as usize,
        }
        .max(1);
        out.push(hosts[i..(i + size).min(hosts.len())].to_vec());
        i += size;
        k += 1;
    }
    out
}

/// The roles of a `roles:` section, each once, the last first.
fn play_roles(items: &[Item]) -> Vec<Arc<RoleCtx>> {
    fn walk(items: &[Item], out: &mut Vec<Arc<RoleCtx>>) {
        for item in items {
            let (role, inner) = match item {
                Item::Task(t) => (t.role.as_ref(), None),
                Item::Block(b) => (b.role.as_ref(), Some(b)),
                Item::Include(_) => (None, None),
            };
            if let Some(r) = role
                && !out.iter().any(|o| Arc::ptr_eq(o, r))
            {
                out.push(r.clone());
            }
            if let Some(b) = inner {
                for part in [&b.block, &b.rescue, &b.always] {
                    walk(part, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(items, &mut out);
    out.reverse();
    out
}

impl Runner {
    /// Runs one play; `Ok(false)` when every host of a batch failed, which ends the playbook
    /// (Ansible's "NO MORE HOSTS LEFT").
    pub(crate) async fn run_play(self: &Arc<Self>, play: &Arc<Play>) -> Result<bool, RunError> {
        let play_vars = Arc::new(play.common.vars.clone());
        let pattern = {
            let scope = Scope::new(
                vec![
                    self.extra.clone(),
                    crate::template::Layer::templates(play_vars.clone()),
                ],
                self.templar.clone(),
                None,
            );
            self.templar
                .render_str(&play.hosts, &scope.context())
                .map_err(|e| RunError::Source(play.origin.error(format!("hosts: {}", e.message))))?
        };
        // Ansible's implicit localhost: the controller, when the inventory does not name it.
        let mut hosts = match pattern.trim() {
            p @ ("localhost" | "127.0.0.1") if !self.inv().inv.hosts.contains_key(p) => {
                vec![p.to_string()]
            }
            p => self.inv().inv.select(p)?,
        };
        if let Some(limit) = &self.opts.limit {
            let allowed = self.inv().inv.select(limit)?;
            hosts.retain(|h| allowed.contains(h));
        }
        hosts.retain(|h| self.with_host(h, |s| !s.failed && !s.unreachable));
        let order = match &play.order {
            None => HostOrder::Inventory,
            Some(o) => {
                let scope = Scope::new(
                    vec![
                        self.extra.clone(),
                        crate::template::Layer::templates(play_vars.clone()),
                    ],
                    self.templar.clone(),
                    None,
                );
                let o = self.templar.render_str(o, &scope.context()).map_err(|e| {
                    RunError::Source(play.origin.error(format!("order: {}", e.message)))
                })?;
                HostOrder::parse(&o).map_err(|e| RunError::Source(play.origin.error(e)))?
            }
        };
        match order {
            HostOrder::Inventory => {}
            HostOrder::ReverseInventory => hosts.reverse(),
            HostOrder::Sorted => hosts.sort(),
            HostOrder::ReverseSorted => {
                hosts.sort();
                hosts.reverse();
            }
            HostOrder::Shuffle => {
                use rand::seq::SliceRandom;
                hosts.shuffle(&mut rand::rng());
            }
        }
        let name = play.common.name.clone().unwrap_or_else(|| pattern.clone());
        self.emit(Event::PlayStart {
            name,
            hosts: hosts.clone(),
            location: play.origin.location(),
        });
        if hosts.is_empty() {
            self.emit(Event::Warning {
                host: None,
                message: format!("no hosts matched `{pattern}`; skipping this play"),
            });
            return Ok(true);
        }
        // The play's own keywords, without its vars (they are a layer of their own).
        let mut common = play.common.clone();
        common.vars = Vars::new();
        let defaults = Inherit {
            become_: self.opts.become_.then_some(true),
            become_user: self.opts.become_user.clone(),
            ..Inherit::default()
        };
        let root = defaults.child(&common);
        let mut go_on = true;
        for batch in batches(&hosts, &play.serial) {
            for h in &batch {
                self.with_host(h, |s| s.ended = false);
            }
            let pc = Arc::new(PlayCtx {
                play: play.clone(),
                play_hosts: hosts.clone(),
                batch: batch.clone(),
                play_vars: play_vars.clone(),
                files_vars: Mutex::new(HashMap::new()),
                handlers: Mutex::new(play.handlers.clone()),
                abort: AtomicBool::new(false),
                batch_only: AtomicBool::new(false),
                broken: AtomicBool::new(false),
                throttles: Default::default(),
                loop_texts: Default::default(),
                play_roles: std::sync::RwLock::new(Arc::new(play_roles(&play.roles))),
            });
            self.load_vars_files(&pc)?;
            if play.gather_facts {
                self.gather(&pc, &root).await;
            }
            for (i, section) in [&play.pre_tasks, &play.roles, &play.tasks, &play.post_tasks]
                .into_iter()
                .enumerate()
            {
                if pc.abort.load(Ordering::SeqCst) {
                    break;
                }
                self.section(&pc, section, &batch, &root).await;
                // Handlers flush after pre_tasks, after roles + tasks, and after post_tasks.
                if i != 1 {
                    self.flush_handlers(&pc, &batch).await;
                }
            }
            // A batch where every host failed stops the play, as in Ansible.
            let all_failed = batch
                .iter()
                .all(|h| self.with_host(h, |s| s.failed || s.unreachable));
            if all_failed {
                self.break_play(&pc, "every host of the batch failed".into());
            }
            go_on &= !pc.broken.load(Ordering::SeqCst);
            // Stopped for good (failures, end_play), not just this batch (end_batch)?
            if pc.abort.load(Ordering::SeqCst) && !pc.batch_only.load(Ordering::SeqCst) {
                for h in &hosts {
                    self.with_host(h, |s| s.ended = true);
                }
                break;
            }
        }
        for h in &hosts {
            self.with_host(h, |s| s.ended = false);
        }
        Ok(go_on)
    }

    /// Runs one section: linear (task by task) or free (each host on its own).
    async fn section(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        items: &[crate::playbook::Item],
        hosts: &[String],
        root: &Inherit,
    ) {
        let strategy = match (&pc.play.strategy_template, hosts.first()) {
            (Some(t), Some(h)) => {
                let scope = self.scope(pc, h, root, Vec::new());
                match self.templar.render_str(t, &scope.context()).as_deref() {
                    Ok("linear" | "") => Strategy::Linear,
                    Ok("free" | "host_pinned") => Strategy::Free,
                    Ok(other) => {
                        let at = pc.play.origin.location();
                        return self.break_play(pc, format!("{at}: invalid play strategy `{other}` (from `{t}`): use linear, free or host_pinned"));
                    }
                    Err(e) => {
                        let at = pc.play.origin.location();
                        return self.break_play(pc, format!("{at}: strategy `{t}`: {}", e.message));
                    }
                }
            }
            _ => pc.play.strategy,
        };
        match strategy {
            Strategy::Linear => self.walk(pc, items, hosts, root).await,
            Strategy::Free => {
                let runs = hosts.iter().map(|h| {
                    let one = vec![h.clone()];
                    async move { self.walk(pc, items, &one, root).await }
                });
                futures::future::join_all(runs).await;
            }
        }
    }

    /// `vars_files`, templated per host and read on the controller.
    fn load_vars_files(self: &Arc<Self>, pc: &Arc<PlayCtx>) -> Result<(), RunError> {
        if pc.play.vars_files.is_empty() {
            return Ok(());
        }
        for h in &pc.batch {
            let scope = self.scope(pc, h, &Inherit::default(), Vec::new());
            let mut vars = Vars::new();
            for vf in &pc.play.vars_files {
                let mut tried = Vec::new();
                let mut found = None;
                for name in &vf.candidates {
                    let file = self
                        .templar
                        .render_str(name, &scope.context())
                        .map_err(|e| {
                            RunError::Source(vf.origin.error(format!("vars_files: {}", e.message)))
                        })?;
                    let path = pc.play.base_dir.join(&file);
                    if path.is_file() {
                        found = Some(path);
                        break;
                    }
                    tried.push(path.display().to_string());
                }
                let Some(path) = found else {
                    return Err(RunError::Source(vf.origin.error(format!(
                        "vars file `{}` does not exist",
                        tried.join("`, `")
                    ))));
                };
                vars.extend(crate::playbook::load_vars(&path)?);
            }
            if let Ok(mut m) = pc.files_vars.lock() {
                m.insert(h.clone(), Arc::new(vars));
            }
        }
        Ok(())
    }

    /// "Gathering Facts": `setup` on every host of the batch.
    async fn gather(self: &Arc<Self>, pc: &Arc<PlayCtx>, root: &Inherit) {
        self.emit(Event::TaskStart {
            name: "Gathering Facts".into(),
            action: "setup".into(),
            location: pc.play.origin.location(),
            handler: false,
        });
        let hosts = self.active_of(&pc.batch);
        let runs = hosts.iter().map(|h| {
            let (me, pc) = (self.clone(), pc.clone());
            let inh = Inherit {
                when: Vec::new(),
                ..root.clone()
            };
            async move {
                let _permit = me.forks.clone().acquire_owned().await;
                let start = Instant::now();
                // The play's `environment:` applies to gathering too; a variable whose
                // template needs facts not gathered yet (`ansible_env`) is left out.
                let scope = me.scope(&pc, h, &inh, Vec::new());
                let env = me.environment_before_facts(&inh, &scope);
                let r = me.remote(&pc, h, None, &inh, env, None).await;
                let outcome = match r {
                    Ok(remote) => {
                        let facts = serde_json::Value::Object(Default::default());
                        let vars = minijinja::Value::from(());
                        let ctx = crate::modules::Ctx {
                            host: h,
                            remote: Some(&remote),
                            check: false,
                            diff: false,
                            templar: &me.templar,
                            vars: &vars,
                            search_paths: &[],
                            facts: &facts,
                            background: None,
                            reconnect: None,
                        };
                        crate::modules::run("setup", &ctx, json!({})).await
                    }
                    Err(e) => Err(e),
                };
                (h.clone(), outcome, start.elapsed())
            }
        });
        for (h, outcome, elapsed) in futures::future::join_all(runs).await {
            let (status, result) = match outcome {
                Ok(o) => {
                    if let Some(f) = o.facts {
                        self.with_host(&h, |s| s.set_facts(f));
                    }
                    (Status::Ok, json!({"changed": false}))
                }
                Err(crate::modules::ModuleError::Unreachable(e)) => (
                    Status::Unreachable,
                    json!({"unreachable": true, "msg": e.to_string()}),
                ),
                Err(e) => (
                    Status::Failed,
                    json!({"failed": true, "msg": e.to_string()}),
                ),
            };
            self.with_host(&h, |s| {
                s.stats.count(status);
                match status {
                    Status::Unreachable => s.unreachable = true,
                    Status::Failed => s.failed = true,
                    _ => {}
                }
            });
            self.emit(Event::HostResult(HostEvent {
                host: h.clone(),
                task: "Gathering Facts".into(),
                action: "setup".into(),
                status,
                item: None,
                result,
                diffs: Vec::new(),
                delegated_to: None,
                duration_ms: elapsed.as_millis() as u64,
                location: pc.play.origin.location(),
            }));
        }
        self.check_thresholds(pc);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_batches() {
        let hosts: Vec<String> = (1..=7).map(|i| format!("h{i}")).collect();
        let sizes = |s: &[Serial]| batches(&hosts, s).iter().map(Vec::len).collect::<Vec<_>>();
        assert_eq!(sizes(&[]), vec![7]);
        assert_eq!(sizes(&[Serial::Count(3)]), vec![3, 3, 1]);
        assert_eq!(
            sizes(&[Serial::Count(1), Serial::Percent(50.0)]),
            vec![1, 3, 3]
        );
        assert_eq!(sizes(&[Serial::Percent(10.0)]), vec![1; 7]);
    }
}
