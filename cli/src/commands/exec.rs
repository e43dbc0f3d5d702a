//! `hoist exec PATTERN -- CMD`: one shell command on many hosts, output grouped per host.

use super::select;
use crate::args::{ConnectArgs, Output};
use crate::diagnostic::CliError;
use clap::Args;
use serde_json::json;

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Host pattern (`all`, `web`, `web:&prod`, `web:!web3`, `web*`, ...)
    pub pattern: String,
    /// The command, run by the login shell on each host
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub async fn run(args: ExecArgs) -> Result<u8, CliError> {
    let command = args.command.join(" ");
    let results = select::run_command(&args.connect, &args.pattern, &command).await?;
    match args.connect.output {
        Output::Json => {
            let mut rows: Vec<_> = results
                .iter()
                .map(|r| match &r.outcome {
                    Ok(o) => json!({
                        "host": r.host, "status": if o.success() { "ok" } else { "failed" },
                        "rc": o.status, "signal": o.signal, "stdout": o.stdout_str(),
                        "stderr": o.stderr_str(), "elapsed_ms": r.elapsed.as_millis() as u64,
                    }),
                    Err(e) => json!({
                        "host": r.host, "status": if e.is_unreachable() { "unreachable" } else { "failed" },
                        "error": e.to_string(), "elapsed_ms": r.elapsed.as_millis() as u64,
                    }),
                })
                .collect();
            rows.iter_mut().for_each(hoist_core::secrets::redact_json);
            println!(
                "{}",
                serde_json::to_string_pretty(&rows).unwrap_or_default()
            );
        }
        Output::Table | Output::Ansible | Output::Adhoc | Output::AdhocOneLine => {
            for r in &results {
                match &r.outcome {
                    Ok(o) => {
                        let state = if o.success() { "CHANGED" } else { "FAILED" };
                        let rc = o
                            .status
                            .map(|s| s.to_string())
                            .or(o.signal.clone())
                            .unwrap_or_default();
                        println!(
                            "{} | {state} | rc={rc} | {}ms >>",
                            r.host,
                            r.elapsed.as_millis()
                        );
                        // Secrets hoist knows of (HOIST_SECRET_*) are masked here too.
                        print!("{}", hoist_core::secrets::redact(&o.stdout_str()));
                        if !o.stderr.is_empty() {
                            print!("{}", hoist_core::secrets::redact(&o.stderr_str()));
                        }
                        if !o.stdout.ends_with(b"\n") && !o.stdout.is_empty() {
                            println!();
                        }
                    }
                    Err(e) => {
                        let state = if e.is_unreachable() {
                            "UNREACHABLE!"
                        } else {
                            "FAILED"
                        };
                        println!("{} | {state} >>\n{e}", r.host);
                    }
                }
            }
            summary(&results, |o| o.success());
        }
    }
    Ok(select::exit_code(&results, |o| !o.success()))
}

/// `N hosts: a ok, b failed, c unreachable` on stderr.
pub fn summary<T>(results: &[hoist_core::adhoc::HostResult<T>], ok: impl Fn(&T) -> bool) {
    let (mut good, mut failed, mut unreachable) = (0, 0, 0);
    for r in results {
        match &r.outcome {
            Ok(v) if ok(v) => good += 1,
            Ok(_) => failed += 1,
            Err(e) if e.is_unreachable() => unreachable += 1,
            Err(_) => failed += 1,
        }
    }
    eprintln!(
        "{} hosts: {good} ok, {failed} failed, {unreachable} unreachable",
        results.len()
    );
}
