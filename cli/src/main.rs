//! `hoist`: agentless operations over SSH. This binary is a thin layer over `hoist-core`:
//! argument parsing, output (tables, JSON) and error rendering with exit codes.

mod args;
mod commands;
mod diagnostic;
mod output;

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::dispatch(cli).await {
        Ok(code) => ExitCode::from(code),
        Err(err) => diagnostic::report(err),
    }
}
