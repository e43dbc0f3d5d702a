//! Built-in modules: native Rust that drives plain POSIX shell on the target (nothing to install
//! there). Each module is a serde type (its arguments, strictly checked) with a `run` that
//! probes the target, decides, and changes only what differs; check mode stops before the
//! change, diff mode reports before/after.

pub mod ansible;
mod choices;
pub mod external;
mod lenient_args;
mod outcome;
mod registry;
pub mod remote;
pub mod types;
pub use async_job::Background;
pub use controller_side::set_stats;

mod commands;
mod controller_side;
mod files;
mod net;
mod ops;
mod packages;
mod system;
use commands::{async_job, async_status, command, script};
use controller_side::{controller, include_vars, inventory, validate_argument_spec};
use files::{
    assemble, blockinfile, copy, fetch, file, files_common, find, lineinfile, path_lock, replace,
    slurp, stat, tempfile, unarchive,
};
use net::{get_url, known_hosts, uri, wait_for, wait_for_connection};
use ops::{backup_rotate, health};
use packages::{apt, apt_repository, deb822_repository, debconf, dpkg_selections, package_facts};
use system::{
    authorized_key, cron, getent, hostname, reboot, service, service_facts, setup, sysctl, user,
};

pub use outcome::{FileDiff, Meta, ModResult, ModuleError, Outcome, fail};
pub use registry::{ArgIssue, has_templates};
pub use remote::{Mock, Relay, RelaySpec, Remote, Stat, Tracer, Transport};

use crate::template::Templar;
use serde::de::DeserializeOwned;
use serde_json::Value as Json;
use std::future::Future;
use std::path::{Path, PathBuf};

/// What a module may use while it runs.
pub struct Ctx<'a> {
    pub host: &'a str,
    /// The target; `None` only for controller-side modules.
    pub remote: Option<&'a Remote>,
    pub check: bool,
    pub diff: bool,
    pub templar: &'a Templar,
    /// The task's variables, as a template context.
    pub vars: &'a minijinja::Value,
    /// Role and playbook directories, for relative `src:` paths.
    pub search_paths: &'a [PathBuf],
    /// The host's `ansible_facts` (may be empty when facts were not gathered).
    pub facts: &'a Json,
    /// `async`/`poll` of a `command` or `shell` task: run it as a background job.
    pub background: Option<Background>,
    /// For modules that wait for the host (`wait_for_connection`): drops the connection and
    /// connects anew.
    pub reconnect: Option<&'a Reconnect>,
}

/// Connects to the task's host anew (see `Ctx::reconnect`).
pub type Reconnect =
    dyn Fn() -> futures::future::BoxFuture<'static, Result<Remote, ModuleError>> + Send + Sync;

impl Ctx<'_> {
    /// The target, for modules that act on it.
    pub fn remote(&self) -> Result<&Remote, ModuleError> {
        self.remote
            .ok_or_else(|| ModuleError::Failed("this module needs a connection to the host".into()))
    }

    /// Finds a controller file: absolute, or in `subdir` (`files`, `templates`) of a search path.
    pub fn find_file(&self, name: &str, subdir: &str) -> Result<PathBuf, ModuleError> {
        let p = Path::new(name);
        if p.is_absolute() {
            return if p.exists() {
                Ok(p.to_path_buf())
            } else {
                fail(format!("could not find `{name}` on the controller"))
            };
        }
        let mut tried = Vec::new();
        for base in self.search_paths {
            for c in [base.join(subdir).join(p), base.join(p)] {
                if c.exists() {
                    return Ok(c);
                }
                tried.push(c.display().to_string());
            }
        }
        fail(format!(
            "could not find `{name}` on the controller (looked in {})",
            tried.join(", ")
        ))
    }

    /// A fact by its `ansible_facts` name (`distribution`, `pkg_mgr`, ...).
    pub fn fact(&self, name: &str) -> Option<&Json> {
        self.facts.get(name)
    }
}

