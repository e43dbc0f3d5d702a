//! The playbook data model: plays, blocks, tasks, includes and roles, as loaded from YAML
//! (static imports already expanded), each remembering where it was written.

use crate::inventory::Vars;
use crate::source::Pos;
use crate::yaml::Doc;
use serde_json::Value as Json;
use std::path::PathBuf;
use std::sync::Arc;

/// Where something was written: for error messages and events.
#[derive(Debug, Clone)]
pub struct Origin {
    pub doc: Arc<Doc>,
    pub pos: Pos,
}

impl Origin {
    /// `file:line:column`.
    pub fn location(&self) -> String {
        format!(
            "{}:{}:{}",
            self.doc.path.display(),
            self.pos.line,
            self.pos.column
        )
    }

    pub fn error(&self, message: impl Into<String>) -> crate::source::SourceError {
        self.doc.error(self.pos, message)
    }
}

/// A whole playbook (imports expanded), in order.
#[derive(Debug, Clone)]
pub struct Playbook {
    pub path: PathBuf,
    pub plays: Vec<Arc<Play>>,
}

/// How a play walks its hosts through the tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// Every host finishes a task before any host starts the next (Ansible's default).
    Linear,
    /// Each host runs through the tasks as fast as it can.
    Free,
}

/// A `serial` batch size.
#[derive(Debug, Clone, PartialEq)]
pub enum Serial {
    Count(usize),
    Percent(f64),
}

/// Attributes shared by plays, blocks, tasks and includes, inherited from the outside in.
#[derive(Debug, Clone, Default)]
pub struct Common {
    pub name: Option<String>,
    pub when: Vec<String>,
    pub tags: Vec<String>,
    pub vars: Vars,
    pub become_: Option<bool>,
    pub become_user: Option<String>,
    /// `notify` on a block or an import: handlers every task inside notifies when it changes.
    pub notify: Vec<String>,
    /// `connection`: `ssh` (also `smart`, `paramiko`) or `local`.
    pub connection: Option<String>,
    pub environment: Option<Json>,
    pub ignore_errors: Option<bool>,
    pub ignore_unreachable: Option<bool>,
    pub delegate_to: Option<String>,
    pub run_once: Option<bool>,
    pub no_log: Option<bool>,
    pub check_mode: Option<bool>,
    pub diff: Option<bool>,
    pub any_errors_fatal: Option<bool>,
    pub remote_user: Option<String>,
    /// `throttle`: an integer or a template giving one (innermost wins; forks is the ceiling).
    pub throttle: Option<Json>,
    /// `timeout`: seconds a task may run (an integer or a template); 0 means no limit.
    pub timeout: Option<Json>,
    /// `module_defaults`: arguments by module name (or `group/...`), given here.
    pub module_defaults: Option<Json>,
    /// Per-host boolean keywords given as templates (`ignore_errors: "{{ x }}"`): the keyword
    /// and its template, decided on each host when the task runs.
    pub templated: Vec<(String, String)>,
}

/// One play.
#[derive(Debug, Clone)]
pub struct Play {
    pub origin: Origin,
    pub common: Common,
    pub hosts: String,
    pub gather_facts: bool,
    pub vars_files: Vec<VarsFile>,
    pub strategy: Strategy,
    /// `strategy` given as a template: decided when the play starts.
    pub strategy_template: Option<String>,
    pub serial: Vec<Serial>,
    pub max_fail_percentage: Option<f64>,
    pub force_handlers: bool,
    /// `order`: the order hosts run in (may hold a template; see [`HostOrder::parse`]).
    pub order: Option<String>,
    /// Roles and tasks are run in Ansible's order: pre_tasks, roles, tasks, post_tasks; each
    /// section flushes handlers at its end.
    pub pre_tasks: Vec<Item>,
    pub roles: Vec<Item>,
    pub tasks: Vec<Item>,
    pub post_tasks: Vec<Item>,
    /// Tasks and includes (`include_tasks`/`include_role` handlers run what they include).
    pub handlers: Vec<Item>,
    /// The playbook's directory (for relative paths and search paths).
    pub base_dir: PathBuf,
    /// The play's `collections:`: where short module and role names are looked for.
    pub collections: Vec<String>,
}

/// One `vars_files` entry: a file, or a list of candidates of which the first that exists
/// (after templating, per host) is read.
#[derive(Debug, Clone)]
pub struct VarsFile {
    pub candidates: Vec<String>,
    pub origin: Origin,
}

/// The play keyword `order`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostOrder {
    Inventory,
    ReverseInventory,
    Sorted,
    ReverseSorted,
    Shuffle,
}

