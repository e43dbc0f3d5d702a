//! `hoist`: agentless operations over SSH. This binary is a thin layer over `hoist-core`:
//! argument parsing, output (tables, JSON) and error rendering with exit codes. Installed (or
//! linked) as `ansible-playbook`, it takes that command's arguments and prints its recap.

mod adhoc_cli;
mod args;
mod commands;
mod diagnostic;
mod inventory_sources;
mod output;
mod plugins;
mod printer;

use clap::Parser;
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let invoked_as = raw
        .first()
        .and_then(|a| std::path::Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Linked as `ansible`: an ad-hoc command, run as a one-task playbook.
    let (argv, adhoc_file) = if invoked_as == "ansible" {
        match adhoc_cli::rewrite(&raw) {
            Ok((argv, file)) => (argv, Some(file)),
            Err(e) => {
                eprintln!("ERROR! {e}");
                return ExitCode::from(5);
            }
        }
    } else {
        (args::as_invoked(raw.into_iter()), None)
    };
    let cli = args::Cli::parse_from(argv);
    // Long paths and messages stay on one line: easier to read, grep and click.
    let _ = miette::set_hook(Box::new(|_| {
        Box::new(miette::MietteHandlerOpts::new().width(240).build())
    }));
    let code = match commands::dispatch(cli).await {
        Ok(code) => ExitCode::from(code),
        Err(err) => diagnostic::report(err),
    };
    if let Some(f) = adhoc_file {
        let _ = std::fs::remove_file(f);
    }
    code
}