/// One built-in module.
pub trait Module: DeserializeOwned + Send {
    /// Takes a free-form string (`command: ls -l`) as `_raw_params`.
    const FREE_FORM: bool = false;
    /// Runs on the controller only (no connection needed).
    const CONTROLLER: bool = false;
    fn run(self, ctx: &Ctx<'_>) -> impl Future<Output = ModResult> + Send;
}

/// What the loader needs to know about a module.
#[derive(Debug, Clone)]
pub struct ModuleInfo {
    pub name: String,
    pub free_form: bool,
    pub controller: bool,
    /// Accepted argument names (empty when `any_args`).
    pub fields: Vec<String>,
    pub any_args: bool,
    /// Where the module comes from: `built-in`, or the plugin's manifest path.
    pub origin: String,
}

impl ModuleInfo {
    fn of<T: Module>(name: &'static str) -> ModuleInfo {
        let fields = registry::fields_of::<T>();
        ModuleInfo {
            name: name.to_string(),
            free_form: T::FREE_FORM,
            controller: T::CONTROLLER,
            any_args: fields.is_none(),
            fields: fields
                .map(|f| f.iter().map(|s| s.to_string()).collect())
                .unwrap_or_default(),
            origin: "built-in".into(),
        }
    }

    /// Whether the module takes an argument called `name`.
    pub fn takes(&self, name: &str) -> bool {
        self.any_args || self.fields.iter().any(|f| f == name)
    }
}

/// The argument serde says is missing (`missing field `path``).
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.split("missing field `").nth(1)?;
    rest.split('`').next()
}

fn check_typed<T: Module>(args: &Json) -> Result<(), ArgIssue> {
    if has_templates(args) {
        return Ok(());
    }
    registry::parse_args::<T>(args.clone()).map(|_| ())
}

async fn execute<T: Module>(name: &str, ctx: &Ctx<'_>, args: Json) -> ModResult {
    // ansible-core's shell action refuses command's `expand_argument_vars` in these words.
    if name == "shell" && args.get("expand_argument_vars").is_some() {
        return fail("Unsupported parameters for (shell) module: expand_argument_vars");
    }
    let m: T = registry::parse_args(args.clone()).map_err(|i| {
        match registry::unsupported::<T>(name, &args) {
            Some(msg) if i.message.contains("unknown field") => ModuleError::Failed(msg),
            // ansible-core's words for a required argument left out.
            _ => match missing_field(&i.message) {
                Some(f) => ModuleError::Failed(format!("missing required arguments: {f}")),
                None => ModuleError::Args(i.message),
            },
        }
    })?;
    m.run(ctx).await
}

macro_rules! modules {
    ($($name:literal => $ty:ty,)*) => {
        /// The built-in module called `name`.
        fn builtin_info(name: &str) -> Option<ModuleInfo> {
            match name {
                $($name => Some(ModuleInfo::of::<$ty>($name)),)*
                _ => None,
            }
        }

        /// Every built-in module's name.
        pub fn builtin_names() -> impl Iterator<Item = &'static str> {
            [$($name),*].into_iter()
        }

        fn typed(name: &str, args: &Json) -> Result<(), ArgIssue> {
            match name {
                $($name => check_typed::<$ty>(args),)*
                _ => Ok(()),
            }
        }

        /// Runs module `name` (built-in, else a plugin's) with templated `args`.
        pub async fn run(name: &str, ctx: &Ctx<'_>, args: Json) -> ModResult {
            match name {
                $($name => execute::<$ty>($name, ctx, args).await,)*
                _ => match external::get(name) {
                    Some(m) => m.run(ctx, args).await,
                    None => Err(ModuleError::Args(format!("unknown module `{name}`"))),
                },
            }
        }
    };
}

