//! `hoist secret set|get|list|rm|backend`: secrets in the OS keyring (or the chosen fallback).
//! Values go in through stdin or a file, never the command line (visible in `ps`), and never
//! come out on a terminal: `get` reports presence; `get --reveal` writes the value only into a
//! pipe or file.

use crate::args::Output;
use crate::diagnostic::CliError;
use clap::{Args, Subcommand};
use hoist_core::secrets;
use serde_json::json;
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct SecretArgs {
    #[command(subcommand)]
    pub command: SecretCommand,
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store a secret; the value is read from stdin (hidden when typed) or --from-file
    Set {
        name: String,
        /// Read the value from this file (one trailing newline is dropped)
        #[arg(long)]
        from_file: Option<PathBuf>,
    },
    /// Whether a secret is set and where; --reveal writes the value to a pipe or file
    Get {
        name: String,
        /// Write the value to stdout (refused when stdout is a terminal)
        #[arg(long)]
        reveal: bool,
    },
    /// Names of the stored secrets and of HOIST_SECRET_* overrides
    List {
        #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
    /// Remove a secret from the store
    #[command(alias = "delete")]
    Rm { name: String },
    /// Which backend is used and why (every probe's result)
    Backend {
        #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
        output: Output,
    },
}

fn secret_err(e: secrets::SecretError) -> CliError {
    CliError::Other(e.to_string())
}

/// Reads one line from the terminal without echoing it.
fn read_hidden(prompt: &str) -> std::io::Result<String> {
    use std::os::fd::AsRawFd;
    let fd = std::io::stdin().as_raw_fd();
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    // SAFETY: termios is plain data; tcgetattr fills it for a terminal fd.
    let mut old: libc::termios = unsafe { std::mem::zeroed() };
    let have = unsafe { libc::tcgetattr(fd, &mut old) } == 0;
    if have {
        let mut quiet = old;
        quiet.c_lflag &= !libc::ECHO;
        quiet.c_lflag |= libc::ECHONL;
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) };
    }
    let mut line = String::new();
    let r = std::io::stdin().read_line(&mut line);
    if have {
        unsafe { libc::tcsetattr(fd, libc::TCSANOW, &old) };
    }
    r?;
    Ok(line)
}

fn strip_newline(mut s: String) -> String {
    if s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    s
}

fn read_value(name: &str, from_file: Option<PathBuf>) -> Result<String, CliError> {
    let raw = match from_file {
        Some(f) => std::fs::read_to_string(&f)
            .map_err(|e| CliError::Other(format!("cannot read {}: {e}", f.display())))?,
        None if std::io::stdin().is_terminal() => {
            read_hidden(&format!("value for `{name}` (not shown): "))
                .map_err(|e| CliError::Other(format!("cannot read the value: {e}")))?
        }
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| CliError::Other(format!("cannot read the value from stdin: {e}")))?;
            s
        }
    };
    let v = strip_newline(raw);
    if v.is_empty() {
        return Err(CliError::Other("empty value: nothing stored".into()));
    }
    Ok(v)
}

pub fn run(args: SecretArgs) -> Result<u8, CliError> {
    match args.command {
        SecretCommand::Set { name, from_file } => {
            secrets::check_name(&name).map_err(secret_err)?;
            let value = read_value(&name, from_file)?;
            let backend = secrets::set(&name, &value).map_err(secret_err)?;
            eprintln!("stored `{name}` in {backend}");
            if std::env::var_os(secrets::env_name(&name)).is_some() {
                eprintln!(
                    "note: {} is set and overrides the stored value",
                    secrets::env_name(&name)
                );
            }
            Ok(0)
        }
        SecretCommand::Get { name, reveal } => {
            let found = secrets::find(&name).map_err(secret_err)?;
            let Some(value) = found else {
                eprintln!(
                    "`{name}` is not set (backend: {}; or set {})",
                    secrets::selection().describe(),
                    secrets::env_name(&name)
                );
                return Ok(1);
            };
            if reveal {
                if std::io::stdout().is_terminal() {
                    return Err(CliError::Other(
                        "--reveal writes the value only to a pipe or a file, never to a terminal"
                            .into(),
                    ));
                }
                let mut out = std::io::stdout();
                out.write_all(value.as_bytes())
                    .and_then(|_| out.flush())
                    .map_err(|e| CliError::Other(format!("cannot write: {e}")))?;
                return Ok(0);
            }
            let source = if std::env::var_os(secrets::env_name(&name)).is_some() {
                format!("environment ({})", secrets::env_name(&name))
            } else {
                secrets::selection().chosen.to_string()
            };
            println!(
                "`{name}` is set in {source} ({} characters)",
                value.chars().count()
            );
            Ok(0)
        }
        SecretCommand::List { output } => {
            let stored = secrets::list().map_err(secret_err)?;
            let backend = secrets::selection().chosen;
            let env = secrets::env_overrides();
            match output {
                Output::Json => {
                    let v = json!({"backend": backend, "stored": stored, "environment": env});
                    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                }
                Output::Table | Output::Ansible | Output::Adhoc | Output::AdhocOneLine => {
                    let mut t = crate::output::table(&["secret", "source"]);
                    for n in &stored {
                        t.add_row(vec![n.clone(), backend.to_string()]);
                    }
                    for e in &env {
                        t.add_row(vec![e.clone(), "environment".to_string()]);
                    }
                    println!("{t}");
                }
            }
            Ok(0)
        }
        SecretCommand::Rm { name } => {
            if secrets::delete(&name).map_err(secret_err)? {
                eprintln!("removed `{name}` from {}", secrets::selection().chosen);
                Ok(0)
            } else {
                eprintln!("`{name}` was not in {}", secrets::selection().chosen);
                Ok(1)
            }
        }
        SecretCommand::Backend { output } => {
            let sel = secrets::selection();
            match output {
                Output::Json => {
                    let probes: Vec<_> = sel
                        .probes
                        .iter()
                        .map(|p| json!({"backend": p.backend, "available": p.available, "detail": p.detail}))
                        .collect();
                    let v = json!({"backend": sel.chosen, "writable": sel.store.is_some(), "chosen_by": sel.how,
                                   "probes": probes, "environment_overrides": secrets::env_overrides()});
                    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                }
                Output::Table | Output::Ansible | Output::Adhoc | Output::AdhocOneLine => {
                    let mut t = crate::output::table(&["backend", "available", "detail"]);
                    for p in &sel.probes {
                        t.add_row(vec![
                            p.backend.to_string(),
                            if p.available { "yes" } else { "no" }.to_string(),
                            p.detail.clone(),
                        ]);
                    }
                    println!("{t}");
                    println!(
                        "backend: {} ({}; {}), environment overrides: {}",
                        sel.chosen,
                        sel.how,
                        if sel.store.is_some() {
                            "writable"
                        } else {
                            "read-only"
                        },
                        secrets::env_overrides().len()
                    );
                }
            }
            Ok(0)
        }
    }
}
