//! `hoist ping PATTERN`: connect, authenticate and run a trivial command on each host.

use super::select;
use crate::args::{ConnectArgs, Output};
use crate::diagnostic::CliError;
use crate::output::table;
use clap::Args;
use hoist_core::adhoc::HostResult;
use serde_json::json;

#[derive(Debug, Args)]
pub struct PingArgs {
    /// Host pattern
    #[arg(default_value = "all")]
    pub pattern: String,
    #[command(flatten)]
    pub connect: ConnectArgs,
}

pub async fn run(args: PingArgs) -> Result<u8, CliError> {
    let results: Vec<HostResult<bool>> =
        select::run_command(&args.connect, &args.pattern, "echo pong")
            .await?
            .into_iter()
            .map(|r| HostResult {
                outcome: r
                    .outcome
                    .map(|o| o.success() && o.stdout_str().trim() == "pong"),
                host: r.host,
                elapsed: r.elapsed,
            })
            .collect();
    match args.connect.output {
        Output::Json => {
            let rows: Vec<_> = results
                .iter()
                .map(|r| match &r.outcome {
                    Ok(ok) => json!({"host": r.host, "ping": if *ok { "pong" } else { "failed" }, "elapsed_ms": r.elapsed.as_millis() as u64}),
                    Err(e) => json!({"host": r.host, "ping": "unreachable", "error": e.to_string(), "elapsed_ms": r.elapsed.as_millis() as u64}),
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&rows).unwrap_or_default()
            );
        }
        Output::Table | Output::Ansible | Output::Adhoc | Output::AdhocOneLine => {
            let mut t = table(&["HOST", "PING", "TIME", "DETAIL"]);
            for r in &results {
                let ms = format!("{}ms", r.elapsed.as_millis());
                match &r.outcome {
                    Ok(true) => t.add_row(vec![r.host.as_str(), "pong", &ms, ""]),
                    Ok(false) => {
                        t.add_row(vec![r.host.as_str(), "FAILED", &ms, "unexpected reply"])
                    }
                    Err(e) => t.add_row(vec![
                        r.host.clone(),
                        "UNREACHABLE".into(),
                        ms,
                        e.to_string(),
                    ]),
                };
            }
            println!("{t}");
            super::exec::summary(&results, |ok| *ok);
        }
    }
    Ok(select::exit_code(&results, |ok| !ok))
}
