//! `hoist run PLAYBOOK`: apply a playbook to the inventory's hosts, with a live view, JSON
//! events or a JUnit report, and Ansible's exit codes.

use crate::args::{ConnectArgs, Output};
use crate::diagnostic::{CliError, exit};
use crate::printer;
use clap::Args;
use hoist_core::inventory::{Inventory, Vars};
use hoist_core::playbook;
use hoist_core::run::{RunOptions, Runner, Sink, Tee};
use hoist_core::ssh::{ConnectContext, KeyCache, Pool, SshConfig};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Playbook file(s), run one after the other
    #[arg(required = true)]
    pub playbooks: Vec<PathBuf>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Only run tasks with these tags (comma-separated; repeatable)
    #[arg(short = 't', long, value_delimiter = ',')]
    pub tags: Vec<String>,
    /// Skip tasks with these tags
    #[arg(long, value_delimiter = ',')]
    pub skip_tags: Vec<String>,
    /// Extra variables: `k=v ...`, YAML/JSON, or `@file` (repeatable; later wins)
    #[arg(short = 'e', long = "extra-vars")]
    pub extra_vars: Vec<String>,
    /// Report what would change, change nothing
    #[arg(short = 'C', long)]
    pub check: bool,
    /// Show file and state differences
    #[arg(short = 'D', long)]
    pub diff: bool,
    /// Write a JUnit XML report here
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Show every task result, not just failures and debug output
    #[arg(short = 'v', long, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Callback plugins that receive every run event (comma-separated; repeatable)
    #[arg(long = "callback", env = "HOIST_CALLBACKS", value_delimiter = ',')]
    pub callbacks: Vec<String>,
    /// Connection for hosts that do not set `ansible_connection`: `ssh` (default) or `local`
    #[arg(short = 'c', long)]
    pub connection: Option<String>,
    /// Run this module as Ansible's own module even where hoist has a native one (to compare
    /// them, or to step around a difference); repeatable; `all` for every module that can.
    /// Modules ansible-core runs with a controller-side action plugin cannot
    #[arg(
        long = "ansible-module",
        value_name = "NAME",
        env = "HOIST_ANSIBLE_MODULES",
        value_delimiter = ','
    )]
    pub ansible_modules: Vec<String>,
    /// Run notified handlers even on hosts where a task failed
    #[arg(long)]
    pub force_handlers: bool,
    /// Become (sudo) for every play that does not say otherwise
    #[arg(short = 'b', long = "become")]
    pub become_: bool,
    /// The user to become (default root)
    #[arg(long)]
    pub become_user: Option<String>,
    /// File holding the ansible-vault password (or a script that prints it); repeatable
    #[arg(long = "vault-password-file", alias = "vault-pass-file")]
    pub vault_password_file: Vec<PathBuf>,
    /// Vault identity `[label@]source` (source: a password file or script); repeatable
    #[arg(long = "vault-id")]
    pub vault_id: Vec<String>,
    /// Only parse the playbooks, run nothing
    #[arg(long)]
    pub syntax_check: bool,
    /// List the hosts each play would run on, run nothing
    #[arg(long)]
    pub list_hosts: bool,
    /// List the tasks each play would run (after tag selection), run nothing
    #[arg(long)]
    pub list_tasks: bool,
    /// List every tag, run nothing
    #[arg(long)]
    pub list_tags: bool,
    /// Forget the inventory's cached facts first (with a jsonfile fact cache configured)
    #[arg(long)]
    pub flush_cache: bool,
}

/// Parses `-e` values into variables.
pub fn extra_vars(values: &[String]) -> Result<Vars, CliError> {
    let mut out = Vars::new();
    for v in values {
        let v = v.trim();
        if let Some(file) = v.strip_prefix('@') {
            let path = PathBuf::from(file);
            out.extend(playbook::load_vars(&path).map_err(|e| CliError::Other(e.to_string()))?);
        } else if v.starts_with('{') || v.starts_with('[') || v.contains(": ") || v.contains(":\n")
        {
            let node =
                hoist_core::yaml::parse_str(std::path::Path::new("<extra-vars>"), v.to_string())
                    .map_err(|e| CliError::Other(format!("-e {v:?}: {}", e.message)))?;
            match node.to_value() {
                serde_json::Value::Object(m) => out.extend(m),
                _ => return Err(CliError::Other(format!("-e {v:?}: expected a mapping"))),
            }
        } else {
            for word in playbook::split_words(v) {
                let (k, val) = word
                    .split_once('=')
                    .ok_or_else(|| CliError::Other(format!("-e: `{word}` is not key=value")))?;
                out.insert(k.to_string(), serde_json::Value::String(val.to_string()));
            }
        }
    }
    Ok(out)
}

/// Variable names defined outside the playbook: every inventory variable and the extra vars.
pub fn outside_names(inv: &Inventory, extra: &Vars) -> std::collections::HashSet<String> {
    playbook::undefined::outside_names(inv, extra)
}

/// The connection pool for playbook runs (persistent shells on).
pub fn pool(connect: &ConnectArgs) -> Result<Arc<Pool>, CliError> {
    let ssh_path = connect.ssh_config_path();
    let ssh = SshConfig::load(&ssh_path)
        .map_err(|e| CliError::Other(format!("cannot read {}: {e}", ssh_path.display())))?;
    Ok(Arc::new(Pool::new(ConnectContext {
        ssh,
        opts: hoist_core::ssh::ConnectOptions {
            persistent_shell: true,
            ..connect.connect_options()
        },
        keys: KeyCache::default(),
    })))
}

