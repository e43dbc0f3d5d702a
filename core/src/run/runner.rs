//! The runner: what a whole run shares (inventory, connections, templates, per-host state),
//! variable scopes in Ansible's precedence order, and the connection each task uses.

use super::events::{Event, Sink};
use super::inherit::Inherit;
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
}

impl Recap {
    pub fn any_failed(&self) -> bool {
        self.hosts.values().any(|s| s.failed > 0)
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
    pub handlers: Mutex<Vec<Arc<crate::playbook::Task>>>,
    /// Set when the play must stop for every host.
    pub abort: AtomicBool,
    /// The stop is for this batch only (`meta: end_batch`).
    pub batch_only: AtomicBool,
    /// The `roles:` of the play, last first: their vars and defaults are visible to the whole
    /// play (Ansible's default, `private_role_vars = false`).
    pub play_roles: Vec<Arc<crate::playbook::RoleCtx>>,
    /// The play broke on failures (any_errors_fatal, max_fail_percentage, every host failed):
    /// the playbook ends after it, as in Ansible.
    pub broken: AtomicBool,
}

pub struct Runner {
    pub(crate) inv: Arc<Inventory>,
    pub(crate) pool: Arc<Pool>,
    pub(crate) templar: Arc<Templar>,
    pub(crate) sink: Arc<dyn Sink>,
    pub(crate) opts: RunOptions,
    pub(crate) hosts: Mutex<IndexMap<String, HostState>>,
    pub(crate) inv_vars: HashMap<String, Arc<Vars>>,
    pub(crate) groups: Arc<Json>,
    pub(crate) extra: Layer,
    pub(crate) forks: Arc<Semaphore>,
    /// The variables every host has below all others (ansible-core's defaults:
    /// `ansible_facts` before any gathering, the connection, the verbosity).
    baseline: Arc<Vars>,
    pub(crate) playbook_dir: Mutex<PathBuf>,
    relay: std::sync::OnceLock<Arc<crate::modules::Relay>>,
}

impl Runner {
    pub fn new(
        inv: Arc<Inventory>,
        pool: Arc<Pool>,
        sink: Arc<dyn Sink>,
        opts: RunOptions,
    ) -> Arc<Runner> {
        let mut inv_vars: HashMap<String, Arc<Vars>> = inv
            .hosts
            .keys()
            .map(|h| (h.clone(), Arc::new(inv.host_vars(h).unwrap_or_default())))
            .collect();
        for name in ["localhost", "127.0.0.1"] {
            inv_vars
                .entry(name.to_string())
                .or_insert_with(|| Arc::new(inv.implicit_localhost_vars(name)));
        }
        let groups: serde_json::Map<String, Json> = inv
            .groups
            .keys()
            .map(|g| (g.clone(), json!(inv.hosts_of_group(g))))
            .collect();
        let hosts = inv
            .hosts
            .keys()
            .map(|h| (h.clone(), HostState::default()))
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
            inv,
            pool,
            sink,
            opts,
            hosts: Mutex::new(hosts),
            inv_vars,
            groups: Arc::new(Json::Object(groups)),
            playbook_dir: Mutex::new(PathBuf::from(".")),
            relay: std::sync::OnceLock::new(),
        })
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
        });
        // What the static checks found fails those tasks when they run, as in ansible-core;
        // said before the run, with the place.
        let outside = crate::playbook::undefined::outside_names(&self.inv, &self.opts.extra_vars);
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
        let hosts: IndexMap<String, Stats> = {
            let h = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            h.iter()
                .filter(|(_, s)| s.stats != Stats::default())
                .map(|(n, s)| (n.clone(), s.stats.clone()))
                .collect()
        };
        self.emit(Event::Recap {
            hosts: hosts.clone(),
            duration_ms: started.elapsed().as_millis() as u64,
        });
        Ok(Recap { hosts })
    }

    /// Magic variables for `host` in this play.
    fn magic(&self, pc: &PlayCtx, host: &str, inh: &Inherit) -> Vars {
        let pbdir = self
            .playbook_dir
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default();
        // ansible-core's search path: the role, its tasks (where included task files live),
        // then the play's directory.
        let mut search = Vec::new();
        if let Some(r) = &inh.role {
            search.push(json!(r.path.display().to_string()));
            search.push(json!(r.path.join("tasks").display().to_string()));
        }
        search.push(json!(pc.play.base_dir.display().to_string()));
        let mut m = Vars::new();
        m.insert("ansible_search_path".into(), Json::Array(search.clone()));
        m.insert("inventory_hostname".into(), json!(host));
        m.insert(
            "inventory_hostname_short".into(),
            json!(host.split('.').next().unwrap_or(host)),
        );
        m.insert("group_names".into(), json!(self.inv.group_names(host)));
        m.insert("groups".into(), (*self.groups).clone());
        m.insert("play_hosts".into(), json!(pc.batch));
        m.insert("ansible_play_hosts".into(), json!(pc.batch));
        m.insert("ansible_play_batch".into(), json!(pc.batch));
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
        if let Some(r) = &inh.role {
            layers.push(t(r.params.clone()));
        }
        layers.push(Layer::data(set_vars));
        layers.push(t(included));
        layers.extend(inh.vars.iter().rev().cloned().map(t));
        if let Some(r) = &inh.role {
            layers.push(t(r.vars.clone()));
        }
        layers.extend(pc.play_roles.iter().map(|r| t(r.vars.clone())));
        if let Some(f) = pc.files_vars.lock().ok().and_then(|m| m.get(host).cloned()) {
            layers.push(t(f));
        }
        layers.push(t(pc.play_vars.clone()));
        layers.push(Layer::data(facts));
        layers.push(t(self.inv_vars.get(host).cloned().unwrap_or_default()));
        if let Some(r) = &inh.role {
            layers.push(t(r.defaults.clone()));
        }
        layers.extend(pc.play_roles.iter().map(|r| t(r.defaults.clone())));
        layers.push(Layer::data(self.baseline.clone()));
        let source: Arc<dyn HostVarsSource> = Arc::new(HostVarsView {
            runner: self.clone(),
            pc: pc.clone(),
        });
        Scope::new(layers, self.templar.clone(), Some(source))
    }

    /// The connection target of `host` (inventory variables rendered first).
    fn target(self: &Arc<Self>, pc: &Arc<PlayCtx>, host: &str) -> Target {
        let scope = self.scope(pc, host, &Inherit::default(), Vec::new());
        let mut vars = self
            .inv_vars
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

    /// The host a task runs on (itself, or its `delegate_to`), ready with become and environment.
    pub(crate) async fn remote(
        self: &Arc<Self>,
        pc: &Arc<PlayCtx>,
        host: &str,
        delegate: Option<&str>,
        inh: &Inherit,
        env: Vec<(String, String)>,
    ) -> Result<Remote, ModuleError> {
        let on = delegate.unwrap_or(host);
        let local = matches!(on, "localhost" | "127.0.0.1") && !self.inv.hosts.contains_key(on);
        let (transport, base_become, password) = if local {
            (Transport::Local, None, None)
        } else if let Some(spec) = &self.opts.relay {
            let target = self.target(pc, on);
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
            let target = self.target(pc, on);
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
            }),
            None => base_become.map(|b| Become {
                user: inh.become_user.clone().unwrap_or(b.user),
                ..b
            }),
        };
        Ok(Remote {
            host: on.to_string(),
            transport,
            become_,
            env,
        })
    }
}

/// `hostvars`: any host's variables as seen from this play.
struct HostVarsView {
    runner: Arc<Runner>,
    pc: Arc<PlayCtx>,
}

impl HostVarsSource for HostVarsView {
    fn host_scope(&self, host: &str) -> Option<minijinja::Value> {
        // Inventory hosts, and Ansible's implicit localhost (the controller).
        if !self.runner.inv.hosts.contains_key(host) && !self.runner.inv_vars.contains_key(host) {
            return None;
        }
        Some(
            self.runner
                .scope(&self.pc, host, &Inherit::default(), Vec::new())
                .context(),
        )
    }

    fn host_names(&self) -> Vec<String> {
        self.runner.inv.hosts.keys().cloned().collect()
    }
}
