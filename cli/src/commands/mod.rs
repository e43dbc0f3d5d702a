//! One file per subcommand, each with its clap `Args` and a `run` function.

pub mod check_syntax;
pub mod exec;
pub mod facts;
pub mod health;
pub mod inventory;
pub mod lab;
pub mod modules;
pub mod mux;
pub mod ping;
pub mod plugin;
mod plugin_new;
pub mod run;
mod run_list;
pub mod secret;
mod select;
pub mod serve;

use crate::args::{Cli, Command};
use crate::diagnostic::CliError;

/// The folder of a playbook path (`.` for a bare file name).
fn folder(p: &std::path::Path) -> std::path::PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    }
}

/// Runs the chosen subcommand; returns the process exit code.
pub async fn dispatch(cli: Cli) -> Result<u8, CliError> {
    hoist_core::secrets::remember_env();
    let book_dir = match &cli.command {
        Command::Run(a) => a.playbooks.first().map(|p| folder(p)),
        Command::CheckSyntax(a) => a.playbooks.first().map(|p| folder(p)),
        _ => None,
    };
    let callbacks = match &cli.command {
        Command::Run(a) => a.callbacks.clone(),
        _ => Vec::new(),
    };
    let uses_plugins = !matches!(
        cli.command,
        Command::Lab(_) | Command::Mux(_) | Command::Plugin(_) | Command::Secret(_)
    );
    let installed = if uses_plugins {
        crate::plugins::setup(&cli.plugin_dirs, book_dir.as_deref(), &callbacks)?
    } else {
        Default::default()
    };
    match cli.command {
        Command::Lab(a) => lab::run(a),
        Command::Inventory(a) => inventory::run(a),
        Command::Exec(a) => exec::run(a).await,
        Command::Ping(a) => ping::run(a).await,
        Command::Facts(a) => facts::run(a).await,
        Command::Health(a) => health::run(a).await,
        Command::Mux(a) => mux::run(a).await,
        Command::Run(a) => run::run(a, installed.callbacks).await,
        Command::Modules(a) => modules::run(a),
        Command::CheckSyntax(a) => check_syntax::run(a),
        Command::Plugin(a) => plugin::run(a, &cli.plugin_dirs),
        Command::Secret(a) => secret::run(a),
        Command::Serve(a) => serve::run(a).await,
    }
}