/// The multiplexer relay when `--persist` asks for one.
pub fn relay(connect: &ConnectArgs) -> Option<hoist_core::modules::RelaySpec> {
    (connect.persist > 0).then(|| {
        let socket = hoist_core::mux::default_socket();
        let (s, persist) = (socket.clone(), connect.persist);
        hoist_core::modules::RelaySpec {
            socket,
            spawn: Arc::new(move || super::mux::spawn(&s, persist)),
        }
    })
}

/// Maps the engine's errors to the CLI's.
pub fn run_error(e: hoist_core::run::RunError) -> CliError {
    match e {
        hoist_core::run::RunError::Source(s) => CliError::Playbook(s),
        hoist_core::run::RunError::Pattern(p) => CliError::Pattern(p),
        hoist_core::run::RunError::Other(o) => CliError::Other(o),
    }
}

pub async fn run(
    args: RunArgs,
    callbacks: Vec<Arc<hoist_plugins::kinds::callback::PluginCallback>>,
) -> Result<u8, CliError> {
    let secrets = hoist_core::vault::secrets_from_args(&args.vault_password_file, &args.vault_id)
        .map_err(CliError::Other)?;
    hoist_core::vault::set_secrets(secrets);
    let extra = extra_vars(&args.extra_vars)?;
    playbook::set_static_vars(extra.clone());
    hoist_core::modules::ansible::force(&args.ansible_modules);
    let books = args
        .playbooks
        .iter()
        .map(|p| playbook::load_playbook(p).map_err(CliError::Playbook))
        .collect::<Result<Vec<_>, _>>()?;
    // As ansible-playbook: an inventory source that does not exist is a warning, and the run
    // goes on with the others (or with the implicit localhost alone).
    let mut inv = args.connect.inventory.load(true)?;
    for b in &books {
        if let Some(dir) = b.path.parent() {
            let dir = if dir.as_os_str().is_empty() {
                std::path::Path::new(".")
            } else {
                dir
            };
            inv.add_vars_dirs(dir)?;
        }
    }
    if args.syntax_check {
        for b in &books {
            println!("\nplaybook: {}", b.path.display());
        }
        return Ok(exit::OK);
    }
    let listing = super::run_list::Listing {
        hosts: args.list_hosts,
        tasks: args.list_tasks,
        tags: args.list_tags,
    };
    if listing.any() {
        for b in &books {
            print!(
                "{}",
                super::run_list::render(
                    b,
                    &inv,
                    args.connect.limit.as_deref(),
                    &args.tags,
                    &args.skip_tags,
                    listing
                )
            );
        }
        return Ok(exit::OK);
    }
    let inv = Arc::new(inv);
    let pool = pool(&args.connect)?;
    let mut sinks: Vec<Arc<dyn Sink>> = Vec::new();
    match args.connect.output {
        Output::Json => sinks.push(Arc::new(printer::json::JsonLines::stdout())),
        Output::Table => sinks.push(Arc::new(printer::human::Human::new(
            args.verbose,
            args.diff,
        ))),
        Output::Ansible => sinks.push(Arc::new(
            printer::human::Human::new(args.verbose, args.diff).ansible_recap(),
        )),
        Output::Adhoc | Output::AdhocOneLine => sinks.push(Arc::new(printer::adhoc::Adhoc {
            one_line: args.connect.output == Output::AdhocOneLine,
        })),
    }
    let junit = args
        .junit
        .as_ref()
        .map(|p| Arc::new(printer::junit::Junit::new(p.clone())));
    if let Some(j) = &junit {
        sinks.push(j.clone());
    }
    for c in &callbacks {
        sinks.push(c.clone());
    }
    let opts = RunOptions {
        limit: args.connect.limit.clone(),
        tags: args.tags.clone(),
        skip_tags: args.skip_tags.clone(),
        extra_vars: extra,
        extra_vars_trust: hoist_core::template::Trust::Templates,
        forks: args.connect.forks,
        check: args.check,
        diff: args.diff,
        relay: relay(&args.connect),
        verbosity: args.verbose,
        connection: args.connection.clone(),
        force_handlers: args.force_handlers,
        become_: args.become_,
        become_user: args.become_user.clone(),
        fact_cache: hoist_core::run::fact_cache::FactCache::from_env()
            .map_err(|e| CliError::Other(e.to_string()))?,
        flush_cache: args.flush_cache,
    };
    let runner = Runner::new(inv, pool, Arc::new(Tee(sinks)), opts);
    let mut code = exit::OK;
    for book in &books {
        let recap = runner.run(book).await.map_err(run_error)?;
        if recap.any_unreachable() {
            code = exit::UNREACHABLE;
        } else if recap.any_failed() && code == exit::OK {
            code = exit::FAILED;
        }
    }
    if let Some(j) = junit {
        j.write()
            .map_err(|e| CliError::Other(format!("cannot write the JUnit report: {e}")))?;
    }
    for c in &callbacks {
        // A callback never fails the run, but its failure must not go unseen.
        if let Err(e) = c.finish() {
            eprintln!("warning: {}", hoist_core::secrets::redact(&e));
        }
    }
    Ok(code)
}