impl HostOrder {
    pub fn parse(s: &str) -> Result<HostOrder, String> {
        Ok(match s.trim() {
            "inventory" => HostOrder::Inventory,
            "reverse_inventory" => HostOrder::ReverseInventory,
            "sorted" => HostOrder::Sorted,
            "reverse_sorted" => HostOrder::ReverseSorted,
            "shuffle" => HostOrder::Shuffle,
            other => {
                return Err(format!(
                    "unknown host order `{other}`: use inventory, reverse_inventory, sorted, reverse_sorted or shuffle"
                ));
            }
        })
    }
}

/// An entry in a task list.
#[derive(Debug, Clone)]
pub enum Item {
    Task(Arc<Task>),
    Block(Arc<Block>),
    Include(Arc<Include>),
}

impl Item {
    /// The names a handler answers to: its `listen` topics, its name and `role : name`.
    pub fn handler_names(&self) -> Vec<String> {
        let (listen, name, role) = match self {
            Item::Task(t) => (&t.listen, &t.common.name, &t.role),
            Item::Include(i) => (&i.listen, &i.common.name, &i.role),
            Item::Block(_) => return Vec::new(),
        };
        let mut names = listen.clone();
        if let Some(n) = name {
            names.push(n.clone());
            if let Some(r) = role {
                names.push(format!("{} : {n}", r.name));
            }
        }
        names
    }
}

/// The role a block belongs to: its search paths and variables.
#[derive(Debug, Clone)]
pub struct RoleCtx {
    pub name: String,
    pub path: PathBuf,
    pub defaults: Arc<Vars>,
    pub vars: Arc<Vars>,
    /// Role parameters (`roles: [{role: x, port: 80}]`).
    pub params: Arc<Vars>,
    /// The roles this one was brought in by (a `meta/main.yml` dependency's dependents),
    /// outermost first: their vars and defaults are visible below its own, as in ansible-core.
    pub parents: Vec<Arc<RoleCtx>>,
    /// Its direct `meta/main.yml` dependencies (set once they are loaded).
    pub deps: std::sync::OnceLock<Vec<Arc<RoleCtx>>>,
    /// Where its short module and role names are looked for: its own collection (when it
    /// lives in one), then its `meta/main.yml` `collections:` (the play's do not apply, as in
    /// ansible-core).
    pub collections: Vec<String>,
}

impl RoleCtx {
    /// Every dependency, depth first, each after its own (ansible-core's
    /// `get_all_dependencies`): their vars sit between the parents' and the role's own.
    pub fn all_deps(&self) -> Vec<Arc<RoleCtx>> {
        let mut out = Vec::new();
        for d in self.deps.get().into_iter().flatten() {
            out.extend(d.all_deps());
            out.push(d.clone());
        }
        out
    }
}

/// Which files of a role to load (`tasks_from`, `vars_from`, `defaults_from`,
/// `handlers_from`); `None` is `main`. They may hold templates until the include renders them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RoleFiles {
    pub tasks: Option<String>,
    pub vars: Option<String>,
    pub defaults: Option<String>,
    pub handlers: Option<String>,
    /// `rolespec_validate: false`: no check against the role's argument specs.
    pub skip_argument_check: bool,
}

impl RoleFiles {
    /// Reads the `*_from` options of `include_role` / `import_role`.
    pub fn from_options(opts: &std::collections::BTreeMap<String, String>) -> RoleFiles {
        RoleFiles {
            tasks: opts.get("tasks_from").cloned(),
            vars: opts.get("vars_from").cloned(),
            defaults: opts.get("defaults_from").cloned(),
            handlers: opts.get("handlers_from").cloned(),
            skip_argument_check: opts.get("rolespec_validate").is_some_and(|v| {
                ["no", "false", "off", "0", "n", "f"].contains(&v.to_ascii_lowercase().as_str())
            }),
        }
    }

    /// Each name rendered with `render`.
    pub fn rendered(
        &self,
        render: impl Fn(&str) -> Result<String, String>,
    ) -> Result<RoleFiles, String> {
        let r = |o: &Option<String>| o.as_deref().map(&render).transpose();
        Ok(RoleFiles {
            tasks: r(&self.tasks)?,
            vars: r(&self.vars)?,
            defaults: r(&self.defaults)?,
            handlers: r(&self.handlers)?,
            skip_argument_check: self.skip_argument_check,
        })
    }

