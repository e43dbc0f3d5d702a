//! The runner: what a whole run shares (inventory, connections, templates, per-host state),
//! variable scopes in Ansible's precedence order, and the connection each task uses.

use super::events::{Event, Sink};
use super::inherit::Inherit;
use super::inventory_view::{InvChange, InvView};
use super::state::HostState;
use super::stats::Stats;
use crate::inventory::{Inventory, Vars};
use crate::modules::{ModuleError, Remote, Transport};
use crate::playbook::{Play, Playbook};
use crate::source::SourceError;
use crate::ssh::{Become, Pool, Target};
use crate::template::{HostVarsSource, Layer, Scope, Templar, Trust};
use indexmap::IndexMap;
use serde_json::{Value as Json, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tokio::sync::Semaphore;

/// How to run a playbook.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `--limit` pattern.
    pub limit: Option<String>,
    pub tags: Vec<String>,
    pub skip_tags: Vec<String>,
    /// `-e` variables (highest precedence).
    pub extra_vars: Vars,
    /// Whether `extra_vars` are operator text whose templates are rendered (`-e` on the command
    /// line) or data that is never rendered (extra vars sent by an API caller).
    pub extra_vars_trust: Trust,
    pub forks: usize,
    pub check: bool,
    pub diff: bool,
    /// Send every command through the connection multiplexer (`--persist`).
    pub relay: Option<crate::modules::RelaySpec>,
    /// `-v` count (`ansible_verbosity`).
    pub verbosity: u8,
    /// `-c`: the connection for hosts that do not name theirs (`ssh` when unset).
    pub connection: Option<String>,
    /// `--force-handlers`: as the play keyword, for every play.
    pub force_handlers: bool,
    /// `-b` / `--become-user`: defaults below the plays' own keywords.
    pub become_: bool,
    pub become_user: Option<String>,
    /// ansible-core's `jsonfile` fact cache, when one is configured.
    pub fact_cache: Option<super::fact_cache::FactCache>,
    /// `--flush-cache`: forget the inventory's cached facts first.
    pub flush_cache: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            limit: None,
            tags: Vec::new(),
            skip_tags: Vec::new(),
            extra_vars: Vars::new(),
            extra_vars_trust: Trust::Templates,
            forks: 20,
            check: false,
            diff: false,
            relay: None,
            verbosity: 0,
            connection: None,
            force_handlers: false,
            become_: false,
            become_user: None,
            fact_cache: None,
            flush_cache: false,
        }
    }
}

