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
pub mod run;
mod select;

use crate::args::{Cli, Command};
use crate::diagnostic::CliError;

/// Runs the chosen subcommand; returns the process exit code.
pub async fn dispatch(cli: Cli) -> Result<u8, CliError> {
    match cli.command {
        Command::Lab(a) => lab::run(a),
        Command::Inventory(a) => inventory::run(a),
        Command::Exec(a) => exec::run(a).await,
        Command::Ping(a) => ping::run(a).await,
        Command::Facts(a) => facts::run(a).await,
        Command::Health(a) => health::run(a).await,
        Command::Mux(a) => mux::run(a).await,
        Command::Run(a) => run::run(a).await,
        Command::Modules(a) => modules::run(a),
        Command::CheckSyntax(a) => check_syntax::run(a),
    }
}