    /// A key telling loads apart (`tasks|vars|defaults|handlers`).
    pub fn key(&self) -> String {
        [&self.tasks, &self.vars, &self.defaults, &self.handlers]
            .map(|o| o.as_deref().unwrap_or("main"))
            .join("|")
    }
}

/// `block` / `rescue` / `always`.
#[derive(Debug, Clone)]
pub struct Block {
    pub origin: Origin,
    pub common: Common,
    pub block: Vec<Item>,
    pub rescue: Vec<Item>,
    pub always: Vec<Item>,
    /// Set on the block that wraps a role's tasks.
    pub role: Option<Arc<RoleCtx>>,
}

/// How a task loops.
#[derive(Debug, Clone)]
pub enum LoopSpec {
    /// `loop:` (a list, or a template that gives one).
    Loop(Json),
    /// `with_<lookup>:` terms.
    With { lookup: String, terms: Json },
}

/// `loop_control`.
#[derive(Debug, Clone, Default)]
pub struct LoopControl {
    pub loop_var: Option<String>,
    pub index_var: Option<String>,
    pub label: Option<String>,
    pub pause: Option<f64>,
    pub extended: bool,
    /// `extended_allitems: false` leaves `ansible_loop.allitems` out (None: kept).
    pub extended_allitems: Option<bool>,
    /// Conditions checked after each item: when they all hold, the loop stops there.
    pub break_when: Vec<String>,
}

/// One task (or handler).
#[derive(Debug, Clone)]
pub struct Task {
    pub origin: Origin,
    pub common: Common,
    /// The module, without any `ansible.builtin.` prefix.
    pub action: String,
    /// The action plugin's name as written, when it stands for the built-in `action`
    /// (ansible-core's `with_first_found` picks its subdirectory by it).
    pub action_written: Option<String>,
    /// Ansible's own module, when the fallback runs this task's module.
    pub ansible_module: Option<Arc<crate::modules::ansible::Located>>,
    /// Module arguments, still holding templates.
    pub args: Json,
    /// `args:` written as one template: rendered when the task runs into a mapping of more
    /// arguments (those written on the task win).
    pub args_expr: Option<String>,
    /// Where each argument was written (for argument errors).
    pub arg_origins: Vec<(String, Origin)>,
    /// What the static argument check found: ansible-core meets it only when the task runs
    /// (and the module refuses its arguments then), so it is a warning before the run.
    pub arg_issue: Option<crate::source::SourceError>,
    pub loop_: Option<LoopSpec>,
    pub loop_control: LoopControl,
    pub register: Option<String>,
    pub notify: Vec<String>,
    pub listen: Vec<String>,
    pub changed_when: Option<Vec<String>>,
    pub failed_when: Option<Vec<String>>,
    pub until: Option<Vec<String>>,
    pub retries: Option<Json>,
    pub delay: Option<Json>,
    /// `async`: the seconds a `command`/`shell` background job may run (may hold a template).
    pub async_: Option<Json>,
    /// `poll`: seconds between checks of that job; 0: do not wait for it.
    pub poll: Option<Json>,
    pub delegate_facts: bool,
    /// The role this task came from (handlers are addressable as `role : name`).
    pub role: Option<Arc<RoleCtx>>,
}

impl Task {
    /// The name shown in output: the task's name, or the module and its arguments.
    pub fn display_name(&self) -> String {
        let base = match &self.common.name {
            Some(n) => n.clone(),
            None => self.action.clone(),
        };
        match &self.role {
            Some(r) => format!("{} : {base}", r.name),
            None => base,
        }
    }
}

/// What a dynamic include brings in.
#[derive(Debug, Clone)]
pub enum IncludeKind {
    /// `include_tasks: FILE`.
    Tasks,
    /// `include_role: {name: ROLE, tasks_from: ..., public: ...}`.
    Role { from: RoleFiles, public: bool },
}

/// A dynamic include, resolved on each host when it is reached.
#[derive(Debug, Clone)]
pub struct Include {
    pub origin: Origin,
    pub common: Common,
    pub kind: IncludeKind,
    /// The file or role name (may hold templates).
    pub target: String,
    pub loop_: Option<LoopSpec>,
    pub loop_control: LoopControl,
    /// Variables passed to the included tasks (`vars:` and include params).
    pub params: Vars,
    /// The directory relative names resolve against.
    pub base_dir: PathBuf,
    pub role: Option<Arc<RoleCtx>>,
    /// `apply:` keywords, applied to the included tasks as a block's would be.
    pub apply: Option<Common>,
    /// Topics the include answers to when it is a handler.
    pub listen: Vec<String>,
}
