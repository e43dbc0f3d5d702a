//! Walking a task list over a set of hosts: a task runs on every active host (at most `forks`
//! at once) before the next starts; blocks send failed hosts to `rescue` and everyone to
//! `always`; dynamic includes are resolved per host and run for the hosts that share them.

use super::events::{Event, Status};
use super::inherit::Inherit;
use super::runner::{PlayCtx, Runner};
use super::tags;
use super::task::TaskRun;
use crate::inventory::Vars;
use crate::modules::Meta;
use crate::playbook::{Block, Include, IncludeKind, Item, RoleFiles, Task};
use futures::future::BoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use indexmap::IndexMap;
use serde_json::{Value as Json, json};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

impl Runner {
    pub(crate) fn active_of(&self, hosts: &[String]) -> Vec<String> {
        hosts
            .iter()
            .filter(|h| self.is_active(h))
            .cloned()
            .collect()
    }

    /// Runs `items` for `hosts`.
    pub(crate) fn walk<'a>(
        self: &'a Arc<Self>,
        pc: &'a Arc<PlayCtx>,
        items: &'a [Item],
        hosts: &'a [String],
        inh: &'a Inherit,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            for item in items {
                if pc.abort.load(Ordering::SeqCst) {
                    return;
                }
                let active = self.active_of(hosts);
                if active.is_empty() {
                    return;
                }
                match item {
                    Item::Task(t) => self.run_task(pc, t, &active, inh, false).await,
                    Item::Block(b) => self.run_block(pc, b, &active, inh).await,
                    Item::Include(i) => self.run_include(pc, i, &active, inh).await,
                }
                if !inh.rescuable {
                    self.check_thresholds(pc);
                }
            }
        })
    }

    /// Stops the play when `max_fail_percentage` is passed or `any_errors_fatal` is hit.
    pub(crate) fn check_thresholds(&self, pc: &PlayCtx) {
        let n = pc.batch.len().max(1);
        let failed = pc
            .batch
            .iter()
            .filter(|h| self.with_host(h, |s| s.failed || s.unreachable))
            .count();
        let reason = match pc.play.max_fail_percentage {
            Some(pct) if (failed as f64) * 100.0 / (n as f64) > pct => Some(format!(
                "{failed} of {n} hosts failed, more than max_fail_percentage {pct}%"
            )),
            _ if failed > 0 && pc.play.common.any_errors_fatal == Some(true) => {
                Some("a host failed and any_errors_fatal is set".to_string())
            }
            _ => None,
        };
        if let Some(reason) = reason {
            self.break_play(pc, reason);
        }
    }

    /// Stops the play on failures, and with it the playbook (once, whoever asks first).
    pub(crate) fn break_play(&self, pc: &PlayCtx, reason: String) {
        pc.broken.store(true, Ordering::SeqCst);
        if !pc.abort.swap(true, Ordering::SeqCst) {
            self.emit(Event::PlayAborted { reason });
        }
    }

    /// `throttle`: at most that many hosts run the task at once (forks stays the ceiling, and
    /// ansible-core ignores it with run_once). A template is rendered with the first host's
    /// variables; 0 means no limit.
    fn throttle(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        inh: &Inherit,
        hosts: &[String],
        run_once: bool,
    ) -> Result<Option<usize>, String> {
        let (Some(_), Some(first), false) = (&inh.throttle, hosts.first(), run_once) else {
            return Ok(None);
        };
        let scope = self.scope(pc, first, inh, Vec::new());
        let t = super::task::int_keyword(&self.templar, inh.throttle.as_ref(), &scope.context())?;
        Ok(t.filter(|t| *t > 0).map(|t| t as usize))
    }

    /// Runs one task on `hosts` and applies the results.
    pub(crate) async fn run_task(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        task: &Arc<Task>,
        hosts: &[String],
        inh: &Inherit,
        handler: bool,
    ) {
        let inh = inh.child(&task.common);
        let inh = match &task.role {
            Some(r) if inh.role.is_none() => inh.with_role(r),
            _ => inh,
        };
        if !handler && !tags::selected(&inh.tags, &self.opts.tags, &self.opts.skip_tags) {
            return;
        }
        // Names may use play variables (not loop variables): rendered for the first host.
        let name = match hosts.first() {
            Some(h) if crate::template::Templar::is_template(&task.display_name()) => {
                let scope = self.scope(pc, h, &inh, Vec::new());
                self.templar
                    .render_str(&task.display_name(), &scope.context())
                    .unwrap_or_else(|_| task.display_name())
            }
            _ => task.display_name(),
        };
        self.emit(Event::TaskStart {
            name,
            action: task.action.clone(),
            location: task.origin.location(),
            handler,
        });
        // A templated `run_once` is decided for the batch with its first host's variables.
        let mut inh = inh;
        if let Some(first) = hosts.first()
            && inh.templated.iter().any(|(k, _)| k == "run_once")
        {
            let ctx = self.scope(pc, first, &inh, Vec::new()).context();
            let decided = inh.decide_one("run_once", |t| {
                self.templar
                    .render_value(&serde_json::Value::String(t.to_string()), &ctx)
                    .map_err(|e| e.message)
            });
            if let Err(e) = decided {
                inh.undecided = Some(format!("{}: {e}", task.origin.location()));
            }
        }
        // add_host runs once for the whole batch (ansible-core's BYPASS_HOST_LOOP).
        let run_once = inh.run_once == Some(true) || task.action == "add_host";
        let targets: Vec<String> = if run_once {
            hosts.iter().take(1).cloned().collect()
        } else {
            hosts.to_vec()
        };
        let throttle = match self.throttle(pc, &inh, hosts, run_once) {
            Ok(t) => t,
            Err(e) => {
                let msg = format!(
                    "{}: Failed to convert the throttle value to an integer: {e}",
                    task.origin.location()
                );
                for h in &targets {
                    let run = super::task::TaskRun::failed(h, msg.clone());
                    self.emit(Event::HostResult(self.host_event(task, &inh, &run, None)));
                    self.apply(pc, task, &inh, &run, &[]);
                }
                return;
            }
        };
        let gate = throttle.map(|t| pc.throttle_gate(task, t));
        let mut pending: FuturesUnordered<_> = targets
            .iter()
            .map(|h| {
                let (me, pc, task, inh, h, gate) = (
                    self.clone(),
                    pc.clone(),
                    task.clone(),
                    inh.clone(),
                    h.clone(),
                    gate.clone(),
                );
                async move {
                    let _turn = match gate {
                        Some(g) => g.acquire_owned().await.ok(),
                        None => None,
                    };
                    let _permit = me.forks.clone().acquire_owned().await;
                    me.task_on_host(&pc, &task, &h, &inh).await
                }
            })
            .collect();
        let mut flush = false;
        let mut fatal = false;
        while let Some(run) = pending.next().await {
            self.emit(Event::HostResult(self.host_event(task, &inh, &run, None)));
            flush |= run.meta == Some(Meta::FlushHandlers);
            fatal |= matches!(run.status, Status::Failed | Status::Unreachable);
            let also: Vec<String> = if run_once {
                hosts.iter().skip(1).cloned().collect()
            } else {
                Vec::new()
            };
            self.apply(pc, task, &inh, &run, &also);
        }
        // `any_errors_fatal` on a block or task: the rest of the play stops for every host;
        // inside a block with a `rescue:`, every host of the batch fails there and is rescued.
        if fatal && inh.any_errors_fatal == Some(true) {
            if inh.rescuable {
                for h in hosts {
                    self.with_host(h, |s| {
                        if !s.failed && !s.unreachable {
                            s.failed = true;
                            s.stats.count(Status::Failed);
                        }
                    });
                }
            } else {
                self.break_play(
                    pc,
                    format!(
                        "`{}` failed and any_errors_fatal is set",
                        task.display_name()
                    ),
                );
            }
        }
        if flush {
            self.flush_handlers(pc, hosts).await;
        }
    }

    /// Records a task's result in the host's state (and, for `run_once`, the other hosts').
    fn apply(&self, pc: &PlayCtx, task: &Task, inh: &Inherit, run: &TaskRun, also: &[String]) {
        let notify: Vec<String> = if run.status == Status::Changed {
            let mut n = task.notify.clone();
            n.extend(
                inh.notify
                    .iter()
                    .filter(|h| !task.notify.contains(h))
                    .cloned(),
            );
            n
        } else {
            Vec::new()
        };
        let register = task.register.clone();
        let update = |st: &mut super::state::HostState, primary: bool| {
            if let Some(reg) = &register {
                st.set(Vars::from_iter([(reg.clone(), run.result.clone())]));
            }
            if let Some(v) = &run.set_vars {
                st.set(v.clone());
                if run.cacheable {
                    st.cacheable.extend(v.clone());
                }
            }
            if let Some(v) = &run.included_vars {
                st.include(v.clone());
            }
            if let Some(f) = &run.facts {
                st.set_facts(f.clone());
            }
            if primary {
                st.stats.count(run.status);
                match run.status {
                    Status::Failed => {
                        st.failed = true;
                        st.set(Vars::from_iter([
                            (
                                "ansible_failed_task".to_string(),
                                json!({
                                    "name": task.common.name.clone().unwrap_or_default(),
                                    "action": task.action,
                                    "args": task.args,
                                }),
                            ),
                            ("ansible_failed_result".to_string(), run.result.clone()),
                        ]));
                    }
                    Status::Unreachable => st.unreachable = true,
                    _ => {}
                }
            }
            st.notified.extend(notify.iter().cloned());
            match run.meta {
                Some(Meta::EndHost) => st.ended = true,
                Some(Meta::ClearFacts) => st.facts = Default::default(),
                _ => {}
            }
        };
        self.with_host(&run.host, |st| update(st, true));
        if task.action == "set_stats" && !matches!(run.status, Status::Failed | Status::Skipped) {
            self.record_stats(&run.host, &run.result);
        }
        for h in also {
            self.with_host(h, |st| update(st, false));
        }
        match run.meta {
            Some(Meta::EndPlay) => pc.abort.store(true, Ordering::SeqCst),
            Some(Meta::EndBatch) => {
                pc.batch_only.store(true, Ordering::SeqCst);
                pc.abort.store(true, Ordering::SeqCst);
            }
            Some(Meta::ClearHostErrors) => {
                for h in &pc.batch {
                    self.with_host(h, |st| {
                        st.failed = false;
                        st.errors_cleared += 1;
                    });
                }
            }
            _ => {}
        }
        let _ = inh;
    }

    async fn run_block(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        b: &Arc<Block>,
        hosts: &[String],
        inh: &Inherit,
    ) {
        let mut inh = inh.child(&b.common);
        if let Some(r) = &b.role {
            inh = inh.with_role(r);
        }
        let mut body = inh.clone();
        body.rescuable |= !b.rescue.is_empty();
        self.walk(pc, &b.block, hosts, &body).await;
        let failed: Vec<String> = hosts
            .iter()
            .filter(|h| self.with_host(h, |s| s.failed && !s.unreachable))
            .cloned()
            .collect();
        if !b.rescue.is_empty() && !failed.is_empty() && !pc.abort.load(Ordering::SeqCst) {
            // As ansible-core counts it: the failure a rescue takes over is `rescued`, whether
            // or not the rescue then succeeds (a failure in the rescue counts on its own).
            for h in &failed {
                self.with_host(h, |s| {
                    s.failed = false;
                    s.stats.failed = s.stats.failed.saturating_sub(1);
                    s.stats.rescued += 1;
                });
            }
            self.walk(pc, &b.rescue, &failed, &inh).await;
        }
        if !b.always.is_empty() {
            let still_failed: Vec<String> = hosts
                .iter()
                .filter(|h| self.with_host(h, |s| s.failed && !s.unreachable))
                .cloned()
                .collect();
            let cleared: Vec<u32> = still_failed
                .iter()
                .map(|h| {
                    self.with_host(h, |s| {
                        s.failed = false;
                        s.errors_cleared
                    })
                })
                .collect();
            let was_aborted = pc.abort.swap(false, Ordering::SeqCst);
            self.walk(pc, &b.always, hosts, &inh).await;
            // Still failed after `always`, unless it ran `meta: clear_host_errors` (which also
            // lifts an any_errors_fatal stop, as in ansible-core).
            let mut cleared_any = false;
            for (h, before) in still_failed.iter().zip(cleared) {
                self.with_host(h, |s| {
                    if s.errors_cleared == before {
                        s.failed = true;
                    } else {
                        cleared_any = true;
                    }
                });
            }
            if was_aborted && !cleared_any {
                pc.abort.store(true, Ordering::SeqCst);
            } else if was_aborted {
                pc.broken.store(false, Ordering::SeqCst);
            }
        }
    }

    /// `include_tasks` / `include_role`: resolved per host (and per loop item); hosts that
    /// resolve to the same file and variables run it together.
    pub(crate) async fn run_include(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        inc: &Arc<Include>,
        hosts: &[String],
        inh: &Inherit,
    ) {
        let mut own = inh.child(&inc.common);
        // An include inside a role sees the role (its search path, `role_path`), as a task does.
        if let Some(r) = &inc.role
            && own.role.is_none()
        {
            own = own.with_role(r);
        }
        own.tags = inh.tags.iter().chain(&inc.common.tags).cloned().collect();
        if !tags::selected(&own.tags, &self.opts.tags, &self.opts.skip_tags) {
            return;
        }
        // The include has a banner of its own, as in ansible-core: what it includes, and any
        // error resolving or loading it, is shown under it rather than under the task before.
        let action = match inc.kind {
            IncludeKind::Tasks => "include_tasks",
            IncludeKind::Role { .. } => "include_role",
        };
        let name = inc
            .common
            .name
            .clone()
            .unwrap_or_else(|| action.to_string());
        self.emit(Event::TaskStart {
            name: match &inc.role {
                Some(r) => format!("{} : {name}", r.name),
                None => name,
            },
            action: action.to_string(),
            location: inc.origin.location(),
            handler: false,
        });
        let mut groups: IndexMap<String, (PathBuf, RoleFiles, Vars, Vec<String>)> = IndexMap::new();
        // The include's own `vars:` apply to its file name and loop too, as in ansible-core.
        let mut resolving = own.clone();
        resolving
            .params
            .push(crate::template::Layer::templates(Arc::new(
                inc.params.clone(),
            )));
        for h in hosts {
            match self.resolve_include(pc, inc, h, &resolving) {
                Ok(list) => {
                    for (path, from, vars) in list {
                        let key = format!(
                            "{}|{}|{}",
                            path.display(),
                            from.key(),
                            Json::Object(vars.clone())
                        );
                        groups
                            .entry(key)
                            .or_insert_with(|| (path, from, vars, Vec::new()))
                            .3
                            .push(h.clone());
                    }
                }
                Err(msg) => {
                    let run = self.include_failure(h, msg);
                    self.emit(Event::HostResult(self.include_event(inc, &run)));
                    self.with_host(h, |s| {
                        s.stats.count(Status::Failed);
                        s.failed = true;
                    });
                }
            }
        }
        let pbdir = self
            .playbook_dir
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default();
        for (_, (path, from, vars, group_hosts)) in groups {
            self.emit(Event::Included {
                file: path.display().to_string(),
                hosts: group_hosts.clone(),
            });
            let loaded = match &inc.kind {
                IncludeKind::Tasks => crate::playbook::load_tasks_file(
                    &path,
                    inc.role.clone(),
                    &pbdir,
                    &pc.play.collections,
                )
                .map(|i| (i, Vec::new())),
                IncludeKind::Role { .. } => crate::playbook::load_role_dynamic(
                    &path.display().to_string(),
                    &from,
                    &pc.play.base_dir,
                    &inc.origin,
                    &pc.play.collections,
                ),
            };
            let (items, handlers) = match loaded {
                Ok(x) => x,
                Err(e) => {
                    for h in &group_hosts {
                        let run = self.include_failure(h, e.to_string());
                        self.emit(Event::HostResult(self.include_event(inc, &run)));
                        self.with_host(h, |s| {
                            s.stats.count(Status::Failed);
                            s.failed = true;
                        });
                    }
                    continue;
                }
            };
            if let Ok(mut hs) = pc.handlers.lock() {
                hs.extend(handlers);
            }
            // `public: true`: the role's vars and defaults stay visible to the rest of the play.
            if let IncludeKind::Role { public: true, .. } = inc.kind
                && let Some(role) = items.iter().rev().find_map(|i| match i {
                    Item::Block(b) => b.role.clone(),
                    _ => None,
                })
            {
                pc.make_public(role);
            }
            // The include's keywords apply to the include itself; its variables reach the tasks.
            // The loop variables are data: never rendered, above the parameters.
            let mut child = match &inc.apply {
                Some(a) => inh.child(a),
                None => inh.clone(),
            };
            child
                .params
                .push(crate::template::Layer::templates(Arc::new(
                    inc.params.clone(),
                )));
            child
                .params
                .push(crate::template::Layer::data(Arc::new(vars)));
            self.walk(pc, &items, &group_hosts, &child).await;
        }
    }

    fn include_failure(&self, host: &str, msg: String) -> TaskRun {
        let mut r = TaskRun::new_failed(host, msg);
        r.status = Status::Failed;
        r
    }

    fn include_event(&self, inc: &Include, r: &TaskRun) -> super::events::HostEvent {
        super::events::HostEvent {
            host: r.host.clone(),
            task: inc
                .common
                .name
                .clone()
                .unwrap_or_else(|| format!("include {}", inc.target)),
            action: match inc.kind {
                IncludeKind::Tasks => "include_tasks".into(),
                IncludeKind::Role { .. } => "include_role".into(),
            },
            status: r.status,
            item: None,
            result: r.result.clone(),
            diffs: Vec::new(),
            delegated_to: None,
            duration_ms: 0,
            location: inc.origin.location(),
        }
    }

    /// What `inc` means on `host`: (file or role, the role's files, loop variables) per item. `inh`
    /// carries the include's own parameters.
    fn resolve_include(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        inc: &Include,
        host: &str,
        inh: &Inherit,
    ) -> Result<Vec<(PathBuf, RoleFiles, Vars)>, String> {
        let scope = self.scope(pc, host, inh, Vec::new());
        let loc = inc.origin.location();
        if let Some(c) =
            inh.when
                .iter()
                .find_map(|c| match self.templar.condition(c, &scope.context()) {
                    Ok(true) => None,
                    Ok(false) => Some(Ok(())),
                    Err(e) => Some(Err(format!("{loc}: error in `when`: {e}"))),
                })
        {
            c?;
            return Ok(Vec::new());
        }
        let items: Vec<Option<Json>> = match &inc.loop_ {
            None => vec![None],
            Some(spec) => super::loops::items(&self.templar, spec, &scope, "include_tasks")
                .map_err(|e| format!("{loc}: {}", e.message))?
                .into_iter()
                .map(Some)
                .collect(),
        };
        let var = match &inc.loop_control.loop_var {
            Some(v) => self
                .templar
                .render_str(v, &scope.context())
                .map_err(|e| format!("{loc}: loop_var: {}", e.message))?,
            None => "item".into(),
        };
        let mut out = Vec::new();
        let all: Vec<Json> = items.iter().flatten().cloned().collect();
        for (index, item) in items.into_iter().enumerate() {
            let mut vars = Vars::new();
            if let Some(i) = &item {
                vars.insert(var.clone(), i.clone());
                vars.insert("ansible_loop_var".into(), Json::String(var.clone()));
                if let Some(iv) = &inc.loop_control.index_var {
                    vars.insert(iv.clone(), Json::from(index));
                    vars.insert("ansible_index_var".into(), Json::String(iv.clone()));
                }
                if inc.loop_control.extended {
                    vars.insert(
                        "ansible_loop".into(),
                        super::loops::extended(
                            &all,
                            index,
                            inc.loop_control.extended_allitems != Some(false),
                        ),
                    );
                }
            }
            let s = self.scope(pc, host, inh, vec![Arc::new(vars.clone())]);
            let target = self
                .templar
                .render_str(&inc.target, &s.context())
                .map_err(|e| format!("{loc}: {}", e.message))?;
            match &inc.kind {
                IncludeKind::Tasks => {
                    let p = PathBuf::from(&target);
                    let mut dirs = vec![inc.base_dir.clone()];
                    if let Some(r) = &inc.role {
                        dirs.push(r.path.join("tasks"));
                    }
                    dirs.push(pc.play.base_dir.clone());
                    let found = if p.is_absolute() {
                        Some(p.clone()).filter(|p| p.is_file())
                    } else {
                        dirs.iter().map(|d| d.join(&p)).find(|c| c.is_file())
                    };
                    let path = found
                        .ok_or_else(|| format!("{loc}: tasks file `{target}` was not found"))?;
                    out.push((path, RoleFiles::default(), vars));
                }
                IncludeKind::Role { from, .. } => {
                    let from = from.rendered(|t| {
                        self.templar
                            .render_str(t, &s.context())
                            .map_err(|e| format!("{loc}: {}", e.message))
                    })?;
                    out.push((PathBuf::from(target), from, vars));
                }
            }
        }
        Ok(out)
    }
}
