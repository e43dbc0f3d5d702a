//! `hoist`: agentless operations over SSH. This binary is a thin layer over `hoist-core`:
//! argument parsing, output (tables, JSON) and error rendering with exit codes. Installed (or
//! linked) as `ansible-playbook`, it takes that command's arguments and prints its recap.

mod args;
mod commands;
mod diagnostic;
mod output;
mod plugins;
mod printer;

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = args::Cli::parse_from(args::as_invoked(std::env::args_os()));
    // Long paths and messages stay on one line: easier to read, grep and click.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().width(240).build())
    }));
    match commands::dispatch(cli).await {
        Ok(code) => ExitCode::from(code),
        Err(err) => diagnostic::report(err),
    }
}