/// Errors that stop the whole run (host failures never do).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{0}")]
    Source(#[from] SourceError),
    #[error("{0}")]
    Pattern(#[from] crate::inventory::PatternError),
    #[error("{0}")]
    Other(String),
}

/// The end of a run.
#[derive(Debug, Clone)]
pub struct Recap {
    pub hosts: IndexMap<String, Stats>,
    /// Hosts still failed when the playbook ended (a failure `meta: clear_host_errors`
    /// cleared counts in the stats but no longer fails the run, as in ansible-core).
    pub failed_hosts: Vec<String>,
}

impl Recap {
    pub fn any_failed(&self) -> bool {
        !self.failed_hosts.is_empty()
    }
    pub fn any_unreachable(&self) -> bool {
        self.hosts.values().any(|s| s.unreachable > 0)
    }
}

/// One play's run over one batch of hosts.
pub struct PlayCtx {
    pub play: Arc<Play>,
    /// Every host of the play (all batches).
    pub play_hosts: Vec<String>,
    pub batch: Vec<String>,
    pub play_vars: Arc<Vars>,
    /// `vars_files` contents per host.
    pub files_vars: Mutex<HashMap<String, Arc<Vars>>>,
    /// Handlers, including those `include_role` brought in.
    pub handlers: Mutex<Vec<crate::playbook::Item>>,
    /// Set when the play must stop for every host.
    pub abort: AtomicBool,
    /// The stop is for this batch only (`meta: end_batch`).
    pub batch_only: AtomicBool,
    /// The `roles:` of the play and the roles `include_role` made `public`, last first: their
    /// vars and defaults are visible to the whole play (Ansible's default,
    /// `private_role_vars = false`).
    pub play_roles: std::sync::RwLock<Arc<Vec<Arc<crate::playbook::RoleCtx>>>>,
    /// The play broke on failures (any_errors_fatal, max_fail_percentage, every host failed):
    /// the playbook ends after it, as in Ansible.
    pub broken: AtomicBool,
    /// One `throttle` gate per task (and limit), shared by every host that runs the task, so
    /// the limit holds under the free strategy too, where hosts reach the task one by one.
    pub throttles: Mutex<HashMap<(usize, usize), Arc<tokio::sync::Semaphore>>>,
    /// The strings written in the play's loop lists (see `loop_texts`), found once.
    pub loop_texts: std::sync::OnceLock<Arc<std::collections::HashSet<String>>>,
}

impl PlayCtx {
    /// The strings written in the play's loop lists (operator text wherever it travels).
    pub fn loop_texts(&self) -> Arc<std::collections::HashSet<String>> {
        self.loop_texts
            .get_or_init(|| Arc::new(super::loop_texts::of(&self.play)))
            .clone()
    }

    /// The play's roles whose vars and defaults every task sees, last first.
    pub fn roles(&self) -> Arc<Vec<Arc<crate::playbook::RoleCtx>>> {
        self.play_roles
            .read()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// The `throttle` gate of `task` for `limit` hosts at once.
    pub fn throttle_gate(
        &self,
        task: &Arc<crate::playbook::Task>,
        limit: usize,
    ) -> Arc<tokio::sync::Semaphore> {
        let key = (Arc::as_ptr(task) as usize, limit);
        match self.throttles.lock() {
            Ok(mut m) => m
                .entry(key)
                .or_insert_with(|| Arc::new(tokio::sync::Semaphore::new(limit)))
                .clone(),
            Err(_) => Arc::new(tokio::sync::Semaphore::new(limit)),
        }
    }

    /// `include_role` with `public: true`: the role's vars and defaults join the play's.
    pub fn make_public(&self, role: Arc<crate::playbook::RoleCtx>) {
        if let Ok(mut r) = self.play_roles.write()
            && !r.iter().any(|x| Arc::ptr_eq(x, &role))
        {
            Arc::make_mut(&mut r).insert(0, role);
        }
    }
}

pub struct Runner {
    /// The inventory as the run sees it (add_host and group_by grow it).
    view: std::sync::RwLock<Arc<InvView>>,
    pub(crate) pool: Arc<Pool>,
    pub(crate) templar: Arc<Templar>,
    pub(crate) sink: Arc<dyn Sink>,
    pub(crate) opts: RunOptions,
    pub(crate) hosts: Mutex<IndexMap<String, HostState>>,
    pub(crate) extra: Layer,
    pub(crate) forks: Arc<Semaphore>,
    /// The variables every host has below all others (ansible-core's defaults:
    /// `ansible_facts` before any gathering, the connection, the verbosity).
    baseline: Arc<Vars>,
    pub(crate) playbook_dir: Mutex<PathBuf>,
    relay: std::sync::OnceLock<Arc<crate::modules::Relay>>,
    /// `set_stats` data: `_run` and per host.
    pub(crate) custom_stats: Mutex<serde_json::Map<String, Json>>,
}

impl Runner {
    pub fn new(
        inv: Arc<Inventory>,
        pool: Arc<Pool>,
        sink: Arc<dyn Sink>,
        opts: RunOptions,
    ) -> Arc<Runner> {
        let hosts = inv
            .hosts
            .keys()
            .map(|h| {
                let mut st = HostState::default();
                if let Some(cache) = &opts.fact_cache {
                    if opts.flush_cache {
                        cache.flush(h);
                    } else if let Some(cached) = cache.load(h) {
                        st.restore_cached(cached);
                    }
                }
                (h.clone(), st)
            })
            .collect();
        let baseline = Arc::new(Vars::from_iter([
            ("ansible_facts".to_string(), json!({})),
            ("ansible_connection".to_string(), json!("ssh")),
            ("ansible_verbosity".to_string(), json!(opts.verbosity)),
        ]));
        Arc::new(Runner {
            baseline,
            forks: Arc::new(Semaphore::new(opts.forks.max(1))),
            extra: Layer {
                vars: Arc::new(opts.extra_vars.clone()),
                trust: opts.extra_vars_trust,
            },
            templar: Arc::new(Templar::new()),
            view: std::sync::RwLock::new(Arc::new(InvView::new(inv))),
            pool,
            sink,
            opts,
            hosts: Mutex::new(hosts),
            playbook_dir: Mutex::new(PathBuf::from(".")),
            relay: std::sync::OnceLock::new(),
            custom_stats: Mutex::new(serde_json::Map::new()),
        })
    }

    /// The inventory as it stands now.
    pub(crate) fn inv(&self) -> Arc<InvView> {
        self.view.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Applies an `add_host` / `group_by` result; true when the inventory changed.
    pub(crate) fn change_inventory(&self, change: &InvChange) -> Result<bool, String> {
        let mut view = self.view.write().unwrap_or_else(|p| p.into_inner());
        match view.with(change) {
            Ok(Some(next)) => {
                *view = Arc::new(next);
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Hands `e` to the sink with every secret masked: the one place events leave the engine.
    pub(crate) fn emit(&self, mut e: Event) {
        e.redact();
        self.sink.event(&e);
    }

    /// Runs with the per-host state locked (never across an await).
    pub(crate) fn with_host<R>(&self, host: &str, f: impl FnOnce(&mut HostState) -> R) -> R {
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        let st = hosts.entry(host.to_string()).or_default();
        f(st)
    }

    /// Writes every host's facts and cacheable variables to the fact cache, if there is one.
    fn save_fact_cache(&self) {
        let Some(cache) = &self.opts.fact_cache else {
            return;
        };
        let entries: Vec<(String, Vars)> = {
            let h = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            h.iter()
                .map(|(n, s)| (n.clone(), super::fact_cache::entry(&s.facts, &s.cacheable)))
                .filter(|(_, e)| !e.is_empty())
                .collect()
        };
        for (host, entry) in entries {
            if let Err(e) = cache.save(&host, &entry) {
                self.emit(Event::Warning {
                    host: Some(host),
                    message: format!(
                        "could not write the fact cache in {}: {e}",
                        cache.dir.display()
                    ),
                });
            }
        }
    }

    pub(crate) fn is_active(&self, host: &str) -> bool {
        self.with_host(host, |s| s.active())
    }

    /// Runs a whole playbook; host failures are in the recap, not errors.
    pub async fn run(self: &Arc<Self>, pb: &Playbook) -> Result<Recap, RunError> {
        let started = Instant::now();
        *self.playbook_dir.lock().unwrap_or_else(|p| p.into_inner()) = pb
            .path
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."));
        self.emit(Event::PlaybookStart {
            path: pb.path.display().to_string(),
            check: self.opts.check,
            plays: pb.plays.len(),
        });
        // What the static checks found fails those tasks when they run, as in ansible-core;
        // said before the run, with the place.
        let outside =
            crate::playbook::undefined::outside_names(&self.inv().inv, &self.opts.extra_vars);
        let found = crate::playbook::lint::findings(pb)
            .into_iter()
            .chain(crate::playbook::undefined::findings(pb, &outside));
        for f in found {
            self.emit(Event::Warning {
                host: None,
                message: format!("{}: {}", f.location(), f.message),
            });
        }
        for play in &pb.plays {
            if !self.run_play(play).await? {
                break;
            }
        }
        self.pool.close_all().await;
        self.save_fact_cache();
        let (hosts, failed_hosts): (IndexMap<String, Stats>, Vec<String>) = {
            let h = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            (
                h.iter()
                    .filter(|(_, s)| s.stats != Stats::default())
                    .map(|(n, s)| (n.clone(), s.stats.clone()))
                    .collect(),
                h.iter()
                    .filter(|(_, s)| s.failed && s.stats.failed > 0)
                    .map(|(n, _)| n.clone())
                    .collect(),
            )
        };
        let custom = self
            .custom_stats
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default();
        self.emit(Event::Recap {
            hosts: hosts.clone(),
            duration_ms: started.elapsed().as_millis() as u64,
            custom_stats: (!custom.is_empty()).then_some(Json::Object(custom)),
        });
        Ok(Recap {
            hosts,
            failed_hosts,
        })
    }

    /// Magic variables for `host` in this play.
    fn magic(&self, pc: &PlayCtx, host: &str, inh: &Inherit) -> Vars {
        let pbdir = self
            .playbook_dir
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default();
        let search: Vec<Json> = super::search_path::of(pc, inh, true)
            .iter()
            .map(|p| json!(p.display().to_string()))
            .collect();
        let mut m = Vars::new();
        m.insert("ansible_search_path".into(), Json::Array(search.clone()));
        m.insert("inventory_hostname".into(), json!(host));
        m.insert(
            "inventory_hostname_short".into(),
            json!(host.split('.').next().unwrap_or(host)),
        );
        let view = self.inv();
        m.insert("group_names".into(), json!(view.inv.group_names(host)));
        m.insert("groups".into(), (*view.groups).clone());
        // The play's hosts and the batch's, without those that failed or were unreachable.
        let (live_all, live_batch) = {
            let states = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            let live = |list: &[String]| -> Vec<String> {
                list.iter()
                    .filter(|n| states.get(*n).is_none_or(|s| !s.failed && !s.unreachable))
                    .cloned()
                    .collect()
            };
            (live(&pc.play_hosts), live(&pc.batch))
        };
        m.insert("play_hosts".into(), json!(live_batch));
        m.insert("ansible_play_hosts".into(), json!(live_all));
        m.insert("ansible_play_batch".into(), json!(live_batch));
        m.insert("ansible_play_hosts_all".into(), json!(pc.play_hosts));
        m.insert(
            "ansible_play_name".into(),
            json!(pc.play.common.name.clone().unwrap_or_default()),
        );
        m.insert("playbook_dir".into(), json!(pbdir.display().to_string()));
        m.insert("ansible_check_mode".into(), json!(self.opts.check));
        m.insert("ansible_diff_mode".into(), json!(self.opts.diff));
        m.insert(
            "ansible_run_tags".into(),
            json!(if self.opts.tags.is_empty() {
                vec!["all".to_string()]
            } else {
                self.opts.tags.clone()
            }),
        );
        m.insert("ansible_skip_tags".into(), json!(self.opts.skip_tags));
        m.insert(
            "ansible_version".into(),
            json!({"full": "2.19.0", "major": 2, "minor": 19, "revision": 0, "string": "2.19.0"}),
        );
        m.insert("hoist_version".into(), json!(env!("CARGO_PKG_VERSION")));
        m.insert("hoist_search_paths".into(), Json::Array(search));
        if let Some(r) = &inh.role {
            m.insert("role_name".into(), json!(r.name));
            m.insert("role_path".into(), json!(r.path.display().to_string()));
        }
        m
    }

    /// `host`'s variables for a task, highest precedence first: extra vars, `top` (loop
    /// variables, registered results), magic variables, include and role parameters,
    /// set_fact/register, block and task vars, role vars, vars_files, play vars, facts,
    /// inventory, role defaults.
    pub(crate) fn scope(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        host: &str,
        inh: &Inherit,
        top: Vec<Arc<Vars>>,
    ) -> Arc<Scope> {
        let (set_vars, included, facts) = self.with_host(host, |s| {
            (s.set_vars.clone(), s.included_vars.clone(), s.facts.clone())
        });
        // Operator-written layers are templates; what came from hosts, modules, loops, API
        // callers or earlier rendering is data (never rendered).
        let t = Layer::templates;
        let mut layers: Vec<Layer> = vec![self.extra.clone()];
        layers.extend(top.into_iter().map(Layer::data));
        layers.push(Layer::data(Arc::new(self.magic(pc, host, inh))));
        layers.extend(inh.params.iter().rev().cloned());
        // Role parameters: its own, then its parents' (the nearest wins), as ansible-core's
        // get_role_params.
        let parents = inh.parent_roles();
        if let Some(r) = &inh.role {
            layers.push(t(r.params.clone()));
        }
        layers.extend(parents.iter().rev().map(|r| t(r.params.clone())));
        layers.push(Layer::data(set_vars));
        layers.push(t(included));
        layers.extend(inh.vars.iter().rev().cloned().map(t));
        // ansible-core's role variables: its own, then its dependencies' (the last wins), then
        // the roles above it (the nearest wins); defaults: its own, the parents', the deps'.
        let deps = inh.role.as_ref().map(|r| r.all_deps()).unwrap_or_default();
        if let Some(r) = &inh.role {
            layers.push(t(r.vars.clone()));
        }
        layers.extend(deps.iter().rev().map(|r| t(r.vars.clone())));
        layers.extend(parents.iter().rev().map(|r| t(r.vars.clone())));
        let play_roles = pc.roles();
        layers.extend(play_roles.iter().map(|r| t(r.vars.clone())));
        if let Some(f) = pc.files_vars.lock().ok().and_then(|m| m.get(host).cloned()) {
            layers.push(t(f));
        }
        layers.push(t(pc.play_vars.clone()));
        layers.push(Layer::data(facts));
        layers.push(t(self.inv().vars.get(host).cloned().unwrap_or_default()));
        if let Some(r) = &inh.role {
            layers.push(t(r.defaults.clone()));
        }
        layers.extend(parents.iter().rev().map(|r| t(r.defaults.clone())));
        layers.extend(deps.iter().rev().map(|r| t(r.defaults.clone())));
        layers.extend(play_roles.iter().map(|r| t(r.defaults.clone())));
        layers.push(Layer::data(self.baseline.clone()));
        let source: Arc<dyn HostVarsSource> = Arc::new(HostVarsView {
            runner: self.clone(),
            pc: pc.clone(),
        });
        Scope::new(layers, self.templar.clone(), Some(source))
    }

    /// `ansible_become`, `ansible_become_user` and `ansible_become_password` given above the
    /// inventory (play, block, task or include vars, set_fact): as in ansible-core, such
    /// connection variables override the `become` keywords.
    fn become_vars(
        &self,
        on: &str,
        vars: &minijinja::Value,
        become_: Option<Become>,
    ) -> Option<Become> {
        let inv = self.inv().vars.get(on).cloned().unwrap_or_default();
        let above = |k: &str| -> Option<Json> {
            let v = vars.get_attr(k).ok().filter(|v| !v.is_undefined())?;
            let v = serde_json::to_value(&v).ok()?;
            (inv.get(k) != Some(&v)).then_some(v)
        };
        let truthy = |v: &Json| match v {
            Json::Bool(b) => *b,
            Json::String(s) => matches!(
                s.to_ascii_lowercase().as_str(),
                "yes" | "true" | "on" | "1" | "y"
            ),
            Json::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
            _ => false,
        };
        let mut become_ = match above("ansible_become") {
            Some(v) if truthy(&v) => Some(become_.unwrap_or(Become {
                user: "root".into(),
                password: None,
                exe: None,
                flags: None,
                chdir: None,
            })),
            Some(_) => None,
            None => become_,
        };
        if let Some(b) = become_.as_mut() {
            if let Some(Json::String(u)) = above("ansible_become_user") {
                b.user = u;
            }
            match above("ansible_become_password").or_else(|| above("ansible_become_pass")) {
                Some(Json::String(p)) => b.password = Some(p),
                Some(Json::Null) => b.password = None,
                _ => {}
            }
            let text = |k: &str| match above(k) {
                Some(Json::String(s)) => Some(s),
                _ => None,
            };
            if let Some(e) = text("ansible_become_exe").or_else(|| text("ansible_sudo_exe")) {
                b.exe = Some(e);
            }
            if let Some(f) = text("ansible_become_flags").or_else(|| text("ansible_sudo_flags")) {
                b.flags = Some(f);
            }
            if let Some(d) = text("ansible_sudo_chdir") {
                b.chdir = Some(d);
            }
        }
        become_
    }

    /// How to reach `on`: the `connection` keyword (for the task's own host), else the host's
    /// `ansible_connection`.
    fn connection(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        on: &str,
        inh: Option<&Inherit>,
    ) -> Result<Connection, ModuleError> {
        let given = match inh.and_then(|i| i.connection.clone()) {
            Some(c) => Some(Json::String(c)),
            None => self
                .inv()
                .vars
                .get(on)
                .and_then(|v| v.get("ansible_connection").cloned())
                .or_else(|| self.opts.connection.clone().map(Json::String)),
        };
        let name = match given {
            Some(v) if crate::modules::has_templates(&v) => {
                let scope = self.scope(pc, on, &Inherit::default(), Vec::new());
                self.templar
                    .render_value(&v, &scope.context())
                    .map_err(|e| {
                        ModuleError::Failed(format!("`ansible_connection`: {}", e.message))
                    })?
            }
            Some(v) => v,
            None => return Ok(Connection::Ssh),
        };
        match name.as_str().unwrap_or_default() {
            "local" => Ok(Connection::Local),
            "ssh" | "smart" | "paramiko" | "paramiko_ssh" | "ansible.builtin.ssh" | "" => {
                Ok(Connection::Ssh)
            }
            "ansible.builtin.local" => Ok(Connection::Local),
            other => Err(ModuleError::Failed(format!(
                "connection `{other}` is not supported: hoist reaches hosts over SSH, or runs on the controller with `local`"
            ))),
        }
    }

    /// The connection target of `on`, as `remote_user` when the play, block or task names one
    /// and the inventory does not (`ansible_user` wins over the keyword, as in ansible-core).
    fn target_as(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        on: &str,
        remote_user: Option<&str>,
    ) -> Target {
        let mut t = self.target(pc, on);
        if let Some(u) = remote_user {
            let inv = self.inv().vars.get(on).cloned().unwrap_or_default();
            if !inv.contains_key("ansible_user") && !inv.contains_key("ansible_ssh_user") {
                t.user = u.to_string();
            }
        }
        t
    }

    /// The connection target of `host` (inventory variables rendered first).
    fn target(self: &Arc<Self>, pc: &Arc<PlayCtx>, host: &str) -> Target {
        let scope = self.scope(pc, host, &Inherit::default(), Vec::new());
        let mut vars = self
            .inv()
            .vars
            .get(host)
            .map(|v| (**v).clone())
            .unwrap_or_default();
        for (k, v) in vars.iter_mut() {
            if k.starts_with("ansible_")
                && let Ok(r) = self.templar.render_value(v, &scope.context())
            {
                *v = r;
            }
        }
        let ctx = self.pool.context();
        Target::resolve(host, &vars, &ctx.ssh, &ctx.opts)
    }

    /// Keeps what a `set_stats` result (or each of its loop items) asks to record.
    pub(crate) fn record_stats(&self, host: &str, result: &Json) {
        let items: Vec<&Json> = match result.get("results").and_then(Json::as_array) {
            Some(r) => r.iter().collect(),
            None => vec![result],
        };
        let mut all = self.custom_stats.lock().unwrap_or_else(|p| p.into_inner());
        for item in items {
            let Some(st) = item.get("ansible_stats") else {
                continue;
            };
            let scope = match st.get("per_host").and_then(Json::as_bool) {
                Some(true) => host,
                _ => "_run",
            };
            let aggregate = st.get("aggregate").and_then(Json::as_bool) != Some(false);
            if let Some(Json::Object(data)) = st.get("data") {
                for (k, v) in data {
                    crate::modules::set_stats::record(&mut all, scope, k, v.clone(), aggregate);
                }
            }
        }
    }

    /// Drops the pooled connection to `host` (a reboot, a lost network), so the next task
    /// connects anew.
    pub(crate) async fn forget_connection(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        host: &str,
        inh: &Inherit,
    ) {
        let target = self.target_as(pc, host, inh.remote_user.as_deref());
        self.pool.forget(&target).await;
    }

    /// The host a task runs on (itself, or its `delegate_to`), ready with become and environment.
    pub(crate) async fn remote(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        host: &str,
        delegate: Option<&str>,
        inh: &Inherit,
        env: Vec<(String, String)>,
        task_vars: Option<&minijinja::Value>,
    ) -> Result<Remote, ModuleError> {
        let on = delegate.unwrap_or(host);
        let local = matches!(on, "localhost" | "127.0.0.1")
            && !self.inv().inv.hosts.contains_key(on)
            || self.connection(pc, on, delegate.is_none().then_some(inh))? == Connection::Local;
        let (transport, base_become, password) = if local {
            (Transport::Local, None, None)
        } else if let Some(spec) = &self.opts.relay {
            let target = self.target_as(pc, on, inh.remote_user.as_deref());
            let ctx = self.pool.context();
            let relay = self.relay.get_or_init(|| {
                Arc::new(crate::modules::Relay {
                    spec: spec.clone(),
                    ssh: ctx.ssh.clone(),
                    opts: ctx.opts.clone(),
                })
            });
            let (b, p) = (target.become_.clone(), target.become_password.clone());
            (Transport::Relay(relay.clone(), Box::new(target)), b, p)
        } else {
            let target = self.target_as(pc, on, inh.remote_user.as_deref());
            let conn = self.pool.get(&target).await?;
            (
                Transport::Ssh(conn),
                target.become_.clone(),
                target.become_password.clone(),
            )
        };
        let become_ = match inh.become_ {
            Some(false) => None,
            Some(true) => Some(Become {
                user: inh
                    .become_user
                    .clone()
                    .or(base_become.as_ref().map(|b| b.user.clone()))
                    .unwrap_or_else(|| "root".into()),
                password,
                exe: base_become.as_ref().and_then(|b| b.exe.clone()),
                flags: base_become.as_ref().and_then(|b| b.flags.clone()),
                chdir: base_become.as_ref().and_then(|b| b.chdir.clone()),
            }),
            None => base_become.map(|b| Become {
                user: inh.become_user.clone().unwrap_or(b.user),
                ..b
            }),
        };
        let mut become_ = match task_vars.filter(|_| delegate.is_none()) {
            Some(vars) => self.become_vars(on, vars, become_),
            None => become_,
        };
        // `become_user` may be a template (rendered with the task's variables).
        if let (Some(b), Some(vars)) = (become_.as_mut(), task_vars)
            && crate::template::Templar::is_template(&b.user)
        {
            b.user = self
                .templar
                .render_str(&b.user, vars)
                .map_err(|e| ModuleError::Failed(format!("become_user: {}", e.message)))?;
        }
        // -vvv: the commands run on hosts, as ansible-playbook shows them.
        let trace = (self.opts.verbosity >= 3).then(|| {
            let me = self.clone();
            Arc::new(move |host: &str, line: String| {
                me.emit(Event::Verbose {
                    host: host.to_string(),
                    message: line,
                    level: 3,
                })
            }) as crate::modules::Tracer
        });
        Ok(Remote {
            host: on.to_string(),
            transport,
            become_,
            env,
            trace,
        })
    }
}

/// How a host is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Connection {
    Ssh,
    Local,
}

/// `hostvars`: any host's variables as seen from this play.
struct HostVarsView {
    runner: Arc<Runner>,
    pc: Arc<PlayCtx>,
}

impl HostVarsSource for HostVarsView {
    fn host_scope(&self, host: &str) -> Option<minijinja::Value> {
        // Inventory hosts, and Ansible's implicit localhost (the controller).
        let view = self.runner.inv();
        if !view.inv.hosts.contains_key(host) && !view.vars.contains_key(host) {
            return None;
        }
        Some(
            self.runner
                .scope(&self.pc, host, &Inherit::default(), Vec::new())
                .context(),
        )
    }

    fn host_names(&self) -> Vec<String> {
        self.runner.inv().inv.hosts.keys().cloned().collect()
    }
}