modules! {
    "command" => command::Command,
    "shell" => command::Shell,
    "raw" => command::Raw,
    "async_status" => async_status::AsyncStatus,
    "copy" => copy::Copy,
    "assemble" => assemble::Assemble,
    "slurp" => slurp::Slurp,
    "find" => find::Find,
    "getent" => getent::Getent,
    "hostname" => hostname::Hostname,
    "service_facts" => service_facts::ServiceFacts,
    "package_facts" => package_facts::PackageFacts,
    "wait_for_connection" => wait_for_connection::WaitForConnection,
    "reboot" => reboot::Reboot,
    "dpkg_selections" => dpkg_selections::DpkgSelections,
    "debconf" => debconf::Debconf,
    "known_hosts" => known_hosts::KnownHosts,
    "apt_repository" => apt_repository::AptRepository,
    "deb822_repository" => deb822_repository::Deb822Repository,
    "validate_argument_spec" => validate_argument_spec::ValidateArgumentSpec,
    "set_stats" => set_stats::SetStats,
    "template" => copy::Template,
    "file" => file::File,
    "lineinfile" => lineinfile::LineInFile,
    "blockinfile" => blockinfile::BlockInFile,
    "replace" => replace::Replace,
    "fetch" => fetch::Fetch,
    "apt" => apt::Apt,
    "package" => apt::Package,
    "service" => service::Service,
    "systemd" => service::Systemd,
    "systemd_service" => service::Systemd,
    "user" => user::User,
    "group" => user::Group,
    "authorized_key" => authorized_key::AuthorizedKey,
    "cron" => cron::Cron,
    "get_url" => get_url::GetUrl,
    "unarchive" => unarchive::Unarchive,
    "wait_for" => wait_for::WaitFor,
    "uri" => uri::Uri,
    "sysctl" => sysctl::Sysctl,
    "health_check" => health::HealthCheck,
    "backup_rotate" => backup_rotate::BackupRotate,
    "stat" => stat::StatModule,
    "script" => script::Script,
    "tempfile" => tempfile::TempFile,
    "setup" => setup::Setup,
    "gather_facts" => setup::Setup,
    "ping" => setup::Ping,
    "debug" => controller::Debug,
    "set_fact" => controller::SetFact,
    "assert" => controller::Assert,
    "fail" => controller::Fail,
    "meta" => controller::MetaModule,
    "pause" => controller::Pause,
    "include_vars" => include_vars::IncludeVars,
    "add_host" => inventory::AddHost,
    "group_by" => inventory::GroupBy,
}

/// The module called `name`: a built-in, else a registered plugin module. A plugin that
/// cannot describe itself counts as unknown (its error is reported where it is used).
pub fn info(name: &str) -> Option<ModuleInfo> {
    builtin_info(name).or_else(|| external::get(name).and_then(|m| m.info().ok()))
}

/// Every module's name: the built-ins, then plugin modules.
pub fn names() -> Vec<String> {
    let mut all: Vec<String> = builtin_names().map(str::to_string).collect();
    all.extend(external::names());
    all
}

/// Checks a task's arguments before the run: unknown names always, types where no template
/// is involved (templated values are checked once rendered).
pub fn validate_static(name: &str, args: &Json) -> Result<(), ArgIssue> {
    let Some(info) = info(name) else {
        return Err(ArgIssue {
            arg: None,
            message: format!("unknown module `{name}`"),
            help: None,
        });
    };
    let Json::Object(map) = args else {
        return Err(ArgIssue {
            arg: None,
            message: "arguments must be a mapping".into(),
            help: None,
        });
    };
    if !info.any_args {
        for key in map.keys() {
            if !info.takes(key) {
                let shown: Vec<&str> = info
                    .fields
                    .iter()
                    .map(String::as_str)
                    .filter(|f| !f.starts_with('_'))
                    .collect();
                let help = match crate::playbook::closest(key, shown.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("`{name}` takes: {}", shown.join(", ")),
                };
                let message = if key == "_raw_params" {
                    format!("`{name}` does not take a free-form string; use `key: value` arguments")
                } else {
                    format!("unsupported parameter `{key}`")
                };
                return Err(ArgIssue {
                    arg: Some(key.clone()),
                    message,
                    help: Some(help),
                });
            }
        }
    }
    match external::get(name) {
        Some(m) if builtin_info(name).is_none() => m.validate(args),
        _ => {
            typed(name, args)?;
            choices::check(name, map)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_come_from_the_types() {
        let file = info("file").unwrap();
        assert!(
            file.takes("dest"),
            "aliases are accepted: {:?}",
            file.fields
        );
        assert!(info("set_fact").unwrap().any_args);
        assert!(info("command").unwrap().free_form);
        assert!(info("debug").unwrap().controller);
    }

    #[test]
    fn static_argument_checks() {
        let e = validate_static("copy", &json!({"dest": "/x", "contnet": "y"})).unwrap_err();
        assert_eq!(e.arg.as_deref(), Some("contnet"));
        assert_eq!(e.help.as_deref(), Some("did you mean `content`?"));
        let e = validate_static("file", &json!({"path": "/x", "recurse": "maybe"})).unwrap_err();
        assert!(
            e.message.contains("`recurse`") && e.message.contains("not a boolean"),
            "{e:?}"
        );
        let e = validate_static("copy", &json!({"content": "x"})).unwrap_err();
        assert!(e.message.contains("missing field `dest`"), "{e:?}");
        assert!(validate_static("file", &json!({"path": "/x", "recurse": "{{ r }}"})).is_ok());
        assert!(validate_static("set_fact", &json!({"a": 1})).is_ok());
    }
}
